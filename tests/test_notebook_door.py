"""`check(...)` in a real kernel: a pass line on stdout and nothing on stderr; a failure shows the
feedback, not the autograder's internals; learner warnings never reach stderr."""
import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # a real kernel


@pytest.fixture(scope="module")
def executed():
    cells = [
        "import numpy as np\nfrom autograder import check",
        "def relu(z):\n    return np.maximum(z, 0)",
        "check('relu')",
        "def softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum(axis=0)",
        "check('softmax')",
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))",
        "check('sigmoid')",
        "check('relu', hidden=True)",
        "check('nonsense')",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return nb.cells


def _streams(cell, name):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == name)


def _error(cell):
    return next((o for o in cell.outputs if o.output_type == "error"), None)


def test_pass_prints_one_line_and_nothing_on_stderr(executed):
    cell = executed[2]
    assert _error(cell) is None
    out = _streams(cell, "stdout")
    from autograder.checks import checks_for

    public = len(checks_for("relu", hidden=False))
    assert public > 1  # the line below is the plural one
    assert out.startswith(f"\u2713 relu: all {public} public checks passed") and out.count("\n") == 1, out
    assert "more checks run when your work is graded" in out  # relu has a hidden check: a ✓ promises no more
    assert _streams(cell, "stderr") == ""


def test_failure_shows_feedback_not_internals(executed):
    error = _error(executed[4])
    assert error is not None and error.ename == "CheckFailed"
    shown = "\n".join(error.traceback)
    assert "softmax" in shown and "tried:" in shown and "hint:" in shown
    assert "autograder/" not in shown and "Traceback" not in shown
    assert _streams(executed[4], "stderr") == ""


def test_learner_warnings_are_reported_not_written_to_stderr(executed):
    cell = executed[6]
    assert _streams(cell, "stderr") == ""
    error = _error(cell)
    assert error is not None  # naive sigmoid overflows at -1e4: the no-warning check fails
    assert "overflow" in "\n".join(error.traceback)


def test_hidden_checks_run_on_request(executed):
    cell = executed[7]
    assert _error(cell) is None and "hidden check" in _streams(cell, "stdout")


def test_unknown_function_is_named(executed):
    error = _error(executed[8])
    assert error is not None and "nonsense" in "\n".join(error.traceback)
