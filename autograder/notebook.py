"""`check("softmax")`: the door a learner's notebook cell uses.

It judges the functions defined in the notebook, prints one short line when they pass, and
raises `CheckFailed` when they don't, so an nbgrader test cell scores zero; Jupyter then shows
the feedback, not the autograder's internals. Nothing reaches stderr when everything passes."""
from __future__ import annotations

import contextlib
import sys

_loading = 0


@contextlib.contextmanager
def loading():
    """While a submission is loaded by the checker, check() calls inside it do nothing."""
    global _loading
    _loading += 1
    try:
        yield
    finally:
        _loading -= 1


class CheckFailed(AssertionError):
    """A check failed; its text is the feedback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


def check(*functions: str, hidden: bool = False, timeout: float | None = None, namespace=None) -> None:
    """Judge the named functions (all API functions the notebook defines, if none are named)."""
    if _loading:
        return None
    from autograder.checks import FUNCTIONS, checks_for
    from autograder.judge import judge
    from autograder.report import feedback_block

    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    unknown = [f for f in functions if f not in FUNCTIONS]
    if unknown:
        raise CheckFailed(f"check() knows no function called {', '.join(map(repr, unknown))}. "
                          f"The functions of this course are: {', '.join(FUNCTIONS)}.")
    names = list(functions) or [f for f in FUNCTIONS if f in ns]
    results = judge(ns, names, hidden=hidden, timeout=timeout)
    failed = [r for r in results if not r.passed]
    kind = "hidden " if hidden else ""
    if not failed:
        for name in names:
            count = sum(1 for r in results if r.function == name)
            notes = {r.message for r in results if r.function == name and r.message}
            print(f"\u2713 {name}: all {count} {kind}check{'s' if count != 1 else ''} passed")
            for note in notes:
                print("  " + note.replace("\n", "\n  "))
        return None
    lines = []
    for name in names:
        mine = [r for r in results if r.function == name]
        bad = [r for r in mine if not r.passed]
        mark = "\u2717" if bad else "\u2713"
        lines.append(f"{mark} {name}: {len(mine) - len(bad)} of {len(mine)} {kind}checks passed")
    for result in failed:
        lines.append("")
        lines.append(feedback_block(result))
    raise CheckFailed("\n".join(lines))
