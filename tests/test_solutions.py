"""Tests of the reference package `solutions`: the truth every autograder check compares against.

Property-based where a property says more than an example (hypothesis, derandomized and without an
example database, so every run is the same run and nothing is written to disk), plus the named edge
cases the spec promises: stability at 1e4, ReLU'(0) = 0, log(0) clipped, bad labels and batch sizes
rejected, inputs never mutated, the global random state never touched.
"""
from __future__ import annotations

import inspect
import types
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import solutions
from autograder.assignments import FUNCTIONS
from solutions import (accuracy, backward, cross_entropy, flatten, forward, he_init, init_params,
                       iterate_minibatches, load_params, normalize, numerical_gradient, one_hot,
                       predict, relu, relu_derivative, save_params, sgd_step, sigmoid,
                       sigmoid_derivative, softmax, softmax_cross_entropy_grad, train)

# Deterministic, no .hypothesis database, no flaky deadlines on a busy 2-core machine.
PROPERTY = settings(deadline=None, derandomize=True, database=None, max_examples=40)

SPEC_NAMES = list(FUNCTIONS)  # the table of assignments (autograder/assignments.py)


def readonly(a):
    """A read-only copy: any in-place write by the function under test raises ValueError."""
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def readonly_params(params):
    return {k: readonly(v) for k, v in params.items()}


@pytest.fixture
def strict():
    """Every NumPy floating-point event and every warning becomes an error."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


finite64 = st.floats(-50, 50, allow_nan=False, width=64)


def matrices(dtype=np.float64, elements=finite64, rows=(1, 6), cols=(1, 6)):
    shape = st.tuples(st.integers(*rows), st.integers(*cols))
    return arrays(dtype, shape, elements=elements)


# ----------------------------------------------------------------------------------------------
# The package itself


def test_package_exports_every_spec_function():
    assert sorted(solutions.__all__) == sorted(SPEC_NAMES)
    for name in SPEC_NAMES:
        assert callable(getattr(solutions, name)), name


# ----------------------------------------------------------------------------------------------
# 01 images


def test_flatten_is_a_row_major_view():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    flat = flatten(readonly(images))
    assert flat.shape == (2, 12)
    np.testing.assert_array_equal(flat[1], images[1].ravel())
    base = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.shares_memory(flatten(base), base)


def test_normalize_float32_in_unit_interval():
    images = readonly(np.array([[[0, 128, 255]]], dtype=np.uint8))
    out = normalize(images)
    assert out.dtype == np.float32 and out.shape == images.shape
    np.testing.assert_allclose(out, [[[0.0, 128 / 255, 1.0]]], rtol=1e-7)
    assert images[0, 0, 2] == 255  # input untouched


@PROPERTY
@given(st.integers(1, 8).flatmap(lambda c: st.tuples(
    st.just(c), arrays(np.int64, st.integers(0, 12), elements=st.integers(0, c - 1)))))
def test_one_hot_single_one_per_row(case):
    c, labels = case
    out = one_hot(readonly(labels), c)
    assert out.shape == (len(labels), c)
    assert out.dtype.kind == "f"
    np.testing.assert_array_equal(out.sum(axis=1), 1.0)
    np.testing.assert_array_equal(out.argmax(axis=1), labels)


@pytest.mark.parametrize("labels", [[0, 10], [-1, 3], [3, 12345]], ids=["10", "-1", "huge"])
def test_one_hot_rejects_out_of_range(labels):
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        one_hot(np.array(labels), 10)


def test_one_hot_rejects_non_integer_labels():
    with pytest.raises(ValueError, match="integers"):
        one_hot(np.array([0.0, 1.5]), 10)


def test_one_hot_default_is_ten_classes():
    assert one_hot(np.array([9])).shape == (1, 10)


# ----------------------------------------------------------------------------------------------
# 02 activations


@PROPERTY
@given(arrays(np.float64, st.integers(0, 20), elements=finite64))
def test_relu_and_its_derivative(z):
    np.testing.assert_array_equal(relu(readonly(z)), np.where(z > 0, z, 0.0))
    np.testing.assert_array_equal(relu_derivative(readonly(z)), (z > 0).astype(np.float64))


def test_relu_derivative_is_zero_at_zero():
    out = relu_derivative(np.array([-1.0, 0.0, -0.0, 1e-300, 2.0]))
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 1.0, 1.0])


def test_sigmoid_no_warning_at_1e4(strict):
    z = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    for dtype in (np.float64, np.float32):
        s = sigmoid(z.astype(dtype))
        assert s.dtype == dtype and np.all(np.isfinite(s))
        assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
        d = sigmoid_derivative(z.astype(dtype))
        assert np.all(np.isfinite(d)) and d[0] == 0.0 and d[3] == 0.25


@PROPERTY
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-30, 30)))
def test_sigmoid_matches_the_formula(z):
    np.testing.assert_allclose(sigmoid(readonly(z)), 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-300)
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(sigmoid_derivative(readonly(z)), s * (1 - s), rtol=1e-9, atol=1e-300)


@PROPERTY
@given(matrices(elements=st.floats(-1e4, 1e4)))
def test_softmax_rows_are_probabilities(z):
    with np.errstate(all="raise", under="ignore"):
        p = softmax(readonly(z))
    assert p.shape == z.shape
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    rows = np.arange(len(z))
    np.testing.assert_array_equal(p[rows, z.argmax(axis=1)], p.max(axis=1))  # order is kept


@PROPERTY
@given(matrices(elements=st.floats(-20, 20)), st.floats(-100, 100))
def test_softmax_is_shift_invariant_and_matches_the_formula(z, c):
    e = np.exp(z)
    expected = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softmax(z), expected, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(softmax(z + c), expected, rtol=1e-9, atol=1e-300)


def test_softmax_stable_at_1e4(strict):
    z = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]])
    p = softmax(z)
    np.testing.assert_array_equal(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[1], 1 / 3)


def test_softmax_1d_is_one_row():
    z = np.array([1.0, 2.0, 3.0])
    p = softmax(z)
    assert p.shape == (3,)
    np.testing.assert_allclose(p, softmax(z[None, :])[0], rtol=0, atol=0)
    assert p.sum() == pytest.approx(1.0)


# ----------------------------------------------------------------------------------------------
# 03 loss


@PROPERTY
@given(st.integers(1, 8), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_cross_entropy_is_the_mean_negative_log_likelihood(n, c, seed):
    rng = np.random.default_rng(seed)
    probs = softmax(rng.standard_normal((n, c)))
    labels = rng.integers(0, c, n)
    loss = cross_entropy(readonly(probs), readonly(labels))
    assert type(loss) is float
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(n), labels])), rel=1e-12)


def test_cross_entropy_finite_when_true_class_has_probability_zero(strict):
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss = cross_entropy(probs, np.array([1, 1]))
    assert np.isfinite(loss)
    assert loss == pytest.approx(-np.log(1e-12) / 2)
    assert cross_entropy(probs, np.array([0, 1])) == 0.0


@PROPERTY
@given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_softmax_cross_entropy_grad_is_the_gradient(n, c, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * 3
    labels = rng.integers(0, c, n)
    grad = softmax_cross_entropy_grad(readonly(logits), readonly(labels))
    np.testing.assert_allclose(grad, (softmax(logits) - one_hot(labels, c)) / n, rtol=1e-12, atol=1e-15)
    x = logits.copy()
    numeric = numerical_gradient(lambda: cross_entropy(softmax(x), labels), x)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_accuracy_is_a_python_float_fraction():
    scores = readonly(np.array([[0.1, 0.9], [0.8, 0.2], [3.0, -1.0], [-5.0, 5.0]]))
    acc = accuracy(scores, readonly(np.array([1, 0, 1, 0])))
    assert type(acc) is float and acc == 0.5


# ----------------------------------------------------------------------------------------------
# 04 initialisation


def test_he_init_shape_and_variance():
    w = he_init(1000, 400, np.random.default_rng(0))
    assert w.shape == (1000, 400) and w.dtype.kind == "f"
    assert abs(w.mean()) < 0.002
    assert w.var() == pytest.approx(2 / 1000, rel=0.02)


def test_init_params_draws_w1_then_w2_from_rng():
    params = init_params([5, 4, 3], np.random.default_rng(7))
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert {k: v.shape for k, v in params.items()} == {"W1": (5, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(params["W1"], he_init(5, 4, rng))
    np.testing.assert_array_equal(params["W2"], he_init(4, 3, rng))
    np.testing.assert_array_equal(params["b1"], 0.0)
    np.testing.assert_array_equal(params["b2"], 0.0)


def test_he_init_float32_option_keeps_the_same_values():
    a = he_init(6, 5, np.random.default_rng(3))
    b = he_init(6, 5, np.random.default_rng(3), dtype=np.float32)
    assert b.dtype == np.float32
    np.testing.assert_array_equal(b, a.astype(np.float32))


# ----------------------------------------------------------------------------------------------
# 05 backprop


def random_network(seed, hidden_layers, dtype=np.float64):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(2, 7))] + [int(rng.integers(2, 7)) for _ in range(hidden_layers)]
    sizes.append(int(rng.integers(2, 6)))
    params = init_params(sizes, rng)
    for k in range(1, len(sizes)):  # non-zero biases so their gradient is really exercised
        params[f"b{k}"] = rng.standard_normal(sizes[k]) * 0.5
    n = int(rng.integers(1, 7))
    X = rng.standard_normal((n, sizes[0]))
    labels = rng.integers(0, sizes[-1], n)
    params = {k: v.astype(dtype) for k, v in params.items()}
    return params, X.astype(dtype), labels


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_backward_agrees_with_central_differences(seed, hidden_layers):
    params, X, labels = random_network(seed, hidden_layers)
    _, cache = forward(params, X)
    kinks = [np.abs(cache[f"Z{k}"]).min() for k in range(1, hidden_layers + 1)]
    if min(kinks) < 1e-4:  # a ReLU kink within reach of h: central differences are not exact there
        return
    grads = backward(readonly_params(params), cache, readonly(labels))
    assert list(grads) == list(params)
    for key, value in params.items():
        assert grads[key].shape == value.shape, key
        x = params[key]

        def loss():
            return cross_entropy(forward(params, X)[0], labels)

        numeric = numerical_gradient(loss, x)
        assert relative_error(grads[key], numeric) < 1e-7, key


def test_forward_probs_shape_and_rows_sum_to_one():
    params, X, labels = random_network(1, 2)
    probs, _ = forward(readonly_params(params), readonly(X))
    assert probs.shape == (len(X), params["b3"].shape[0])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_forward_backward_keep_float32():
    params, X, labels = random_network(2, 2, dtype=np.float32)
    probs, cache = forward(params, X)
    assert probs.dtype == np.float32
    grads = backward(params, cache, labels)
    assert grads and all(g.dtype == np.float32 for g in grads.values())


def test_backward_of_mean_loss_scales_with_batch():
    """Duplicating the batch leaves the mean-loss gradient unchanged (a sum would double it)."""
    params, X, labels = random_network(3, 1)
    g1 = backward(params, forward(params, X)[1], labels)
    X2, labels2 = np.concatenate([X, X]), np.concatenate([labels, labels])
    g2 = backward(params, forward(params, X2)[1], labels2)
    for key in params:
        np.testing.assert_allclose(g2[key], g1[key], rtol=1e-12, atol=1e-15)


def test_numerical_gradient_restores_x_exactly_and_returns_float64():
    x = np.array([[0.1, 1 / 3], [0.249992322531112, -2.2]])
    before = x.copy()
    assert (x[1, 0] + 1e-5) - 1e-5 != x[1, 0]  # add-then-subtract would not restore this one
    grad = numerical_gradient(lambda: float(np.sum(x ** 2)), x)
    np.testing.assert_array_equal(x, before)  # bit for bit
    assert grad.shape == x.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad[0], 2 * before[0], rtol=1e-8)


def test_numerical_gradient_sees_the_perturbation_of_float32_x():
    x = np.array([1.0, 2.0], dtype=np.float32)
    grad = numerical_gradient(lambda: float(3 * x[0] + x[1]), x, h=1e-2)
    np.testing.assert_allclose(grad, [3.0, 1.0], rtol=1e-4)
    assert x.dtype == np.float32 and np.array_equal(x, [1.0, 2.0])


# ----------------------------------------------------------------------------------------------
# 06 training


@PROPERTY
@given(st.integers(0, 40), st.integers(1, 12), st.booleans(), st.integers(0, 2**32 - 1))
def test_minibatches_cover_every_sample_once(n, batch_size, shuffle, seed):
    X = readonly(np.arange(n * 2, dtype=np.float64).reshape(n, 2))
    labels = readonly(np.arange(n) * 10)
    gen = iterate_minibatches(X, labels, batch_size, np.random.default_rng(seed), shuffle=shuffle)
    assert isinstance(gen, types.GeneratorType)
    batches = list(gen)
    sizes = [len(xb) for xb, _ in batches]
    assert all(s == batch_size for s in sizes[:-1])
    assert len(batches) == -(-n // batch_size)
    if batches:
        assert 1 <= sizes[-1] <= batch_size
    seen = np.concatenate([lb for _, lb in batches]) if batches else np.array([], dtype=int)
    assert sorted(seen.tolist()) == labels.tolist()
    for xb, lb in batches:  # rows stay aligned with their labels
        np.testing.assert_array_equal(xb[:, 0], lb / 5)
    if not shuffle:
        assert seen.tolist() == labels.tolist()


def test_minibatches_shuffle_with_rng_permutation():
    X = np.arange(10)[:, None].astype(float)
    labels = np.arange(10)
    order = np.concatenate([lb for _, lb in iterate_minibatches(X, labels, 4, np.random.default_rng(5))])
    np.testing.assert_array_equal(order, np.random.default_rng(5).permutation(10))
    assert [len(lb) for _, lb in iterate_minibatches(X, labels, 4, np.random.default_rng(5))] == [4, 4, 2]


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "4", None, True])
def test_minibatches_reject_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(np.zeros((4, 2)), np.zeros(4, int), batch_size, np.random.default_rng(0)))


def test_sgd_step_in_place():
    params = {"W1": np.ones((2, 3)), "b1": np.zeros(3)}
    ids = {k: id(v) for k, v in params.items()}
    grads = readonly_params({"W1": np.full((2, 3), 2.0), "b1": np.arange(3.0)})
    out = sgd_step(params, grads, 0.5)
    assert out is params
    assert {k: id(v) for k, v in params.items()} == ids
    np.testing.assert_array_equal(params["W1"], 0.0)
    np.testing.assert_array_equal(params["b1"], [0.0, -0.5, -1.0])


def separable(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    labels = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, labels


def test_train_history_and_loss_decreases():
    X, labels = separable()
    params, history = train(readonly(X), readonly(labels), [2, 8, 2], epochs=6, batch_size=16, lr=0.5,
                            rng=np.random.default_rng(0), X_val=readonly(X), labels_val=readonly(labels))
    assert set(params) == {"W1", "b1", "W2", "b2"}
    assert len(history["loss"]) == 6 and len(history["val_accuracy"]) == 6
    assert all(type(v) is float for v in history["loss"])
    assert history["loss"][-1] < history["loss"][0] * 0.5
    assert history["val_accuracy"][-1] >= 0.95


def test_train_without_validation_keeps_empty_list():
    X, labels = separable(40)
    _, history = train(X, labels, [2, 4, 2], epochs=3, batch_size=7, lr=0.1, rng=np.random.default_rng(1))
    assert len(history["loss"]) == 3 and history["val_accuracy"] == []


def test_train_loss_is_the_epoch_mean_weighted_by_batch_size():
    """With lr=0 the network never changes, so each epoch's loss is the loss of the whole set."""
    X, labels = separable(50)
    params, history = train(X, labels, [2, 5, 2], epochs=2, batch_size=16, lr=0.0,
                            rng=np.random.default_rng(4))
    full = cross_entropy(forward(params, X)[0], labels)
    assert history["loss"] == pytest.approx([full, full], rel=1e-12)


def test_train_rng_order_is_init_then_one_permutation_per_epoch():
    X, labels = separable(30)
    params, _ = train(X, labels, [2, 3, 2], epochs=1, batch_size=30, lr=0.0, rng=np.random.default_rng(9))
    expected = init_params([2, 3, 2], np.random.default_rng(9))
    for key in expected:
        np.testing.assert_array_equal(params[key], expected[key])


# ----------------------------------------------------------------------------------------------
# 07 capstone


def test_predict_returns_int64_argmax():
    params, X, _ = random_network(4, 1)
    pred = predict(readonly_params(params), readonly(X))
    assert pred.dtype == np.int64 and pred.shape == (len(X),)
    np.testing.assert_array_equal(pred, forward(params, X)[0].argmax(axis=1))


@pytest.mark.parametrize("suffix", [".npz", ""])
def test_save_load_round_trip_exact(tmp_path, suffix):
    rng = np.random.default_rng(0)
    params = init_params([4, 3, 2], rng)
    params["W1"] = params["W1"].astype(np.float32)
    params["b2"] = rng.standard_normal(2)
    path = tmp_path / f"model{suffix}"
    save_params(readonly_params(params), path)
    loaded = load_params(path)
    assert type(loaded) is dict and list(loaded) == list(params)
    for key, value in params.items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key], value)
    loaded_str = load_params(str(path))
    assert set(loaded_str) == set(params)


# ----------------------------------------------------------------------------------------------
# Cross-cutting promises: no mutation, reproducibility, untouched global state, float32


def test_no_function_writes_to_its_inputs():
    """Every call gets read-only arrays: a write raises, so passing means nothing was mutated."""
    rng = np.random.default_rng(0)
    params = readonly_params(init_params([4, 5, 3], rng))
    X = readonly(rng.standard_normal((6, 4)))
    labels = readonly(rng.integers(0, 3, 6))
    z = readonly(rng.standard_normal((6, 3)))
    images = readonly(rng.integers(0, 256, (3, 2, 2)).astype(np.uint8))
    for call in (lambda: flatten(images), lambda: normalize(images), lambda: one_hot(labels, 3),
                 lambda: relu(z), lambda: relu_derivative(z), lambda: sigmoid(z), lambda: sigmoid_derivative(z),
                 lambda: softmax(z), lambda: softmax(z[0]), lambda: cross_entropy(softmax(z), labels),
                 lambda: softmax_cross_entropy_grad(z, labels), lambda: accuracy(z, labels)):
        call()
    probs, cache = forward(params, X)
    cache = {k: readonly(v) for k, v in cache.items()}
    backward(params, cache, labels)
    list(iterate_minibatches(X, labels, 4, rng))
    list(iterate_minibatches(X, labels, 4, rng, shuffle=False))
    train(X, labels, [4, 5, 3], epochs=1, batch_size=4, lr=0.1, rng=rng, X_val=X, labels_val=labels)
    predict(params, X)


def test_same_seed_same_result_and_global_state_untouched():
    X, labels = separable(40)
    np.random.seed(12345)
    state = np.random.get_state()

    def run():
        h = he_init(3, 2, np.random.default_rng(1))
        p = init_params([2, 3, 2], np.random.default_rng(1))
        order = [lb for _, lb in iterate_minibatches(X, labels, 8, np.random.default_rng(1))]
        trained, history = train(X, labels, [2, 4, 2], epochs=2, batch_size=8, lr=0.1,
                                 rng=np.random.default_rng(1))
        return h, p, order, trained, history

    a, b = run(), run()
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]
    np.testing.assert_array_equal(a[0], b[0])
    for key in a[1]:
        np.testing.assert_array_equal(a[1][key], b[1][key])
        np.testing.assert_array_equal(a[3][key], b[3][key])
    for x, y in zip(a[2], b[2]):
        np.testing.assert_array_equal(x, y)
    assert a[4] == b[4]


def test_sources_use_no_global_random_state():
    for module in (solutions.init, solutions.training, solutions.capstone):
        source = inspect.getsource(module)
        assert "np.random.seed" not in source and "np.random.rand" not in source


@pytest.mark.parametrize("fn", [relu, relu_derivative, sigmoid, sigmoid_derivative, softmax])
def test_float32_stays_float32(fn):
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert fn(z).dtype == np.float32


def test_loss_gradient_keeps_float32():
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert softmax_cross_entropy_grad(z, np.array([0, 1, 3])).dtype == np.float32


def test_integer_input_gives_floating_output():
    z = np.array([[-2, 0, 3]])
    for fn in (relu, relu_derivative, sigmoid, softmax):
        assert fn(z).dtype.kind == "f", fn.__name__


# ----------------------------------------------------------------------------------------------
# The capstone trainer, on a tiny subset only: the full run is `python -m solutions.capstone`.


def test_train_capstone_runs_on_a_small_subset():
    import dataclasses

    from autograder.mnist import load_mnist
    from solutions import capstone

    images, labels = load_mnist("train")
    X = normalize(flatten(images[:2000]))  # the course's convention, as the grader feeds a model
    test_images, test_labels = load_mnist("test")
    X_test = normalize(flatten(test_images[:500]))
    config = dataclasses.replace(capstone.CONFIG, epochs=1)
    # one BLAS thread: the trainer times 1 against 2 threads per epoch, and the two round differently
    params, history = capstone.train_capstone(X, labels[:2000], config, X_test=X_test,
                                              labels_test=test_labels[:500], threads=1)
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (784, config.hidden), "b1": (config.hidden,), "W2": (config.hidden, 10), "b2": (10,)}
    assert all(v.dtype == np.float32 for v in params.values())
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
    assert history["test_accuracy"][0] > 0.75  # one epoch on 2,000 images already beats chance by far
    # the returned params take [0, 1] pixels: the standardisation is folded into the first layer
    acc = accuracy(forward(params, X_test)[0], test_labels[:500])
    assert acc == history["test_accuracy"][0]
    again, _ = capstone.train_capstone(X, labels[:2000], config, threads=1)
    for key in params:  # deterministic for a fixed seed and a fixed number of threads
        np.testing.assert_array_equal(again[key], params[key])


def _textbook_capstone(X, labels, config):
    """The capstone training as a textbook writes it, in float64: forward, backward, and
    torch.optim.SGD's update v = mu v + (g + wd p); p -= lr v per parameter, with the same init,
    data order and schedule as train_capstone documents."""
    from solutions import capstone

    rng = np.random.default_rng(config.seed)
    p = {k: v.astype(np.float32).astype(np.float64)
         for k, v in init_params(config.layer_sizes, rng).items()}
    v = {k: np.zeros_like(a) for k, a in p.items()}
    Xs = capstone.standardise(X, config).astype(np.float64)
    n, B = len(X), config.batch_size
    total, step = -(-n // B) * config.epochs, 0
    for _ in range(config.epochs):
        order = rng.permutation(n)
        for start in range(0, n, B):
            idx = order[start:start + B]
            x, y = Xs[idx], labels[idx]
            Z1 = x @ p["W1"] + p["b1"]
            A1 = np.maximum(Z1, 0)
            Z2 = A1 @ p["W2"] + p["b2"]
            P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            dZ2 = (P - np.eye(10)[y]) / len(idx)
            dZ1 = (dZ2 @ p["W2"].T) * (Z1 > 0)
            grads = {"W1": x.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
            lr = capstone.lr_at(step, total, config)
            for k in p:
                v[k] = config.momentum * v[k] + grads[k] + config.weight_decay * p[k]
                p[k] = p[k] - lr * v[k]
            step += 1
    return capstone.fold_standardisation(p, config)


def test_train_capstone_is_the_textbook_training():
    """The fast trainer (one flat buffer, heavy-ball momentum as one BLAS call over rows of one
    array, transposed logits, lr folded into dZ2) computes what the textbook float64 training
    computes, step for step: 4 epochs of 6 batches, the last one smaller, so every row of the
    optimiser's round (HeavyBallRows) is used and the momentum matters."""
    import dataclasses

    from solutions import capstone

    rng = np.random.default_rng(5)
    X = rng.random((44, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 44)
    config = dataclasses.replace(capstone.CONFIG, epochs=4, batch_size=8, hidden=16, lr=0.05, seed=2)
    fast, _ = capstone.train_capstone(X, labels, config, threads=1)
    slow = _textbook_capstone(X, labels, config)
    init = capstone.fold_standardisation(
        {k: v.astype(np.float32) for k, v in init_params(config.layer_sizes, np.random.default_rng(2)).items()},
        config)
    for key in slow:
        assert not np.allclose(slow[key], init[key], atol=1e-4)  # the training moved every parameter
        np.testing.assert_allclose(fast[key], slow[key], rtol=1e-3, atol=1e-5 * np.abs(slow[key]).max())


def test_capstone_init_and_order_are_documented_draws():
    """The first permutation drawn after init_params is the first epoch's order (what a port replicates)."""
    import dataclasses

    from solutions import capstone

    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 20)
    config = dataclasses.replace(capstone.CONFIG, epochs=1, lr=0.0, seed=11, hidden=8)
    params, _ = capstone.train_capstone(X, labels, config)
    init = {k: v.astype(np.float32) for k, v in init_params([784, 8, 10], np.random.default_rng(11)).items()}
    expected = capstone.fold_standardisation(init, config)  # what it returns: params for [0, 1] pixels
    for key in expected:
        np.testing.assert_array_equal(params[key], expected[key])


def test_capstone_lr_schedule_decays_linearly_to_zero():
    from solutions import capstone

    total = 10
    rates = [capstone.lr_at(s, total) for s in range(total)]
    assert rates[0] == capstone.CONFIG.lr
    assert all(a > b for a, b in zip(rates, rates[1:])) and rates[-1] > 0


def test_fold_standardisation_gives_the_same_network_on_raw_inputs():
    from solutions import capstone

    rng = np.random.default_rng(8)
    params = {k: v.astype(np.float32) for k, v in init_params([784, 16, 10], rng).items()}
    params["b1"] = rng.standard_normal(16).astype(np.float32)
    X = rng.random((50, 784), dtype=np.float32)
    folded = capstone.fold_standardisation(readonly_params(params))
    assert set(folded) == set(params) and all(folded[k].dtype == np.float32 for k in folded)
    expected = forward(params, capstone.standardise(readonly(X)))[0]
    np.testing.assert_allclose(forward(folded, X)[0], expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(folded["W2"], params["W2"])


def test_train_capstone_on_uint8_pixels_is_the_same_training():
    """Pixels 0..255 (flatten(images)) train the same network as normalize(flatten(images)), up to
    float32 rounding, and standardise treats both alike (a port sees the trainer's inputs)."""
    import dataclasses

    from autograder.mnist import load_mnist
    from solutions import capstone

    images, labels = load_mnist("train")
    pixels = flatten(images[:1000])
    X = normalize(pixels)
    np.testing.assert_allclose(capstone.standardise(pixels), capstone.standardise(X), rtol=0, atol=1e-6)
    config = dataclasses.replace(capstone.CONFIG, epochs=1, hidden=32)
    from_pixels, _ = capstone.train_capstone(pixels, labels[:1000], config)
    from_floats, _ = capstone.train_capstone(X, labels[:1000], config)
    for key in from_floats:
        np.testing.assert_allclose(from_pixels[key], from_floats[key], rtol=1e-4, atol=1e-5)
