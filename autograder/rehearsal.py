"""`rehearse_training()`: before the capstone's long run, train a tiny network with the learner's
own functions working together, in about a second, and name the function that misbehaves.

It needs no reference, so it works the same in the learner's kit: every function is judged by a
property it promises (normalize gives floats in [0, 1], forward's rows sum to 1, backward's gradient
agrees with how the loss changes, each epoch's batches cover every sample once, sgd_step moves the
parameters in place), then a network of 100 inputs, 16 hidden units and 10 classes trains on 100
tiny separable images (class c has a bright row c) and must learn them: its loss must fall to half
and its accuracy reach 90%.

In a notebook: `rehearse_training()` prints one line, or raises `CheckFailed` saying which function
misbehaved and how. While the checker loads a submission it does nothing (as `check()`).
"""
from __future__ import annotations

import sys
import time
from typing import Callable

import numpy as np

from autograder import notebook
from autograder.notebook import CheckFailed

FUNCTIONS = ("normalize", "flatten", "init_params", "forward", "cross_entropy", "accuracy", "backward",
             "iterate_minibatches", "sgd_step")
SIDE, CLASSES, PER_CLASS, HIDDEN = 10, 10, 10, 16
EPOCHS, BATCH_SIZE, LEARNING_RATE = 15, 32, 0.5   # 4 batches an epoch, the last of 4 rows
TITLE = "training a tiny network with your functions"


class Misbehaved(Exception):
    """`function` broke a promise the training relies on; the message says which, briefly."""

    def __init__(self, function: str, message: str):
        super().__init__(message)
        self.function = function


def rehearse_training(namespace=None) -> None:
    """Train a tiny network with the functions of `namespace` (the calling notebook's, by default)."""
    if notebook._loading:
        return None
    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    start = time.perf_counter()
    try:
        summary = _rehearse(_functions(ns))
    except CheckFailed:
        raise
    except Misbehaved as problem:
        raise CheckFailed(f"\u2717 {TITLE}: {problem.function} misbehaved\n  {problem}\n"
                          f"  Fix it in the cell with your functions, run that cell, then this one again.") from None
    except Exception as exc:  # something came back that the rehearsal could not even inspect
        where = notebook._your_line(exc.__traceback__)
        raise CheckFailed(f"\u2717 {TITLE} stopped: {type(exc).__name__}: {str(exc)[:200]}"
                          + (f"\n  in {where}" if where else "")
                          + "\n  Run the check cell above: it says which function returns something odd.") from None
    print(f"\u2713 {TITLE}: {summary} ({time.perf_counter() - start:.2f} s)")
    return None


def _functions(ns) -> dict[str, Callable]:
    missing = [name for name in FUNCTIONS if not callable(ns.get(name))]
    if missing:
        raise CheckFailed(f"\u2717 {TITLE}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not defined. "
                          f"Paste {'it' if len(missing) == 1 else 'them'} into the cell with your functions "
                          f"and run that cell.")
    return {name: ns[name] for name in FUNCTIONS}


def toy_images(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(N, SIDE, SIDE) uint8 images of CLASSES classes, PER_CLASS each, shuffled: dim noise, and row c
    bright for class c (one row has the pixel 255)."""
    labels = rng.permutation(np.repeat(np.arange(CLASSES), PER_CLASS))
    images = rng.integers(0, 60, size=(len(labels), SIDE, SIDE)).astype(np.uint8)
    images[np.arange(len(labels)), labels, :] = rng.integers(180, 255, size=(len(labels), SIDE), dtype=np.uint8)
    images[0, labels[0], 0] = 255
    return images, labels.astype(np.int64)


def _rehearse(fn: dict[str, Callable]) -> str:
    rng = np.random.default_rng(7)
    images, labels = toy_images(rng)
    X = _prepare(fn, images)
    params = _call(fn, "init_params", [SIDE * SIDE, HIDDEN, CLASSES], np.random.default_rng(0))
    _expect_params(params)
    probs, cache = _forward(fn, params, X)
    loss_before = _loss(fn, probs, labels)
    accuracy_before = _accuracy(fn, probs, labels)
    _expect_gradient(fn, params, X, labels)
    params = {key: np.asarray(value, dtype=np.float32) for key, value in params.items()}  # as the capstone trains
    steps = 0
    for _ in range(EPOCHS):
        for X_batch, labels_batch in _epoch(fn, X, labels, rng):
            _, batch_cache = _forward(fn, params, X_batch)
            grads = _call(fn, "backward", params, batch_cache, labels_batch)
            _step(fn, params, grads)
            steps += 1
    probs, _ = _forward(fn, params, X)
    loss_after, accuracy_after = _loss(fn, probs, labels), _accuracy(fn, probs, labels)
    if not (loss_after < loss_before / 2 and accuracy_after >= 0.9):
        raise Misbehaved("the training", (
            f"every function kept its promises here, yet the network did not learn {len(X)} easy images in "
            f"{steps} steps: loss {loss_before:.3f} \u2192 {loss_after:.3f}, accuracy {accuracy_before:.0%} "
            f"\u2192 {accuracy_after:.0%} (expected the loss to halve and 90% or more). Run the check cell "
            f"above: a function may compute the wrong values in the right shape."))
    return (f"loss {loss_before:.2f} \u2192 {loss_after:.2f}, accuracy {accuracy_before:.0%} \u2192 "
            f"{accuracy_after:.0%} in {steps} steps")


# ---------------------------------------------------------------------------------------------
# each function's promises, judged by property


def _prepare(fn, images: np.ndarray) -> np.ndarray:
    original = images.copy()
    pixels = _array(_call(fn, "normalize", images), "normalize")
    if not np.array_equal(images, original):
        raise Misbehaved("normalize", "it changed the images it was given; return a new array instead")
    if pixels.shape != images.shape or pixels.dtype.kind != "f":
        raise Misbehaved("normalize", f"uint8 images of shape {images.shape} gave {_describe(pixels)}; "
                                      f"expected floats of the same shape")
    if not (np.all(pixels >= 0) and np.all(pixels <= 1) and np.isclose(pixels.max(), 1)):
        raise Misbehaved("normalize", f"pixels 0..255 gave values from {pixels.min():.3g} to {pixels.max():.3g}; "
                                      f"expected 0..1 (each value divided by 255)")
    X = _array(_call(fn, "flatten", pixels), "flatten")
    if X.shape != (len(images), SIDE * SIDE) or not np.array_equal(X[1], pixels[1].ravel()):
        raise Misbehaved("flatten", f"images of shape {pixels.shape} gave {_describe(X)}; expected shape "
                                    f"{(len(images), SIDE * SIDE)}, each image read row by row")
    return X


def _expect_params(params) -> None:
    sizes = [SIDE * SIDE, HIDDEN, CLASSES]
    expected = {}
    for k in (1, 2):
        expected[f"W{k}"], expected[f"b{k}"] = (sizes[k - 1], sizes[k]), (sizes[k],)
    if not isinstance(params, dict) or set(params) != set(expected):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise Misbehaved("init_params", f"init_params({sizes}, rng) gave {got}; expected a dict with keys "
                                        f"{sorted(expected)}")
    for key, shape in expected.items():
        value = np.asarray(params[key])
        if value.shape != shape or value.dtype.kind != "f" or not np.all(np.isfinite(value)):
            raise Misbehaved("init_params", f"{key} is {_describe(value)}; expected finite floats of shape {shape}")


def _forward(fn, params, X):
    result = _call(fn, "forward", params, X)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise Misbehaved("forward", f"it returned {type(result).__name__}; expected a pair (probs, cache)")
    probs = _array(result[0], "forward")
    if probs.shape != (len(X), CLASSES) or not np.all(np.isfinite(probs)):
        raise Misbehaved("forward", f"for {len(X)} inputs its probs are {_describe(probs)}; expected finite "
                                    f"values of shape {(len(X), CLASSES)}")
    sums = probs.sum(axis=1)
    if np.any(probs < 0) or not np.allclose(sums, 1, atol=1e-3):
        raise Misbehaved("forward", f"its probs are not probabilities: rows sum to {sums.min():.4g}..{sums.max():.4g}"
                                    f", smallest entry {probs.min():.4g}; expected each row to sum to 1 (softmax)")
    return probs, result[1]


def _loss(fn, probs, labels) -> float:
    loss = _call(fn, "cross_entropy", probs, labels)
    expected = float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels].astype(np.float64), 1e-12, 1))))
    if not _is_number(loss) or not np.isclose(float(loss), expected, rtol=1e-3, atol=1e-5):
        raise Misbehaved("cross_entropy", f"it gave {_show(loss)}; the mean of -log(the true class's probability) "
                                          f"is {expected:.6g}")
    return float(loss)


def _accuracy(fn, probs, labels) -> float:
    value = _call(fn, "accuracy", probs, labels)
    expected = float(np.mean(np.argmax(probs, axis=1) == labels))
    if not _is_number(value) or not np.isclose(float(value), expected, atol=1e-9):
        raise Misbehaved("accuracy", f"it gave {_show(value)}; {expected:.0%} of the rows have their largest "
                                     f"score at the label, so {expected:g} was expected")
    return float(value)


def _expect_gradient(fn, params, X, labels) -> None:
    """backward's gradient, in float64, against central differences of the loss along one direction."""
    params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    X = np.asarray(X, dtype=np.float64)
    _, cache = _forward(fn, params, X)
    grads = _call(fn, "backward", params, cache, labels)
    if not isinstance(grads, dict) or set(grads) != set(params):
        got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise Misbehaved("backward", f"it returned {got}; expected a dict with the keys of params, {sorted(params)}")
    for key in params:
        grad = np.asarray(grads[key])
        if grad.shape != params[key].shape or not np.all(np.isfinite(grad)):
            raise Misbehaved("backward", f"the gradient {key} is {_describe(grad)}; expected finite values "
                                         f"shaped like {key}, {params[key].shape}")
    direction = {key: np.random.default_rng(1).standard_normal(value.shape) for key, value in params.items()}

    def loss_at(t: float) -> float:
        moved = {key: params[key] + t * direction[key] for key in params}
        probs, _ = _forward(fn, moved, X)
        return float(-np.mean(np.log(probs[np.arange(len(labels)), labels])))

    h = 1e-5
    numeric = (loss_at(h) - loss_at(-h)) / (2 * h)
    analytic = float(sum(np.sum(np.asarray(grads[key]) * direction[key]) for key in params))
    if not np.isclose(analytic, numeric, rtol=1e-3, atol=1e-6):
        raise Misbehaved("backward", f"its gradient says the loss changes by {analytic:.6g} along a random "
                                     f"direction, but moving the parameters changes it by {numeric:.6g} "
                                     f"(central differences through your forward)")


def _epoch(fn, X, labels, rng) -> list:
    batches = _call(fn, "iterate_minibatches", X, labels, BATCH_SIZE, rng)
    try:
        batches = list(batches)
    except Exception as exc:
        raise _attributed(exc, "iterate_minibatches") from None
    rows = [np.asarray(b[0]) for b in batches if len(b) == 2]
    if len(rows) != len(batches) or not rows:
        raise Misbehaved("iterate_minibatches", "expected (X_batch, labels_batch) pairs")
    label_of = {row.tobytes(): label for row, label in zip(X, labels)}
    seen = [(row.tobytes(), label) for (xb, lb) in batches for row, label in zip(np.asarray(xb), np.asarray(lb))]
    sizes = [len(r) for r in rows]
    if sorted(key for key, _ in seen) != sorted(label_of) or max(sizes) > BATCH_SIZE:
        raise Misbehaved("iterate_minibatches", f"{len(X)} samples in batches of {BATCH_SIZE} gave batches of "
                                                f"{sizes} rows; expected every sample exactly once, at most "
                                                f"{BATCH_SIZE} per batch")
    if any(label_of[key] != label for key, label in seen):
        raise Misbehaved("iterate_minibatches", "some labels no longer belong to their rows of X: shuffle both "
                                                "with the same order")
    return batches


def _step(fn, params, grads) -> None:
    before = {key: value.copy() for key, value in params.items()}
    arrays = {key: value for key, value in params.items()}
    returned = _call(fn, "sgd_step", params, grads, LEARNING_RATE)
    if returned is not params:
        raise Misbehaved("sgd_step", "it should return the params dict it was given (the same object)")
    for key in before:
        expected = before[key] - LEARNING_RATE * np.asarray(grads[key])
        if params[key] is not arrays[key] or not np.allclose(params[key], expected, rtol=1e-4, atol=1e-6):
            raise Misbehaved("sgd_step", f"{key} should move by -lr * its gradient, in place (the same array)")


# ---------------------------------------------------------------------------------------------
# calling a learner's function, and naming the one that raised


def _call(fn, name: str, *args):
    try:
        return fn[name](*args)
    except Exception as exc:
        raise _attributed(exc, name) from None


def _attributed(exc: Exception, called: str) -> Exception:
    """A learner function raised: the innermost learner function on the way gets the blame."""
    culprit = called
    for frame, _ in _frames(exc.__traceback__):
        if frame.f_code.co_name in FUNCTIONS or frame.f_code.co_name in ("relu", "relu_derivative", "softmax",
                                                                         "one_hot", "he_init"):
            culprit = frame.f_code.co_name
    if isinstance(exc, NotImplementedError):
        return CheckFailed(f"\u2717 {TITLE}: {culprit} is not implemented yet. Paste your own {culprit} into "
                           f"the cell with your functions and run that cell.")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    where = notebook._your_line(exc.__traceback__)
    hint = ""
    if isinstance(exc, NameError) and getattr(exc, "name", None):
        hint = f"\n  Paste your {exc.name} into the cell with your functions too."
    via = f" (called by {called})" if culprit != called else ""
    return Misbehaved(culprit, f"{culprit}{via} raised {type(exc).__name__}" + (f": {text}" if text else "")
                      + (f"\n  in {where}" if where else "") + hint)


def _frames(tb):
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


# ---------------------------------------------------------------------------------------------


def _array(value, name: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise Misbehaved(name, f"it returned {type(value).__name__}; expected a NumPy array")
    return value


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and np.isfinite(float(value))


def _show(value) -> str:
    return f"{float(value):.6g}" if _is_number(value) else f"{type(value).__name__} {str(value)[:40]}"


def _describe(value) -> str:
    value = np.asarray(value)
    return f"{value.dtype} of shape {value.shape}"
