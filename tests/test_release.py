"""release/ is what nbgrader makes of source/ today, and gives nothing away.

Fresh: regenerating in a temporary course gives the same learner-visible cells (type, source,
nbgrader metadata). Nothing given away: no meaningful line of a solution region or of a hidden-test
region of a source notebook appears anywhere in the release of that assignment or of the ones
before it. (Later notebooks may show earlier answers: the capstone's provided training loop is
notebook 06's train, and by then the learner has written it.)"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from autograder.checks import ASSIGNMENTS
from autograder.nbgrader_tools import assignments, nbgrader_meta, notebook_in, output_text

REPO = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = REPO / "source", REPO / "release"
IDS = assignments(SOURCE)
REGENERATE = "regenerate it: python scripts/generate_release.py (and commit release/)"
pytestmark = pytest.mark.skipif(not IDS, reason="source/ holds no notebooks yet")


@pytest.fixture(scope="module")
def regenerated(course, tmp_path_factory):
    """release/ as scripts/generate_release.py would write it, from the session's generated course."""
    out = tmp_path_factory.mktemp("release")
    course.copy_release(out)
    return out


def _visible(path):
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, nbgrader_meta(c)) for c in nb.cells]


def test_release_has_exactly_the_source_assignments():
    present = sorted(p.name for p in RELEASE.iterdir() if p.is_dir()) if RELEASE.is_dir() else []
    assert present == IDS, REGENERATE
    for a in IDS:
        files = sorted(p.name for p in (RELEASE / a).iterdir())
        assert files == [notebook_in(SOURCE / a).name], f"release/{a} should hold only the notebook"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", IDS)
def test_release_is_fresh(assignment, regenerated):
    name = notebook_in(SOURCE / assignment).name
    committed = RELEASE / assignment / name
    assert committed.is_file(), f"{committed.relative_to(REPO)} is missing: {REGENERATE}"
    fresh = _visible(regenerated / assignment / name)
    old = _visible(committed)
    assert len(old) == len(fresh), \
        f"release/{assignment} has {len(old)} cells, nbgrader makes {len(fresh)}: {REGENERATE}"
    for i, (mine, theirs) in enumerate(zip(old, fresh)):
        assert mine == theirs, f"cell {i} of release/{assignment}/{name} differs from nbgrader's: {REGENERATE}"


# --- nothing given away ----------------------------------------------------------------------

REGIONS = {"### BEGIN SOLUTION": "### END SOLUTION", "### BEGIN HIDDEN TESTS": "### END HIDDEN TESTS"}
# Code that computes nothing: no call, operator, subscript or attribute.
OPERATIONS = (ast.Call, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Subscript, ast.Attribute,
              ast.AugAssign, ast.Lambda, ast.IfExp, ast.comprehension, ast.JoinedStr, ast.Starred)


def meaningful(line: str) -> bool:
    """Does this stripped line say something about an answer? Comments do; code does when it
    computes something (`for key in params:`, `return out`, `else:` or `)` do not)."""
    if line.startswith("#"):
        return True
    code = re.sub(r"^elif\b", "if", line)
    try:
        tree = ast.parse(code + " pass" if code.endswith(":") else code)
    except SyntaxError:  # a fragment of a longer statement, or else:/try:/except ...:
        return bool(re.search(r"[\w.)\]]\(|\w\[|[-+*/@<>%]", line))  # it calls, indexes or computes
    return any(isinstance(node, OPERATIONS) for node in ast.walk(tree))


def secret_lines(cell) -> list[str]:
    """The meaningful stripped lines inside a cell's solution and hidden-test regions (a solution
    cell without markers is all solution, as nbgrader treats it)."""
    lines = cell.source.splitlines()
    if nbgrader_meta(cell).get("solution") and not any(line.strip().startswith("### BEGIN SOLUTION") for line in lines):
        found = lines
    else:
        found, end = [], None
        for line in lines:
            stripped = line.strip()
            if end is None:
                end = next((e for b, e in REGIONS.items() if stripped.startswith(b)), None)
            elif stripped.startswith(end):
                end = None
            else:
                found.append(line)
    return [s for s in (line.strip() for line in found) if s and meaningful(s)]


def _source_cells(assignment):
    return nbformat.read(notebook_in(SOURCE / assignment), as_version=4).cells


def _release_texts() -> dict[str, tuple[set[str], str]]:
    """Every file under release/: its stripped lines and its text (a notebook's: every cell's
    source and every output's text)."""
    texts = {}
    for path in sorted(p for p in RELEASE.rglob("*") if p.is_file()):
        if path.suffix == ".ipynb":
            text = "\n".join(f"{c.source}\n{output_text(c)}" for c in nbformat.read(path, as_version=4).cells)
        else:
            text = path.read_text(errors="replace")
        texts[str(path.relative_to(REPO))] = ({line.strip() for line in text.splitlines()}, text)
    return texts


@pytest.mark.parametrize("assignment", IDS)
def test_every_region_is_seen(assignment):
    """Each stub has solution lines and each function's test cell hidden ones, as the parser sees
    them (else the next test would prove nothing)."""
    tests = {f"test_{f}" for f in ASSIGNMENTS[assignment]}
    for cell in _source_cells(assignment):
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and (meta.get("solution") or meta.get("grade_id") in tests):
            assert secret_lines(cell), f"{assignment}: no solution or hidden-test lines in {meta.get('grade_id')}"


def test_release_gives_no_solution_or_hidden_test_away():
    released = _release_texts()
    leaks = []
    for a in IDS:
        shown = {where: found for where, found in released.items() if where.split("/")[1] <= a}
        for secret in dict.fromkeys(s for cell in _source_cells(a) for s in secret_lines(cell)):
            for where, (lines, text) in shown.items():
                if secret in lines or (len(secret) >= 20 and secret in text):
                    leaks.append(f"{where}: {secret!r} (from source/{a})")
    assert not leaks, "release/ shows lines of solutions or hidden tests:\n" + "\n".join(leaks)
