"""The audit of issue 10, item 4: every output the learner API documents is checked, for every
setting a check uses. Each row below is one documented promise about a result (its kind, shape,
keys, length, entries) under one setting, and a function that breaks exactly that and nothing
else; the judge must fail it. A row per promise of the spec (learner-api.md), and every function
has rows, so a new function or a new promise without a check shows up here."""
import numpy as np
import pytest

from autograder.checks import FUNCTIONS
from autograder.checks.base import REFERENCE
from autograder.judge import judge

R = REFERENCE


def _without(d, key):
    return {k: v for k, v in d.items() if k != key}


def _last_bias(d):
    return f"b{sum(k.startswith('b') for k in d)}"


def _epochs_then(history, epochs):
    return {k: list(v)[:epochs] for k, v in history.items()}


def _train_when(condition, change):
    """train, with `change(params, history, kwargs)` applied only in the setting `condition(kwargs)`."""
    def variant(X, labels, layer_sizes, **kwargs):
        params, history = R["train"](X, labels, layer_sizes, **kwargs)
        if condition(kwargs):
            params, history = change(params, dict(history), kwargs)
        return params, history
    return variant


def _no_last_batch(X, labels, batch_size, rng, shuffle=True):
    for Xb, lb in R["iterate_minibatches"](X, labels, batch_size, rng, shuffle):
        if len(Xb) == batch_size:
            yield Xb, lb


def _save_without_last_bias(params, path):
    R["save_params"](_without(params, _last_bias(params)), path)


def _load_as_float32(path):
    return {k: v.astype(np.float32) for k, v in R["load_params"](path).items()}


def _deeper(function, change):
    """`function`, changed by `change` only for networks of more than one hidden layer."""
    def variant(params_or_sizes, *args):
        out = R[function](params_or_sizes, *args)
        deep = len(params_or_sizes) > (3 if isinstance(params_or_sizes, list) else 4)
        return change(out) if deep else out
    return variant


def _minibatches_dropping_when_shuffled(X, labels, batch_size, rng, shuffle=True):
    for Xb, lb in R["iterate_minibatches"](X, labels, batch_size, rng, shuffle):
        if len(Xb) == batch_size or not shuffle:
            yield Xb, lb


# (function, the documented output, the setting, a function breaking exactly that)
BROKEN = [
    ("init_params", "every layer's W and b", "more than one hidden layer", _deeper("init_params",
                                                                                   lambda p: _without(p, "W1"))),
    ("forward", "probs (N, C)", "more than one hidden layer", _deeper("forward", lambda out: (out[0][:, :-1], out[1]))),
    ("backward", "every key of params", "more than one hidden layer", _deeper("backward", lambda g: _without(g, "W1"))),
    ("predict", "(N,)", "more than one hidden layer", _deeper("predict", lambda out: out[:-1])),
    ("sgd_step", "every entry of params", "more than one hidden layer",
     _deeper("sgd_step", lambda p: (p.pop("b1"), p)[1])),
    ("iterate_minibatches", "the last batch smaller", "shuffle=True", _minibatches_dropping_when_shuffled),
    ("train", "history['loss'] the mean training loss", "with validation data",
     _train_when(lambda kw: "X_val" in kw, lambda p, h, kw: (p, {**h, "loss": [v / 2 for v in h["loss"]]}))),
    ("flatten", "(N, H*W), row-major", "any image size", lambda im: im.reshape(len(im), -1, order="F")),
    ("flatten", "(N, H*W)", "any N", lambda im: im.reshape(-1)),
    ("normalize", "same shape", "flat (N, 784) batches", lambda im: R["normalize"](im).reshape(len(im), -1)),
    ("normalize", "float in [0, 1]", "every pixel value", lambda im: im // 255),
    ("one_hot", "(N, num_classes)", "num_classes other than 10", lambda labels, num_classes=10: R["one_hot"](labels)),
    ("one_hot", "a single 1 per row", "every label", lambda labels, num_classes=10: R["one_hot"](labels, num_classes)
     * 2),
    ("one_hot", "ValueError out of range", "a label of num_classes",
     lambda labels, num_classes=10: np.eye(num_classes)[np.clip(labels, 0, num_classes - 1)]),
    ("relu", "any shape", "3-D input", lambda z: R["relu"](z).reshape(len(z), -1)),
    ("relu_derivative", "0 at z == 0", "zeros in z", lambda z: (z >= 0).astype(float)),
    ("relu_derivative", "floats", "any z", lambda z: z > 0),
    ("sigmoid", "no overflow warning", "abs(z) up to 1e4", lambda z: 1 / (1 + np.exp(-z))),
    ("sigmoid_derivative", "same shape", "any z", lambda z: R["sigmoid_derivative"](z).ravel()),
    ("softmax", "1-D input is one row", "1-D input", lambda z: R["softmax"](np.atleast_2d(z))),
    ("softmax", "rows sum to 1", "(N, C)", lambda z: np.exp(z) / np.exp(z).sum(axis=0)),
    ("cross_entropy", "scalar", "any batch", lambda probs, labels, eps=1e-12:
     -np.log(np.clip(probs[np.arange(len(labels)), labels], eps, 1))),
    ("softmax_cross_entropy_grad", "(N, C), divided by N", "N > 1",
     lambda logits, labels: R["softmax_cross_entropy_grad"](logits, labels) * len(labels)),
    ("accuracy", "fraction in [0, 1]", "any batch", lambda scores, labels: float(np.sum(scores.argmax(1) == labels))),
    ("he_init", "(fan_in, fan_out)", "fan_in != fan_out", lambda fan_in, fan_out, rng: R["he_init"](fan_out, fan_in,
                                                                                                  rng)),
    ("init_params", "every layer's W and b", "any depth",
     lambda layer_sizes, rng: _without(R["init_params"](layer_sizes, rng), f"b{len(layer_sizes) - 1}")),
    ("init_params", "b of shape (l,)", "any layer",
     lambda layer_sizes, rng: {k: v.reshape(1, -1) if k.startswith("b") else v
                               for k, v in R["init_params"](layer_sizes, rng).items()}),
    ("forward", "(probs, cache)", "any network", lambda params, X: R["forward"](params, X)[0]),
    ("forward", "probs (N, C)", "one sample", lambda params, X: (R["forward"](params, X)[0].squeeze(),
                                                                  R["forward"](params, X)[1])),
    ("backward", "every key of params", "any depth",
     lambda params, cache, labels: _without(R["backward"](params, cache, labels), _last_bias(params))),
    ("backward", "each gradient shaped like its param", "biases",
     lambda params, cache, labels: {k: g.reshape(1, -1) if k.startswith("b") else g
                                    for k, g in R["backward"](params, cache, labels).items()}),
    ("numerical_gradient", "shaped like x", "2-D x", lambda f, x, h=1e-5: R["numerical_gradient"](f, x, h).ravel()),
    ("iterate_minibatches", "every sample once, the last batch smaller", "N not a multiple of batch_size",
     _no_last_batch),
    ("iterate_minibatches", "original order without shuffle", "shuffle=False",
     lambda X, labels, batch_size, rng, shuffle=True: R["iterate_minibatches"](X, labels, batch_size, rng, True)),
    ("sgd_step", "params returned", "any step", lambda params, grads, lr: (R["sgd_step"](params, grads, lr), None)[1]),
    ("sgd_step", "updated in place", "any step",
     lambda params, grads, lr: {k: params[k] - lr * grads[k] for k in params}),
    ("train", "(params, history)", "any", lambda *a, **k: R["train"](*a, **k)[1]),
    ("train", "history['loss'] one entry per epoch", "with validation data",
     _train_when(lambda kw: "X_val" in kw, lambda p, h, kw: (p, {**h, "loss": list(h["loss"]) * 2}))),
    ("train", "history['loss'] one entry per epoch", "without validation data",
     _train_when(lambda kw: "X_val" not in kw, lambda p, h, kw: (p, {**h, "loss": list(h["loss"])[:-1]}))),
    ("train", "history['val_accuracy'] one entry per epoch", "with validation data",
     _train_when(lambda kw: "X_val" in kw, lambda p, h, kw: (p, {**h, "val_accuracy": list(h["val_accuracy"])[-1:]}))),
    ("train", "history['val_accuracy'][k] after epoch k", "with validation data, 3 epochs",
     _train_when(lambda kw: "X_val" in kw and kw["epochs"] == 3,
                 lambda p, h, kw: (p, {**h, "val_accuracy": [h["val_accuracy"][-1]] * kw["epochs"]}))),
    ("train", "params shaped by layer_sizes", "any",
     _train_when(lambda kw: True, lambda p, h, kw: (_without(p, _last_bias(p)), h))),
    ("predict", "(N,) integers", "any", lambda params, X: R["predict"](params, X).astype(float)),
    ("predict", "(N,)", "one sample", lambda params, X: R["predict"](params, X).reshape(-1, 1)),
    ("save_params", "the whole params dict", "any network", _save_without_last_bias),
    ("load_params", "the dict exactly (dtypes included)", "float64 params", _load_as_float32),
]


@pytest.mark.parametrize("function, output, setting, broken", BROKEN,
                         ids=[f"{b[0]}: {b[1]} ({b[2]})" for b in BROKEN])
def test_each_documented_output_is_checked(function, output, setting, broken):
    results = judge({**REFERENCE, function: broken}, [function])
    assert any(not r.passed for r in results), f"no check of {function} asserts {output} ({setting})"


def test_every_function_has_its_outputs_audited():
    assert {b[0] for b in BROKEN} == set(FUNCTIONS)
