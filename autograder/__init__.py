"""Backprop Kit's autograder: the checks, their feedback, and the small runtime learners import.

In a notebook: `from autograder import check, load_mnist`."""
from autograder.notebook import check  # noqa: F401  (light: the judge is imported on first use)


def load_mnist(kind: str = "train", data_dir=None):
    """MNIST as uint8 images (N, 28, 28) and integer labels (N,): see autograder.mnist."""
    from autograder.mnist import load_mnist as _load

    return _load(kind, data_dir)


__all__ = ["check", "load_mnist"]
