"""02 activations: the nonlinearities and the derivatives backprop needs."""
from __future__ import annotations

import numpy as np

__all__ = ["relu", "relu_derivative", "sigmoid", "sigmoid_derivative", "softmax"]


def _floating(z):
    """z as an array of a floating dtype: float32 stays float32 (fast), anything else becomes float64."""
    z = np.asarray(z)
    return z if z.dtype.kind == "f" else z.astype(np.float64)


def relu(z):
    """max(z, 0) elementwise; keeps a floating dtype so float32 networks stay float32."""
    z = _floating(z)
    return np.maximum(z, z.dtype.type(0))


def relu_derivative(z):
    """1.0 where z > 0 else 0.0, including 0 at exactly z == 0 (the usual subgradient choice)."""
    z = _floating(z)
    return (z > 0).astype(z.dtype)


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow for any |z|.

    exp is only ever taken of -|z| <= 0, so it lies in (0, 1]: for z >= 0 use 1 / (1 + e), for z < 0
    the algebraically equal e / (1 + e). Underflow of exp(-|z|) to 0 is the right answer, so it is
    silenced even under np.errstate(all="raise").
    """
    z = _floating(z)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
    one = z.dtype.type(1)
    return np.where(z >= 0, one / (one + e), e / (one + e))


def sigmoid_derivative(z):
    """sigmoid(z) * (1 - sigmoid(z)), from one stable sigmoid evaluation."""
    s = sigmoid(z)
    return s * (s.dtype.type(1) - s)


def softmax(z):
    """Rows of (N, C) logits -> probabilities summing to 1; a 1-D input is a single row.

    Subtracting each row's max leaves the result unchanged mathematically but keeps exp's argument
    <= 0, so logits of size 1e4 do not overflow. The last axis is the class axis for any ndim.
    """
    z = _floating(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(shifted)
    e /= e.sum(axis=-1, keepdims=True)
    return e
