"""The kit on grading platforms: one judge report, each platform's result format.

Everything here starts from the JSON the command-line door prints (`python -m autograder check FILE
--json`, `python -m autograder capstone MODEL --json`) and never imports or runs learner code: the
judge is a black box run as a subprocess (see `autograder.platforms.runner`).

`normalize(raw)` turns any report the judge prints (today's shape, the sandboxed judge's shape with
`isolation`, `flags` and per-check `title`/`hidden`/`case`/`problem`/`details`/`hint`, the capstone's
model report, or an `{"error": ...}` for an unusable submission) into one full shape; `render(report,
fmt)` prints it in the format of `fmt`: "json", "gradescope", "prairielearn" or "classroom".
"""
from __future__ import annotations

import json
import re
from typing import Iterable

from autograder.assignments import CAPSTONE

FORMATS = ("json", "gradescope", "prairielearn", "classroom")

# Why a report has no results: "unusable" (the judge said the submission cannot be used: exit 2),
# "missing" (nothing to grade), "timeout" (the deadline ran out), "crash" (the judge failed).
ERROR_KINDS = ("unusable", "missing", "timeout", "crash")

# What a report from a judge that predates the sandbox (issue 7) gets: it says nothing of isolation.
UNKNOWN_ISOLATION = {"level": "unreported", "detail": "the judge did not report its isolation (the judge before "
                     "the sandbox runs learner code in forked children of the judge process, no sandbox)"}


def normalize(raw: dict) -> dict:
    """The full report shape, whatever the judge printed (see the module's docstring)."""
    if not isinstance(raw, dict):
        raise ValueError(f"a judge report is a JSON object, not {type(raw).__name__}")
    if raw.get("error"):
        rep = error_report(raw.get("submission") or raw.get("model") or "", str(raw["error"]),
                           kind=raw.get("kind", "unusable"), isolation=raw.get("isolation"))
        rep["results"] = [normalize_result(r) for r in raw.get("results", [])]
        rep["score"] = float(sum(r["points"] for r in rep["results"]))
        rep["max_score"] = float(sum(r["max_points"] for r in rep["results"]))
        rep["notes"] = [str(n) for n in raw.get("notes", [])]
        rep["flags"] = [str(f) for f in raw.get("flags", [])]
        return rep
    if "threshold" in raw and "layer_sizes" in raw:
        return capstone_report(raw)
    results = [normalize_result(r) for r in raw.get("results", [])]
    return {
        "submission": raw.get("submission", ""),
        "score": float(raw.get("score", sum(r["points"] for r in results))),
        "max_score": float(raw.get("max_score", sum(r["max_points"] for r in results))),
        "isolation": dict(raw.get("isolation") or UNKNOWN_ISOLATION),
        "notes": [str(n) for n in raw.get("notes", [])],
        "flags": [str(f) for f in raw.get("flags", [])],
        "results": results,
    }


def normalize_result(r: dict) -> dict:
    """One check's verdict with every field; what today's judge leaves out is recovered from the
    check registry (title, hidden) and from the rendered message (case, problem, details, hint)."""
    known = _registry().get((r.get("function"), r.get("check")), {})
    parsed = parse_message(r.get("message", ""))
    out = {
        "assignment": r.get("assignment") or known.get("assignment", ""),
        "function": r.get("function", ""),
        "check": r.get("check", ""),
        "title": r.get("title") or known.get("title") or r.get("check", ""),
        "passed": bool(r.get("passed")),
        "points": float(r.get("points", 0.0)),
        "max_points": float(r.get("max_points", known.get("points", 0.0))),
        "hidden": bool(r["hidden"]) if "hidden" in r else bool(known.get("hidden", False)),
        "case": r.get("case", parsed["case"]),
        "problem": r.get("problem", parsed["problem"]),
        "details": list(r.get("details", parsed["details"])),
        "hint": r.get("hint", parsed["hint"]),
        "message": r.get("message", ""),
    }
    return out


def parse_message(message: str) -> dict:
    """Split the judge's rendered feedback ("tried:", "problem:", indented details, "hint:")."""
    out = {"case": "", "problem": "", "details": [], "hint": ""}
    current = None
    for line in message.splitlines():
        m = re.match(r"^(tried|problem|hint|printed|warnings):\s*(.*)$", line)
        if m:
            current = m.group(1)
            if current == "tried":
                out["case"] = m.group(2)
            elif current == "problem":
                out["problem"] = m.group(2)
            elif current == "hint":
                out["hint"] = m.group(2)
        elif current == "problem" and line.startswith(" "):
            out["details"].append(line.strip())
    return out


def error_report(submission: str, error: str, *, kind: str = "unusable", assignment: str | None = None,
                 isolation: dict | None = None, public: bool = False) -> dict:
    """A report with no verdicts: why, and (when the assignment is known) every check at zero, so
    that platforms still show the full list of tests and the right maximum (of the public checks
    only, with `public`)."""
    results = placeholder_results(assignment, error, public=public) if assignment else []
    return {
        "submission": submission,
        "error": error,
        "kind": kind if kind in ERROR_KINDS else "crash",
        "score": 0.0,
        "max_score": float(sum(r["max_points"] for r in results)),
        "isolation": dict(isolation or UNKNOWN_ISOLATION),
        "notes": [],
        "flags": [],
        "results": results,
    }


def placeholder_results(assignment: str, reason: str, *, public: bool = False) -> list[dict]:
    """Every check of `assignment` (the public ones only, with `public`; the capstone's model check
    included), failed with `reason`."""
    from autograder.checks import ASSIGNMENTS, checks_for

    out = []
    for function in ASSIGNMENTS[assignment]:
        for c in checks_for(function, False if public else None):
            out.append(_failed(assignment, function, c.name, c.title, c.points, c.hidden, reason))
    if assignment == CAPSTONE:
        from autograder.capstone import CAPSTONE_POINTS

        out.append(_failed(assignment, "capstone", "model", "the saved model's test accuracy",
                           CAPSTONE_POINTS, False, reason))
    return out


def _failed(assignment, function, check, title, points, hidden, reason) -> dict:
    return {"assignment": assignment, "function": function, "check": check, "title": title,
            "passed": False, "points": 0.0, "max_points": float(points), "hidden": bool(hidden),
            "case": "", "problem": reason, "details": [], "hint": "", "message": f"problem:  {reason}"}


def capstone_report(raw: dict) -> dict:
    """The capstone's model verdict (`capstone MODEL --json`) as a report with one result."""
    from autograder.capstone import CAPSTONE_POINTS, CapstoneResult

    fields = {k: raw.get(k) for k in CapstoneResult.__dataclass_fields__ if k in raw}
    verdict = CapstoneResult(**fields)
    text = verdict.text()
    first, *rest = text.splitlines()
    message = "\n".join(line[2:] if line.startswith("  ") else line for line in rest)
    result = {
        "assignment": CAPSTONE, "function": "capstone", "check": "model",
        "title": "the saved model's test accuracy", "passed": verdict.passed,
        "points": float(CAPSTONE_POINTS if verdict.passed else 0), "max_points": float(CAPSTONE_POINTS),
        "hidden": False, "case": "", "problem": verdict.problems[0].splitlines()[0] if verdict.problems else "",
        "details": [], "hint": "", "message": (first + ("\n" + message if message else "")),
    }
    return {
        "submission": raw.get("submission") or raw.get("path", ""),
        "score": result["points"], "max_score": result["max_points"],
        "isolation": dict(raw.get("isolation") or UNKNOWN_ISOLATION),
        "notes": [], "flags": [str(f) for f in raw.get("flags", [])], "results": [result],
    }


def merge(reports: Iterable[dict], submission: str = "") -> dict:
    """Several reports of one submission (the capstone's functions and its model) as one."""
    reports = list(reports)
    results = [r for rep in reports for r in rep["results"]]
    errors = [rep for rep in reports if rep.get("error")]
    merged = {
        "submission": submission or (reports[0]["submission"] if reports else ""),
        "score": float(sum(r["points"] for r in results)),
        "max_score": float(sum(r["max_points"] for r in results)),
        "isolation": _weakest([rep["isolation"] for rep in reports]),
        "notes": [n for rep in reports for n in rep["notes"]],
        "flags": [f for rep in reports for f in rep["flags"]],
        "results": results,
    }
    if errors and len(errors) == len(reports):
        merged["error"] = "\n".join(rep["error"] for rep in errors)
        merged["kind"] = errors[0].get("kind", "crash")
    elif errors:
        merged["notes"] += [rep["error"] for rep in errors]
    return merged


_STRENGTH = {"bubblewrap": 3, "process": 1}


def _weakest(isolations: list[dict]) -> dict:
    if not isolations:
        return dict(UNKNOWN_ISOLATION)
    return min(isolations, key=lambda i: _STRENGTH.get(i.get("level"), 0))


def summary_line(report: dict) -> str:
    return f"{_pts(report['score'])} / {_pts(report['max_score'])} points"


def _pts(x: float) -> str:
    return f"{x:g}"


def render(report: dict, fmt: str, **options) -> str:
    """The report (any shape `normalize` accepts) in `fmt`, as the text to print or write."""
    report = normalize(report)
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "gradescope":
        from autograder.platforms.gradescope import results_json
    elif fmt == "prairielearn":
        from autograder.platforms.prairielearn import results_json
    elif fmt == "classroom":
        from autograder.platforms.classroom import results_json
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return json.dumps(results_json(report, **options), indent=2, ensure_ascii=False) + "\n"


def md_block(text: str) -> str:
    """Monospaced feedback as a Markdown code block that its own backticks cannot break."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def cut(text: str, limit: int, suffix: str = " \u2026") -> str:
    """`text` in at most `limit` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(suffix))] + suffix


_REGISTRY: dict | None = None


def _registry() -> dict:
    """(function, check) -> what the judge knows of it: title, points, hidden, assignment."""
    global _REGISTRY
    if _REGISTRY is None:
        from autograder.checks import ASSIGNMENT_OF, all_checks

        _REGISTRY = {(c.function, c.name): {"title": c.title, "points": c.points, "hidden": c.hidden,
                                             "assignment": ASSIGNMENT_OF[c.function]} for c in all_checks()}
    return _REGISTRY
