"""The one table of the course: every assignment, where its files live, and the functions it asks for.

Everything that lists assignments or learner functions reads it: the checks, the catalog, the
platform exports, the kit builder, the CLIs and the tests (which also prove that `solutions`, the
reference, exports exactly these functions: the reference never imports the autograder, so it keeps
its own explicit imports and a test holds them to this table). Plain data with no imports of the
autograder, so the learner's kit ships it as it is.

A function's points are not here: they are the sum of its checks' points (`checks.points_for`), so
a check and its points never drift apart. `model_points` are the points of a trained model the
assignment grades beyond its functions (the capstone's test_capstone cell).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    """One assignment: `source/<name>/<module>.ipynb`, and the modules `<module>.py` of its checks
    (autograder/checks), its catalogued mistakes (autograder/catalog) and its reference (solutions)."""

    name: str                      # "04_init": the folder under source/ and release/, nbgrader's name
    module: str                    # "init": the Python modules and the notebook are named after it
    functions: tuple[str, ...]     # the learner functions, in the order the notebook asks for them
    model_points: float = 0.0      # points for a trained model, beyond the functions' checks

    @property
    def number(self) -> str:
        """The short name a command line accepts: "04"."""
        return self.name.split("_", 1)[0]

    @property
    def folder(self) -> str:
        """The assignment's folder inside source/ and release/ (and the kit's notebooks/)."""
        return self.name

    @property
    def notebook(self) -> str:
        """The notebook's file name, the file a learner submits."""
        return f"{self.module}.ipynb"


TABLE: tuple[Assignment, ...] = (
    Assignment("01_data", "data", ("flatten", "normalize", "one_hot")),
    Assignment("02_activations", "activations",
               ("relu", "relu_derivative", "sigmoid", "sigmoid_derivative", "softmax")),
    Assignment("03_loss", "loss", ("cross_entropy", "softmax_cross_entropy_grad", "accuracy")),
    Assignment("04_init", "init", ("he_init", "init_params")),
    Assignment("05_backprop", "backprop", ("forward", "backward", "numerical_gradient")),
    Assignment("06_training", "training", ("iterate_minibatches", "sgd_step", "train")),
    Assignment("07_capstone", "capstone", ("predict", "save_params", "load_params"), model_points=10),
)

BY_NAME: dict[str, Assignment] = {a.name: a for a in TABLE}
ASSIGNMENTS: dict[str, tuple[str, ...]] = {a.name: a.functions for a in TABLE}
ASSIGNMENT_OF: dict[str, str] = {f: a.name for a in TABLE for f in a.functions}
FUNCTIONS: tuple[str, ...] = tuple(ASSIGNMENT_OF)
MODULES: tuple[str, ...] = tuple(a.module for a in TABLE)
NOTEBOOK_NAMES: dict[str, str] = {a.name: a.notebook for a in TABLE}
CAPSTONE: str = next(a.name for a in TABLE if a.model_points)  # the assignment that also grades a trained model


def find(name: str) -> Assignment | None:
    """The assignment a user means: its full name ("02_activations"), its number ("02") or its
    module ("activations"); None when none matches."""
    for assignment in TABLE:
        if name in (assignment.name, assignment.number, assignment.module):
            return assignment
    return None
