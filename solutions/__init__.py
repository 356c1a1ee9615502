"""The reference implementation of the learner API: the names, arguments and shapes of every function
a learner writes, as the stubs in release/ show them to learners.

The single truth every autograder check compares against: one module per assignment, every function
re-exported here so that ``from solutions import softmax`` works. Pure NumPy, vectorised, never
mutating its inputs, random only through an explicit ``rng``.
"""
from .data import flatten, normalize, one_hot
from .activations import relu, relu_derivative, sigmoid, sigmoid_derivative, softmax
from .loss import accuracy, cross_entropy, softmax_cross_entropy_grad
from .init import he_init, init_params
from .backprop import backward, forward, numerical_gradient
from .training import iterate_minibatches, sgd_step, train

# predict, save_params and load_params live in solutions.capstone, beside the reference's fast
# trainer; it is imported on first use of one of its names (PEP 562) and then cached here, so
# `import solutions` stays light.
_LAZY = {"predict": "capstone", "save_params": "capstone", "load_params": "capstone"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


# In the order of the spec, assignment by assignment.
__all__ = [
    "flatten", "normalize", "one_hot",
    "relu", "relu_derivative", "sigmoid", "sigmoid_derivative", "softmax",
    "cross_entropy", "softmax_cross_entropy_grad", "accuracy",
    "he_init", "init_params",
    "forward", "backward", "numerical_gradient",
    "iterate_minibatches", "sgd_step", "train",
    "predict", "save_params", "load_params",
]
