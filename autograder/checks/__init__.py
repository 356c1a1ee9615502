"""The registry: every check of every function, one module per assignment of the table
(`autograder.assignments`, whose views are re-exported here for the code that asks for them).

Check modules are imported lazily so `import autograder` stays fast in a learner's kernel."""
from __future__ import annotations

import importlib
from functools import cache

from autograder.assignments import ASSIGNMENT_OF, ASSIGNMENTS, FUNCTIONS, TABLE
from autograder.core import Check

__all__ = ["ASSIGNMENTS", "ASSIGNMENT_OF", "FUNCTIONS", "all_checks", "checks_for", "points_for"]


@cache
def all_checks() -> tuple[Check, ...]:
    """Every check, in assignment and function order."""
    found: list[Check] = []
    for assignment in TABLE:
        found += importlib.import_module(f"autograder.checks.{assignment.module}").CHECKS
    order = {f: i for i, f in enumerate(FUNCTIONS)}
    unknown = [c.id for c in found if c.function not in order]
    if unknown:  # pragma: no cover - a check author's mistake
        raise RuntimeError(f"checks for functions outside the API: {unknown}")
    return tuple(sorted(found, key=lambda c: order[c.function]))


def checks_for(function: str, hidden: bool | None = None) -> list[Check]:
    """The checks of one function; `hidden` None for all, True/False for one visibility."""
    return [c for c in all_checks() if c.function == function and (hidden is None or c.hidden == hidden)]


def points_for(function: str) -> float:
    """A function's total points: the points of its nbgrader test cell."""
    return sum(c.points for c in checks_for(function))
