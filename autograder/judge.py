"""Judge a namespace of learner functions: for each function, the cheap rungs first (defined,
callable, NumPy only), then every check in isolation, then the hint of the catalogued bug that
reproduces a wrong answer."""
from __future__ import annotations

import types
from itertools import groupby
import warnings
from typing import Iterable, MutableMapping

import numpy as np

from autograder import catalog, diagnose, isolation
from autograder.checks import ASSIGNMENT_OF, FUNCTIONS, checks_for
from autograder.checks.base import REFERENCE
from autograder.core import Check, Failure, Result

FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "sklearn", "scipy")


def judge(ns: MutableMapping, functions: Iterable[str] | None = None, *, hidden: bool | None = None,
          timeout: float | None = None) -> list[Result]:
    """Every check of `functions` (all of the API by default) against the learner namespace."""
    checks = [c for f in (functions or FUNCTIONS) for c in checks_for(f, hidden)]
    return judge_checks(ns, checks, timeout=timeout)


def judge_checks(ns: MutableMapping, checks: list[Check], *, timeout: float | None = None) -> list[Result]:
    """The given checks, in order: a function that fails the first rungs fails all its checks."""
    timeout = isolation.DEFAULT_TIMEOUT if timeout is None else timeout
    results: list[Result] = []
    for function, group in groupby(checks, key=lambda c: c.function):
        group = list(group)
        problem = precheck(ns, function)
        if problem:
            results += [_result(c, False, f"problem:  {problem}") for c in group]
            continue
        tasks = [lambda c=c: _run_check(ns, c) for c in group]
        for check, outcome in zip(group, isolation.run_tasks(tasks, timeout)):
            results.append(_from_outcome(check, outcome))
        # diagnosis by relation, cross-case rule: a relational hint stays only if it fits every failing check
        results[-len(group):] = diagnose.reconcile(results[-len(group):])
    return results


def precheck(ns, function: str) -> str:
    """The first rungs of the ladder, run without calling learner code."""
    if function not in ns:
        return (f"{function} is missing: no function of that name is defined. "
                f"Define `def {function}(...)` (check the spelling) and run its cell.")
    fn = ns[function]
    if not callable(fn):
        return f"{function} should be a function, but it is {type(fn).__name__}: did a variable reuse its name?"
    used = framework_used(fn)
    if used:
        return (f"{function} uses {used}: this course builds everything from NumPy, so a framework's "
                f"version does not count. Write it with NumPy operations.")
    return ""


def framework_used(fn, depth: int = 3) -> str:
    """The framework a function is, or reaches through its code and its own helpers ('' if none)."""
    module = getattr(fn, "__module__", None) or ""
    if module.split(".")[0] in FRAMEWORKS:
        return f"{module}.{getattr(fn, '__name__', '')}".rstrip(".")
    code = getattr(fn, "__code__", None)
    if code is None or depth == 0:
        return ""
    scope = getattr(fn, "__globals__", {})
    for name in _names(code):
        if name in FRAMEWORKS:
            return name
        obj = scope.get(name)
        if isinstance(obj, types.ModuleType) and obj.__name__.split(".")[0] in FRAMEWORKS:
            return obj.__name__
        if callable(obj) and obj is not fn and not isinstance(obj, type):
            if (getattr(obj, "__module__", None) or "").split(".")[0] in FRAMEWORKS:
                return f"{obj.__module__}.{getattr(obj, '__name__', name)}"
            if isinstance(obj, types.FunctionType) and obj.__globals__ is scope:
                found = framework_used(obj, depth - 1)
                if found:
                    return found
    return ""


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _run_check(ns: MutableMapping, check: Check) -> Result:
    """Run one check with the other API functions swapped for the reference (restored after)."""
    swapped = {name: ns.get(name, _ABSENT) for name in FUNCTIONS
               if name != check.function and name not in check.uses}
    ns.update({name: REFERENCE[name] for name in swapped})
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
            warnings.simplefilter("always")
            try:
                check.run(ns)
            except Failure as failure:
                return _result(check, False, _message(failure, _hint(failure, check.function), caught))
        return _result(check, True, _warning_note(caught))
    finally:
        for name, value in swapped.items():
            if value is _ABSENT:
                ns.pop(name, None)
            else:
                ns[name] = value


_ABSENT = object()


def _hint(failure: Failure, function: str) -> str:
    """The hint of the first catalogued bug that reproduces the learner's observation."""
    if failure.replay is not None and failure.same is not None:
        for bug in catalog.bugs(function):
            variant_ns = {**REFERENCE, **bug.overrides}
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    reproduced = failure.replay(variant_ns)
                if failure.same(failure.observed, reproduced):
                    return bug.hint
            except Exception:  # a bug that cannot even run this case does not match it
                continue
    # diagnosis by relation (autograder/diagnose.py): no catalogued bug reproduces the observation
    if not failure.hint:
        return diagnose.for_failure(failure, function, REFERENCE)
    return failure.hint


def _message(failure: Failure, hint: str, caught) -> str:
    lines = []
    if failure.case:
        lines.append(f"tried:    {failure.case}")
    lines.append(f"problem:  {failure.summary}")
    lines += [f"          {d}" for d in failure.details]
    if hint:
        lines.append(f"hint:     {hint}")
    note = _warning_note(caught)
    if note:
        lines.append(note)
    return "\n".join(lines)


def _warning_note(caught) -> str:
    seen = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen:
            seen.append(text)
    if not seen:
        return ""
    return "warnings: " + "\n          ".join(seen[:3])


def _from_outcome(check: Check, outcome: isolation.Outcome) -> Result:
    if outcome.crashed:
        return _result(check, False, f"problem:  {check.function} could not be checked: {outcome.crashed}")
    result: Result = outcome.value
    if outcome.printed_chars > isolation.OUTPUT_LIMIT:
        return _result(check, False,
                       f"problem:  {check.function} printed {outcome.printed_chars:,} characters while being "
                       f"checked; remove the print calls (a print inside a loop floods the notebook)")
    if not result.passed and outcome.printed.strip():
        shown = outcome.printed.strip()
        more = " ..." if outcome.printed_chars > len(outcome.printed) else ""
        return _result(check, False, result.message + "\nprinted:  " + shown.replace("\n", "\n          ") + more)
    return result


def _result(check: Check, passed: bool, message: str) -> Result:
    hint = ""
    for line in message.splitlines():
        if line.startswith("hint:"):
            hint = line[5:].strip()
    return Result(ASSIGNMENT_OF[check.function], check.function, check.name, check.title, passed,
                  check.points if passed else 0.0, check.points, message, hint)
