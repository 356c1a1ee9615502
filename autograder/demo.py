"""`python -m autograder demo`: the whole nbgrader round trip, in a temporary course.

From the kit's source/ (the repository's, or the copy an installed kit carries) it builds a
course, generates the learners' notebooks and grades three students per assignment with
`nbgrader autograde`:

- complete:  the source notebook itself (its solutions fill the stubs): full marks;
- untouched: the release notebook as a learner receives it: zero;
- buggy:     the source notebook with one catalogued bug pasted into one stub: full marks minus
             exactly that function's points.

It prints the scores from the gradebook and the feedback the buggy submissions received, and
exits 0 when every score is what it should be (1 otherwise, with what differed).
"""
from __future__ import annotations

import textwrap
import time

from autograder.nbgrader_tools import STUDENTS, Course, KernelError, NbgraderError, assignments, failing_test_cells


def main(keep: bool = False, assignment_ids: list[str] | None = None) -> int:
    """The demo over every assignment, or over `assignment_ids` (the install test runs one)."""
    start = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - start:5.1f}s] {text}", flush=True)

    ids = assignment_ids or assignments()
    if not ids:
        print("demo: source/ holds no assignment notebooks yet")
        return 1
    bugs = {}
    try:
        with Course.temporary(ids, keep=keep) as course:
            say(f"course with {len(ids)} assignment(s) in {course.root}")
            course.check_kernels()
            for a in ids:
                bugs[a] = course.release_with_three_students(a)
                say(f"{a}: release generated; students: complete, untouched, "
                    f"buggy ({bugs[a].id} pasted into {bugs[a].function})")
            say(f"autograding {len(STUDENTS) * len(ids)} submissions with nbgrader, a few at a time ...")
            graded = {}

            def report(a):
                graded[a] = (course.scores(a), failing_test_cells(course.autograded_notebook(a, "buggy")))
                say(f"{a}: graded: " + ", ".join(f"{s} {_fmt(graded[a][0][s])}" for s in STUDENTS))

            course.autograde_many(ids, done=report)
            if keep:
                say(f"kept the course in {course.root}")
    except (NbgraderError, KernelError, LookupError) as exc:
        print(f"demo: {exc}")
        return 1
    print()
    print(_table([(a, bugs[a], graded[a][0]) for a in ids]))
    for a in ids:
        print()
        print(f"--- feedback for buggy/{a} ({bugs[a].id} pasted into {bugs[a].function}) ---")
        for grade_id, text in graded[a][1].items():
            print(f"[{grade_id}]")
            print(textwrap.indent(text, "  "))
    print()
    problems = [p for a in ids for p in _problems(a, bugs[a], graded[a][0])]
    if problems:
        print("demo: the scores are not what they should be:")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(f"demo: every score is as expected ({len(ids)} assignment(s), {len(ids) * len(STUDENTS)} "
          f"submissions graded by nbgrader in {time.monotonic() - start:.0f} s)")
    return 0


def _problems(a, bug, scores) -> list[str]:
    """What differs from: complete = full, untouched = 0, buggy = full minus what the judge takes
    off the bug's function (test cells earn partial credit)."""
    from autograder.checks.base import REFERENCE
    from autograder.judge import judge

    full = scores["complete"].max_score
    off = sum(r.max_points - r.points for r in judge({**REFERENCE, **bug.overrides}, [bug.function]))
    expected = {"complete": full, "untouched": 0.0, "buggy": full - off}
    return [f"{a}/{s}: {scores[s].score:g} of {full:g}, expected {want:g}"
            for s, want in expected.items() if scores[s].score != want]


def _fmt(score) -> str:
    return f"{score.score:g}/{score.max_score:g}"


def _table(rows) -> str:
    header = ("assignment", *STUDENTS, "bug pasted into the buggy one")
    body = [(a, *(_fmt(scores[s]) for s in STUDENTS), bug.id) for a, bug, scores in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])
