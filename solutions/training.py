"""06 training: minibatches, the SGD update, and the loop that ties forward and backward together."""
from __future__ import annotations

import numpy as np

from .backprop import backward, forward
from .init import init_params
from .loss import accuracy, cross_entropy

__all__ = ["iterate_minibatches", "sgd_step", "train"]


def iterate_minibatches(X, labels, batch_size, rng, shuffle=True):
    """A generator of (X_batch, labels_batch) covering every sample exactly once, rows aligned.

    The order is rng.permutation(N) when shuffle (drawn now, one draw per call), else 0..N-1; the
    last batch holds the remainder and may be smaller, so no sample is silently dropped.
    Arguments are checked here rather than at the first next(), so a bad batch_size fails where it
    is written.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    X = np.asarray(X)
    labels = np.asarray(labels)
    if len(X) != len(labels):
        raise ValueError(f"X has {len(X)} rows but labels has {len(labels)}; they must match")
    n = len(X)
    order = rng.permutation(n) if shuffle else None
    return _batches(X, labels, int(batch_size), order)


def _batches(X, labels, batch_size, order):
    for start in range(0, len(X), batch_size):
        if order is None:  # slices are views: no copy when the order is kept
            yield X[start:start + batch_size], labels[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            yield X[idx], labels[idx]


def sgd_step(params, grads, lr):
    """params[k] -= lr * grads[k] for every key, in place (the arrays keep their identity), returned."""
    for key in params:
        params[key] -= lr * grads[key]
    return params


def train(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    """Minibatch SGD from init_params(layer_sizes, rng): returns (params, history).

    history["loss"][e] is the mean training loss over epoch e (each batch's mean loss weighted by its
    size, so it equals the mean over all samples seen); history["val_accuracy"][e] is the accuracy on
    (X_val, labels_val) after epoch e, or the list stays empty without validation data.
    rng is used for the initial weights first, then for one permutation per epoch.
    """
    if (X_val is None) != (labels_val is None):
        raise ValueError("give both X_val and labels_val, or neither")
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    n = len(X)
    for _ in range(epochs):
        total = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            total += cross_entropy(probs, labels_batch) * len(X_batch)
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(total / n)
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history
