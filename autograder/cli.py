"""`python -m autograder ...`: check a submission, run the demo, grade a capstone model."""
from __future__ import annotations

import argparse
import sys

from autograder.checks import ASSIGNMENTS

EXIT_PASS, EXIT_FAIL, EXIT_UNUSABLE = 0, 1, 2


def resolve_assignment(name: str) -> str:
    """'02_activations', '02' or 'activations' all name the same assignment."""
    for full in ASSIGNMENTS:
        if name in (full, full[:2], full[3:]):
            return full
    raise SystemExit(f"autograder: unknown assignment {name!r}; choose one of {', '.join(ASSIGNMENTS)}")


def cmd_check(args) -> int:
    from autograder.judge import judge_submission
    from autograder.report import json_report, text_report
    from autograder.sandbox.launch import SandboxUnavailable
    from autograder.submission import SubmissionError, read_submission

    try:
        blocks = read_submission(args.submission)
    except SubmissionError as exc:
        return unusable(args, str(exc))
    functions = None
    if args.assignment:
        functions = ASSIGNMENTS[resolve_assignment(args.assignment)]
    try:
        verdicts = judge_submission([b.as_dict() for b in blocks], functions, hidden=False if args.public else None,
                                    timeout=args.timeout, require_sandbox=args.require_sandbox)
    except SandboxUnavailable as exc:
        return unusable(args, f"--require-sandbox: {exc}")
    where = f"{verdicts.isolation} ({verdicts.detail})" if verdicts.detail else verdicts.isolation
    if args.json:
        out = json_report(args.submission, verdicts.results, verdicts.notes, isolation=verdicts.isolation,
                          detail=verdicts.detail, flags=verdicts.flags)
    else:
        out = text_report(args.submission, verdicts.results, verdicts.notes, isolation=where, flags=verdicts.flags)
    sys.stdout.write(out)
    return EXIT_PASS if all(r.passed for r in verdicts.results) else EXIT_FAIL


def unusable(args, message: str) -> int:
    """A submission (or set-up) that cannot be graded at all: say why, exit 2."""
    if getattr(args, "json", False):
        import json

        print(json.dumps({"submission": getattr(args, "submission", None), "error": message}))
    else:
        print(f"autograder: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


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
        print(f"autograder: {root} is not an nbgrader course (no nbgrader_config.py); give it with --course",
              file=sys.stderr)
        return EXIT_UNUSABLE
    assignment = resolve_assignment(args.assignment)
    try:
        judged, disagreements = audit(root, assignment, require_sandbox=args.require_sandbox)
    except Exception as exc:  # no gradebook, no such assignment in it: say which
        print(f"autograder: cannot audit {assignment} in {root}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(f"audit of {assignment}: {judged} autograded submission{'s' if judged != 1 else ''} re-judged in the sandbox, "
          f"{len(disagreements)} disagreement{'s' if len(disagreements) != 1 else ''} with the gradebook")
    for d in disagreements:
        recorded = "missing" if d.gradebook is None else f"{d.gradebook:g}"
        print(f"  {d.student:<20} {d.grade_id:<32} gradebook {recorded:>6}   judge {d.judge:g}")
    return EXIT_FAIL if disagreements else EXIT_PASS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="judge a submission (.py or .ipynb) and print feedback")
    check.add_argument("submission", help="a .py file or a notebook that defines the learner functions")
    check.add_argument("--assignment", help="judge one assignment only (e.g. 02_activations, 02)")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    check.add_argument("--public", action="store_true", help="run only the checks learners see in notebooks")
    check.add_argument("--timeout", type=float, default=None,
                       help="seconds each check may take (default 5, or $BACKPROP_KIT_TIMEOUT)")
    check.add_argument("--require-sandbox", action="store_true",
                       help="refuse to grade unless learner code runs in the bubblewrap sandbox")
    check.set_defaults(func=cmd_check)

    capstone = sub.add_parser("capstone", help="grade a capstone model file on the 10,000 test images")
    capstone.add_argument("model", help="the saved model (.npz with W1, b1, ..., WL, bL)")
    capstone.add_argument("--submission", help="the notebook or .py file whose predict is also graded")
    capstone.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    capstone.add_argument("--require-sandbox", action="store_true",
                          help="refuse to grade unless the submission's code runs in the bubblewrap sandbox")
    capstone.set_defaults(func=cmd_capstone)

    audit = sub.add_parser("audit", help="re-judge every autograded submission in the sandbox; list disagreements "
                                          "with the gradebook")
    audit.add_argument("assignment", help="the assignment (e.g. 02_activations, 02)")
    audit.add_argument("--course", default=".", help="the nbgrader course folder (default: here)")
    audit.add_argument("--require-sandbox", action="store_true",
                       help="refuse to judge unless learner code runs in the bubblewrap sandbox")
    audit.set_defaults(func=cmd_audit)

    demo = sub.add_parser("demo", help="build a course, grade three submissions with nbgrader, show scores")
    demo.add_argument("--keep", action="store_true", help="keep the temporary course folder and print its path")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
