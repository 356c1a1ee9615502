"""Regenerate release/ from source/ with nbgrader: `python scripts/generate_release.py`.

Runs `nbgrader generate_assignment` for every assignment in a temporary course and copies back only
the learners' notebooks, so no gradebook.db is left in the repository. Re-run it (and commit
release/) whenever source/ changes; tests/test_release.py fails while release/ is stale.

It works on the checkout it sits in (source/ and release/ beside scripts/), whichever copy of the
kit is installed."""
import sys
import time
from pathlib import Path

from autograder.nbgrader_tools import NbgraderError, generate_release

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    start = time.monotonic()
    try:
        written = generate_release(REPO / "release", REPO / "source")
    except NbgraderError as exc:
        print(f"generate_release: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path.relative_to(REPO)}")
    print(f"{len(written)} release notebook(s) in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
