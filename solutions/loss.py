"""03 loss: how wrong the predictions are, its gradient, and how often they are right."""
from __future__ import annotations

import numpy as np

from .activations import softmax

__all__ = ["cross_entropy", "softmax_cross_entropy_grad", "accuracy"]


def _rows(labels, n):
    """Integer row-wise class indices, checked against the batch size so a mismatch fails loudly."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the batch, got {labels.shape}")
    return labels


def cross_entropy(probs, labels, eps=1e-12):
    """Mean over the batch of -log(clip(p_true, eps, 1)) as a Python float.

    The clip keeps the loss finite when the network puts probability 0 on the true class
    (log 0 = -inf would turn every later gradient step into NaN).
    """
    probs = np.asarray(probs)
    labels = _rows(labels, len(probs))
    p = probs[np.arange(len(probs)), labels].astype(np.float64)
    return float(-np.mean(np.log(np.clip(p, eps, 1.0))))


def softmax_cross_entropy_grad(logits, labels):
    """(softmax(logits) - one_hot(labels)) / N: the gradient of the mean cross-entropy w.r.t. logits.

    The fused form is why softmax and cross-entropy are paired: no division by a tiny probability.
    """
    grad = softmax(logits)  # a fresh array: safe to modify in place
    labels = _rows(labels, len(grad))
    n = len(grad)
    grad[np.arange(n), labels] -= 1
    grad /= n
    return grad


def accuracy(scores, labels):
    """Fraction of rows whose argmax equals the label, as a Python float (logits or probabilities)."""
    scores = np.asarray(scores)
    labels = _rows(labels, len(scores))
    return float(np.mean(np.argmax(scores, axis=1) == labels))
