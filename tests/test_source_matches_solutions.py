"""Each source notebook agrees with the rest of the kit: its solution regions pass every check,
its test cells are worth what the checks say, and its stubs are exactly the learner API."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import nbformat
import pytest

import solutions
from autograder.capstone import CAPSTONE_POINTS
from autograder.checks import ASSIGNMENTS, FUNCTIONS, points_for
from autograder.judge import judge
from autograder.nbgrader_tools import assignments, nbgrader_meta, notebook_in

REPO = Path(__file__).resolve().parents[1]
IDS = assignments(REPO / "source")
pytestmark = pytest.mark.skipif(not IDS, reason="source/ holds no notebooks yet")


def _notebook(assignment):
    return nbformat.read(notebook_in(REPO / "source" / assignment), as_version=4)


def _code_cells(nb, **flags):
    return [c for c in nb.cells if c.cell_type == "code"
            and all(bool(nbgrader_meta(c).get(k)) == v for k, v in flags.items())]


def _python(source: str) -> str:
    """A cell's code without IPython's magics and shell escapes."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _solution_namespace(nb) -> dict:
    ns: dict = {}
    for cell in [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "setup"] + _code_cells(nb, solution=True):
        exec(compile(_python(cell.source), f"<{nbgrader_meta(cell).get('grade_id')}>", "exec"), ns)
    return ns


def _signature(fn) -> list:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("assignment", IDS)
def test_solution_regions_pass_every_check(assignment):
    """The assignment's functions, and any earlier ones the notebook has the learner bring along
    (the capstone's), as the solution regions write them."""
    ns = _solution_namespace(_notebook(assignment))
    results = judge(ns, [f for f in FUNCTIONS if f in ns or f in ASSIGNMENTS[assignment]])
    failed = [f"{r.function}.{r.check}:\n{r.message}" for r in results if not r.passed]
    assert results and not failed, "\n\n".join(failed)


@pytest.mark.parametrize("assignment", IDS)
def test_test_cells_are_worth_the_checks_points(assignment):
    tests = {nbgrader_meta(c)["grade_id"]: c for c in _code_cells(_notebook(assignment), grade=True)}
    for function in ASSIGNMENTS[assignment]:
        cell = tests.pop(f"test_{function}", None)
        assert cell is not None, f"no test_{function} cell"
        assert nbgrader_meta(cell).get("points") == points_for(function), function
        assert f'check("{function}")' in cell.source, f"test_{function} does not check {function}"
        assert nbgrader_meta(cell).get("locked") and not nbgrader_meta(cell).get("solution"), function
    # Beyond one cell per function, only the capstone grades something else: the trained model.
    expected = {"test_capstone": CAPSTONE_POINTS} if assignment == "07_capstone" else {}
    assert {g: nbgrader_meta(c).get("points") for g, c in tests.items()} == expected


@pytest.mark.parametrize("assignment", IDS)
def test_stubs_define_exactly_the_learner_api(assignment):
    """One stub cell per function of the assignment (grade_id = its name) defining just it; any
    other solution cell brings along functions of earlier assignments; every signature is the
    reference's."""
    nb = _notebook(assignment)
    defined = {}
    for cell in _code_cells(nb, solution=True):
        names = [n.name for n in ast.parse(_python(cell.source)).body if isinstance(n, ast.FunctionDef)]
        defined[nbgrader_meta(cell).get("grade_id")] = names
    for function in ASSIGNMENTS[assignment]:
        assert defined.pop(function, None) == [function], f"the stub cell {function} should define {function} alone"
    earlier = set(FUNCTIONS[:FUNCTIONS.index(ASSIGNMENTS[assignment][0])])
    for grade_id, names in defined.items():
        assert set(names) <= earlier, f"{grade_id} defines {sorted(set(names) - earlier)}, not earlier API functions"
    ns = _solution_namespace(nb)
    for function in [f for f in FUNCTIONS if f in ns]:
        stub, reference = _signature(ns[function]), _signature(getattr(solutions, function))
        # The reference may take optional extras of its own (after the API's parameters, with a
        # default): the checks never pass them, so a learner's function need not accept them.
        extras = reference[len(stub):]
        assert stub == reference[:len(stub)] and all(d is not inspect.Parameter.empty for *_, d in extras), (
            f"{function}{inspect.signature(ns[function])} in the stub, "
            f"{function}{inspect.signature(getattr(solutions, function))} in solutions")
