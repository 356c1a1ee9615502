"""Judge learner functions: for each function the cheap rungs first (defined, callable, NumPy
only), then every check, then the hint of the catalogued bug that reproduces a wrong answer.

A check is judged here, in the judge's process, whatever runs the learner's code:
- `judge_submission` (the grading door): a `Sandbox` runs the submission in a separate,
  sandboxed interpreter; checks call the learner's functions through it and get plain data back;
- `judge(namespace)` (trusted code: the reference, catalogued variants, a learner's own kernel
  checking itself): the functions are called in a forked child of this process.
Either way the verdict, the expected values and the hints are computed by the judge's own code.
"""
from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from itertools import groupby
from typing import Iterable, Mapping, MutableMapping

import numpy as np

from autograder import diagnose, isolation, recorded
from autograder.checks import ASSIGNMENT_OF, FUNCTIONS, checks_for
from autograder.checks.base import REFERENCE, SCRATCH
from autograder.core import Check, Failure, Result
from autograder.sandbox.remote import LearnerCrash, NameInfo, Sandbox
from autograder.sandbox.frameworks import framework_used

try:
    from autograder import catalog
except ImportError:  # the learner's kit: no catalog; what its bugs do on each public case is recorded instead
    catalog = None

OUTPUT_LIMIT = isolation.OUTPUT_LIMIT


@dataclass
class Verdicts:
    """What grading one submission produced: results, notes for the learner, flags for the
    instructor, and the isolation that ran the learner's code."""

    results: list[Result]
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    isolation: str = ""
    detail: str = ""


def selected_checks(functions: Iterable[str] | None = None, hidden: bool | None = None) -> list[Check]:
    return [c for f in (functions or FUNCTIONS) for c in checks_for(f, hidden)]


# ---------------------------------------------------------------------------------------------
# the grading door: learner code in the sandbox


def judge_submission(blocks: list[dict], functions: Iterable[str] | None = None, *, hidden: bool | None = None,
                     timeout: float | None = None, require_sandbox: bool = False,
                     sandbox: Sandbox | None = None) -> Verdicts:
    """Run the submission's code blocks in a sandbox and judge `functions` (all by default).
    `sandbox`: one already launched for these blocks (see Sandbox.begin_start)."""
    sandbox = sandbox or Sandbox(blocks, FUNCTIONS, REFERENCE, require_sandbox=require_sandbox)
    with sandbox:
        return judge_in(sandbox, selected_checks(functions, hidden), timeout=timeout)


def judge_in(sandbox: Sandbox, checks: list[Check], *, timeout: float | None = None) -> Verdicts:
    """The given checks against the submission loaded in `sandbox`."""
    flags = []
    if sandbox.reached_at_load:
        flags.append(f"the submission's code tried to import {', '.join(sandbox.reached_at_load)} (the reference)")
    results = []
    # functions whose stand-ins run in a worker of their own, thrown away after: launched now, so
    # that they load while the other functions are judged
    throwaway = {f: _throwaway(sandbox, f) for f in dict.fromkeys(c.function for c in checks) if f in LOCAL_STAND_INS}
    out_of_time: set[str] = set()
    for check in checks:
        where = throwaway.get(check.function, sandbox)
        limit = isolation.DEFAULT_TIMEOUT if timeout is None else timeout
        if check.function in out_of_time:
            limit = min(limit, TIMEOUT_AFTER_A_TIMEOUT)
        result = judge_one(where, check, timeout=limit)
        if _ran_out_of_time(result):
            if check.function in out_of_time:
                result = dataclasses.replace(result, details=result.details + (AGAIN_OUT_OF_TIME,))
            out_of_time.add(check.function)
        if result.internal:
            flags.append(f"internal error in check {check.id}: {dict(result.extra).get('internal', '')}")
        if "reached" in dict(result.extra):
            flags.append(f"{check.function}: its code tried to reach the reference")
        results.append(result)
    for worker in throwaway.values():
        worker.shutdown()
    # diagnosis by relation, cross-case rule: a relational hint stays only if it fits every failing check
    results = promises_count_with_an_answer(checks, diagnose.reconcile(results))
    return Verdicts(results, list(sandbox.notes), flags, sandbox.isolation, sandbox.detail)


# A function that ran out of time on one check gets this long on its later checks (the configured
# timeout if shorter): every check of the course runs in at most 24 ms with the reference (backward's
# central differences, the slowest, on this project's 2-core machine), so half a second is 20 times
# that even on a half-vCPU grading container, and a loop that never ends then costs its remaining
# checks half a second each instead of the full timeout: one such submission does not hold a batch
# lane for half a minute.
TIMEOUT_AFTER_A_TIMEOUT = 0.5
AGAIN_OUT_OF_TIME = (f"it ran out of time on an earlier check too, so this check gave it {TIMEOUT_AFTER_A_TIMEOUT:g} s "
                     "(a function that finishes needs milliseconds here)")


def _ran_out_of_time(result: Result) -> bool:
    return not result.passed and "could not be checked: it did not finish within" in (result.problem or "")


# Functions whose checks call many other course functions (train: forward, backward, sgd_step...
# on every batch): their stand-ins run inside a worker of their own, started for their checks and
# thrown away after, instead of a round trip to the judge per call. That worker holds the reference
# of every other function, never of the judged one, and nothing it does outlives it.
# (In the learner's kit there is no reference code to run there: its stand-ins are recorded answers.)
LOCAL_STAND_INS = () if recorded.available() else ("train",)


def _throwaway(sandbox: Sandbox, function: str) -> Sandbox:
    from autograder.reference_file import reference_source_without

    worker = Sandbox(sandbox.blocks, sandbox.names, sandbox.reference, require_sandbox=sandbox.require_sandbox,
                     load_timeout=sandbox.load_timeout, block_timeout=sandbox.block_timeout, env=sandbox.env,
                     local_reference=reference_source_without([function]))
    return worker.begin_start()


def judge_one(sandbox: Sandbox, check: Check, *, timeout: float | None = None) -> Result:
    """One check: the first rungs from what loading found, then the check itself."""
    sandbox.ready()
    problem = precheck(sandbox.info.get(check.function, NameInfo()), check.function)
    if problem:
        return _failed(check, problem)
    return _run_sandboxed(sandbox, check, isolation.DEFAULT_TIMEOUT if timeout is None else timeout)


def _run_sandboxed(sandbox: Sandbox, check: Check, timeout: float) -> Result:
    stand_ins = [f for f in FUNCTIONS if f != check.function and f not in check.uses]
    ns = {name: REFERENCE[name] for name in stand_ins}
    for name in (check.function, *check.uses):
        ns[name] = sandbox.function(name)
    sandbox.begin_check(stand_ins, timeout)
    scratch = SCRATCH.set(str(sandbox.workdir))
    # the learner's own versions of the stand-ins: the kit's recorded reference falls back to them
    own = recorded.OWN.set({name: sandbox.function(name) for name in stand_ins
                            if sandbox.info.get(name, NameInfo()).callable})
    crash = ""
    try:
        result = _run_check(ns, check)
    except LearnerCrash as exc:
        result, crash = None, exc.reason
    finally:
        recorded.OWN.reset(own)
        SCRATCH.reset(scratch)
        log = sandbox.end_check()
    if crash:
        return _failed(check, f"{check.function} could not be checked: {crash}")
    if log.reached:
        return _failed(check, f"{check.function} tried to use the course's reference answer "
                              f"({', '.join(sorted(set(log.reached)))}), which is not available to your code",
                       details=("write it yourself with NumPy: the checks compare it with the reference, "
                                "so they cannot use it too",), extra=(("reached", "flagged for your instructor"),))
    return _with_output(result, log.text, log.printed_chars)


# ---------------------------------------------------------------------------------------------
# trusted code, or a learner's own kernel: functions called in a forked child


def judge(ns: MutableMapping, functions: Iterable[str] | None = None, *, hidden: bool | None = None,
          timeout: float | None = None) -> list[Result]:
    """Every check of `functions` (all of the API by default) against the namespace `ns`."""
    return judge_checks(ns, selected_checks(functions, hidden), timeout=timeout)


def judge_checks(ns: MutableMapping, checks: list[Check], *, timeout: float | None = None) -> list[Result]:
    """The given checks, in order: a function that fails the first rungs fails all its checks."""
    timeout = isolation.DEFAULT_TIMEOUT if timeout is None else timeout
    results: list[Result] = []
    for function, group in groupby(checks, key=lambda c: c.function):
        group = list(group)
        problem = precheck(_local_info(ns, function), function)
        if problem:
            results += [_failed(c, problem) for c in group]
            continue
        tasks = [lambda c=c: _record(_run_local(ns, c)) for c in group]
        for check, outcome in zip(group, isolation.run_tasks(tasks, timeout)):
            results.append(_from_outcome(check, outcome))
        # diagnosis by relation, cross-case rule: a relational hint stays only if it fits every failing check
        results[-len(group):] = diagnose.reconcile(results[-len(group):])
    return promises_count_with_an_answer(checks, results)


def promises_count_with_an_answer(checks: list[Check], results: list[Result]) -> list[Result]:
    """A promise (arguments left alone, nothing kept between calls) earns its points only when its
    function also gives a right answer on one of its other checks run here: a function that returns
    nothing useful keeps both promises trivially, and must not score for it."""
    judged = {c.function for c in checks if not c.promise}
    answered = {c.function for c, r in zip(checks, results) if not c.promise and r.passed}
    return [_failed(c, f"{c.function} keeps this promise, but it counts only once {c.function} gives a right "
                       "answer on one of its other checks")
            if c.promise and r.passed and c.function in judged - answered else r
            for c, r in zip(checks, results)]


def _local_info(ns: Mapping, function: str) -> NameInfo:
    if function not in ns:
        return NameInfo()
    fn = ns[function]
    return NameInfo(True, callable(fn), type(fn).__name__, framework_used(fn) if callable(fn) else "")


def _run_local(ns: MutableMapping, check: Check) -> Result:
    """Run one check with the other API functions swapped for the reference (restored after)."""
    swapped = {name: ns.get(name, _ABSENT) for name in FUNCTIONS
               if name != check.function and name not in check.uses}
    ns.update({name: REFERENCE[name] for name in swapped})
    own = recorded.OWN.set({name: fn for name, fn in swapped.items() if fn is not _ABSENT and callable(fn)})
    try:
        return _run_check(ns, check)
    finally:
        recorded.OWN.reset(own)
        for name, value in swapped.items():
            if value is _ABSENT:
                ns.pop(name, None)
            else:
                ns[name] = value


_ABSENT = object()


def _record(result: Result) -> str:
    """A result as JSON text: what crosses back from the forked child (never a pickle)."""
    return json.dumps({**result.as_dict(), "details": list(result.details), "extra": [list(e) for e in result.extra]})


def _from_record(check: Check, text) -> Result:
    try:
        data = json.loads(text)
        return Result(ASSIGNMENT_OF[check.function], check.function, check.name, check.title, bool(data["passed"]),
                      check.points if data["passed"] else 0.0, check.points, check.hidden, str(data["case"]),
                      str(data["problem"]), tuple(map(str, data["details"])), str(data["hint"]),
                      tuple((str(a), str(b)) for a, b in data["extra"]), bool(data["internal"]))
    except (TypeError, ValueError, KeyError):
        return _failed(check, f"{check.function} could not be checked: the check's result was unreadable")


def _from_outcome(check: Check, outcome: isolation.Outcome) -> Result:
    if outcome.crashed:
        return _failed(check, f"{check.function} could not be checked: {outcome.crashed}")
    return _with_output(_from_record(check, outcome.value), outcome.printed, outcome.printed_chars)


# ---------------------------------------------------------------------------------------------
# one check, whoever runs the learner's code


def precheck(info: NameInfo, function: str) -> str:
    """The first rungs of the ladder, decided without calling learner code."""
    if not info.defined:
        return (f"{function} is missing: no function of that name is defined. "
                f"Define `def {function}(...)` (check the spelling) and run its cell.")
    if not info.callable:
        return f"{function} should be a function, but it is {info.type_name}: did a variable reuse its name?"
    if info.framework:
        return (f"{function} uses {info.framework}: this course builds everything from NumPy, so a framework's "
                f"version does not count. Write it with NumPy operations.")
    return ""


def _run_check(ns: Mapping, check: Check) -> Result:
    """The check's verdict: passed, a Failure in the learner's words, or an internal error; with the
    notes the kit's recorded reference made (where the learner's own function stood in for it)."""
    notes = recorded.NOTES.set([])
    try:
        result = _run_check_noted(ns, check)
        lines = recorded.NOTES.get()
    finally:
        recorded.NOTES.reset(notes)
    if lines:
        result = _replace(result, extra=result.extra + (("note", "\n".join(lines)),))
    return result


def _run_check_noted(ns: Mapping, check: Check) -> Result:
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        try:
            check.run(ns)
        except Failure as failure:
            return _failed(check, failure.summary, case=failure.case, details=tuple(failure.details),
                           hint=_hint(failure, check.function, check.id), extra=_warning_lines(caught))
        except LearnerCrash:
            raise
        except Exception as exc:
            if getattr(exc, "__from_learner__", False):  # the learner's exception, not caught by the check
                line = getattr(exc, "__learner_line__", "")
                text = str(exc) + (f" ({line})" if line else "")
                return _failed(check, f"{check.function} raised {type(exc).__name__}", details=(text,) if text else ())
            return _internal(check, exc)
    return _passed(check, _warning_lines(caught))


def _hint(failure: Failure, function: str, check_id: str = "") -> str:
    """The hint of the first catalogued bug that reproduces the learner's observation (in the
    learner's kit: whose recorded observation on this case is the learner's)."""
    if failure.replay is not None and failure.same is not None and catalog is None:
        found = recorded.hint_for(failure, check_id)
        if found:
            return found
    elif failure.replay is not None and failure.same is not None:
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


def _warning_lines(caught) -> tuple[tuple[str, str], ...]:
    seen = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen:
            seen.append(text)
    if not seen:
        return ()
    return (("warnings", "\n".join(seen[:3])),)


def _with_output(result: Result, printed: str, printed_chars: int) -> Result:
    """A failure shows what the learner's code printed; megabytes of it fail the check (in the
    sandbox the call is stopped as soon as it passes the limit, so the count is not the whole)."""
    if printed_chars > OUTPUT_LIMIT:
        return _failed_like(result, f"{result.function} printed more than {OUTPUT_LIMIT:,} characters while being "
                                    "checked, which fails the check; remove the print calls (a print inside a loop "
                                    "floods the notebook)")
    if not result.passed and printed.strip():
        more = " ..." if printed_chars > len(printed) else ""
        return _replace(result, extra=result.extra + (("printed", printed.strip() + more),))
    return result


def _replace(result: Result, **changes) -> Result:
    from dataclasses import replace

    return replace(result, **changes)


def _failed_like(result: Result, problem: str) -> Result:
    return Result(result.assignment, result.function, result.check, result.title, False, 0.0, result.max_points,
                  result.hidden, problem=problem)


def _passed(check: Check, extra=()) -> Result:
    return Result(ASSIGNMENT_OF[check.function], check.function, check.name, check.title, True, check.points,
                  check.points, check.hidden, extra=tuple(extra))


def _failed(check: Check, problem: str, *, case: str = "", details=(), hint: str = "", extra=()) -> Result:
    return Result(ASSIGNMENT_OF[check.function], check.function, check.name, check.title, False, 0.0, check.points,
                  check.hidden, case, problem, tuple(details), hint, tuple(extra))


def _internal(check: Check, exc: Exception) -> Result:
    """A check's own code failed: not the learner's mistake; no points, and the instructor is told."""
    text = f"{type(exc).__name__}: {str(exc)[:300]}"
    return Result(ASSIGNMENT_OF[check.function], check.function, check.name, check.title, False, 0.0, check.points,
                  check.hidden, problem=(f"the grader itself failed while checking {check.function} (an internal "
                                         f"error, not a mistake of yours); your instructor is told"),
                  extra=(("internal", text),), internal=True)
