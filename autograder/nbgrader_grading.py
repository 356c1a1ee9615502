"""nbgrader grades from outside the notebook: no learner cell can change its own score.

`SandboxedGrades` replaces nbgrader's Execute preprocessor in `nbgrader autograde` (see
nbgrader_config.py): instead of running the notebook in a kernel, where a learner cell could
redefine `check` or rewrite the gradebook, it hands the learner's cells to the sandboxed judge and
writes each graded test cell's outputs itself: the feedback on stdout, then the points earned as
the cell's result, which nbgrader takes as partial credit (nbgrader.utils.determine_grade). So a
test cell's points equal the judge's points for its functions, through every door.

`audit` re-judges every autograded submission of an assignment and lists each disagreement with
the gradebook (`python -m autograder audit ASSIGNMENT`)."""
from __future__ import annotations

import ast
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.checks import FUNCTIONS, checks_for
from autograder.report import feedback_block

CAPSTONE_CALL = "check_capstone"
CAPSTONE_LOAD_TIMEOUT = 1800.0  # seconds for a capstone notebook to run (it trains a network)
CAPSTONE_BLOCK_TIMEOUT = 900.0


@dataclass(frozen=True)
class Call:
    """One grading call in a test cell: check("fn", ..., hidden=...) or check_capstone("path")."""

    kind: str               # "check" or "capstone"
    names: tuple[str, ...]  # functions for "check", the model file for "capstone"
    hidden: bool = False


@dataclass
class CellGrade:
    grade_id: str
    score: float
    max_score: float
    text: str


@dataclass
class NotebookGrades:
    cells: dict[str, CellGrade] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    isolation: str = ""


def grading_calls(source: str) -> list[Call]:
    """The grading calls a test cell's source makes (the instructor's source: nbgrader restores
    locked cells from the gradebook before grading)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        strings = tuple(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
        if node.func.id == "check":
            hidden = any(k.arg == "hidden" and isinstance(k.value, ast.Constant) and bool(k.value.value)
                         for k in node.keywords)
            calls.append(Call("check", strings, hidden))
        elif node.func.id == CAPSTONE_CALL:
            calls.append(Call("capstone", strings[:1] or ("model.npz",)))
    return calls


def _is_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def judge_notebook(nb, *, name: str = "submission.ipynb", require_sandbox: bool = False,
                   timeout: float | None = None) -> NotebookGrades:
    """Every test cell's points and feedback, judged with the learner's cells in the sandbox."""
    from autograder.capstone import CAPSTONE_POINTS, threshold
    from autograder.checks.base import REFERENCE
    from autograder.judge import judge_in
    from autograder.sandbox.remote import LOAD_TIMEOUT, Sandbox
    from autograder.submission import notebook_blocks

    limit = threshold()  # fixed before any learner code runs
    tests = [(c["metadata"]["nbgrader"]["grade_id"], float(c["metadata"]["nbgrader"].get("points", 0)),
              grading_calls(_source(c))) for c in nb["cells"] if _is_test_cell(c)]
    wanted = [(n, call.hidden) for _, _, calls in tests for call in calls if call.kind == "check"
              for n in call.names if n in FUNCTIONS]
    capstone = any(call.kind == "capstone" for _, _, calls in tests for call in calls)
    blocks = [b.as_dict() for b in notebook_blocks(nb["cells"], name, run_skipped=capstone)]
    checks = [c for n, hidden in dict.fromkeys(wanted) for c in checks_for(n, hidden)]
    grades = NotebookGrades()
    with Sandbox(blocks, FUNCTIONS, REFERENCE, require_sandbox=require_sandbox,
                 load_timeout=CAPSTONE_LOAD_TIMEOUT if capstone else LOAD_TIMEOUT,
                 block_timeout=CAPSTONE_BLOCK_TIMEOUT if capstone else None) as sandbox:
        verdicts = judge_in(sandbox, checks, timeout=timeout)
        grades.notes, grades.flags = verdicts.notes, verdicts.flags
        grades.isolation = f"{verdicts.isolation} ({verdicts.detail})" if verdicts.detail else verdicts.isolation
        models = {}
        for _, _, calls in tests:
            for call in calls:
                if call.kind == "capstone" and call.names[0] not in models:
                    models[call.names[0]] = _grade_model(sandbox, call.names[0], limit)
    for grade_id, points, calls in tests:
        score, parts = 0.0, []
        for call in calls:
            if call.kind == "check":
                mine = [r for r in verdicts.results if r.function in call.names and r.hidden == call.hidden]
                score += sum(r.points for r in mine)
                parts.append(_summary(call, mine))
            else:
                result = models[call.names[0]]
                score += CAPSTONE_POINTS if result.passed else 0.0
                parts.append(result.text())
        grades.cells[grade_id] = CellGrade(grade_id, min(score, points), points, "\n".join(p for p in parts if p))
    return grades


def _grade_model(sandbox, filename: str, limit: float):
    """Grade the model file the learner's notebook wrote in the sandbox's folder: copied out safely
    first (a regular file, size-capped), then read without pickle; predict runs in the sandbox."""
    from autograder.capstone import CapstoneResult, ModelFileError, grade_model
    from autograder.checks.base import read_learner_file

    info = sandbox.info.get("predict")
    predict = sandbox.function("predict") if info is not None and info.callable else None
    frameworks = sandbox.frameworks or (f"predict uses {info.framework}" if info and info.framework else "")
    source = Path(sandbox.workdir) / filename
    if Path(filename).is_absolute() or ".." in Path(filename).parts:
        return CapstoneResult(filename, limit, problems=[f"{filename}: give the model file as a plain file name"])
    private = Path(tempfile.mkdtemp(prefix="backprop-kit-model-"))
    try:
        target = private / Path(filename).name
        try:
            target.write_bytes(read_learner_file(str(source)))
        except FileNotFoundError:
            pass
        except OSError as exc:
            return CapstoneResult(filename, limit, problems=[str(ModelFileError([f"{filename}: {exc}"]))])
        result = grade_model(target, predict, frameworks=frameworks, threshold=limit)
        result.path = filename
        result.problems = [p.replace(str(private), "the notebook's folder") for p in result.problems]
        return result
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _summary(call: Call, results) -> str:
    """What check(...) would print in the notebook: a line per function, then each failure."""
    kind = "hidden " if call.hidden else ""
    lines = []
    for name in call.names:
        mine = [r for r in results if r.function == name]
        bad = [r for r in mine if not r.passed]
        if not bad:
            lines.append(f"\u2713 {name}: all {len(mine)} {kind}check{'s' if len(mine) != 1 else ''} passed")
        else:
            lines.append(f"\u2717 {name}: {len(mine) - len(bad)} of {len(mine)} {kind}checks passed")
    for result in results:
        if not result.passed:
            lines += ["", feedback_block(result)]
    return "\n".join(lines)


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


# ---------------------------------------------------------------------------------------------
# nbgrader's side


try:
    from nbgrader.preprocessors import NbGraderPreprocessor as _Base
    from traitlets import Bool
except ImportError:  # nbgrader is the instructor's tool: the rest of the kit works without it
    _Base, Bool = object, None


if _Base is not object:
    class SandboxedGrades(_Base):
        """Grade test cells with the sandboxed judge instead of executing the notebook."""

        require_sandbox = Bool(False, help="Refuse to grade unless learner code runs in bubblewrap").tag(config=True)

        def preprocess(self, nb, resources):
            import nbformat

            name = f"{resources.get('nbgrader', {}).get('notebook', 'submission')}.ipynb"
            grades = judge_notebook(nb, name=name, require_sandbox=self.require_sandbox)
            self.log.info("graded %s in %s", name, grades.isolation)
            for flag in grades.flags:
                self.log.warning("flag: %s", flag)
            first = True
            for cell in nb.cells:
                if not _is_test_cell(cell):
                    continue
                grade = grades.cells.get(cell.metadata.nbgrader.grade_id)
                if grade is None:
                    continue
                text = grade.text
                if first and grades.notes:
                    text = "\n".join(f"note: {n}" for n in grades.notes) + "\n\n" + text
                first = False
                cell.outputs = []
                if text:
                    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text + "\n"))
                cell.outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": repr(grade.score)},
                                                           execution_count=None))
            return nb, resources
else:  # pragma: no cover
    SandboxedGrades = None


# ---------------------------------------------------------------------------------------------
# the audit


@dataclass(frozen=True)
class Disagreement:
    student: str
    grade_id: str
    gradebook: float | None
    judge: float


def audit(course_root: str | os.PathLike, assignment: str, *,
          require_sandbox: bool = False) -> tuple[int, list[Disagreement]]:
    """Re-judge every autograded submission of `assignment`; (submissions judged, disagreements)."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.nbgrader_tools import Course

    course = Course(course_root)
    found, judged = [], 0
    with Gradebook(course.db_url) as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            for submission in gb.notebook_submissions(notebook.name, assignment):
                student = submission.student.id
                path = Path(course.root) / "autograded" / student / assignment / f"{notebook.name}.ipynb"
                if not path.is_file():
                    continue
                judged += 1
                grades = judge_notebook(nbformat.read(path, as_version=4), name=path.name,
                                        require_sandbox=require_sandbox)
                for grade_id, cell in grades.cells.items():
                    try:
                        recorded = gb.find_grade(grade_id, notebook.name, assignment, student).score
                    except MissingEntry:
                        recorded = None
                    if recorded is None or abs(float(recorded) - cell.score) > 1e-9:
                        found.append(Disagreement(student, grade_id, recorded, cell.score))
    return judged, found
