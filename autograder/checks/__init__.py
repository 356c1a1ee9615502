"""The registry: which functions each assignment asks for, and every check of every function.

Check modules are imported lazily so `import autograder` stays fast in a learner's kernel."""
from __future__ import annotations

import importlib
from functools import cache

from autograder.core import Check

ASSIGNMENTS: dict[str, tuple[str, ...]] = {
    "01_data": ("flatten", "normalize", "one_hot"),
    "02_activations": ("relu", "relu_derivative", "sigmoid", "sigmoid_derivative", "softmax"),
    "03_loss": ("cross_entropy", "softmax_cross_entropy_grad", "accuracy"),
    "04_init": ("he_init", "init_params"),
    "05_backprop": ("forward", "backward", "numerical_gradient"),
    "06_training": ("iterate_minibatches", "sgd_step", "train"),
    "07_capstone": ("predict", "save_params", "load_params"),
}
ASSIGNMENT_OF: dict[str, str] = {f: a for a, fs in ASSIGNMENTS.items() for f in fs}
FUNCTIONS: tuple[str, ...] = tuple(ASSIGNMENT_OF)
_MODULES = {
    "01_data": "images",
    "02_activations": "activations",
    "03_loss": "loss",
    "04_init": "initialisation",
    "05_backprop": "backprop",
    "06_training": "training",
    "07_capstone": "capstone",
}


@cache
def all_checks() -> tuple[Check, ...]:
    """Every check, in assignment and function order."""
    found: list[Check] = []
    for module in _MODULES.values():
        found += importlib.import_module(f"autograder.checks.{module}").CHECKS
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
