"""`python -m autograder ...`: check a submission, run the demo, grade a capstone model."""
from __future__ import annotations

import argparse
import sys

from autograder.assignments import ASSIGNMENTS
from autograder.cli_common import (
    EXIT_FAIL,
    EXIT_PASS,
    EXIT_UNUSABLE,
    add_check_and_capstone,
    resolve_assignment,
    unusable,
)

__all__ = ["EXIT_FAIL", "EXIT_PASS", "EXIT_UNUSABLE", "build_parser", "main", "resolve_assignment"]


def cmd_check(args) -> int:
    from autograder.judge_service import Settings, begin, finish

    # the worker starts and loads the submission while the judge imports its checks
    settings = Settings(functions=ASSIGNMENTS[resolve_assignment(args.assignment)] if args.assignment else None,
                        public=args.public, timeout=args.timeout, require_sandbox=args.require_sandbox,
                        as_json=args.json)
    out, code = finish(begin(args.submission, settings), settings)
    (sys.stderr if code == EXIT_UNUSABLE and not args.json else sys.stdout).write(out)
    return code


def cmd_demo(args) -> int:
    from autograder.demo import main

    return main(keep=args.keep)


def cmd_capstone(args) -> int:
    from autograder.capstone import run_cli

    return run_cli(args.model, args.submission, args.json, args.require_sandbox)


def cmd_audit(args) -> int:
    from pathlib import Path

    from autograder.nbgrader_grading import audit

    root = Path(args.course).resolve()
    if not (root / "nbgrader_config.py").is_file():
        return unusable(f"{root} is not an nbgrader course (no nbgrader_config.py); give it with --course")
    assignment = resolve_assignment(args.assignment)
    try:
        judged, disagreements = audit(root, assignment, require_sandbox=args.require_sandbox)
    except Exception as exc:  # no gradebook, no such assignment in it: say which
        return unusable(f"cannot audit {assignment} in {root}: {type(exc).__name__}: {exc}")
    print(f"audit of {assignment}: {judged} autograded submission{'s' if judged != 1 else ''} re-judged in the "
          f"sandbox, {len(disagreements)} disagreement{'s' if len(disagreements) != 1 else ''} with the gradebook")
    for d in disagreements:
        recorded = "missing" if d.gradebook is None else f"{d.gradebook:g}"
        print(f"  {d.student:<20} {d.grade_id:<32} gradebook {recorded:>6}   judge {d.judge:g}")
    return EXIT_FAIL if disagreements else EXIT_PASS


def cmd_nbgrader_autograde(args) -> int:
    from pathlib import Path

    from autograder.nbgrader_parallel import ParallelAutogradeError, autograde_parallel, export_csv, is_course
    from autograder.nbgrader_tools import NbgraderError

    root = Path(args.course).resolve()
    if not is_course(root):
        return unusable(f"{root} is not an nbgrader course (no nbgrader_config.py); give it with --course")
    if args.jobs < 1:
        return unusable(f"--jobs must be at least 1 (got {args.jobs})")
    assignment = resolve_assignment(args.assignment)
    try:
        outcome = autograde_parallel(root, assignment, jobs=args.jobs, students=args.student or None)
    except (ParallelAutogradeError, NbgraderError) as exc:
        return unusable(f"cannot autograde {assignment} in {root}: {exc}")
    print(f"autograded {len(outcome.graded)} students of {assignment} into {root / 'gradebook.db'}"
          + (f"; {len(outcome.failed)} failed (the gradebook keeps what it had for them):" if outcome.failed else ""))
    for student, why in sorted(outcome.failed.items()):
        print(f"  {student}: {(why.strip().splitlines() or ['no reason given'])[-1]}")
    if args.csv:
        print(f"wrote {export_csv(root, assignment, args.csv)}")
    return EXIT_FAIL if outcome.failed else EXIT_PASS


def cmd_example(args) -> int:
    from autograder.reference_file import example_source

    try:
        source = example_source([b for b in args.bugs.split(",") if b] if args.bugs is not None else None)
    except ValueError as exc:
        return unusable(str(exc))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(source)
        print(f"wrote {args.out}: check it with python -m autograder check {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return EXIT_PASS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    add_check_and_capstone(sub, cmd_check, cmd_capstone, learner=False)

    audit = sub.add_parser("audit", help="re-judge every autograded submission in the sandbox; list disagreements "
                                          "with the gradebook")
    audit.add_argument("assignment", help="the assignment (e.g. 02_activations, 02)")
    audit.add_argument("--course", default=".", help="the nbgrader course folder (default: here)")
    audit.add_argument("--require-sandbox", action="store_true",
                       help="refuse to judge unless learner code runs in the bubblewrap sandbox")
    audit.set_defaults(func=cmd_audit)

    many = sub.add_parser("nbgrader-autograde", help="nbgrader autograde of every student, --jobs at a time, into "
                                                      "the course's one gradebook; --csv writes its scores")
    many.add_argument("assignment", help="the assignment (e.g. 02_activations, 02)")
    many.add_argument("--course", default=".", help="the nbgrader course folder (default: here)")
    many.add_argument("--jobs", type=int, default=2, help="students autograded at once (default 2)")
    many.add_argument("--student", action="append", help="only this student (repeat for several; default: all)")
    many.add_argument("--csv", help="write the gradebook's scores of the assignment here: one row per student, "
                                    "the total and each graded cell")
    many.set_defaults(func=cmd_nbgrader_autograde)

    demo = sub.add_parser("demo", help="build a course, grade three submissions with nbgrader, show scores")
    demo.add_argument("--keep", action="store_true", help="keep the temporary course folder and print its path")
    demo.set_defaults(func=cmd_demo)

    example = sub.add_parser("example",
                             help="write the reference with catalogued mistakes pasted in, to try `check` on")
    example.add_argument("--bugs", metavar="ID,ID", help="catalogued bugs to paste in, as function.name "
                         "(default: softmax.over_axis_0,relu_derivative.booleans)")
    example.add_argument("--out", metavar="FILE", help="write here instead of to standard output")
    example.set_defaults(func=cmd_example)

    add_platform_commands(sub)
    add_bundle_command(sub)
    return parser


# --- the learner's kit (issue 8): `bundle --out DIR`. Self-contained: build_parser calls add_bundle_command.

def cmd_bundle(args) -> int:
    from autograder.kit.build import bundle

    bundle(args.out)
    return EXIT_PASS


def add_bundle_command(sub) -> None:
    bundle = sub.add_parser("bundle", help="build the learner's kit: notebooks, MNIST, the learner package "
                                           "(public checks, recorded answers, no reference), as DIR and DIR.zip")
    bundle.add_argument("--out", required=True,
                        help="the folder to write (emptied first); DIR.zip is written beside it")
    bundle.set_defaults(func=cmd_bundle)


# --- platforms and batch grading (issue 9): subcommands export, gradescope-grade, prairielearn-grade,
# grade. Self-contained: build_parser calls add_platform_commands. (`check --format` is both CLIs':
# cli_common.check_in_format.)

def cmd_export(args) -> int:
    from pathlib import Path

    from autograder.platforms.files import Config

    assignment = resolve_assignment(args.assignment)
    config = Config(assignment=assignment, hidden_visibility=args.hidden_visibility, deadline=args.deadline,
                    check_timeout=args.check_timeout, require_sandbox=args.require_sandbox)
    if args.platform == "gradescope":
        from autograder.platforms.gradescope import export_zip

        out = export_zip(assignment, args.out or "autograder.zip", config=config)
    elif args.platform == "prairielearn":
        from autograder.platforms.prairielearn import export

        out = export([assignment], args.out or "prairielearn", image=args.image, config=config)
    else:
        if args.all_checks:
            return unusable("export classroom has no --all-checks: the workflow runs in each student's own "
                            "repository, so hidden checks (and the reference they need) would ship to every "
                            "student. Classroom runs the public checks of the learner's kit; grade the hidden "
                            "checks on Gradescope, PrairieLearn or with `grade` (see docs/platforms.md)")
        from autograder.platforms.classroom_export import export

        out = export(assignment, args.out or "classroom", deadline=args.deadline)
    print(f"wrote {Path(out)}; see docs/platforms.md for what to do with it")
    return 0


def cmd_gradescope_grade(args) -> int:
    from autograder.platforms.gradescope import grade_root

    grade_root(args.root)
    return 0


def cmd_prairielearn_grade(args) -> int:
    from autograder.platforms.prairielearn import grade_root

    grade_root(args.root, assignment=resolve_assignment(args.assignment) if args.assignment else None,
               deadline=args.deadline)
    return 0


def cmd_grade(args) -> int:
    from autograder.batch import grade_batch

    return grade_batch(args.submissions, out=args.out, jobs=args.jobs, jsonl=args.jsonl, force=args.force,
                       assignment=resolve_assignment(args.assignment) if args.assignment else None,
                       timeout=args.timeout, deadline=args.deadline, require_sandbox=args.require_sandbox,
                       served=not args.judge_per_submission)


def cmd_judge_service(args) -> int:
    from autograder.judge_service import Settings, serve

    functions = ASSIGNMENTS[resolve_assignment(args.assignment)] if args.assignment else None
    return serve(Settings(functions=functions, public=args.public, timeout=args.timeout,
                          require_sandbox=args.require_sandbox))


def add_platform_commands(sub) -> None:
    export = sub.add_parser("export", help="package an assignment for Gradescope, PrairieLearn or GitHub Classroom")
    export.add_argument("platform", choices=("gradescope", "prairielearn", "classroom"))
    export.add_argument("assignment", help="the assignment (e.g. 02_activations, 02)")
    export.add_argument("--out", help="the zip (gradescope) or folder (prairielearn, classroom) to write")
    export.add_argument("--hidden-visibility", default="after_published",
                        choices=("hidden", "after_due_date", "after_published", "visible"),
                        help="Gradescope: when students see hidden checks (default after_published)")
    export.add_argument("--deadline", type=float, default=480.0,
                        help="Gradescope and Classroom: seconds one submission's grading may take (default 480; "
                             "Gradescope allows 600, the Classroom step a few minutes more than this)")
    export.add_argument("--check-timeout", type=float, default=None, help="seconds each check may take")
    export.add_argument("--require-sandbox", action="store_true",
                        help="grade only inside the sandbox (the judge refuses otherwise)")
    export.add_argument("--image", default="YOUR_DOCKERHUB_USER/backprop-kit-grader",
                        help="PrairieLearn: the Docker image name the questions use")
    # Classroom once shipped the instructor's wheel (reference and hidden checks) to every student with
    # --all-checks; it is refused with the reason now, rather than left to argparse's "unrecognized"
    export.add_argument("--all-checks", action="store_true", help=argparse.SUPPRESS)
    export.set_defaults(func=cmd_export)

    gs = sub.add_parser("gradescope-grade", help="grade ROOT/submission into ROOT/results/results.json (Gradescope)")
    gs.add_argument("root", nargs="?", default="/autograder", help="the Gradescope root (default /autograder)")
    gs.set_defaults(func=cmd_gradescope_grade)

    pl = sub.add_parser("prairielearn-grade", help="grade ROOT/student into ROOT/results/results.json (PrairieLearn)")
    pl.add_argument("root", nargs="?", default="/grade", help="the PrairieLearn root (default /grade)")
    pl.add_argument("--assignment", help="the assignment the question grades")
    pl.add_argument("--deadline", type=float, default=None, help="seconds grading may take")
    pl.set_defaults(func=cmd_prairielearn_grade)

    grade = sub.add_parser("grade", help="grade a folder of submissions in parallel into a CSV (resumable)")
    grade.add_argument("submissions", help="a folder: one .py/.ipynb file, or one folder, per submission")
    grade.add_argument("--out", default="grades.csv", help="the CSV to write (default grades.csv)")
    grade.add_argument("--jsonl", help="also write every check of every submission, one JSON line each")
    grade.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    grade.add_argument("--force", action="store_true", help="grade again what the CSV already has")
    grade.add_argument("--assignment", help="judge one assignment only (e.g. 02_activations, 02)")
    grade.add_argument("--timeout", type=float, default=None, help="seconds each check may take")
    grade.add_argument("--deadline", type=float, default=300.0, help="seconds one submission may take (default 300)")
    grade.add_argument("--require-sandbox", action="store_true", help="pass --require-sandbox to the judge")
    grade.add_argument("--judge-per-submission", action="store_true",
                       help="start a judge process for every submission instead of one per job (slower; "
                            "for comparison)")
    grade.set_defaults(func=cmd_grade)

    # the long-lived judge `grade` starts, one per job (autograder/judge_service.py); not for people
    service = sub.add_parser("judge-service", help=argparse.SUPPRESS)
    service.add_argument("--assignment")
    service.add_argument("--public", action="store_true")
    service.add_argument("--timeout", type=float, default=None)
    service.add_argument("--require-sandbox", action="store_true")
    service.set_defaults(func=cmd_judge_service)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
