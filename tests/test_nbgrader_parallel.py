"""nbgrader autograde of many students at once into one gradebook (`nbgrader-autograde --jobs 2`):
every student ends with one submission and exactly one grade per graded cell, the scores the
sandboxed judge gives, grading again doubles nothing, and the CSV says what the gradebook says."""
from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from autograder.nbgrader_grading import audit
from autograder.nbgrader_parallel import ParallelAutogradeError, autograde_parallel, export_csv, grade_rows
from autograder.nbgrader_tools import Course, buggy_submission

A = "02_activations"
COMPLETE, UNTOUCHED, BUGGY = ("ada", "alan"), ("barbara", "brian"), ("claude", "corinna")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course.build(tmp_path_factory.mktemp("course"), [A])
    course.generate(A)
    buggy, _ = buggy_submission(course.source_notebook(A), A)
    for student in COMPLETE:
        course.submit(A, student, course.source_notebook(A))
    for student in UNTOUCHED:
        course.submit(A, student, course.release_notebook(A))
    for student in BUGGY:
        course.submit(A, student, buggy)
    return course


def graded_cells(course: Course) -> set[tuple[str, str]]:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        return {(nb.name, cell.name) for nb in gb.find_assignment(A).notebooks for cell in nb.grade_cells}


def assert_one_grade_per_cell(course: Course, students) -> None:
    from nbgrader.api import Gradebook

    cells = graded_cells(course)
    assert len(cells) > 3
    with Gradebook(course.db_url) as gb:
        assert sorted(s.student.id for s in gb.find_assignment(A).submissions) == sorted(students)
        for student in students:
            rows = grade_rows(gb, A, student)
            assert sorted(key for key, _ in rows) == sorted(cells), student   # none missing, none doubled
            assert all(score is not None for _, score in rows), student


@pytest.mark.slow
def test_parallel_autograde_gives_every_student_one_grade_per_cell_and_the_judges_scores(course, tmp_path):
    out = tmp_path / "grades.csv"
    done = subprocess.run([sys.executable, "-m", "autograder", "nbgrader-autograde", "02", "--course", str(course.root),
                           "--jobs", "2", "--csv", str(out)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    everyone = COMPLETE + UNTOUCHED + BUGGY
    assert f"autograded {len(everyone)} students" in done.stdout
    assert_one_grade_per_cell(course, everyone)

    scores = course.scores(A)
    full = scores["ada"].max_score
    assert full > 0 and all(scores[s].max_score == full for s in everyone)
    assert all(scores[s].score == full for s in COMPLETE)
    assert all(scores[s].score == 0 for s in UNTOUCHED)
    assert all(0 < scores[s].score < full for s in BUGGY)
    for a, b in (COMPLETE, UNTOUCHED, BUGGY):  # the same notebook, whichever worker graded it
        assert course.cell_scores(A, a) == course.cell_scores(A, b)
    judged, disagreements = audit(course.root, A)  # the sandboxed judge agrees with every recorded grade
    assert judged == len(everyone) and disagreements == []

    with open(out, newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert sorted(rows) == sorted(everyone)
    for student, row in rows.items():
        assert float(row["score"]) == scores[student].score and float(row["max_score"]) == full
        cells = course.cell_scores(A, student)
        per_cell = {k.split(":", 1)[1]: float(v) for k, v in row.items() if ":" in k}
        assert per_cell == {name: s.score for name, s in cells.items()}


@pytest.mark.slow
def test_autograding_again_replaces_grades_and_doubles_none(course, tmp_path):
    if not course.scores(A):
        autograde_parallel(course.root, A, jobs=2)
    before = {s: course.cell_scores(A, s) for s in COMPLETE + BUGGY}
    course.submit(A, "claude", course.source_notebook(A))   # claude fixed the bug
    outcome = autograde_parallel(course.root, A, jobs=2, students=["claude", "ada", "corinna"])
    assert outcome.graded == ["ada", "claude", "corinna"] and outcome.failed == {}
    assert_one_grade_per_cell(course, COMPLETE + UNTOUCHED + BUGGY)
    assert course.cell_scores(A, "claude") == before["ada"]
    assert course.cell_scores(A, "corinna") == before["corinna"] != before["ada"]
    export = export_csv(course.root, A, tmp_path / "again.csv")
    with open(export, newline="") as f:
        assert {r["student"]: float(r["score"]) for r in csv.DictReader(f)} == \
            {s: v.score for s, v in course.scores(A).items()}


@pytest.mark.slow
def test_an_assignment_not_generated_is_refused_clearly(tmp_path):
    course = Course.build(tmp_path / "course", [A])
    course.submit(A, "ada", course.source_notebook(A))
    with pytest.raises(ParallelAutogradeError, match="generate_assignment"):
        autograde_parallel(course.root, A, jobs=2)
    with pytest.raises(ParallelAutogradeError, match="no submissions"):
        autograde_parallel(course.root, "03_loss", jobs=2)
