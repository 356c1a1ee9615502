"""How verdicts are shown: a table per assignment, then the feedback of each failure; or JSON."""
from __future__ import annotations

import json
from itertools import groupby

from autograder.core import Result


def score(results: list[Result]) -> tuple[float, float]:
    return sum(r.points for r in results), sum(r.max_points for r in results)


def _pts(x: float) -> str:
    return f"{x:g}"


def feedback_block(result: Result) -> str:
    """One failure, headed by the function and check, with the judge's lines indented."""
    head = f"\u2717 {result.function} \u2014 {result.title} [{result.check}]"
    return head + "\n" + "\n".join("  " + line for line in result.message.splitlines())


def text_report(submission: str, results: list[Result], notes: list[str] = (), *, isolation: str = "",
                flags: list[str] = ()) -> str:
    got, most = score(results)
    out = [f"Backprop Kit \u2014 {submission}"]
    if isolation:
        out.append(f"graded in: {isolation}")
    out.append("")
    for flag in flags:
        out.append(f"flag: {flag}")
    for note in notes:
        out.append(f"note: {note}")
    if notes:
        out.append("")
    fw = max([len(r.function) for r in results] + [8])
    tw = max([len(r.title) for r in results] + [20])
    width = 4 + fw + 2 + tw
    for assignment, group in groupby(results, key=lambda r: r.assignment):
        group = list(group)
        a_got, a_most = score(group)
        out.append(f"{assignment:<{width}}  {_pts(a_got):>4} / {_pts(a_most)}")
        for r in group:
            mark = "\u2713" if r.passed else "\u2717"
            out.append(f"  {mark} {r.function:<{fw}}  {r.title:<{tw}}  {_pts(r.points):>4} / {_pts(r.max_points)}")
        out.append("")
    out.append(f"{'total':<{width}}  {_pts(got):>4} / {_pts(most)}")
    failed = [r for r in results if not r.passed]
    if failed:
        out += ["", f"Feedback ({len(failed)} failed check{'s' if len(failed) != 1 else ''})", ""]
        for r in failed:
            out.append(feedback_block(r))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def json_report(submission: str, results: list[Result], notes: list[str] = (), *, isolation: str = "",
                detail: str = "", flags: list[str] = ()) -> str:
    got, most = score(results)
    return json.dumps(
        {
            "submission": submission,
            "score": got,
            "max_score": most,
            "isolation": {"level": isolation, "detail": detail},
            "notes": list(notes),
            "flags": list(flags),
            "results": [r.as_dict() for r in results],
        },
        indent=2,
    )
