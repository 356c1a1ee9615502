"""Every promise a stub's docstring makes is tested by a public check: the check a learner runs in
the notebook (and in the kit) fails when the promise is broken, before grading does.

PROMISES is the table: for each function, each promise of its docstring (quoted), the public check
that tests it, and a function that breaks that promise (the reference with one thing changed). The
docstrings are fingerprinted (DOCSTRINGS): a docstring that changes fails here until its promises
are mapped again and the fingerprint is updated, so a new promise cannot go unchecked."""
from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
import numpy as np
import pytest

import solutions
from autograder.checks import ASSIGNMENT_OF, FUNCTIONS, checks_for
from autograder.judge import judge_checks
from autograder.nbgrader_tools import nbgrader_meta, notebook_in

REPO = Path(__file__).resolve().parents[1]
R = {name: getattr(solutions, name) for name in solutions.__all__}


@dataclass(frozen=True)
class Promise:
    function: str
    says: str                    # quoted from the docstring (whitespace aside)
    check: str                   # the public check that tests it
    breaker: Callable            # the reference, breaking this promise


def _stub_docstrings() -> dict[str, str]:
    found = {}
    for function in FUNCTIONS:
        path = notebook_in(REPO / "source" / ASSIGNMENT_OF[function])
        for cell in nbformat.read(path, as_version=4).cells:
            if nbgrader_meta(cell).get("grade_id") == function:
                source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))
                tree = ast.parse(source)
                found[function] = ast.get_docstring(tree.body[0])
    return found


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# the functions that break one promise each


def _writes(value):
    """Write into an argument (the same values back: nothing changes but the write itself)."""
    value[...] = value
    return value


def _one_hot_clipping(labels, num_classes=10):
    return R["one_hot"](np.clip(labels, 0, num_classes - 1), num_classes)


def _naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax_2d_only(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_in_place(z):
    z -= z.max(axis=-1, keepdims=True)
    return R["softmax"](z)


def _cross_entropy_fixed_eps(probs, labels, eps=1e-12):
    return R["cross_entropy"](probs, labels)


def _he_fan_out(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_out)


def _forward_first_layer_relu_only(params, X):
    L = len(params) // 2
    A, cache = X, {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = (np.maximum(Z, 0) if k == 1 else Z) if k < L else R["softmax"](Z)
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


def _forward_reshaping_params(params, X):
    for key in [k for k in params if k.startswith("b")]:
        params[key] = params[key].reshape(1, -1)
    return R["forward"](params, X)


def _backward_extra_key(params, cache, labels):
    return {**R["backward"](params, cache, labels), "dZ1": np.zeros(1)}


def _backward_keepdims(params, cache, labels):
    return {k: (v.reshape(1, -1) if k.startswith("b") else v) for k, v in R["backward"](params, cache, labels).items()}


def _backward_sum_not_mean(params, cache, labels):
    return {k: len(labels) * v for k, v in R["backward"](params, cache, labels).items()}


def _numerical_not_restored(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        x[idx] += h
        plus = f()
        x[idx] -= 2 * h
        minus = f()
        x[idx] += h   # rounding: not always the original value
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def _numerical_forward_difference(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    base = f()
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        grad[idx] = (f() - base) / h
        x[idx] = old
    return grad


def _minibatches_dropping_last(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[order[start:start + batch_size]], labels[order[start:start + batch_size]]


def _minibatches_own_seed(X, labels, batch_size, rng, shuffle=True):
    return R["iterate_minibatches"](X, labels, batch_size, np.random.default_rng(0), shuffle)


def _minibatches_always_shuffled(X, labels, batch_size, rng, shuffle=True):
    return R["iterate_minibatches"](X, labels, batch_size, rng, True)


def _minibatches_with_replacement(X, labels, batch_size, rng, shuffle=True):
    order = rng.integers(0, len(X), size=len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], labels[order[start:start + batch_size]]


def _minibatches_misaligned(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], labels[start:start + batch_size]


def _sgd_new_dict(params, grads, lr):
    return {key: params[key] - lr * grads[key] for key in params}


def _sgd_returns_nothing(params, grads, lr):
    R["sgd_step"](params, grads, lr)


def _train_last_batch_loss(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = R["init_params"](layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _ in range(epochs):
        for X_batch, labels_batch in R["iterate_minibatches"](X, labels, batch_size, rng):
            probs, cache = R["forward"](params, X_batch)
            loss = R["cross_entropy"](probs, labels_batch)
            R["sgd_step"](params, R["backward"](params, cache, labels_batch), lr)
        history["loss"].append(loss)
        if X_val is not None:
            history["val_accuracy"].append(R["accuracy"](R["forward"](params, X_val)[0], labels_val))
    return params, history


def _train_val_on_training_data(X, labels, layer_sizes, **kwargs):
    X_val = kwargs.pop("X_val", None)
    kwargs.pop("labels_val", None)
    params, history = R["train"](X, labels, layer_sizes, **kwargs)
    if X_val is not None:
        history["val_accuracy"] = [R["accuracy"](R["forward"](params, X)[0], labels)] * len(history["loss"])
    return params, history


def _train_own_rng(X, labels, layer_sizes, *, rng, **kwargs):
    return R["train"](X, labels, layer_sizes, rng=np.random.default_rng(12345), **kwargs)


def _train_val_without_validation_data(*args, **kwargs):
    params, history = R["train"](*args, **kwargs)
    if not history["val_accuracy"]:
        history["val_accuracy"] = [float("nan")] * len(history["loss"])
    return params, history


def _save_pickled(params, path):
    np.savez(path, params)   # one pickled object, not one array per key


def _load_npzfile(path):
    return np.load(path, allow_pickle=False)


def _load_float32(path):
    return {k: v.astype(np.float32) for k, v in R["load_params"](path).items()}


def _init_params_nonzero_biases(layer_sizes, rng):
    return {k: (v + 0.01 if k.startswith("b") else v) for k, v in R["init_params"](layer_sizes, rng).items()}


def _init_params_unscaled(layer_sizes, rng):
    return {k: (rng.standard_normal(v.shape) if k.startswith("W") else v)
            for k, v in R["init_params"](layer_sizes, rng).items()}


def _init_params_global_random(layer_sizes, rng):
    return R["init_params"](layer_sizes, np.random.default_rng(np.random.randint(1 << 30)))


PROMISES = [
    # 01_data
    Promise("flatten", "Returns an array of shape (N, H*W)", "row_major", lambda images: images.reshape(-1)),
    Promise("flatten", "same dtype", "keeps_dtype", lambda images: R["flatten"](images).astype(np.float64)),
    Promise("flatten", "row i is image i read row by row (row-major)", "row_major",
            lambda images: images.transpose(0, 2, 1).reshape(len(images), -1)),
    Promise("normalize", "Returns a new floating-point array of the same shape", "divides_by_255",
            lambda images: R["normalize"](images).reshape(len(images), -1)),
    Promise("normalize", "every value divided by 255", "divides_by_255", lambda images: images / 256.0),
    Promise("normalize", "Does not modify `images`", "divides_by_255", lambda images: R["normalize"](_writes(images))),
    Promise("one_hot", "Returns a float array of shape (N, C)", "single_one_per_row",
            lambda labels, num_classes=10: R["one_hot"](labels, num_classes).astype(np.int64)),
    Promise("one_hot", "row i is all 0.0 except a 1.0 in column labels[i]", "single_one_per_row",
            lambda labels, num_classes=10: np.roll(R["one_hot"](labels, num_classes), 1, axis=1)),
    Promise("one_hot", "num_classes: C, the number of classes", "single_one_per_row",
            lambda labels, num_classes=10: R["one_hot"](labels)),
    Promise("one_hot", "Raises ValueError if any label is < 0 or >= num_classes", "rejects_out_of_range",
            _one_hot_clipping),
    Promise("one_hot", "Does not modify `labels`", "single_one_per_row",
            lambda labels, num_classes=10: R["one_hot"](_writes(labels), num_classes)),
    # 02_activations
    Promise("relu", "max(z, 0)", "elementwise_max", np.abs),
    Promise("relu", "Returns a new floating-point array of the same shape", "elementwise_max",
            lambda z: R["relu"](z).ravel()),
    Promise("relu", "Does not modify `z`", "elementwise_max", lambda z: R["relu"](_writes(z))),
    Promise("relu_derivative", "1.0 where z > 0, else 0.0", "slope", lambda z: np.sign(z).astype(float)),
    Promise("relu_derivative", "(also 0.0 at z == 0)", "zero_at_zero", lambda z: (z >= 0).astype(z.dtype)),
    Promise("relu_derivative", "Returns a new floating-point array of the same shape", "slope", lambda z: z > 0),
    Promise("sigmoid", "1 / (1 + exp(-z))", "values", lambda z: 1 / (1 + np.exp(z))),
    Promise("sigmoid", "must not produce NaN, inf or an overflow warning", "no_overflow", _naive_sigmoid),
    Promise("sigmoid", "Returns a new floating-point array of the same shape", "values",
            lambda z: R["sigmoid"](z).ravel()),
    Promise("sigmoid_derivative", "sigmoid(z) * (1 - sigmoid(z))", "values",
            lambda z: R["sigmoid"](z) * (1 + R["sigmoid"](z))),
    Promise("sigmoid_derivative", "no overflow for large |z|", "no_overflow",
            lambda z: _naive_sigmoid(z) * (1 - _naive_sigmoid(z))),
    Promise("softmax", "or shape (C,) for a single row", "one_dimensional", _softmax_2d_only),
    Promise("softmax", "rows are positive and sum to 1", "rows",
            lambda z: np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)),
    Promise("softmax", "Must stay finite for logits as large as 1e4", "large_logits",
            lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)),
    Promise("softmax", "Returns a new floating-point array", "rows", _softmax_in_place),
    # 03_loss
    Promise("cross_entropy", "Returns a float", "mean_loss",
            lambda probs, labels, eps=1e-12: [R["cross_entropy"](probs, labels, eps)]),
    Promise("cross_entropy", "the mean over the batch", "mean_loss",
            lambda probs, labels, eps=1e-12: R["cross_entropy"](probs, labels, eps) * len(labels)),
    Promise("cross_entropy", "p = 0 costs -log(eps)", "zero_probability",
            lambda probs, labels, eps=1e-12: float(-np.mean(np.log(probs[np.arange(len(labels)), labels])))),
    Promise("cross_entropy", "clipped to [eps, 1]", "clips_with_given_eps", _cross_entropy_fixed_eps),
    Promise("softmax_cross_entropy_grad", "(softmax(logits) - one_hot(labels)) / N", "gradient",
            lambda logits, labels: R["softmax_cross_entropy_grad"](logits, labels) * len(labels)),
    Promise("softmax_cross_entropy_grad", "Returns a new (N, C) float array", "gradient",
            lambda logits, labels: R["softmax_cross_entropy_grad"](logits, labels).T),
    Promise("softmax_cross_entropy_grad", "Does not modify `logits`", "gradient",
            lambda logits, labels: R["softmax_cross_entropy_grad"](_writes(logits), labels)),
    Promise("accuracy", "Returns a float in [0, 1]", "fraction", lambda s, y: 100 * R["accuracy"](s, y)),
    Promise("accuracy", "highest score is the true class", "fraction",
            lambda s, y: float(np.mean(np.argmin(s, axis=1) == y))),
    # 04_init
    Promise("he_init", "Returns a float array of shape (fan_in, fan_out)", "shape",
            lambda fan_in, fan_out, rng: R["he_init"](fan_out, fan_in, rng)),
    Promise("he_init", "mean 0 and variance 2 / fan_in", "he_variance", _he_fan_out),
    Promise("he_init", "the only source of randomness (same seed, same weights)", "uses_rng",
            lambda fan_in, fan_out, rng: np.random.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)),
    Promise("init_params", 'Returns a dict {"W1": (l0, l1), "b1": (l1,), "W2": (l1, l2), "b2": (l2,), ...}',
            "keys_and_shapes", lambda sizes, rng: {k: v.T for k, v in R["init_params"](sizes, rng).items()}),
    Promise("init_params", "the only source of randomness (same seed, same network)", "uses_rng",
            _init_params_global_random),
    Promise("init_params", "He-initialised weights (he_init)", "he_weights", _init_params_unscaled),
    Promise("init_params", "zero biases", "keys_and_shapes", _init_params_nonzero_biases),
    # 05_backprop
    Promise("forward", "Returns (probs, cache)", "probs", lambda params, X: R["forward"](params, X)[0]),
    Promise("forward", "probs of shape (N, nL), rows summing to 1", "probs",
            lambda params, X: (R["forward"](params, X)[1][f"Z{len(params) // 2}"], R["forward"](params, X)[1])),
    Promise("forward", "ReLU on every hidden layer, softmax on the last", "probs", _forward_first_layer_relu_only),
    Promise("forward", "Does not modify params or X", "leaves_arguments", _forward_reshaping_params),
    Promise("backward", "a dict with exactly the keys of params", "matches_reference", _backward_extra_key),
    Promise("backward", "each gradient shaped like its parameter", "matches_reference", _backward_keepdims),
    Promise("backward", "dZ_L = (P - one_hot(labels)) / N", "matches_reference",
            _backward_sum_not_mean),
    Promise("numerical_gradient", "Returns a float array shaped like x", "values",
            lambda f, x, h=1e-5: R["numerical_gradient"](f, x, h).ravel()),
    Promise("numerical_gradient", "restored exactly", "restores_x", _numerical_not_restored),
    Promise("numerical_gradient", "(f() with x[i] + h, minus f() with x[i] - h) / (2h)", "central_and_h",
            _numerical_forward_difference),
    # 06_training
    Promise("iterate_minibatches", "every batch has batch_size rows except perhaps the last",
            "in_order_without_shuffle", _minibatches_dropping_last),
    Promise("iterate_minibatches", "a permutation drawn from it (a new one each call)", "shuffles_with_rng",
            _minibatches_own_seed),
    Promise("iterate_minibatches", "otherwise the original order 0..N-1", "in_order_without_shuffle",
            _minibatches_always_shuffled),
    Promise("iterate_minibatches", "together cover every sample exactly once", "every_sample_once",
            _minibatches_with_replacement),
    Promise("iterate_minibatches", "aligned with the rows of X", "every_sample_once", _minibatches_misaligned),
    Promise("sgd_step", "every parameter moves by -lr times its gradient", "moves_against_gradient",
            lambda params, grads, lr: R["sgd_step"](params, grads, -lr)),
    Promise("sgd_step", "updated in place", "in_place_and_returned", _sgd_new_dict),
    Promise("sgd_step", "the caller's dict holds the new values", "in_place_and_returned", _sgd_new_dict),
    Promise("sgd_step", "Returns params, updated", "in_place_and_returned", _sgd_returns_nothing),
    Promise("train", "Returns params (the trained dict) and history", "returns_params_and_history",
            lambda *args, **kwargs: R["train"](*args, **kwargs)[::-1]),
    Promise("train", "the mean training loss of each epoch", "loss_is_epoch_mean", _train_last_batch_loss),
    Promise("train", "the validation accuracy after each epoch", "val_accuracy_of_trained_params",
            _train_val_on_training_data),
    Promise("train", "used for the initial weights, then each epoch's shuffle", "draws_from_rng",
            _train_own_rng),
    Promise("train", "(no entries without validation data)", "no_val_accuracy_without_validation",
            _train_val_without_validation_data),
    # 07_capstone
    Promise("predict", "Returns an (N,) integer array", "argmax_of_forward",
            lambda params, X: R["predict"](params, X).astype(np.float64)),
    Promise("predict", "the class the network finds most probable", "argmax_of_forward",
            lambda params, X: np.argmin(R["forward"](params, X)[0], axis=1)),
    Promise("save_params", "one array per key, nothing pickled", "npz_round_trip", _save_pickled),
    Promise("load_params", "a plain dict", "plain_dict_exact", _load_npzfile),
    Promise("load_params", "the same keys, dtypes and values", "plain_dict_exact", _load_float32),
]

# sha256 of each stub docstring (whitespace-normalised), first 12 hex digits: when one changes, map its
# promises in PROMISES again, then put the new fingerprint here (test_docstrings_are_the_ones_mapped prints it).
DOCSTRINGS = {
    "flatten": "e36aafbb75e5", "normalize": "f481da349bab", "one_hot": "0eb250948368", "relu": "c85b399714d4",
    "relu_derivative": "3e3632b644ea", "sigmoid": "6ce8c8828042", "sigmoid_derivative": "f64b3aacfbed",
    "softmax": "f74b673fb7ab", "cross_entropy": "0e72c748c72e", "softmax_cross_entropy_grad": "46525dd0c426",
    "accuracy": "887d48527ffc", "he_init": "787cb6a2c601", "init_params": "31b181c3dc9c", "forward": "2bc96fe01ddc",
    "backward": "6affbdd67b12", "numerical_gradient": "5c92b6f5c70b", "iterate_minibatches": "c69b23c0b8cd",
    "sgd_step": "b636c23e6fcc", "train": "cf63d0450a23", "predict": "2b3d462b67e8", "save_params": "0c7ec4d08700",
    "load_params": "b9525a760266",
}


def test_every_stub_has_its_promises_mapped():
    docstrings = _stub_docstrings()
    assert set(docstrings) == set(FUNCTIONS)
    unmapped = sorted(set(FUNCTIONS) - {p.function for p in PROMISES})
    assert not unmapped, f"no promise mapped for {unmapped}"
    missing = [f"{p.function}: {p.says!r}" for p in PROMISES if _plain(p.says) not in _plain(docstrings[p.function])]
    assert not missing, "promises no longer in the docstring:\n" + "\n".join(missing)


def test_docstrings_are_the_ones_mapped():
    now = {f: hashlib.sha256(_plain(d).encode()).hexdigest()[:12] for f, d in _stub_docstrings().items()}
    changed = {f: h for f, h in now.items() if DOCSTRINGS.get(f) != h}
    assert not changed, ("these docstrings changed since their promises were mapped: map each promise in "
                         f"PROMISES to a public check, then update DOCSTRINGS with {changed}")


def test_every_mapped_check_is_public():
    for p in PROMISES:
        public = {c.name for c in checks_for(p.function, hidden=False)}
        assert p.check in public, f"{p.function}.{p.check} is not a public check ({sorted(public)})"


@pytest.mark.slow   # about 20 s: a judged breaker per promise
@pytest.mark.parametrize("promise", PROMISES, ids=lambda p: f"{p.function}-{p.check}-{_plain(p.says)[:30]}")
def test_breaking_the_promise_fails_its_public_check(promise):
    check = next(c for c in checks_for(promise.function, hidden=False) if c.name == promise.check)
    [result] = judge_checks({**R, promise.function: promise.breaker}, [check])
    assert not result.passed, f"{promise.function}.{promise.check} passed a function that breaks {promise.says!r}"
