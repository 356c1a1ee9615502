"""nbgrader, headless, from Python: the demo, the release generator and the round-trip tests use it.

A `Course` is a folder laid out the way nbgrader expects (`nbgrader_config.py` at its root,
`source/<a>/`, `release/<a>/`, `submitted/<student>/<a>/`, `autograded/...`, `feedback/...`,
`gradebook.db`). `Course.temporary()` builds one from the kit's `source/` and config (the
repository's, or the copy packaged with an installed kit: see `autograder.kit_files`), so nothing
nbgrader writes (gradebook, submissions) ever lands in the repository:

    with Course.temporary(["02_activations"]) as course:
        course.generate("02_activations")
        course.submit("02_activations", "alice", course.source_notebook("02_activations"))
        course.autograde("02_activations")           # every submitted student, one call
        course.scores("02_activations")              # {"alice": Score(score=19.0, max_score=19.0)}

nbgrader needs two things from the environment, both made sure of here: its `alembic` executable
on PATH (the gradebook's first use runs it), and a notebook kernel that can import the kit (else
every graded cell scores zero without a word: `check_kernel` refuses to go on instead).

`buggy_submission` makes the third kind of student: the source notebook with one catalogued bug
pasted into one stub cell.
"""
from __future__ import annotations

import builtins
import contextlib
import copy
import os
import re
import shutil
import subprocess
import symtable
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import nbformat

from autograder import kit_files

CONFIG_NAME = kit_files.CONFIG_NAME
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
STUDENTS = ("complete", "untouched", "buggy")  # see Course.release_with_three_students


class NbgraderError(RuntimeError):
    """An nbgrader step did not succeed; the message carries its error and log."""


class KernelError(RuntimeError):
    """The notebook kernel cannot run the kit, so grading would silently give zeros."""


@dataclass(frozen=True)
class Score:
    """Points scored of the points possible, as the gradebook has them."""

    score: float
    max_score: float


# ---------------------------------------------------------------------------------------------
# the environment


def ensure_tools_on_path() -> None:
    """Put this interpreter's bin/ first on PATH: nbgrader runs `alembic` from there, and kernels
    inherit the environment of the process that starts them."""
    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[:1] != [bindir]:
        os.environ["PATH"] = os.pathsep.join([bindir] + [p for p in parts if p != bindir])


def check_kernel(kernel_name: str = "python3") -> str:
    """Prove that the kernel nbgrader will start can import this very kit; return its python.

    Mirrors jupyter_client: a kernelspec whose argv starts with plain `python` runs the
    interpreter of the process that starts it (this one)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ensure_tools_on_path()
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise KernelError(f"there is no {kernel_name!r} Jupyter kernel; install this environment's with "
                          f"`{sys.executable} -m ipykernel install --sys-prefix`") from None
    python = spec.argv[0]
    if python in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
        python = sys.executable
    probe = "import autograder, solutions; print(autograder.__file__)"
    with tempfile.TemporaryDirectory() as elsewhere:  # not the repository: the kit must be installed
        env = {**os.environ, **(spec.env or {})}
        proc = subprocess.run([python, "-c", probe], cwd=elsewhere, env=env, capture_output=True, text=True)
    where = f"the {kernel_name!r} kernel ({spec.resource_dir}) runs {python}"
    repo = kit_files.checkout()
    install = f"`pip install -e {repo}`" if repo else f"`pip install` the kit there, as it is installed in {sys.prefix}"
    fix = (f"install the kit into that environment ({install}), or let this environment's "
           f"kernel be found first (remove or replace the kernelspec at {spec.resource_dir})")
    if proc.returncode != 0:
        error = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise KernelError(f"{where}, which cannot import the kit ({error}), so every graded cell would score "
                          f"zero. Fix: {fix}.")
    theirs = Path(proc.stdout.strip().splitlines()[-1]).resolve()
    ours = Path(__file__).resolve().with_name("__init__.py")
    if theirs != ours:
        raise KernelError(f"{where}, which imports autograder from {theirs.parent}, not from {ours.parent}: "
                          f"it would grade with other checks. Fix: {fix}.")
    return python


# ---------------------------------------------------------------------------------------------
# notebooks


def assignments(source_dir: Path | None = None) -> list[str]:
    """The assignments present in a source folder (the kit's source/ by default): sub-folders
    holding a notebook, sorted."""
    source_dir = source_dir or kit_files.course_source()
    if not Path(source_dir).is_dir():
        return []
    return sorted(d.name for d in Path(source_dir).iterdir() if d.is_dir() and any(d.glob("*.ipynb")))


def notebook_in(folder: Path) -> Path:
    """The one notebook directly inside an assignment folder."""
    found = sorted(Path(folder).glob("*.ipynb"))
    if len(found) != 1:
        raise FileNotFoundError(f"{folder} should hold exactly one notebook, it holds {len(found)}")
    return found[0]


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def output_text(cell) -> str:
    """What a code cell showed: its streams and its error, as a learner would read them."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback") or [f"{out.get('ename')}: {out.get('evalue')}"]) + "\n")
        elif "text/plain" in out.get("data", {}):
            parts.append(out["data"]["text/plain"] + "\n")
    return _ANSI.sub("", "".join(parts)).rstrip("\n")


def failed(cell) -> bool:
    """nbgrader's rule: an error output or anything on stderr fails a test cell; a result below the
    cell's points (partial credit) falls short of it too."""
    points = float(nbgrader_meta(cell).get("points", 0) or 0)
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error" or (o.get("output_type") == "stream" and o.get("name") == "stderr"):
            return True
        if o.get("output_type") == "execute_result":
            try:
                return float(o.get("data", {}).get("text/plain", "")) < points
            except ValueError:
                return False
    return False


# What the checks say about a stub still to fill in: the function itself, or one it is checked
# through ("backward is checked through your forward ... forward raised NotImplementedError").
NOT_IMPLEMENTED = re.compile(r"\w+ (is not implemented yet|raised NotImplementedError)")


def failing_test_cells(nb) -> dict[str, str]:
    """grade_id -> output text of every graded code cell that failed."""
    return {nbgrader_meta(c)["grade_id"]: output_text(c) for c in nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("grade") and failed(c)}


# ---------------------------------------------------------------------------------------------
# the course


class Course:
    """An nbgrader course folder, driven through nbgrader's Python API."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        if not (self.root / CONFIG_NAME).is_file():
            raise FileNotFoundError(f"{self.root} is not a course: it has no {CONFIG_NAME}")
        self._api = None

    @classmethod
    def build(cls, root: Path | str, assignment_ids: list[str] | None = None,
              source_dir: Path | None = None, config: Path | None = None) -> "Course":
        """Copy the config and the chosen assignments of `source_dir` into `root` (created); both
        default to the kit's own (autograder.kit_files)."""
        root = Path(root)
        source_dir = source_dir or kit_files.course_source()
        config = config or kit_files.course_config()
        (root / "source").mkdir(parents=True, exist_ok=True)
        shutil.copy2(config, root / CONFIG_NAME)
        for a in assignment_ids if assignment_ids is not None else assignments(source_dir):
            shutil.copytree(Path(source_dir) / a, root / "source" / a, ignore=IGNORED)
        return cls(root)

    @classmethod
    @contextlib.contextmanager
    def temporary(cls, assignment_ids: list[str] | None = None, *, keep: bool = False,
                  source_dir: Path | None = None) -> Iterator["Course"]:
        """A course in a fresh temporary folder, removed afterwards unless `keep`."""
        root = tempfile.mkdtemp(prefix="backprop-kit-course-")
        try:
            yield cls.build(root, assignment_ids, source_dir)
        finally:
            if not keep:
                shutil.rmtree(root, ignore_errors=True)

    # --- nbgrader ------------------------------------------------------------------------------

    @property
    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI
            from traitlets.config.loader import PyFileConfigLoader

            ensure_tools_on_path()
            config = PyFileConfigLoader(CONFIG_NAME, path=str(self.root)).load_config()
            config.CourseDirectory.root = str(self.root)
            self._api = NbGraderAPI(config=config)
        return self._api

    @property
    def db_url(self) -> str:
        return self.api.coursedir.db_url

    def check_kernels(self) -> None:
        """Every kernel the course's notebooks name can import the kit (KernelError if not)."""
        names = {nbformat.read(self.source_notebook(a), as_version=4).metadata.get("kernelspec", {}).get("name")
                 or "python3" for a in self.assignments()}
        for name in sorted(names):
            check_kernel(name)

    def _nbgrader(self, step: str, assignment: str, *args) -> None:
        """One NbGraderAPI step (they report failure in the returned dict instead of raising)."""
        from sqlalchemy.exc import SAWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's own ORM use: harmless, noisy
            result = getattr(self.api, step)(assignment, *args, force=True)
        if not result.get("success"):
            raise NbgraderError(f"nbgrader {step} {assignment} failed:\n{result.get('error', '')}\n"
                                f"{result.get('log', '')}")

    def generate(self, assignment: str) -> Path:
        """`nbgrader generate_assignment --force`: the release notebook's path."""
        self._nbgrader("generate_assignment", assignment)
        return self.release_notebook(assignment)

    def release_with_three_students(self, assignment: str):
        """Generate the release and submit the three students of the demo and the round-trip
        tests (STUDENTS). Returns the buggy one's catalog Variant."""
        self.generate(assignment)
        return self.submit_three_students(assignment)

    def submit_three_students(self, assignment: str):
        """Submit the three students (STUDENTS) of an assignment whose release is generated: the
        source notebook, the release untouched, and the source notebook with one catalogued bug
        pasted into one stub. Returns that bug's catalog Variant."""
        complete, untouched, buggy = STUDENTS
        self.submit(assignment, complete, self.source_notebook(assignment))
        self.submit(assignment, untouched, self.release_notebook(assignment))
        nb, bug = buggy_submission(self.source_notebook(assignment), assignment)
        self.submit(assignment, buggy, nb)
        return bug

    def autograde(self, assignment: str, student: str = "*") -> None:
        """`nbgrader autograde --force` (every submitted student by default), then make sure no
        submission lost its set-up cell (a kernel that cannot import the kit)."""
        self._nbgrader("autograde", assignment, student)
        self._check_setup(assignment, self.students(assignment) if student == "*" else [student])

    def _check_setup(self, assignment: str, students: list[str]) -> None:
        """A failed set-up cell (the kernel could not import the kit) would make every test score
        zero without a word: say so instead."""
        for who in students:
            for cell in self.autograded_notebook(assignment, who).cells:
                if nbgrader_meta(cell).get("grade_id") == "setup" and failed(cell):
                    raise KernelError(f"the set-up cell of {assignment} failed for {who}, so every test would "
                                      f"score zero:\n{output_text(cell)}")

    def autograde_many(self, assignment_ids: list[str], workers: int | None = None, done=None) -> None:
        """Autograde every submission of several assignments, `workers` at a time (one more than
        there are cores, by default: running a notebook often waits), later (heavier) assignments
        first, so the capstone's trainings do not come last. Each worker writes a gradebook of its
        own and the grades are merged into the course's (autograder.nbgrader_parallel: nbgrader's
        SQLite gradebook takes one writer). `done(assignment)` is called as each assignment's
        grades are in. Raises KernelError or NbgraderError for the first submission that failed."""
        from autograder.nbgrader_parallel import KERNEL_ERROR, autograde_submissions

        jobs = [(a, s) for a in reversed(assignment_ids) for s in self.students(a)]
        if not jobs:
            return
        outcomes = autograde_submissions(self, jobs, jobs=workers or (os.cpu_count() or 1) + 1, done=done)
        for assignment in [a for a in reversed(assignment_ids) if a in outcomes]:
            for student, why in sorted(outcomes[assignment].failed.items()):
                if why.startswith(KERNEL_ERROR):
                    raise KernelError(why.removeprefix(KERNEL_ERROR))
                raise NbgraderError(f"{assignment} of {student}: {why}")

    def copy_release(self, release_dir: Path) -> list[Path]:
        """Make `release_dir` hold exactly this course's generated release notebooks, one folder per
        assignment (folders of assignments no longer in the course go). Returns the notebooks written."""
        built = [self.release_notebook(a) for a in self.assignments()]
        missing = [str(p) for p in built if not p.is_file()]
        if missing:
            raise NbgraderError(f"not generated yet: {', '.join(missing)}")
        Path(release_dir).mkdir(parents=True, exist_ok=True)
        for folder in Path(release_dir).iterdir():
            if folder.is_dir():
                shutil.rmtree(folder)
        written = []
        for notebook in built:
            (Path(release_dir) / notebook.parent.name).mkdir()
            written.append(Path(shutil.copy2(notebook, Path(release_dir) / notebook.parent.name / notebook.name)))
        return written

    def generate_feedback(self, assignment: str, student: str | None = None) -> None:
        """`nbgrader generate_feedback --force`: feedback/<student>/<a>/<notebook>.html."""
        self._nbgrader("generate_feedback", assignment, student)

    # --- reading the gradebook -------------------------------------------------------------------

    def scores(self, assignment: str) -> dict[str, Score]:
        """Every graded student's total for one assignment, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            return {s.student.id: Score(float(s.score), float(s.max_score))
                    for s in gb.find_assignment(assignment).submissions}

    def cell_scores(self, assignment: str, student: str) -> dict[str, Score]:
        """grade_id -> score of each graded cell of one submission, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            sub = gb.find_submission(assignment, student)
            return {g.name: Score(float(g.score), float(g.max_score)) for nb in sub.notebooks for g in nb.grades}

    # --- paths ---------------------------------------------------------------------------------

    def assignments(self) -> list[str]:
        return assignments(self.root / "source")

    def source_notebook(self, assignment: str) -> Path:
        return notebook_in(self.root / "source" / assignment)

    def release_notebook(self, assignment: str) -> Path:
        return self.root / "release" / assignment / self.source_notebook(assignment).name

    def students(self, assignment: str) -> list[str]:
        return sorted(p.parent.name for p in (self.root / "submitted").glob(f"*/{assignment}"))

    def submit(self, assignment: str, student: str, notebook) -> Path:
        """Place a submission (a path or a notebook node) at submitted/<student>/<assignment>/."""
        nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook
        dest = self.root / "submitted" / student / assignment / self.source_notebook(assignment).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
        return dest

    def autograded_notebook(self, assignment: str, student: str):
        name = self.source_notebook(assignment).name
        return nbformat.read(self.root / "autograded" / student / assignment / name, as_version=4)

    def feedback_html(self, assignment: str, student: str) -> Path:
        return self.root / "feedback" / student / assignment / self.source_notebook(assignment).with_suffix(
            ".html").name


def generate_release(release_dir: Path, source_dir: Path | None = None) -> list[Path]:
    """Regenerate `release_dir` from `source_dir` (the kit's source/ by default) with nbgrader, in a
    temporary course: only the release notebooks come back (no gradebook). Returns the notebooks
    written."""
    ids = assignments(source_dir)
    with Course.temporary(ids, source_dir=source_dir) as course:
        for a in ids:  # all of them, before release_dir is touched
            course.generate(a)
        return course.copy_release(release_dir)


# ---------------------------------------------------------------------------------------------
# the buggy submission


def bug_source(variant) -> str | None:
    """A catalogued bug as a learner would have typed it into the stub (`Variant.source()`), or
    None unless it replaces that one function and needs nothing but NumPy (as `np`) and builtins."""
    if variant.also or variant.impl.__code__.co_freevars:
        return None
    try:
        code = variant.source()
    except (OSError, TypeError, SyntaxError):  # no source to be had
        return None
    table = symtable.symtable(code, f"<bug {variant.id}>", "exec")
    defined = {s.get_name() for s in table.get_symbols() if s.is_assigned()}
    if not _global_names(table) - defined <= set(dir(builtins)) | {"np"}:
        return None
    return code


def _global_names(table) -> set[str]:
    """Every name read from module scope (or builtins) in a symbol table and the scopes within."""
    names = {s.get_name() for s in table.get_symbols() if s.is_global()}
    for child in table.get_children():
        names |= _global_names(child)
    return names


def pick_bug(assignment: str):
    """(variant, source) of a catalogued bug that can be pasted alone: the first one of the last
    function of the assignment that has such a bug. The last function is the one the fewest later
    cells build on (the capstone's model grading uses predict and the file save_params wrote, not
    load_params), so its bug should cost exactly its own test cell's points."""
    from autograder import catalog
    from autograder.checks import ASSIGNMENTS

    for function in reversed(ASSIGNMENTS[assignment]):
        for variant in catalog.bugs(function):
            code = bug_source(variant)
            if code:
                return variant, code
    raise LookupError(f"no catalogued bug of {assignment} can be pasted into a stub on its own")


def paste(nb, function: str, code: str):
    """A copy of `nb` whose stub cell for `function` (the solution cell with that grade_id, as the
    notebook conventions name it) holds `code` instead."""
    nb = copy.deepcopy(nb)
    stubs = [c for c in nb.cells if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade_id") == function]
    if len(stubs) != 1:
        raise LookupError(f"the notebook should have one stub cell with grade_id {function!r}, it has {len(stubs)}")
    stubs[0].source = code.rstrip("\n")
    return nb


def buggy_submission(source_notebook: Path, assignment: str):
    """(notebook, variant): the source notebook with one catalogued bug pasted into one stub."""
    variant, code = pick_bug(assignment)
    nb = nbformat.read(source_notebook, as_version=4)
    return paste(nb, variant.function, code), variant
