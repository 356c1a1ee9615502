"""`autograder.capstone` as learner code sees it inside the sandbox: the notebook's imports work,
grading does nothing there (the judge grades from outside), and the pass mark is the one the judge
fixed before any learner code ran (passed in the environment)."""
from __future__ import annotations

import os

THRESHOLD_ENV = "BACKPROP_KIT_THRESHOLD"


def threshold() -> float:
    """The pass mark the judge grades against."""
    return float(os.environ.get(THRESHOLD_ENV, "0.97"))


def check_capstone(path="model.npz", **kwargs) -> None:
    """Inside the sandbox the capstone is graded from outside: nothing to do here."""
    return None
