"""The capstone grader: each problem with a model file gets its own clear message, a good model
passes, a weak one fails showing both accuracies, and a learner's predict that disagrees with the
saved weights or uses a framework is reported, through every door (function, notebook, CLI)."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from autograder import capstone
from autograder.capstone import (THRESHOLD_ENV, check_capstone, grade_model, evaluation_data, reference_predict,
                                 threshold)
from autograder.cli import main as cli_main
from autograder.notebook import CheckFailed

# A real model needs real training: 784-128-10, SGD with momentum and a linear learning-rate decay,
# 4 epochs on the 60,000 training images (about 97.6% on the test set, a few seconds). It runs once
# per session in a child process with one BLAS thread: OpenBLAS's threads slow to a crawl when the
# cores are shared with other work, and a single thread is as fast for matrices this small.
TRAIN = r"""
import sys
import numpy as np
from autograder.mnist import load_mnist

images, labels = load_mnist("train")
X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
rng = np.random.default_rng(0)
hidden, epochs, batch, lr, momentum = 128, 4, 128, 0.1, 0.9
params = [(rng.standard_normal((784, hidden)) * np.sqrt(2 / 784)).astype(np.float32),
          np.zeros(hidden, np.float32),
          (rng.standard_normal((hidden, 10)) * np.sqrt(2 / hidden)).astype(np.float32),
          np.zeros(10, np.float32)]
velocity = [np.zeros_like(p) for p in params]
steps, step = epochs * -(-len(X) // batch), 0
for _ in range(epochs):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch):
        idx = order[start:start + batch]
        xb, yb = X[idx], labels[idx]
        A1 = np.maximum(xb @ params[0] + params[1], 0)
        Z = A1 @ params[2] + params[3]
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(len(yb)), yb] -= 1
        P /= len(yb)
        dZ1 = (P @ params[2].T) * (A1 > 0)
        grads = [xb.T @ dZ1, dZ1.sum(axis=0), A1.T @ P, P.sum(axis=0)]
        rate = np.float32(lr * (1 - step / steps))
        step += 1
        for p, g, v in zip(params, grads, velocity):
            v *= np.float32(momentum)
            v += g
            p -= rate * v
np.savez(sys.argv[1], **dict(zip(["W1", "b1", "W2", "b2"], params)))
"""


@pytest.fixture(scope="session")
def good_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("capstone") / "good.npz"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", TRAIN, str(path)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def params(good_model):
    with np.load(good_model) as data:
        return {key: data[key].copy() for key in data.files}


def learner(source: str, **extra) -> dict:
    """A learner namespace: the functions in `source`, defined as a notebook would define them."""
    ns = {"np": np, **extra}
    exec(textwrap.dedent(source), ns)
    return ns


GOOD_PREDICT = """
def predict(params, X):
    A = X
    L = len(params) // 2
    for k in range(1, L + 1):
        A = A @ params[f"W{k}"] + params[f"b{k}"]
        if k < L:
            A = np.maximum(A, 0)
    return np.argmax(A, axis=1)
"""


def saved(tmp_path, arrays: dict, name="model.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def problems_of(path, **kwargs) -> str:
    result = grade_model(path, **kwargs)
    assert not result.passed
    return "\n".join(result.problems)


# ---------------------------------------------------------------------------------------------
# a good model, through every door


def test_a_good_model_passes_with_the_learners_predict(good_model):
    result = grade_model(good_model, learner(GOOD_PREDICT)["predict"])
    assert result.passed, result.text()
    assert result.status == "pass" and result.exit_code == 0 and not result.problems
    assert result.layer_sizes == [784, 128, 10] and result.parameters == 784 * 128 + 128 + 128 * 10 + 10
    assert result.accuracy >= capstone.CAPSTONE_THRESHOLD + 0.003
    assert result.predict_accuracy == result.accuracy and result.disagreements == 0
    assert result.summary().startswith("\u2713 capstone: good.npz (784-128-10, 101,770 parameters)")


def test_the_notebook_door_prints_one_line_and_nothing_on_stderr(good_model, capsys):
    check_capstone(good_model, namespace=learner(GOOD_PREDICT))
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("\u2713 capstone:") and "with your predict" in out and "needed: 97.00%" in out
    assert out.count("\n") == 1


def test_the_notebook_door_reads_the_callers_globals(good_model, capsys):
    ns = learner(GOOD_PREDICT, check_capstone=check_capstone, path=str(good_model))
    exec("check_capstone(path)", ns)
    assert capsys.readouterr().out.startswith("\u2713 capstone:")


def test_the_reference_forward_pass_agrees_with_the_solutions_predict(params):
    import solutions

    X, _ = evaluation_data()
    np.testing.assert_array_equal(reference_predict(params, X[:500]), solutions.predict(params, X[:500]))


def test_cli_grades_the_file_alone_and_with_a_submission(good_model, tmp_path, capsys):
    assert cli_main(["capstone", str(good_model)]) == 0
    assert capsys.readouterr().out.startswith("\u2713 capstone:")
    submission = tmp_path / "mine.py"
    submission.write_text("import numpy as np\n" + GOOD_PREDICT)
    assert cli_main(["capstone", str(good_model), "--submission", str(submission), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] and report["predict_accuracy"] == report["accuracy"] >= 0.97
    assert report["layer_sizes"] == [784, 128, 10] and report["submission"] == str(submission)


def test_cli_exit_codes_fail_and_unusable(good_model, params, tmp_path, capsys):
    assert cli_main(["capstone", str(tmp_path / "nothing.npz"), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["status"] == "unusable"
    weak = saved(tmp_path, {**params, "W2": params["W2"] * 0})
    assert cli_main(["capstone", str(weak)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("\u2717 capstone:") and "below the 97.00% needed" in out


# ---------------------------------------------------------------------------------------------
# the model file: each problem its message


def test_missing_file(tmp_path):
    result = grade_model(tmp_path / "model.npz")
    assert result.status == "unusable" and result.exit_code == 2
    assert "model.npz does not exist" in result.problems[0] and "save_params" in result.problems[0]


def test_a_file_saved_under_another_name_is_pointed_at(tmp_path, params):
    np.save(tmp_path / "model.npz", params, allow_pickle=True)  # np.save appends .npy
    text = problems_of(tmp_path / "model.npz")
    assert "but model.npz.npy does" in text and "np.savez(path, **params)" in text


def test_missing_file_with_an_unimplemented_predict_says_both(tmp_path):
    stub = learner("def predict(params, X):\n    raise NotImplementedError()\n")
    with pytest.raises(CheckFailed) as failed:
        check_capstone(tmp_path / "model.npz", namespace=stub)
    assert "does not exist" in str(failed.value) and "predict is not implemented yet" in str(failed.value)


@pytest.mark.parametrize("how, expected", [
    ("np.save(dict)", "a single .npy array"),
    ("pickle", "a pickle"),
    ("savez(params=)", "holds Python objects"),
    ("object entry", "holds Python objects"),
    ("text", "not an .npz archive"),
    ("empty", "empty (0 bytes)"),
])
def test_pickles_and_other_formats_are_refused_without_unpickling(tmp_path, params, how, expected):
    path = tmp_path / "model.npz"
    if how == "np.save(dict)":
        with open(path, "wb") as fh:
            np.save(fh, params, allow_pickle=True)
    elif how == "pickle":
        path.write_bytes(pickle.dumps(params))
    elif how == "savez(params=)":
        np.savez(path, params=np.array(params, dtype=object))
    elif how == "object entry":
        np.savez(path, **{**params, "b2": np.array([None] * 10, dtype=object)})
    elif how == "text":
        path.write_text("W1 = [[0.1, 0.2]]\n")
    else:
        path.write_bytes(b"")
    text = problems_of(path)
    assert expected in text
    if how == "savez(params=)":
        assert "np.savez(path, **params)" in text


@pytest.mark.parametrize("change, expected", [
    (lambda p: {k.lower(): v for k, v in p.items()}, "W1, W2 are missing"),
    (lambda p: {"weights": p["W1"], "bias": p["b1"]}, "no W1"),
    (lambda p: {k: v for k, v in p.items() if k != "b2"}, "b2 is missing"),
    (lambda p: {**p, "vW1": p["W1"] * 0}, "unexpected entry 'vW1'"),
    (lambda p: {"W1": p["W1"], "b1": p["b1"], "W3": p["W2"], "b3": p["b2"]}, "W2, b2 are missing"),
])
def test_wrong_keys(tmp_path, params, change, expected):
    text = problems_of(saved(tmp_path, change(params)))
    assert expected in text
    if expected == "W1, W2 are missing":
        assert "case-sensitive: W1, not w1" in text


@pytest.mark.parametrize("change, expected", [
    (lambda p: {**p, "W1": p["W1"].T.copy()}, "transposed"),
    (lambda p: {**p, "W1": p["W1"][:700]}, "an MNIST image has 784 pixels"),
    (lambda p: {**p, "W2": p["W2"][:100]}, "the layers do not chain: W1 has 128 outputs but W2 has shape (100, 10)"),
    (lambda p: {**p, "W2": p["W2"][:, :9], "b2": p["b2"][:9]}, "W2 has 9 outputs, but there are 10 digits"),
    (lambda p: {**p, "b1": p["b1"][:5]}, "b1 has shape (5,), but W1 (784, 128) has 128 outputs"),
    (lambda p: {**p, "W1": p["W1"][None]}, "W1 has shape (1, 784, 128): a weight matrix is 2-D"),
    (lambda p: {**p, "W2": (p["W2"] * 100).astype(np.int64)}, "W2 has dtype int64: parameters must be floating point"),
])
def test_broken_shapes_and_dtypes(tmp_path, params, change, expected):
    assert expected in problems_of(saved(tmp_path, change(params)))


def test_a_bias_of_shape_1_by_n_is_accepted(tmp_path, params):
    path = saved(tmp_path, {**params, "b1": params["b1"][None]})
    assert grade_model(path).passed


def test_nan_and_inf(tmp_path, params):
    W2 = params["W2"].copy()
    W2[0, :3] = np.nan
    W2[1, 0] = np.inf
    text = problems_of(saved(tmp_path, {**params, "W2": W2}))
    assert "W2 holds 3 NaN and 1 infinite values" in text and "diverged" in text


def test_too_many_parameters_is_refused_before_loading(tmp_path, params, monkeypatch):
    monkeypatch.setattr(capstone, "MAX_PARAMETERS", 50_000)
    text = problems_of(saved(tmp_path, params))
    assert "holds 101,770 numbers" in text and "up to 50,000 parameters" in text


def test_too_large_a_file_is_refused(tmp_path, params, monkeypatch):
    monkeypatch.setattr(capstone, "MAX_FILE_BYTES", 100_000)
    assert "the grader accepts model files up to" in problems_of(saved(tmp_path, params))


def test_every_problem_is_reported_at_once(tmp_path, params):
    W1 = params["W1"].copy()
    W1[0, 0] = np.nan
    W2 = params["W2"].copy()
    W2[0, 0] = np.nan
    result = grade_model(saved(tmp_path, {**params, "W1": W1, "W2": W2}))
    assert len(result.problems) == 2 and result.status == "unusable"


# ---------------------------------------------------------------------------------------------
# accuracy, and the learner's predict


def test_a_weak_model_fails_showing_both_accuracies(tmp_path, params):
    W2 = params["W2"].copy()
    W2[8:] = 0  # only 8 of the 128 hidden units still reach the output
    result = grade_model(saved(tmp_path, {**params, "W2": W2}), learner(GOOD_PREDICT)["predict"])
    assert result.status == "fail" and result.exit_code == 1
    assert result.accuracy < 0.97 and result.predict_accuracy == result.accuracy
    text = result.text()
    assert f"{result.accuracy:.2%} with your predict and {result.accuracy:.2%} with the grader's forward pass" in text
    assert "below the 97.00% needed" in text


def test_a_predict_that_looks_up_the_answers_is_caught_by_the_saved_weights(good_model):
    _, labels = evaluation_data()
    cheat = learner("def predict(params, X):\n    return answers.copy()\n", answers=np.asarray(labels))
    result = grade_model(good_model, cheat["predict"])
    assert result.predict_accuracy == 1.0 and not result.passed
    assert result.disagreements > 100
    assert "disagree on" in result.text() and "other weights than its params argument" in result.text()


def test_a_predict_with_another_activation_disagrees(good_model):
    sigmoid = learner(GOOD_PREDICT.replace("np.maximum(A, 0)", "1 / (1 + np.exp(-A))"))
    result = grade_model(good_model, sigmoid["predict"])
    assert not result.passed and result.disagreements > capstone.MAX_DISAGREEMENTS
    assert "ReLU on the hidden layers" in result.text()


@pytest.mark.parametrize("body, expected", [
    ("return np.zeros((len(X), 10))", "class scores of shape (10000, 10)"),
    ("return None", "returned None"),
    ("return np.argmax(X, axis=1)[:10]", "returned shape (10,) for 10,000 images"),
    ("return np.full(len(X), 0.5)", "non-integer values such as 0.5"),
    ("return np.full(len(X), 11)", "classes outside 0..9, such as 11"),
    ("raise ValueError('shapes do not match')", "predict raised ValueError on the 10,000 test images"),
    ("X[0, 0] = 1.0", "predict tried to change its input X in place"),
    ("raise NotImplementedError()", "predict is not implemented yet"),
])
def test_a_broken_predict_is_reported(good_model, body, expected):
    predict = learner(f"def predict(params, X):\n    {body}\n")["predict"]
    text = problems_of(good_model, predict=predict)
    assert expected in text


def test_a_float_array_of_whole_classes_is_accepted(good_model):
    predict = learner(GOOD_PREDICT.replace("np.argmax(A, axis=1)", "np.argmax(A, axis=1).astype(float)"))
    assert grade_model(good_model, predict["predict"]).passed


def test_a_predict_that_never_ends_is_stopped(good_model):
    predict = learner("def predict(params, X):\n    while True:\n        pass\n")["predict"]
    text = problems_of(good_model, predict=predict, timeout=0.5)
    assert "did not finish within 0.5 s" in text


# ---------------------------------------------------------------------------------------------
# frameworks


def _fake(name):
    module = types.ModuleType(name)
    module.argmax = lambda a, dim=None: np.argmax(a, axis=dim)
    return module


def test_a_predict_that_uses_torch_is_reported(good_model):
    ns = learner("""
        def predict(params, X):
            return torch.argmax(X @ params["W1"], dim=1)
        """, torch=_fake("torch"))
    alone = grade_model(good_model, ns["predict"])  # the function alone, as a CLI without --submission
    assert not alone.passed and "must be your own NumPy code, but predict uses torch" in alone.text()
    result = grade_model(good_model, ns["predict"], namespace=ns)
    assert not result.passed and "must be your own NumPy code, but the notebook imports torch" in result.text()


def test_a_framework_reached_through_a_helper_is_reported(good_model):
    ns = learner(GOOD_PREDICT + "def train_model(X, y):\n    return keras.Sequential()\n",
                 keras=_fake("keras"))
    result = grade_model(good_model, ns["predict"], namespace=ns)
    assert not result.passed and "keras" in result.framework
    del ns["keras"]  # the module is gone from the namespace, but train_model still names it
    result = grade_model(good_model, ns["predict"], namespace=ns)
    assert not result.passed and result.framework == "train_model uses keras"


def test_a_framework_imported_or_a_framework_object_in_the_notebook_is_reported(good_model):
    classifier = type("MLPClassifier", (), {"__module__": "sklearn.neural_network._multilayer_perceptron"})
    for extra, expected in [({"sk": _fake("sklearn")}, "the notebook imports sklearn as sk"),
                            ({"MLPClassifier": classifier},
                             "imports sklearn.neural_network._multilayer_perceptron.MLPClassifier"),
                            ({"clf": classifier()}, "holds `clf`, a sklearn.neural_network")]:
        ns = learner(GOOD_PREDICT, **extra)
        result = grade_model(good_model, ns["predict"], namespace=ns)
        assert not result.passed and expected in result.text(), result.text()


def test_numpy_matplotlib_scipy_and_the_kit_are_not_frameworks(good_model):
    import matplotlib.pyplot as plt

    from autograder import check

    ns = learner(GOOD_PREDICT, plt=plt, check=check, check_capstone=check_capstone, scipy=_fake("scipy"))
    assert grade_model(good_model, ns["predict"], namespace=ns).passed


# ---------------------------------------------------------------------------------------------
# the threshold


def test_the_threshold_is_set_once_and_can_be_overridden(good_model, monkeypatch):
    assert capstone.CAPSTONE_THRESHOLD == 0.97
    monkeypatch.delenv(THRESHOLD_ENV, raising=False)
    assert threshold() == 0.97
    monkeypatch.setenv(THRESHOLD_ENV, "99.5")
    assert threshold() == 0.995
    result = grade_model(good_model)
    assert result.threshold == 0.995 and not result.passed and "below the 99.50% needed" in result.text()
    monkeypatch.setenv(THRESHOLD_ENV, "0.9")
    assert grade_model(good_model).passed
    monkeypatch.setenv(THRESHOLD_ENV, "lots")
    with pytest.raises(ValueError, match=THRESHOLD_ENV):
        threshold()


def test_check_capstone_without_predict_says_so(good_model):
    with pytest.raises(CheckFailed, match="predict is missing"):
        check_capstone(good_model, namespace={})
