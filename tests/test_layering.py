"""One direction of imports: the autograder may import the reference (solutions), never the reverse,
so the reference stays a plain NumPy package that could ship or be replaced on its own."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def test_there_are_solutions_to_look_at():
    assert len(list(SOLUTIONS.glob("*.py"))) >= 7


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.py")), ids=lambda p: p.name)
def test_solutions_never_import_the_autograder(path):
    reverse = sorted(m for m in imported_modules(path) if m.split(".")[0] == "autograder")
    assert not reverse, f"solutions/{path.name} imports {reverse}: the autograder imports solutions, not the reverse"
