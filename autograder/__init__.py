"""Backprop Kit's autograder: the checks, their feedback, and the small runtime learners import.

In a notebook: `from autograder import check, load_mnist`."""
from autograder.notebook import check, explained  # noqa: F401  (light: the judge is imported on first use)


def load_mnist(kind: str = "train", data_dir=None):
    """MNIST as uint8 images (N, 28, 28) and integer labels (N,): see autograder.mnist."""
    from autograder.mnist import load_mnist as _load

    return _load(kind, data_dir)


def check_capstone(path="model.npz", **kwargs):
    """Grade a saved capstone model on the MNIST test set: see autograder.capstone."""
    from autograder.capstone import check_capstone as _check

    import sys

    kwargs.setdefault("namespace", sys._getframe(1).f_globals)
    return _check(path, **kwargs)


__all__ = ["check", "check_capstone", "explained", "load_mnist"]
