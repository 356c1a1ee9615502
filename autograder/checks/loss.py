"""Checks for 03_loss: cross_entropy, softmax_cross_entropy_grad, accuracy.

Probabilities are built as the softmax of seeded logits (rows that really sum to 1), labels are
seeded integers; scores never tie, so every argmax is unambiguous.
"""
from __future__ import annotations

import numpy as np

from autograder.checks.base import PROMISE_POINTS, REFERENCE, Case, loose_for_float32, reference_check
from autograder.checks.promises import leaves_arguments, nothing_kept
from autograder.compare import expect_number, tolerance


def _rng(seed):
    return np.random.default_rng(seed)


def _probs(logits):
    """Rows of probabilities: the reference's softmax of the logits (in the learner's kit, its recorded
    answer, so the kit's check code holds no softmax of its own)."""
    return REFERENCE["softmax"](logits)


def _batch(n, c, seed, scale=2.0, dtype=np.float64):
    """(probs, labels) of n samples over c classes."""
    rng = _rng(seed)
    probs = _probs(scale * rng.standard_normal((n, c))).astype(dtype)
    return probs, rng.integers(0, c, size=n)


def _number(what, rtol=None):
    """Compare a single number with a tolerance fitted to the input's dtype."""

    def compare(expected, actual, args, kwargs):
        r, a = tolerance(args[0].dtype)
        expect_number(float(expected), actual, what=what, rtol=rtol or r, atol=a)

    return compare


# --- cross_entropy ---------------------------------------------------------------------------


def _cross_entropy_cases():
    return [
        Case.of("3 samples, 4 classes", *_batch(3, 4, 71)),
        Case.of("a float32 batch (8, 10)", *_batch(8, 10, 72, dtype=np.float32)),
        Case.of("confident, mostly correct predictions",
                np.array([[0.98, 0.01, 0.01], [0.02, 0.97, 0.01], [0.3, 0.6, 0.1]]), np.array([0, 1, 0])),
        Case.of("a single sample", *_batch(1, 5, 73)),
    ]


def _cross_entropy_zeros():
    return [
        Case.of("a wrong-class probability of exactly 0",
                np.array([[0.7, 0.3, 0.0], [0.0, 0.4, 0.6]]), np.array([0, 2])),
        Case.of("a true-class probability of exactly 0",
                np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]), np.array([0, 2])),
    ]


def _cross_entropy_eps():
    return [Case.of("eps = 1e-6 and true-class probabilities at or below it",
                    np.array([[1e-9, 0.6, 0.4 - 1e-9], [0.0, 0.5, 0.5], [0.3, 0.3, 0.4]]),
                    np.array([0, 0, 2]), 1e-6)]


def _cross_entropy_random():
    tiny, labels = _batch(5, 4, 76)
    tiny[np.arange(5), labels] = [1e-20, 1e-25, 0.5, 1e-30, 0.25]
    return [
        Case.of("a random batch (64, 10)", *_batch(64, 10, 74)),
        Case.of("a random float32 batch (64, 10)", *_batch(64, 10, 75, dtype=np.float32)),
        Case.of("true-class probabilities below eps (1e-20, 1e-30)", tiny, labels),
    ]


CROSS_ENTROPY = [
    reference_check("cross_entropy", "mean_loss", "the mean of -log(probability of the true class)",
                    _cross_entropy_cases, compare=_number("the loss"), points=2),
    reference_check("cross_entropy", "zero_probability", "finite when a probability is exactly 0 (clipped at eps)",
                    _cross_entropy_zeros, compare=_number("the loss")),
    reference_check("cross_entropy", "uses_eps", "clips with the eps it is given", _cross_entropy_eps,
                    compare=_number("the loss", rtol=1e-4), hidden=True),
    reference_check("cross_entropy", "random_batches", "random batches, float32, probabilities below eps",
                    _cross_entropy_random, compare=_number("the loss"), hidden=True),
]


# --- softmax_cross_entropy_grad -----------------------------------------------------------------


def _logits(n, c, seed, dtype=np.float64):
    rng = _rng(seed)
    return (2 * rng.standard_normal((n, c))).astype(dtype), rng.integers(0, c, size=n)


def _grad_cases():
    return [
        Case.of("3 samples, 4 classes", *_logits(3, 4, 81)),
        Case.of("a float32 batch (8, 10)", *_logits(8, 10, 82, np.float32)),
        Case.of("5 samples, 3 classes", *_logits(5, 3, 83)),
        Case.of("a single sample", *_logits(1, 5, 84)),
    ]


def _grad_large():
    return [
        Case.of("logits of size 1e4", np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 9999.0]]), np.array([0, 2])),
        Case.of("float32 logits of size 1e4",
                np.array([[1e4, 9998.0, 0.0, -1e4], [-1e4, 1e4, 9999.5, 5.0]], dtype=np.float32), np.array([3, 1])),
    ]


def _grad_hidden():
    logits, _ = _logits(6, 4, 86)
    return [
        Case.of("a random batch (64, 10)", *_logits(64, 10, 85)),
        Case.of("every sample of the same class", logits, np.full(6, 2)),
        Case.of("a random float32 batch (32, 7)", *_logits(32, 7, 87, np.float32)),
    ]


SOFTMAX_CROSS_ENTROPY_GRAD = [
    reference_check("softmax_cross_entropy_grad", "gradient", "(softmax(logits) - one_hot(labels)) / N",
                    _grad_cases, points=2),
    reference_check("softmax_cross_entropy_grad", "large_logits", "finite for logits of size 1e4",
                    _grad_large, compare=loose_for_float32),
    reference_check("softmax_cross_entropy_grad", "random_batches", "random batches, one class only, float32",
                    _grad_hidden, hidden=True),
]

# --- accuracy ----------------------------------------------------------------------------------


def _scores_with(n, c, seed, right, probabilities=False, dtype=np.float64, top_row=False):
    """(scores, labels): n rows of untied logits (or probabilities); exactly `right` rows correct.
    With `top_row`, row 0 is right and holds the largest score of the whole batch."""
    rng = _rng(seed)
    logits = 3 * rng.standard_normal((n, c))
    predicted = logits.argmax(axis=1)
    labels = predicted.copy()
    wrong = rng.permutation(n)[: n - right]
    if top_row:
        logits[0, predicted[0]] += 10
        wrong = 1 + rng.permutation(n - 1)[: n - right]
    labels[wrong] = (predicted[wrong] + rng.integers(1, c, size=len(wrong))) % c
    scores = _probs(logits) if probabilities else logits
    return scores.astype(dtype), labels


def _accuracy_cases():
    return [
        Case.of("logits (6, 4), 4 rows right", *_scores_with(6, 4, 91, 4, top_row=True)),
        Case.of("probabilities (8, 10), 5 rows right", *_scores_with(8, 10, 92, 5, probabilities=True)),
        Case.of("as many samples as classes (4, 4), 3 right", *_scores_with(4, 4, 93, 3)),
        Case.of("all 5 right", *_scores_with(5, 3, 94, 5)),
        Case.of("none right", *_scores_with(5, 3, 95, 0)),
    ]


def _accuracy_hidden():
    negative, labels = _scores_with(7, 4, 97, 2)
    return [
        Case.of("float32 probabilities (200, 10), 137 right",
                *_scores_with(200, 10, 96, 137, probabilities=True, dtype=np.float32)),
        Case.of("only negative logits (7, 4), 2 right", negative - 20, labels),
        Case.of("a single sample, right", np.array([[0.1, 2.0, -1.0]]), np.array([1])),
    ]


ACCURACY = [
    reference_check("accuracy", "fraction", "the fraction of rows whose argmax is the label",
                    _accuracy_cases, compare=_number("the accuracy"), points=2),
    reference_check("accuracy", "more_batches", "a large float32 batch, negative logits, a single sample",
                    _accuracy_hidden, compare=_number("the accuracy"), hidden=True),
]

CHECKS = CROSS_ENTROPY + SOFTMAX_CROSS_ENTROPY_GRAD + ACCURACY

# --- issue 10, item 4: no argument changed; nothing kept between calls ---


def _two_prob_batches():
    return [Case.of("3 samples, 4 classes", *_batch(3, 4, 71)), Case.of("3 other samples", *_batch(3, 4, 74))]


def _two_logit_batches():
    return [Case.of("3 samples, 4 classes", *_logits(3, 4, 81)), Case.of("3 other samples", *_logits(3, 4, 85))]


def _two_score_batches():
    return [Case.of("logits (6, 4), 4 rows right", *_scores_with(6, 4, 91, 4, top_row=True)),
            Case.of("logits (6, 4), 2 rows right", *_scores_with(6, 4, 96, 2))]


def _probs_to_clip():
    """Probabilities below eps among them, so clipping in place shows."""
    return _two_prob_batches() + [Case.of("a true-class probability of exactly 0",
                                          np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]), np.array([0, 2]))]


PROMISES_03 = [
    leaves_arguments("cross_entropy", _probs_to_clip, ("probs", "labels"),
                     "`np.clip(probs, eps, 1)` makes a new array; `out=probs` or `probs[probs < eps] = eps` "
                     "changes the caller's probabilities"),
    nothing_kept("cross_entropy", _two_prob_batches),
    leaves_arguments("softmax_cross_entropy_grad", _two_logit_batches, ("logits", "labels"),
                     "start from `grad = softmax(logits)` (a new array) and subtract 1 there, "
                     "`grad[np.arange(N), labels] -= 1`; never subtract from logits itself"),
    nothing_kept("softmax_cross_entropy_grad", _two_logit_batches),
    leaves_arguments("accuracy", _two_score_batches, ("scores", "labels"),
                     "`np.mean(scores.argmax(axis=1) == labels)` changes nothing; don't sort or overwrite scores "
                     "or labels"),
    nothing_kept("accuracy", _two_score_batches),
]

CHECKS = CHECKS + PROMISES_03

# --- public checks of the stubs' other docstring promises (PROMISE_POINTS each; tests/test_docstring_promises.py)


def _cross_entropy_given_eps():
    return [Case.of("eps = 1e-6, two true-class probabilities of exactly 0",
                    np.array([[0.0, 0.7, 0.3], [0.2, 0.0, 0.8], [0.1, 0.6, 0.3]]), np.array([0, 1, 1]), 1e-6)]


PUBLIC_PROMISES_03 = [
    reference_check("cross_entropy", "clips_with_given_eps", "uses the eps argument to clip (here eps = 1e-6)",
                    _cross_entropy_given_eps, compare=_number("the loss", rtol=1e-4), points=PROMISE_POINTS),
]

CHECKS = CHECKS + PUBLIC_PROMISES_03
