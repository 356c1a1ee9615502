"""Every release notebook runs top to bottom as a learner first opens it: imports, data loading
and provided code all work, and the only errors come from the unfilled stubs (NotImplementedError,
or a check saying a function is not implemented yet). Cells tagged `skip-check` (the
capstone's training) are not run, as the command-line checker does not run them."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.nbgrader_tools import (
    NOT_IMPLEMENTED,
    assignments,
    check_kernel,
    nbgrader_meta,
    notebook_in,
    output_text,
)

RELEASE = Path(__file__).resolve().parents[1] / "release"
IDS = assignments(RELEASE)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not IDS, reason="release/ holds no notebooks yet")]


@pytest.fixture(scope="module")
def kernel():
    check_kernel()


def _run(assignment, tmp_path):
    """Execute a copy of the release notebook in a scratch folder (a notebook may write files)."""
    path = shutil.copy2(notebook_in(RELEASE / assignment), tmp_path)
    nb = nbformat.read(path, as_version=4)
    skipped = [c for c in nb.cells if "skip-check" in c.get("metadata", {}).get("tags", [])]
    for cell in skipped:
        cell.cell_type = "raw"  # kept in place, not executed
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   extra_arguments=["--IPKernelApp.log_level=ERROR"],  # as nbgrader_config.py
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def _stub_error(cell) -> bool:
    """Did this cell fail only because a stub is not filled in yet?"""
    errors = [o for o in cell.outputs if o.output_type == "error"]
    return all(o.ename == "NotImplementedError" or (o.ename == "CheckFailed" and NOT_IMPLEMENTED.search(o.evalue))
               for o in errors)


@pytest.mark.parametrize("assignment", IDS)
def test_release_runs_and_fails_only_in_stubs(assignment, kernel, tmp_path):
    nb = _run(assignment, tmp_path)
    problems = []
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        meta = nbgrader_meta(cell)
        name = meta.get("grade_id") or f"code cell {i}"
        if any(o.output_type == "error" for o in cell.outputs) and not _stub_error(cell):
            problems.append(f"{name} fails for another reason than an unfilled stub:\n{output_text(cell)}")
        if not meta.get("grade") and any(o.get("name") == "stderr" for o in cell.outputs):
            problems.append(f"{name} writes to stderr:\n{output_text(cell)}")
    assert not problems, "\n\n".join(problems)
    tests = [c for c in nb.cells if nbgrader_meta(c).get("grade")]
    assert tests and all(any(o.output_type == "error" for o in c.outputs) for c in tests), \
        "every test cell of an untouched release should fail"
