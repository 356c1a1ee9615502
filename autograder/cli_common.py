"""What both command lines share: the instructor's (`autograder/cli.py`) and the learner's kit's
(`autograder/kit/learner_cli.py`, installed as the kit's `autograder/cli.py`), so the exit codes,
the names of assignments, the error output and the verdict report cannot drift apart between them.
The kit ships this module as it is.
"""
from __future__ import annotations

import json
import sys

from autograder.assignments import ASSIGNMENTS, find
from autograder.platforms import FORMATS

EXIT_PASS, EXIT_FAIL, EXIT_UNUSABLE = 0, 1, 2   # every check passed; one failed; nothing could be graded


# The words of the two commands both CLIs have, for who runs them: the instructor judges a
# submission, the learner checks their own code.
_WORDS = {
    False: {"check": "judge a submission (.py or .ipynb) and print feedback",
            "submission": "a .py file or a notebook that defines the learner functions",
            "assignment": "judge one assignment only (e.g. 02_activations, 02)",
            "public": "run only the checks learners see in notebooks",
            "check_sandbox": "refuse to grade unless learner code runs in the bubblewrap sandbox",
            "predict": "the notebook or .py file whose predict is also graded",
            "capstone_sandbox": "refuse to grade unless the submission's code runs in the bubblewrap sandbox"},
    True: {"check": "check a submission (.py or .ipynb) with the public checks",
           "submission": "a .py file or a notebook that defines the functions",
           "assignment": "check one assignment only (e.g. 02_activations, 02)",
           "public": "(the kit has public checks only)",
           "check_sandbox": "refuse to run unless your code runs in the bubblewrap sandbox",
           "predict": "the notebook or .py file whose predict is also checked",
           "capstone_sandbox": "refuse to run unless your code runs in the bubblewrap sandbox"},
}


# What `check --format` offers: the kit prints the judge's JSON and GitHub Classroom's runner JSON
# (its Classroom workflow runs the kit); the instructor's CLI every platform's format.
LEARNER_FORMATS = ("text", "json", "classroom")
INSTRUCTOR_FORMATS = ("text",) + FORMATS


def add_check_and_capstone(sub, cmd_check, cmd_capstone, *, learner: bool):
    """The `check` and `capstone` commands, with the same arguments in both CLIs; returns `check`
    (the instructor's CLI adds its platform commands beside it)."""
    words = _WORDS[learner]
    check = sub.add_parser("check", help=words["check"])
    check.add_argument("submission", help=words["submission"])
    check.add_argument("--assignment", help=words["assignment"])
    check.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    check.add_argument("--public", action="store_true", help=words["public"])
    check.add_argument("--timeout", type=float, default=None,
                       help="seconds each check may take (default 5, or $BACKPROP_KIT_TIMEOUT)")
    check.add_argument("--require-sandbox", action="store_true", help=words["check_sandbox"])
    check.add_argument("--format", choices=LEARNER_FORMATS if learner else INSTRUCTOR_FORMATS, default=None,
                       help="print the report as text, the judge's JSON (as --json) or "
                            + ("GitHub Classroom's runner JSON" if learner else "a platform's result format"))
    check.add_argument("--deadline", type=float, default=600.0,
                       help="with a platform --format: seconds the whole check may take (default 600)")
    check.set_defaults(func=lambda args: check_in_format(args, cmd_check))

    capstone = sub.add_parser("capstone", help="grade a capstone model file on the 10,000 test images")
    capstone.add_argument("model", help="the saved model (.npz with W1, b1, ..., WL, bL)")
    capstone.add_argument("--submission", help=words["predict"])
    capstone.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    capstone.add_argument("--require-sandbox", action="store_true", help=words["capstone_sandbox"])
    capstone.set_defaults(func=cmd_capstone)
    return check


def check_in_format(args, cmd_check) -> int:
    """`check` in the format asked for: text and JSON are `cmd_check`'s own (the CLI's judge); a
    platform's format runs the command-line door as a subprocess with a deadline (`check --json`:
    `autograder.platforms.runner`) and converts its report, so it always prints a result, also for a
    missing, unreadable or broken submission, a crash or a time-out. Both CLIs run this function:
    the instructor's (every platform) and the kit's (`--format classroom`, its Classroom workflow)."""
    fmt = getattr(args, "format", None)
    if fmt in (None, "text"):
        return cmd_check(args)
    if fmt == "json":
        args.json = True
        return cmd_check(args)
    from autograder.platforms import error_report, render
    from autograder.platforms.runner import JudgeOptions, judge_file

    assignment = resolve_assignment(args.assignment) if args.assignment else None
    options = JudgeOptions(assignment=assignment, timeout=args.timeout, public=args.public, deadline=args.deadline,
                           require_sandbox=getattr(args, "require_sandbox", False))
    try:
        report, runs = judge_file(args.submission, options)
    except Exception as exc:  # the judge could not even be started: still a result that says so
        report, runs = error_report(args.submission, f"the grader failed: {type(exc).__name__}: {exc}", kind="crash",
                                    assignment=assignment, public=args.public), []
    extra = {"execution_time": sum(run.seconds for run in runs)} if fmt == "gradescope" else {}
    sys.stdout.write(render(report, fmt, **extra))
    if report.get("error"):
        return EXIT_UNUSABLE
    return EXIT_PASS if all(r["passed"] for r in report["results"]) else EXIT_FAIL


def resolve_assignment(name: str) -> str:
    """'02_activations', '02' or 'activations' all name the same assignment."""
    found = find(name)
    if found:
        return found.name
    raise SystemExit(f"autograder: unknown assignment {name!r}; choose one of {', '.join(ASSIGNMENTS)}")


def unusable_text(message: str, *, as_json: bool = False, **context) -> str:
    """What is said of something that cannot be graded at all: one JSON object (`context` first,
    then "error") for stdout, or one line for stderr."""
    if as_json:
        return json.dumps({**context, "error": message}) + "\n"
    return f"autograder: {message}\n"


def unusable(message: str, *, as_json: bool = False, **context) -> int:
    """Something that cannot be graded at all (a submission, a model file, the set-up): say why,
    as one JSON object on stdout or as one line on stderr; exit 2."""
    (sys.stdout if as_json else sys.stderr).write(unusable_text(message, as_json=as_json, **context))
    return EXIT_UNUSABLE


def render_verdicts(submission: str, verdicts, *, as_json: bool, notes: list[str] | None = None) -> tuple[str, int]:
    """A judged submission's report (text, or JSON with --json) and its exit code: 0 if every check
    passed, else 1. `verdicts` is what `judge.judge_submission` returned; `notes` replace its own."""
    from autograder.report import json_report, text_report

    notes = list(verdicts.notes) if notes is None else notes
    if as_json:
        out = json_report(submission, verdicts.results, notes, isolation=verdicts.isolation,
                          detail=verdicts.detail, flags=verdicts.flags)
    else:
        where = f"{verdicts.isolation} ({verdicts.detail})" if verdicts.detail else verdicts.isolation
        out = text_report(submission, verdicts.results, notes, isolation=where, flags=verdicts.flags)
    return out, EXIT_PASS if all(r.passed for r in verdicts.results) else EXIT_FAIL


def print_verdicts(submission: str, verdicts, *, as_json: bool, notes: list[str] | None = None) -> int:
    """`render_verdicts`, written to stdout; returns the exit code."""
    out, code = render_verdicts(submission, verdicts, as_json=as_json, notes=notes)
    sys.stdout.write(out)
    return code
