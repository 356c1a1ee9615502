"""The two promises every learner function makes, as checks any check module can add in one line:
it leaves its arguments as they were (`leaves_arguments`), and its result depends on its arguments
only, so calls in turn on two inputs give each input its own answer (`nothing_kept`). Issue 10,
item 4; the building blocks are `unchanged_check` and `stateless_check` in checks/base.py.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

from autograder.checks.base import Case, call, stateless_check, unchanged_check
from autograder.compare import Raised
from autograder.core import Check, Namespace

MAX_BATCHES = 10_000  # what the sandbox materialises of a generator, and no more


def writable(cases: Callable[[], list[Case]]) -> Callable[[], list[Case]]:
    """The same cases with writable arrays: a function that writes into them is seen doing it."""
    return lambda: [c if not c.readonly else Case(f"{c.name}, writable arrays", c.make, c.kwargs, readonly=False)
                    for c in cases()]


def leaves_arguments(function: str, cases: Callable[[], list[Case]], names: tuple[str, ...], fix: str, *,
                     title: str = "", **options) -> Check:
    """No argument changed, nested entries included (`fix`: how this function keeps the promise)."""
    title = title or (f"{names[0]} is left exactly as it was" if len(names) == 1
                      else f"{', '.join(names[:-1])} and {names[-1]} are left exactly as they were")
    return unchanged_check(function, "leaves_arguments", title, writable(cases), names=names, fix=fix, **options)


def nothing_kept(function: str, cases: Callable[[], list[Case]], *, title: str = "",
                 observe: Callable[[Namespace, Case], Any] | None = None, **options) -> Check:
    """Two inputs, each called twice in turn (a, b, a, b): the second answer for each input must be
    its first. `observe(ns, case)` is what a call is judged by (the returned value by default: a
    generator's batches, copied at once so later calls cannot change them)."""
    observe = observe or (lambda ns, case: returned(ns, function, case))
    title = title or "two inputs, each called twice in turn: the same answer each time"

    def calls(ns: Namespace, shown: list[Case]):
        answers = [observe(ns, case) for case in shown + shown]
        return answers[:len(shown)], answers[len(shown):]

    # writable inputs: a function that writes into them is the other promise's business, not this one's
    return stateless_check(function, "nothing_kept_between_calls", title, writable(cases), calls, **options)


def returned(ns: Namespace, function: str, case: Case):
    """What one call returned, copied deeply (a generator run to its end)."""
    args, kwargs = case.arguments()
    return copied(batches(call(ns, function, args, kwargs)))


def batches(got):
    """A generator's items as a list (at most MAX_BATCHES), or what the call returned if it is none;
    an exception raised while it runs comes back as `Raised`."""
    if isinstance(got, Raised) or not hasattr(got, "__next__"):
        return got
    items = []
    try:
        for item in got:
            items.append(copied(item))
            if len(items) >= MAX_BATCHES:
                break
    except Exception as exc:  # learner code runs while the generator is consumed
        return Raised(type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return items


def copied(value):
    try:
        return copy.deepcopy(value)
    except Exception:  # something that cannot be copied (a file handle) is compared as it is
        return value
