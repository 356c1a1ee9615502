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
    if hidden and not any(checks_for(name, hidden=True) for name in names):
        print(f"{', '.join(names)}: the hidden checks run when your work is graded (this kit has the public ones)")
        return None
    results = judge(ns, names, hidden=hidden, timeout=timeout)
    failed = [r for r in results if not r.passed]
    kind = "hidden " if hidden else "public "
    if not failed:
        for name in names:
            count = sum(1 for r in results if r.function == name)
            notes = {r.message for r in results if r.function == name and r.message}
            if count == 1:
                print(f"\u2713 {name}: its {kind}check passed{_more(name, hidden)}")
            else:
                print(f"\u2713 {name}: all {count} {kind}checks passed{_more(name, hidden)}")
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


def _more(name: str, hidden: bool) -> str:
    """What a passing public check cannot promise: the hidden checks of grading, where there are some."""
    if hidden:
        return ""
    from autograder import recorded
    from autograder.checks import checks_for

    if recorded.available():  # the learner's kit knows how many, not which
        count = recorded.table().data.get("hidden_checks", {}).get(name, 0)
    else:
        count = len(checks_for(name, hidden=True))
    return " (more checks run when your work is graded)" if count else ""


@contextlib.contextmanager
def explained(what: str, *, missing: str = ""):
    """For a cell that runs your functions (a plot, a demo, the gradient check): an unfinished
    function prints `missing` (or a line saying what to implement); any other exception prints what
    went wrong and the line of your code it came from, never a traceback.

        with explained("the gradient check", missing="Implement forward and backward to see it."):
            ...
    """
    try:
        yield
    except NotImplementedError:
        print(missing or f"Implement the functions above to see {what}.")
    except Exception as exc:  # a learner's mistake: say what and where, in a few lines
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"\u2717 {what} stopped: {type(exc).__name__}" + (f": {text}" if text else ""))
        where = _your_line(exc.__traceback__)
        if where:
            print(f"  in {where}")
        print("  the check cells of the functions it uses say what to fix; run them again after a change")


def _your_line(tb) -> str:
    """'forward, line 7: Z = A @ W + b': the deepest frame of code written in the notebook."""
    import linecache
    import os
    import traceback

    found = ""
    library = (os.path.dirname(os.path.abspath(__file__)), sys.prefix, sys.base_prefix)
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename.startswith(library) or "site-packages" in filename or filename.startswith("<frozen"):
            continue
        code = linecache.getline(filename, lineno).strip()
        name = frame.f_code.co_name
        place = f"{name}, line {lineno}" if name != "<module>" else f"this cell, line {lineno}"
        found = place + (f": {code}" if code else "")
    return found
