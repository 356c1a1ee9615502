"""Set every test cell's points in source/ to its function's points: `python scripts/sync_points.py`.

A function's test cell is worth the points of all its checks (`autograder.checks.points_for`), so
adding or re-weighing a check changes the notebook's nbgrader metadata; this writes it, and only it.
Then regenerate release/ (`python scripts/generate_release.py`): tests/test_release.py and
tests/test_source_matches_solutions.py fail until both are done.
"""
import json
import re
import sys
from pathlib import Path

from autograder.checks import ASSIGNMENTS, points_for

REPO = Path(__file__).resolve().parents[1]
# a test cell's nbgrader metadata as nbformat writes it (keys sorted: grade_id, locked, points)
POINTS = re.compile(r'("grade_id": "test_(\w+)",\s*"locked": (?:true|false),\s*"points": )([0-9.]+)')


def sync(source: Path) -> list[str]:
    """The test cells whose points changed, as 'assignment/test_fn: old -> new'. The notebook's text is
    edited where the number stands, so the diff is that number and nothing else."""
    changed = []
    for assignment, functions in ASSIGNMENTS.items():
        for path in sorted((source / assignment).glob("*.ipynb")):
            text = path.read_text(encoding="utf-8")

            def replace(match, assignment=assignment, functions=functions):
                function, old = match.group(2), float(match.group(3))
                if function not in functions or old == points_for(function):
                    return match.group(0)
                changed.append(f"{assignment}/test_{function}: {old} -> {float(points_for(function))}")
                return match.group(1) + json.dumps(float(points_for(function)))

            new = POINTS.sub(replace, text)
            if new != text:
                path.write_text(new, encoding="utf-8")
    return changed


def main() -> int:
    changed = sync(REPO / "source")
    print("\n".join(changed) if changed else "every test cell already has its function's points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
