"""The capstone's rehearsal trains a tiny network with the learner's functions: the reference passes,
and each way a function breaks the training is named, with that function."""
from __future__ import annotations

import numpy as np
import pytest

import solutions
from autograder.notebook import CheckFailed, loading
from autograder.rehearsal import FUNCTIONS, rehearse_training

REFERENCE = {name: getattr(solutions, name) for name in dir(solutions) if not name.startswith("_")}


def _feedback(**replaced) -> str:
    ns = {**REFERENCE, **replaced}
    with pytest.raises(CheckFailed) as failure:
        rehearse_training(ns)
    return str(failure.value)


def test_the_reference_trains_in_about_a_second(capsys):
    rehearse_training(dict(REFERENCE))
    out = capsys.readouterr().out
    assert out.startswith("\u2713 training a tiny network with your functions: loss ") and "accuracy" in out
    assert float(out.rsplit("(", 1)[1].split(" s)")[0]) < 2


def test_it_uses_only_the_pasted_functions():
    ns = {name: REFERENCE[name] for name in FUNCTIONS}
    rehearse_training(ns)   # forward and backward of the reference need nothing else from the namespace


def _double_w1(params, cache, labels):
    grads = solutions.backward(params, cache, labels)
    return {**grads, "W1": grads["W1"] * 2}


def _backward_calling_a_missing_function(params, cache, labels):
    return {key: value * relu_derivative(value) for key, value in params.items()}  # noqa: F821


def _stub(*args):
    raise NotImplementedError()


def _new_dict_step(params, grads, lr):
    return {key: params[key] - lr * grads[key] for key in params}


def _drops_the_last_batch(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[order[start:start + batch_size]], labels[order[start:start + batch_size]]


def _shuffles_x_only(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], labels[start:start + batch_size]


def _softmax_over_columns(params, X):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ params["W2"] + params["b2"]
    e = np.exp(Z2 - Z2.max(axis=0, keepdims=True))
    P = e / e.sum(axis=0, keepdims=True)
    return P, {"A0": X, "Z1": Z1, "A1": A1, "Z2": Z2, "A2": P}


def _no_learning_step(params, grads, lr):
    for key in params:
        params[key] -= 0.0 * grads[key]
    return params


@pytest.mark.parametrize("replaced, blamed, words", [
    ({"backward": _double_w1}, "backward misbehaved", "random direction"),
    ({"backward": _backward_calling_a_missing_function}, "backward misbehaved",
     "Paste your relu_derivative into the cell with your functions too"),
    ({"normalize": lambda images: images.astype(float)}, "normalize misbehaved", "expected 0..1"),
    ({"flatten": lambda images: images.reshape(-1, 1)}, "flatten misbehaved", "row by row"),
    ({"forward": _softmax_over_columns}, "forward misbehaved", "sum to 1"),
    ({"cross_entropy": lambda p, y: float(-np.sum(np.log(p[np.arange(len(y)), y])))}, "cross_entropy misbehaved",
     "mean of -log"),
    ({"accuracy": lambda s, y: 0.5}, "accuracy misbehaved", "largest score"),
    ({"iterate_minibatches": _drops_the_last_batch}, "iterate_minibatches misbehaved", "exactly once"),
    ({"iterate_minibatches": _shuffles_x_only}, "iterate_minibatches misbehaved", "same order"),
    ({"sgd_step": _new_dict_step}, "sgd_step misbehaved", "same object"),
    ({"init_params": lambda sizes, rng: {"W1": np.zeros((2, 2))}}, "init_params misbehaved", "keys"),
])
def test_a_broken_function_is_named(replaced, blamed, words):
    text = _feedback(**replaced)
    assert blamed in text and words in text, text
    assert "Traceback" not in text


def test_a_stub_says_which_function_is_not_implemented_yet():
    assert "sgd_step is not implemented yet" in _feedback(sgd_step=_stub)


def _notebook(code: str) -> dict:
    """The reference's functions, then a cell of the learner's that replaces some of them."""
    ns = dict(REFERENCE, np=np)
    exec(code, ns)
    return ns


def test_a_stub_called_by_another_function_is_the_one_named():
    ns = _notebook("def relu(z):\n    raise NotImplementedError()\n\n"
                   "def forward(params, X):\n    return relu(X), {}\n")
    with pytest.raises(CheckFailed, match="relu is not implemented yet"):
        rehearse_training(ns)


def test_a_learner_function_that_raises_is_named_with_its_line():
    ns = _notebook("def relu_derivative(z):\n    return z.derivative()\n\n"
                   "def backward(params, cache, labels):\n"
                   "    return {key: relu_derivative(cache['Z1']) for key in params}\n")
    text = _feedback(**{name: ns[name] for name in ("relu_derivative", "backward")})
    assert "relu_derivative (called by backward) raised AttributeError" in text, text
    assert "in relu_derivative, line 2" in text, text


def test_functions_that_each_look_right_but_do_not_learn_are_reported():
    text = _feedback(sgd_step=_no_learning_step)
    assert "sgd_step misbehaved" in text   # the step itself is checked before the training is judged


def test_a_missing_function_is_named():
    ns = dict(REFERENCE)
    del ns["backward"]
    with pytest.raises(CheckFailed, match="backward is not defined"):
        rehearse_training(ns)


def test_it_does_nothing_while_a_submission_is_loaded(capsys):
    with loading():
        rehearse_training({})
    assert capsys.readouterr().out == ""


def test_an_answer_it_cannot_inspect_stops_it_without_a_traceback():
    ns = _notebook("def iterate_minibatches(X, labels, batch_size, rng, shuffle=True):\n"
                   "    return [(X, None)]\n")
    text = _feedback(iterate_minibatches=ns["iterate_minibatches"])
    assert text.startswith("\u2717 training a tiny network with your functions stopped: TypeError"), text
    assert "Traceback" not in text and "check cell above" in text, text
