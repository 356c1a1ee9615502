"""`python -m autograder ...` in the learner's kit: check your work, grade your capstone model.

(In the instructor's repository this file is autograder/kit/learner_cli.py; the kit installs it as
autograder/cli.py.)"""
from __future__ import annotations

import argparse

from autograder.assignments import ASSIGNMENTS
from autograder.cli_common import print_verdicts, resolve_assignment, unusable

__all__ = ["build_parser", "main", "resolve_assignment"]


def cmd_check(args) -> int:
    from autograder.judge import judge_submission
    from autograder.sandbox.launch import SandboxUnavailable
    from autograder.submission import SubmissionError, read_submission

    try:
        blocks = read_submission(args.submission)
    except SubmissionError as exc:
        return unusable(str(exc), as_json=args.json, submission=args.submission)
    functions = ASSIGNMENTS[resolve_assignment(args.assignment)] if args.assignment else None
    try:
        verdicts = judge_submission([b.as_dict() for b in blocks], functions, hidden=False, timeout=args.timeout,
                                    require_sandbox=args.require_sandbox)
    except SandboxUnavailable as exc:
        return unusable(f"--require-sandbox: {exc}", as_json=args.json, submission=args.submission)
    notes = list(verdicts.notes) + ["these are the public checks; your instructor's grading runs more"]
    return print_verdicts(args.submission, verdicts, as_json=args.json, notes=notes)


def cmd_capstone(args) -> int:
    from autograder.capstone import run_cli

    return run_cli(args.model, args.submission, args.json, args.require_sandbox)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="check a submission (.py or .ipynb) with the public checks")
    check.add_argument("submission", help="a .py file or a notebook that defines the functions")
    check.add_argument("--assignment", help="check one assignment only (e.g. 02_activations, 02)")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    check.add_argument("--public", action="store_true", help="(the kit has public checks only)")
    check.add_argument("--timeout", type=float, default=None,
                       help="seconds each check may take (default 5, or $BACKPROP_KIT_TIMEOUT)")
    check.add_argument("--require-sandbox", action="store_true",
                       help="refuse to run unless your code runs in the bubblewrap sandbox")
    check.set_defaults(func=cmd_check)

    capstone = sub.add_parser("capstone", help="grade a capstone model file on the 10,000 test images")
    capstone.add_argument("model", help="the saved model (.npz with W1, b1, ..., WL, bL)")
    capstone.add_argument("--submission", help="the notebook or .py file whose predict is also checked")
    capstone.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    capstone.add_argument("--require-sandbox", action="store_true",
                          help="refuse to run unless your code runs in the bubblewrap sandbox")
    capstone.set_defaults(func=cmd_capstone)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
