"""The real nbgrader round trip, in a temporary course with a SQLite gradebook.

For every assignment in source/: generate_assignment, then nbgrader autogrades three students
(the source notebook: full marks; the release untouched: zero, every failing cell saying what is
not implemented yet; one catalogued bug pasted into one stub: exactly that function's points lost,
its hint shown), then generate_feedback. Scores come from the gradebook. Run with -s to see how
long each step took."""
from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest

from autograder.capstone import CAPSTONE_POINTS
from autograder.checks import ASSIGNMENTS, points_for
from autograder.checks.base import REFERENCE
from autograder.judge import judge
from autograder.nbgrader_tools import NOT_IMPLEMENTED, STUDENTS, assignments, failing_test_cells

REPO = Path(__file__).resolve().parents[1]
IDS = assignments(REPO / "source")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not IDS, reason="source/ holds no notebooks yet")]


@pytest.fixture(scope="module")
def graded(course):
    """The session's course (every release generated) with three students per assignment
    autograded and given feedback, once.

    Submissions are graded a few at a time (Course.autograde_many, as the demo does);
    test_one_call_grades_every_student checks the instructor's way, one call per assignment."""
    assert not set(STUDENTS) & {s for a in IDS for s in course.students(a)}, "another test submitted as them"
    course.bugs, start = {}, time.monotonic()
    for a in IDS:
        course.bugs[a] = course.submit_three_students(a)
    course.autograde_many(IDS)
    course.seconds["autograde"] = time.monotonic() - start
    for a in IDS:
        course.generate_feedback(a)
    course.seconds["feedback"] = time.monotonic() - start - course.seconds["autograde"]
    yield course
    print("\nround trip seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in course.seconds.items()))


def _full(a):
    """Every function's points, and the capstone's model grading."""
    return sum(points_for(f) for f in ASSIGNMENTS[a]) + (CAPSTONE_POINTS if a == "07_capstone" else 0)


@pytest.mark.parametrize("assignment", IDS)
def test_complete_submission_gets_full_marks(graded, assignment):
    score = graded.scores(assignment)["complete"]
    assert score.max_score == _full(assignment)
    failing = failing_test_cells(graded.autograded_notebook(assignment, "complete"))
    assert score.score == score.max_score, f"failing cells of the source notebook: {failing}"
    assert not failing


@pytest.mark.parametrize("assignment", IDS)
def test_untouched_release_scores_zero_and_says_what_is_missing(graded, assignment):
    assert graded.scores(assignment)["untouched"].score == 0
    cells = graded.cell_scores(assignment, "untouched")
    failing = failing_test_cells(graded.autograded_notebook(assignment, "untouched"))
    assert sorted(failing) == sorted(cells)
    assert {f"test_{f}" for f in ASSIGNMENTS[assignment]} <= set(cells)
    for grade_id, text in failing.items():
        # it names a stub still to fill in: its own function, or one it is checked through
        # (backward through forward), or, for the capstone's model, what its training needed
        assert NOT_IMPLEMENTED.search(text), f"{grade_id} says:\n{text}"
        assert "Traceback" not in text, f"the learner sees a traceback:\n{text}"


@pytest.mark.parametrize("assignment", IDS)
def test_one_pasted_bug_costs_exactly_its_function_and_shows_its_hint(graded, assignment):
    bug = graded.bugs[assignment]
    cells = graded.cell_scores(assignment, "buggy")
    lost = {g: s.max_score - s.score for g, s in cells.items() if s.score != s.max_score}
    # partial credit: the cell loses what the judge takes off that function, no more, no less
    judged = judge({**REFERENCE, **bug.overrides}, [bug.function])
    off = sum(r.max_points - r.points for r in judged)
    assert 0 < off <= points_for(bug.function)
    assert lost == {f"test_{bug.function}": off}, f"{bug.id} pasted"
    assert graded.scores(assignment)["buggy"].score == _full(assignment) - off
    text = failing_test_cells(graded.autograded_notebook(assignment, "buggy"))[f"test_{bug.function}"]
    assert bug.hint in text, f"{bug.id}'s hint is not in the feedback:\n{text}"
    assert "Traceback" not in text, f"the learner sees a traceback:\n{text}"


@pytest.mark.parametrize("assignment", IDS)
def test_feedback_html_shows_the_hint(graded, assignment):
    page = graded.feedback_html(assignment, "buggy")
    assert page.is_file()
    visible = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert graded.bugs[assignment].hint in visible
    for student in ("complete", "untouched"):
        assert graded.feedback_html(assignment, student).is_file()


def test_one_call_grades_every_student(graded):
    """`nbgrader autograde <a>` as an instructor runs it (every student, one call) agrees."""
    a = IDS[0]
    before = graded.scores(a)
    graded.autograde(a)
    assert graded.scores(a) == before
