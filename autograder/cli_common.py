"""What both command lines share: the instructor's (`autograder/cli.py`) and the learner's kit's
(`autograder/kit/learner_cli.py`, installed as the kit's `autograder/cli.py`), so the exit codes,
the names of assignments, the error output and the verdict report cannot drift apart between them.
The kit ships this module as it is.
"""
from __future__ import annotations

import json
import sys

from autograder.assignments import ASSIGNMENTS, find

EXIT_PASS, EXIT_FAIL, EXIT_UNUSABLE = 0, 1, 2   # every check passed; one failed; nothing could be graded


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
