"""Checks for 02_activations: relu, relu_derivative, sigmoid, sigmoid_derivative, softmax.

Agreement with the reference on every case; sigmoid on logits of size 1e4 must also give no
overflow warning (calls are recorded with their warnings, and bugs are matched on them too).
"""
from __future__ import annotations

import numpy as np

from autograder.checks.base import (
    PROMISE_POINTS,
    REFERENCE,
    Called,
    Case,
    default_compare,
    loose_for_float32,
    property_check,
    reference_check,
)
from autograder.compare import Mismatch
from autograder.checks.promises import leaves_arguments, nothing_kept


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------
# relu


def _relu_cases():
    return [
        Case.of("negative, zero and positive values", np.array([-2.0, -0.5, 0.0, 0.5, 3.0])),
        Case.of("a (4, 5) batch", _rng(21).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", _rng(22).standard_normal((3, 8)).astype(np.float32)),
        Case.of("a 3-D array (2, 3, 4)", _rng(23).standard_normal((2, 3, 4))),
    ]


def _relu_edges():
    return [
        Case.of("all negative (3, 4)", -_rng(24).random((3, 4)) - 0.1),
        Case.of("huge magnitudes", np.array([-1e4, -1.0, 1.0, 1e4])),
        Case.of("zeros, -0.0 and tiny values", np.array([[0.0, -0.0], [1e-300, -1e-300]])),
        Case.of("a float32 row (1, 7)", _rng(25).standard_normal((1, 7)).astype(np.float32)),
    ]


RELU = [
    reference_check("relu", "elementwise_max", "max(z, 0) elementwise, same shape, any dtype", _relu_cases,
                    points=2),
    reference_check("relu", "edge_cases", "all-negative input, zeros, huge values, a single row", _relu_edges,
                    hidden=True),
]

# ---------------------------------------------------------------------------------------------
# relu_derivative


def _relu_derivative_cases():
    return [
        Case.of("negative and positive values", np.array([-2.0, -0.5, 0.5, 3.0])),
        Case.of("a (4, 5) batch", _rng(31).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", _rng(32).standard_normal((3, 8)).astype(np.float32)),
        Case.of("a 3-D array (2, 3, 4)", _rng(33).standard_normal((2, 3, 4))),
    ]


def _relu_derivative_zeros():
    return [
        Case.of("exact zeros among other values", np.array([-1.0, 0.0, 2.0, 0.0, -0.0])),
        Case.of("a (2, 3) batch of zeros", np.zeros((2, 3))),
    ]


def _relu_derivative_edges():
    return [
        Case.of("huge magnitudes", np.array([-1e4, -1.0, 1.0, 1e4])),
        Case.of("tiny magnitudes", np.array([-1e-300, 1e-300, -5e-324, 5e-324])),
        Case.of("a float32 batch (16, 32) with zeros",
                np.where(_rng(34).random((16, 32)) < 0.2, 0, _rng(35).standard_normal((16, 32))).astype(np.float32)),
    ]


RELU_DERIVATIVE = [
    reference_check("relu_derivative", "slope", "1.0 where z > 0, 0.0 elsewhere, as floats", _relu_derivative_cases,
                    points=2),
    reference_check("relu_derivative", "zero_at_zero", "the derivative at exactly z == 0 is 0",
                    _relu_derivative_zeros),
    reference_check("relu_derivative", "edge_cases", "huge and tiny values, float32 with zeros",
                    _relu_derivative_edges, hidden=True),
]

# ---------------------------------------------------------------------------------------------
# sigmoid


def _sigmoid_cases():
    return [
        Case.of("values from -6 to 4", np.array([-6.0, -2.0, -0.5, 0.0, 0.5, 4.0])),
        Case.of("a (4, 5) batch", 3 * _rng(41).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", (3 * _rng(42).standard_normal((3, 8))).astype(np.float32)),
        Case.of("moderately large values", np.array([-30.0, -20.0, 20.0, 30.0])),
    ]


def _sigmoid_extremes():
    return [Case.of("extreme logits up to \u00b11e4", np.array([-1e4, -1000.0, -40.0, 0.0, 40.0, 1e4]))]


def _sigmoid_extreme_batches():
    wide = _rng(43).uniform(-1e4, 1e4, size=(3, 4))
    wide[0, :2] = [-1e4, 1e4]
    return [
        Case.of("a (3, 4) batch with entries up to \u00b11e4", wide),
        Case.of("a 3-D array (2, 2, 3) of large values", _rng(44).uniform(-800, 800, size=(2, 2, 3))),
        Case.of("float32 extremes", np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=np.float32)),
    ]


def _values_without_warning(function: str, called: Called, args, kwargs, fix: str):
    """No RuntimeWarning for float64 input (float32 input: the values only), then the values."""
    z = args[0]
    if called.warnings and z.dtype == np.float64:
        raise Mismatch(f"{function} warned on this input: " + "; ".join(called.warnings), [fix])
    with np.errstate(all="ignore"):
        expected = REFERENCE[function](z)
    default_compare(expected, called.value, args, kwargs)


def _no_warning(called: Called, args, kwargs):
    _values_without_warning("sigmoid", called, args, kwargs,
                            "a sigmoid must handle |z| up to 1e4 without overflow: exp may only ever see "
                            "numbers <= 0 (or use np.tanh)")


def _warnings_and_value(called: Called, args, kwargs):
    return (called.warnings, called.value)


SIGMOID = [
    reference_check("sigmoid", "values", "1 / (1 + exp(-z)) elementwise, any shape", _sigmoid_cases, points=2),
    property_check("sigmoid", "no_overflow", "logits of size 1e4: right values and no overflow warning",
                   _sigmoid_extremes, _no_warning, observe=_warnings_and_value, record=True),
    property_check("sigmoid", "no_overflow_batches", "batches of huge logits, float64 and float32",
                   _sigmoid_extreme_batches, _no_warning, observe=_warnings_and_value, record=True, hidden=True),
]

# ---------------------------------------------------------------------------------------------
# sigmoid_derivative


def _sigmoid_derivative_cases():
    return [
        Case.of("values from -6 to 4", np.array([-6.0, -2.0, -0.5, 0.0, 0.5, 4.0])),
        Case.of("a (4, 5) batch", 3 * _rng(51).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", (3 * _rng(52).standard_normal((3, 8))).astype(np.float32)),
    ]


def _sigmoid_derivative_extremes():
    return [
        Case.of("extreme logits up to \u00b11e4", np.array([-1e4, -1000.0, -40.0, 0.0, 40.0, 1e4])),
        Case.of("a float32 (3, 4) batch of large values",
                _rng(53).uniform(-200, 200, size=(3, 4)).astype(np.float32)),
        Case.of("a 3-D array (2, 2, 3)", _rng(54).standard_normal((2, 2, 3))),
    ]


SIGMOID_DERIVATIVE = [
    reference_check("sigmoid_derivative", "values", "sigmoid(z) * (1 - sigmoid(z)) elementwise",
                    _sigmoid_derivative_cases, points=2),
    reference_check("sigmoid_derivative", "extremes", "finite and correct for logits up to \u00b11e4",
                    _sigmoid_derivative_extremes, hidden=True),
]

# ---------------------------------------------------------------------------------------------
# softmax


def _softmax_cases():
    return [
        Case.of("a (3, 5) batch of logits", 2 * _rng(61).standard_normal((3, 5))),
        Case.of("a float32 batch (4, 10)", (2 * _rng(62).standard_normal((4, 10))).astype(np.float32)),
        Case.of("a single row (1, 4)", np.array([[1.0, 2.0, 0.5, -1.0]])),
        Case.of("as many rows as classes (4, 4)", 2 * _rng(63).standard_normal((4, 4))),
    ]


def _softmax_1d():
    return [
        Case.of("a 1-D vector of 6 logits", _rng(64).standard_normal(6)),
        Case.of("a float32 1-D vector of 3 logits", np.array([0.5, -1.0, 2.0], dtype=np.float32)),
    ]


def _softmax_large():
    return [
        Case.of("logits of size 1e4 in one row, small ones in the other",
                np.array([[1e4, 9999.0, 9995.0], [1.0, 0.0, -2.0]])),
        Case.of("logits of size -1e4", np.array([[-1e4, -9998.0, -1e4 - 3], [-5.0, -1e4, 0.0]])),
        Case.of("float32 logits of size 1e4 (2, 4)",
                np.array([[1e4, 9998.0, 0.0, -1e4], [-1e4, 1e4, 9999.5, 5.0]], dtype=np.float32)),
    ]


def _softmax_scales():
    rows = _rng(65).standard_normal((6, 5)) * np.array([1e-3, 1.0, 10.0, 100.0, 1000.0, 3000.0])[:, None]
    return [
        Case.of("rows on very different scales (1e-3 .. 3000)", rows),
        Case.of("a random batch (50, 10)", 5 * _rng(66).standard_normal((50, 10))),
        Case.of("a 1-D vector of large logits", np.array([5000.0, 4999.0, -3000.0, 4990.0])),
    ]


SOFTMAX = [
    reference_check("softmax", "rows", "each row of (N, C) logits becomes probabilities summing to 1", _softmax_cases,
                    points=2),
    reference_check("softmax", "one_dimensional", "a 1-D input is one row (same shape back)", _softmax_1d),
    reference_check("softmax", "large_logits", "stable for logits of size 1e4 (subtract each row's max)",
                    _softmax_large, compare=loose_for_float32),
    reference_check("softmax", "varied_scales", "rows on very different scales, large random batches",
                    _softmax_scales, compare=loose_for_float32, hidden=True),
]

CHECKS = RELU + RELU_DERIVATIVE + SIGMOID + SIGMOID_DERIVATIVE + SOFTMAX

# --- issue 10, item 4: no argument changed; nothing kept between calls ---


def _two_batches():
    return [Case.of("a (4, 5) batch", _rng(24).standard_normal((4, 5))),
            Case.of("another (4, 5) batch", _rng(25).standard_normal((4, 5)))]


PROMISES_02 = [
    leaves_arguments("relu", _two_batches, ("z",),
                     "`np.maximum(z, 0)` makes a new array; `z[z < 0] = 0` or `out=z` writes into the caller's z"),
    nothing_kept("relu", _two_batches),
    leaves_arguments("relu_derivative", _two_batches, ("z",),
                     "`(z > 0).astype(float)` makes a new array; assigning into z changes the caller's values"),
    nothing_kept("relu_derivative", _two_batches),
    leaves_arguments("sigmoid", _two_batches, ("z",),
                     "`1 / (1 + np.exp(-z))` makes new arrays; `z *= -1` or `np.exp(z, out=z)` changes the "
                     "caller's z"),
    nothing_kept("sigmoid", _two_batches),
    leaves_arguments("sigmoid_derivative", _two_batches, ("z",),
                     "compute `s = sigmoid(z)` and return `s * (1 - s)`, new arrays both; never write into z"),
    nothing_kept("sigmoid_derivative", _two_batches),
    leaves_arguments("softmax", _two_batches, ("z",),
                     "work on a copy: `z - z.max(axis=-1, keepdims=True)` makes a new array, `z -= ...` shifts "
                     "the caller's logits"),
    nothing_kept("softmax", _two_batches),
]

CHECKS = CHECKS + PROMISES_02

# --- public checks of the stubs' other docstring promises (PROMISE_POINTS each; tests/test_docstring_promises.py)


def _derivative_no_warning(called: Called, args, kwargs):
    _values_without_warning("sigmoid_derivative", called, args, kwargs,
                            "compute it from a sigmoid that never overflows (exp may only see numbers <= 0, "
                            "or use np.tanh): s * (1 - s) with s = sigmoid(z)")


PUBLIC_PROMISES_02 = [
    property_check("sigmoid_derivative", "no_overflow", "logits of size 1e4: right values and no overflow warning",
                   lambda: [Case.of("logits from -1e4 to 1e4", np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 1e4]))],
                   _derivative_no_warning, observe=_warnings_and_value, record=True, points=PROMISE_POINTS),
]

CHECKS = CHECKS + PUBLIC_PROMISES_02
