"""The vocabulary of the autograder: a check is data (what it judges, its points, how it runs),
and a failed check raises `Failure` carrying everything the feedback needs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

Namespace = Mapping[str, Any]


@dataclass(frozen=True)
class Check:
    """One graded check of one learner function.

    `run(ns)` calls functions through the namespace `ns` (the learner's, or the reference's with
    a catalogued bug patched in) and raises `Failure` on the first case that goes wrong.
    `uses` names other learner functions this check deliberately runs (forward for backward:
    the cache is the learner's own); every other API function is replaced by the reference while
    the check runs, so one mistake costs points once.
    """

    function: str
    name: str
    title: str
    run: Callable[[Namespace], None]
    points: float = 1.0
    hidden: bool = False
    uses: tuple[str, ...] = ()
    promise: bool = False   # arguments left alone, nothing kept: counts once the function answers right

    @property
    def id(self) -> str:
        return f"{self.function}.{self.name}"


@dataclass
class Failure(Exception):
    """What went wrong in one case, in the words the learner will read.

    `replay(ns)` re-runs the failing case against any namespace and returns what the check
    observed (`observed` is the learner's); the judge uses it to find which catalogued bug
    reproduces the learner's result, and so which hint to print.
    """

    summary: str
    case: str = ""
    details: list[str] = field(default_factory=list)
    observed: Any = None
    replay: Callable[[Namespace], Any] | None = None
    same: Callable[[Any, Any], bool] | None = None
    hint: str = ""

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return self.summary


@dataclass(frozen=True)
class Result:
    """The verdict of one check: its parts as fields, rendered to text in one place (`message`).

    `internal` marks a failure of the check's own code: reported to the instructor, never blamed
    on the learner."""

    assignment: str
    function: str
    check: str
    title: str
    passed: bool
    points: float
    max_points: float
    hidden: bool = False
    case: str = ""
    problem: str = ""
    details: tuple[str, ...] = ()
    hint: str = ""
    extra: tuple[tuple[str, str], ...] = ()   # (label, text) lines after the hint: warnings, printed
    internal: bool = False

    @property
    def message(self) -> str:
        """The learner-facing feedback: tried, problem, details, hint, then warnings and output."""
        lines = []
        if self.case:
            lines.append(f"tried:    {self.case}")
        if self.problem:
            lines.append(f"problem:  {self.problem}")
        lines += [f"          {d}" for d in self.details]
        if self.hint:
            lines.append(f"hint:     {self.hint}")
        for label, text in self.extra:
            lines.append(f"{label + ':':<10}" + text.replace("\n", "\n          "))
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "assignment": self.assignment,
            "function": self.function,
            "check": self.check,
            "title": self.title,
            "passed": self.passed,
            "points": self.points,
            "max_points": self.max_points,
            "hidden": self.hidden,
            "case": self.case,
            "problem": self.problem,
            "details": list(self.details),
            "hint": self.hint,
            "internal": self.internal,
            "message": self.message,
        }
