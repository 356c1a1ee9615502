"""Check shapes for the promises every function of the learner API makes (issue 10, item 4):

- `unchanged_check`: no argument is changed: arrays, lists, dicts and their nested entries (a dict
  entry replaced counts, not only an array written into), the cache backward is given included;
- `stateless_check`: the result depends on the arguments and nothing else: calls with interleaved
  inputs give what each input alone gives (no global, no default-argument memory, no cache kept
  between forward and backward).

The check modules append checks built from these to their CHECKS. They are worth 0 points for now:
giving them points changes every notebook's points metadata (source/ and release/), a separate step.
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np

from autograder.checks.base import REFERENCE, Case, attempt, raised_failure
from autograder.compare import Raised, describe, same_output
from autograder.core import Check, Failure, Namespace


def _snapshot(value):
    try:
        return copy.deepcopy(value)
    except Exception:  # an rng or a function: compared by identity only
        return value


def changes(before, after, where: str) -> list[str]:
    """What differs between a snapshot and the object now, as 'params['b1'] was replaced by ...'."""
    if isinstance(before, dict):
        if not isinstance(after, dict):
            return [f"{where} is no longer a dict"]
        out = [f"{where}[{k!r}] was removed" for k in before if k not in after]
        out += [f"{where}[{k!r}] was added" for k in after if k not in before]
        for k in before:
            if k in after:
                out += changes(before[k], after[k], f"{where}[{k!r}]")
        return out
    if isinstance(before, (list, tuple)):
        if not isinstance(after, type(before)) or len(after) != len(before):
            return [f"{where} changed from {before!r} to {after!r}"]
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out += changes(b, a, f"{where}[{i}]")
        return out
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape or after.dtype != before.dtype:
            return [f"{where} was replaced by {describe(after)} (it was {describe(before)})"]
        if not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"):
            return [f"{where} had {int(np.sum(before != after))} of its {before.size} entries overwritten"]
        return []
    if isinstance(before, (int, float, str)) and not isinstance(before, bool) and before != after:
        return [f"{where} changed from {before!r} to {after!r}"]
    return []


def unchanged_check(function: str, name: str, title: str, cases: Callable[[], list[Case]], *,
                    arguments: Callable[[Namespace, tuple, dict], tuple | None] | None = None,
                    names: tuple[str, ...] = (), hidden: bool = False, uses: tuple[str, ...] = (),
                    points: float = 0.0) -> Check:
    """No argument changed: writable arguments, a deep snapshot before the call, compared after.
    `arguments(ns, args, kwargs)` may build the real arguments (backward's cache from forward);
    None skips the case (it cannot be built: another check says why)."""

    def probe(other: Namespace, case: Case):
        args, kwargs = case.arguments()
        if arguments is not None:
            args = arguments(other, args, kwargs)
            if args is None:
                return ()
        before = [_snapshot(a) for a in args], {k: _snapshot(v) for k, v in kwargs.items()}
        got = attempt(other, function, args, kwargs)
        if isinstance(got, Raised):
            return got
        found = []
        for i, (b, a) in enumerate(zip(before[0], args)):
            found += changes(b, a, names[i] if i < len(names) else f"argument {i + 1}")
        for k, b in before[1].items():
            found += changes(b, kwargs[k], k)
        return tuple(found)

    def run(ns: Namespace):
        for case in cases():
            def replay(other, case=case):
                return probe(other, case)

            observed = probe(ns, case)
            if isinstance(observed, Raised):
                raise raised_failure(function, case, observed, replay)
            if observed:
                raise Failure(f"{function} changed its argument{'s' if len(observed) > 1 else ''}: {observed[0]}",
                              case=case.describe(function),
                              details=list(observed[1:4]) + [
                                  "a function must leave what it is given as it was: the caller still uses it "
                                  "(build new arrays and dicts, or work on a copy)"],
                              observed=observed, replay=replay, same=same_output)

    return Check(function, name, title, run, points, hidden, uses)


def stateless_check(function: str, name: str, title: str, cases: Callable[[], list[Case]],
                    calls: Callable[[Namespace, list[Case]], tuple[list, list]], *, hidden: bool = False,
                    uses: tuple[str, ...] = (), points: float = 0.0) -> Check:
    """`calls(ns, cases)` returns (alone, interleaved): each input's result when it is the only call,
    and the same inputs' results when other calls come between; they must be the same answers."""

    def observe(other: Namespace):
        alone, interleaved = calls(other, cases())
        for got in list(alone) + list(interleaved):
            if isinstance(got, Raised):
                return got
        return tuple(same_output(a, b) for a, b in zip(alone, interleaved))

    def run(ns: Namespace):
        shown = cases()
        label = " and ".join(f"\u00ab{c.name}\u00bb" for c in shown)
        case = Case(f"interleaved calls on {label}", shown[0].make, shown[0].kwargs)
        observed = observe(ns)
        if isinstance(observed, Raised):
            raise raised_failure(function, case, observed, observe)
        if not all(observed):
            i = observed.index(False)
            raise Failure(f"{function} gave another answer for the same input when other calls came between "
                          f"(input {i + 1} of {len(observed)})",
                          case=case.describe(function),
                          details=["its result must depend on its arguments only: nothing may be kept between "
                                   "calls (a global variable, a default argument like cache={}, an attribute set "
                                   "on a function), and each call must use what it is given"],
                          observed=observed, replay=observe, same=same_output)

    return Check(function, name, title, run, points, hidden, uses)
