"""GitHub Classroom: the runner JSON its grading reporter reads (the workflow that produces it is
written by `autograder.platforms.classroom_export`, in the instructor's repository only).

A Classroom assignment's workflow runs grader steps, each with an `id`; each step leaves its result
as base64 JSON in its output `result`; `classroom-resources/autograding-grading-reporter` reads the
environment variable `<ID>_RESULTS` of each runner listed in `runners`, prints the tests, and posts
"Points X/Y" where X is the sum of the tests' `score` and Y the runner's `max_score`.
Runner JSON: version, status ("pass", "fail", "error"), message, max_score, tests with name,
status, message, test_code, filename, score, output (cut at 500 characters).

The learner's kit ships this module (with `autograder.platforms` and its `runner`): the workflow runs
the kit's own `python -m autograder check FILE --format classroom`, and the instructor's CLI prints the
same JSON with the same function. It imports nothing of the instructor's repository.
"""
from __future__ import annotations

from pathlib import Path

from autograder.platforms import cut, normalize, summary_line

VERSION = 3
TEXT_LIMIT = 500
RUNNER_ID = "backprop"   # the reporter reads BACKPROP_RESULTS


def results_json(report: dict) -> dict:
    report = normalize(report)
    tests = []
    for r in report["results"]:
        tests.append({
            "name": f"{r['function']}: {r['title']}",
            "status": "pass" if r["passed"] else "fail",
            "message": cut("passed" if r["passed"] else (r["problem"] or "failed")
                           + (f" | hint: {r['hint']}" if r["hint"] else ""), TEXT_LIMIT),
            "test_code": f'check("{r["function"]}")  # {r["check"]}',
            "filename": Path(report["submission"]).name if report["submission"] else "",
            "score": float(r["points"]),
            "output": cut(r["message"], TEXT_LIMIT),
        })
    if report.get("error") and not any(r["passed"] for r in report["results"]):
        status = "error"
    else:
        status = "pass" if report["results"] and all(r["passed"] for r in report["results"]) else "fail"
    message = f"Backprop Kit: {summary_line(report)}"
    if report.get("error"):
        message += f" ({report['error']})"
    return {"version": VERSION, "status": status, "message": cut(message, TEXT_LIMIT),
            "max_score": float(report["max_score"]), "tests": tests}

