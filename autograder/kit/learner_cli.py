"""`python -m autograder ...` in the learner's kit: check your work, grade your capstone model.

(In the instructor's repository this file is autograder/kit/learner_cli.py; the kit installs it as
autograder/cli.py.) `check --format classroom` prints GitHub Classroom's runner JSON, with the same
function as the instructor's CLI (cli_common.check_in_format): the Classroom workflow runs this CLI."""
from __future__ import annotations

import argparse

from autograder.assignments import ASSIGNMENTS
from autograder.cli_common import add_check_and_capstone, print_verdicts, resolve_assignment, unusable

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

    add_check_and_capstone(sub, cmd_check, cmd_capstone, learner=True)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
