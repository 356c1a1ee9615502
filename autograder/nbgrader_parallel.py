"""`nbgrader autograde` of many students at once into the course's one gradebook, with no grade lost
or doubled: `python -m autograder nbgrader-autograde ASSIGNMENT --course . --jobs N --csv grades.csv`.

Why not N `nbgrader autograde --student X` at once: nbgrader has no parallel autograde (its issue 174)
and its gradebook is one SQLite file with a single writer. An autograde writes it as it goes (the
submission's rows when it starts, each cell's grade at the end, in transactions that read before they
write); concurrent ones race to create the same student, and a write that waits on another's lock
longer than SQLite's timeout fails with "database is locked", leaving a student without a grade.

So no two processes ever write one gradebook:
1. the assignment must be in the gradebook (`generate_assignment`), and every submitting student is
   added to it first;
2. each worker process autogrades the students it takes, one after another, into a gradebook of its
   own: a copy of the course's made in step 1 (nbgrader itself is unchanged: only its `db_url` differs);
3. when every worker is done, one process copies each student's submission (timestamp, every cell's
   scores and comments) from the worker's gradebook into the course's, student by student;
4. then it checks what it promises: each student has one submission with one grade per graded cell,
   each equal to the worker's.
The course's own `nbgrader_config.py` applies (the kit's SandboxedGrades judges every test cell).
"""
from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder.nbgrader_tools import CONFIG_NAME, Course, KernelError, NbgraderError, ensure_tools_on_path


KERNEL_ERROR = "kernel: "   # what starts the reason of a submission whose set-up cell failed (KernelError)


class ParallelAutogradeError(RuntimeError):
    """The course cannot be autograded as asked (no such assignment in the gradebook, no submissions)."""


@dataclass
class Outcome:
    """What a parallel autograde did: who was graded, who failed and why."""

    assignment: str
    graded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # student -> why (the gradebook keeps what it had)


def gradebook_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def autograde_parallel(course_root: str | os.PathLike, assignment: str, *, jobs: int = 2,
                       students: list[str] | None = None) -> Outcome:
    """Autograde `students` (everyone under submitted/ by default) of `assignment`, `jobs` at a time,
    into the course's gradebook."""
    course = Course(course_root)
    students = sorted(students if students is not None else course.students(assignment))
    if not students:
        raise ParallelAutogradeError(f"no submissions of {assignment} under {course.root / 'submitted'}")
    return autograde_submissions(course, [(assignment, s) for s in students], jobs=jobs)[assignment]


def autograde_submissions(course: Course, submissions: list[tuple[str, str]], *, jobs: int = 2,
                          done=None) -> dict[str, Outcome]:
    """Autograde (assignment, student) pairs, `jobs` at a time in the order given, into the course's
    gradebook; assignment -> what happened. `done(assignment)` is called as each assignment's grades
    are in the gradebook."""
    main_db = Path(course.db_url.removeprefix("sqlite:///"))
    _prepare(course.db_url, submissions)
    outcomes = {a: Outcome(a) for a, _ in submissions}
    with tempfile.TemporaryDirectory(prefix="backprop-kit-gradebooks-") as scratch:
        slots = [Path(scratch) / f"gradebook-{i}.db" for i in range(max(1, min(jobs, len(submissions))))]
        for slot in slots:
            shutil.copy2(main_db, slot)
        graded_in = _autograde_in_workers(course.root, submissions, slots, outcomes)
        for assignment, outcome in outcomes.items():
            mine = {s: slot for (a, s), slot in graded_in.items() if a == assignment}
            _merge(course.db_url, assignment, mine)
            _verify(course.db_url, assignment, mine)
            outcome.graded = sorted(mine)
            if done and not outcome.failed:
                done(assignment)
    return outcomes


def _prepare(db_url: str, submissions: list[tuple[str, str]]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        for assignment in dict.fromkeys(a for a, _ in submissions):
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise ParallelAutogradeError(f"{assignment} is not in the gradebook: run `nbgrader "
                                             f"generate_assignment {assignment}` first") from None
        for student in sorted({s for _, s in submissions}):
            gb.update_or_create_student(student)


def _autograde_in_workers(root: Path, submissions: list[tuple[str, str]], slots: list[Path],
                          outcomes: dict[str, Outcome]) -> dict[tuple[str, str], Path]:
    """(assignment, student) -> the gradebook that holds their fresh grades; failures go to `outcomes`."""
    context = multiprocessing.get_context("fork")   # workers start with nbgrader already imported
    free = context.Queue()
    for slot in slots:
        free.put(str(slot))
    ensure_tools_on_path()   # nbgrader runs alembic from PATH; the workers inherit it
    graded_in = {}
    with ProcessPoolExecutor(len(slots), mp_context=context, initializer=_take_gradebook,
                             initargs=(str(root), free)) as pool:
        futures = {(a, s): pool.submit(_autograde_one, a, s) for a, s in submissions}
        for (assignment, student), future in futures.items():
            try:
                slot, error = future.result()
            except Exception as exc:  # a worker that died: the others go on
                slot, error = None, f"{type(exc).__name__}: {exc}"
            if error:
                outcomes[assignment].failed[student] = error
            else:
                graded_in[assignment, student] = Path(slot)
    return graded_in


_WORKER: dict = {}


def _take_gradebook(root: str, free) -> None:
    """In a worker process: the gradebook it writes, kept for every student it autogrades."""
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(threads, "1")  # the workers share the cores
    _WORKER["root"], _WORKER["slot"] = root, free.get()


def _autograde_one(assignment: str, student: str) -> tuple[str, str]:
    """(the worker's gradebook, "" or why the autograde failed)."""
    course = _WORKER.get("course")
    if course is None:
        course = _WORKER["course"] = Course(_WORKER["root"])
        course.api.coursedir.db_url = gradebook_url(Path(_WORKER["slot"]))
    try:
        course.autograde(assignment, student)
    except KernelError as exc:
        return _WORKER["slot"], f"{KERNEL_ERROR}{exc}"[-2000:]
    except NbgraderError as exc:
        return _WORKER["slot"], str(exc)[-2000:]
    return _WORKER["slot"], ""


def _merge(db_url: str, assignment: str, graded_in: dict[str, Path]) -> None:
    """Copy each student's submission from the worker's gradebook into the course's, in one process."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    by_slot: dict[Path, list[str]] = {}
    for student, slot in sorted(graded_in.items()):
        by_slot.setdefault(slot, []).append(student)
    with Gradebook(db_url) as main, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own ORM use in add_submission: harmless, noisy
        for slot, students in by_slot.items():
            with Gradebook(gradebook_url(slot)) as worker:
                for student in students:
                    _copy_submission(worker, main, assignment, student)


def _copy_submission(source, target, assignment: str, student: str) -> None:
    sub = source.find_submission(assignment, student)
    copy = target.update_or_create_submission(assignment, student, timestamp=sub.timestamp)
    copy.extension = sub.extension
    for nb in sub.notebooks:
        target_nb = target.find_submission_notebook(nb.name, assignment, student)
        target_nb.flagged = nb.flagged
        target_nb.late_submission_penalty = nb.late_submission_penalty
        for grade in nb.grades:
            into = target.find_grade(grade.name, nb.name, assignment, student)
            into.auto_score, into.manual_score = grade.auto_score, grade.manual_score
            into.extra_credit, into.needs_manual_grade = grade.extra_credit, grade.needs_manual_grade
        for comment in nb.comments:
            into = target.find_comment(comment.name, nb.name, assignment, student)
            into.auto_comment, into.manual_comment = comment.auto_comment, comment.manual_comment
    target.db.commit()


def _verify(db_url: str, assignment: str, graded_in: dict[str, Path]) -> None:
    """Every merged student: one submission, one grade per graded cell, each the worker's."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as main:
        cells = {(nb.name, cell.name) for nb in main.find_assignment(assignment).notebooks for cell in nb.grade_cells}
        for student, slot in graded_in.items():
            got = grade_rows(main, assignment, student)
            keys = [key for key, _ in got]
            if sorted(keys) != sorted(cells):
                raise NbgraderError(f"the gradebook holds {len(keys)} grades for {student}'s {assignment} "
                                    f"where it should hold one for each of its {len(cells)} graded cells")
            with Gradebook(gradebook_url(slot)) as worker:
                expected = grade_rows(worker, assignment, student)
            if sorted(got) != sorted(expected):
                raise NbgraderError(f"{student}'s grades for {assignment} differ from the autograde's after merging")


def grade_rows(gb, assignment: str, student: str) -> list[tuple[tuple[str, str], float | None]]:
    """((notebook, grade cell), score) of every grade row the gradebook holds for one submission,
    read straight from its tables (a doubled row shows up twice)."""
    from nbgrader.api import Assignment, Grade, GradeCell, Notebook, SubmittedAssignment, SubmittedNotebook

    rows = (gb.db.query(Notebook.name, GradeCell.name, Grade.score)
            .select_from(Grade)
            .join(GradeCell, GradeCell.id == Grade.cell_id)
            .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
            .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
            .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .filter(Assignment.name == assignment, SubmittedAssignment.student_id == student))
    return [((nb, cell), None if score is None else float(score)) for nb, cell, score in rows]


# ---------------------------------------------------------------------------------------------
# the gradebook as CSV


def export_csv(course_root: str | os.PathLike, assignment: str, out: str | os.PathLike) -> Path:
    """One row per student with a submission of `assignment`: the total, and each graded cell's
    score (columns `notebook:grade_id`, in the notebook's order), straight from the gradebook."""
    from nbgrader.api import Gradebook

    course = Course(course_root)
    out = Path(out)
    with Gradebook(course.db_url) as gb:
        found = gb.find_assignment(assignment)
        cells = [(nb.name, cell.name) for nb in found.notebooks for cell in nb.grade_cells]
        header = ["student", "assignment", "score", "max_score"] + [f"{nb}:{cell}" for nb, cell in cells]
        rows = []
        for sub in sorted(found.submissions, key=lambda s: s.student.id):
            scores = dict(grade_rows(gb, assignment, sub.student.id))
            rows.append([sub.student.id, assignment, f"{float(sub.score):g}", f"{float(sub.max_score):g}"]
                        + [_number(scores.get(key)) for key in cells])
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return out


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def is_course(root: str | os.PathLike) -> bool:
    return (Path(root) / CONFIG_NAME).is_file()
