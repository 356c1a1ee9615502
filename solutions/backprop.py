"""05 backprop: the forward pass, its exact gradient, and the numerical check that proves it."""
from __future__ import annotations

import numpy as np

from .activations import relu, softmax

__all__ = ["forward", "backward", "numerical_gradient"]


def num_layers(params):
    """L, the number of weight matrices W1..WL; inferred from the keys so any depth works."""
    n = 0
    while f"W{n + 1}" in params:
        n += 1
    if n == 0:
        raise ValueError(f"params has no 'W1'; expected keys W1, b1, ..., WL, bL, got {sorted(params)}")
    return n


def forward(params, X):
    """(probs, cache) for Z_k = A_{k-1} @ W_k + b_k, ReLU on hidden layers, softmax on the last.

    The cache {"A0": X, "Z1": ..., "A1": ..., "ZL": ..., "AL": probs} keeps every pre-activation
    and activation because backward needs A_{k-1} for dW_k and Z_k for the ReLU mask.
    """
    L = num_layers(params)
    A = np.asarray(X)
    cache = {"A0": A}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z) if k < L else softmax(Z)
        cache[f"Z{k}"] = Z
        cache[f"A{k}"] = A
    return A, cache


def backward(params, cache, labels):
    """Gradient of the MEAN cross-entropy w.r.t. every parameter: same keys and shapes as params.

    Starts from the fused softmax+cross-entropy gradient (probs - one_hot) / N, then walks back:
    dW_k = A_{k-1}^T dZ_k, db_k = sum of dZ_k over the batch, dZ_{k-1} = (dZ_k W_k^T) * [Z_{k-1} > 0].
    The gradient w.r.t. the input X is never formed: nothing learns it.
    """
    L = num_layers(params)
    probs = cache[f"A{L}"]
    n = len(probs)
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the batch, got {labels.shape}")
    dZ = np.array(probs, copy=True)
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        A_prev = cache[f"A{k - 1}"]
        grads[f"W{k}"] = A_prev.T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return {key: grads[key] for key in params}  # the same key order as params


def numerical_gradient(f, x, h=1e-5):
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h for every entry i of x, as float64.

    x is perturbed in place (so f, a closure over x, sees the change) and each entry is restored by
    writing back its stored old value: old + h - h need not round back to old exactly.
    Error O(h^2), which is why it beats the one-sided O(h) difference as a gradient check.
    """
    grad = np.zeros(np.shape(x), dtype=np.float64)
    for idx in np.ndindex(*np.shape(x)):
        old = x[idx]  # a NumPy scalar: an immutable copy of the entry
        try:
            x[idx] = old + h
            f_plus = float(f())
            x[idx] = old - h
            f_minus = float(f())
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad
