"""Checks for 02_activations: relu, relu_derivative, sigmoid, sigmoid_derivative, softmax.

The top of this module also holds the small check-building helpers that 03_loss and 04_init use:
they are `base.reference_check` / `base.property_check` with four additions these assignments need:
- every learner call runs with floating-point *underflow* silenced (exp(-1e4) == 0 is the right
  answer, not something to warn a learner about); overflow, divide and invalid still warn;
- `record=True` runs the call under its own `warnings.catch_warnings(record=True)` so a check can
  fail on a RuntimeWarning (sigmoid at -1e4) and bugs are matched on the warnings they emit;
- an exception is matched to a catalogued bug by its type *and* message (minus the learner's line),
  so a bug that raises ValueError does not claim every ValueError;
- a check may give its own `same` (observations compared approximately, e.g. a variance ratio),
  so random initialisers are matched to bugs whatever order they draw in.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograder.checks.base import REFERENCE, Case, attempt, default_compare, raised_failure
from autograder.compare import Mismatch, Raised, describe, expect_array, same_output
from autograder.core import Check, Failure, Namespace

# ---------------------------------------------------------------------------------------------
# helpers shared by the checks of 02_activations, 03_loss and 04_init


@dataclass(frozen=True)
class Called:
    """What a call under `record=True` produced: its value and the RuntimeWarnings it emitted."""

    value: Any
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Approx:
    """A number in an observation that a bug reproduces only approximately (a sample statistic)."""

    value: float
    rel: float = 0.1
    abs: float = 0.0


_WHERE = re.compile(r"\s*\(line \d+.*\)$")


def same_observation(a, b) -> bool:
    """`same_output`, except: exceptions match on type and message (minus the learner's line; any
    two read-only complaints match), `Approx` entries within their tolerance, tuples entrywise."""
    if isinstance(a, Raised) and isinstance(b, Raised):
        if a.type_name != b.type_name:
            return False
        if "read-only" in a.text and "read-only" in b.text:
            return True
        return _WHERE.sub("", a.text) == _WHERE.sub("", b.text)
    if isinstance(a, Approx) and isinstance(b, Approx):
        return abs(a.value - b.value) <= max(a.rel * max(abs(a.value), abs(b.value)), a.abs)
    if isinstance(a, tuple) and isinstance(b, tuple) and not isinstance(a, Raised):
        return len(a) == len(b) and all(same_observation(x, y) for x, y in zip(a, b))
    if isinstance(a, Called) and isinstance(b, Called):
        return same_observation(a.warnings, b.warnings) and same_observation(a.value, b.value)
    return same_output(a, b)


def call(ns: Namespace, function: str, args: tuple, kwargs: dict | None = None, *, record: bool = False):
    """`attempt` with underflow silenced; with `record`, a `Called` carrying the RuntimeWarnings."""
    if not record:
        with np.errstate(under="ignore"):
            return attempt(ns, function, args, kwargs)
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        value = attempt(ns, function, args, kwargs)
    found = sorted({f"{w.category.__name__}: {w.message}" for w in caught if issubclass(w.category, RuntimeWarning)})
    return value if isinstance(value, Raised) else Called(value, tuple(found))


def run_case(ns: Namespace, function: str, case: Case, judge: Callable[[Any, tuple, dict], None], *,
             observe: Callable[[Any, tuple, dict], Any] | None = None, record: bool = False,
             same: Callable[[Any, Any], bool] = same_observation) -> None:
    """Call `function` on `case`; `judge(actual, args, kwargs)` raises Mismatch. The observation
    bugs are matched on is `observe(actual, args, kwargs)` (the result by default), or the
    exception the call raised."""
    observe = observe or (lambda actual, a, k: actual)

    def outcome(other):
        a, k = case.arguments()
        got = call(other, function, a, k, record=record)
        return got, (got if isinstance(got, Raised) else observe(got, a, k)), a, k

    def replay(other):
        return outcome(other)[1]

    actual, observed, args, kwargs = outcome(ns)
    if isinstance(actual, Raised):
        failure = raised_failure(function, case, actual, replay)
        failure.same = same
        raise failure
    try:
        with np.errstate(under="ignore"):  # comparing tiny expected values must not warn either
            judge(actual, args, kwargs)
    except Mismatch as m:
        raise Failure(m.summary, case=case.describe(function), details=m.details, observed=observed,
                      replay=replay, same=same) from None


def compare_check(function: str, name: str, title: str, cases: Callable[[], list[Case]], *,
                  compare=default_compare, points: int = 1, hidden: bool = False) -> Check:
    """The learner's result must agree with the reference's on every case."""

    def run(ns: Namespace):
        for case in cases():
            a, k = case.arguments()
            with np.errstate(all="ignore"):
                expected = REFERENCE[function](*a, **k)
            run_case(ns, function, case, lambda actual, a, k, expected=expected: compare(expected, actual, a, k))

    return Check(function, name, title, run, points, hidden)


def prop_check(function: str, name: str, title: str, cases: Callable[[], list[Case]],
               prop: Callable[[Any, tuple, dict], None], *, observe=None, record: bool = False,
               same=same_observation, points: int = 1, hidden: bool = False) -> Check:
    """The learner's result must satisfy `prop(actual, args, kwargs)`, which raises Mismatch; with
    `record`, `actual` is a `Called` (value and warnings)."""

    def run(ns: Namespace):
        for case in cases():
            run_case(ns, function, case, prop, observe=observe, record=record, same=same)

    return Check(function, name, title, run, points, hidden)


def identical(a, b) -> bool:
    """Exactly the same result (the same seed must give the same weights, bit for bit)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    return same_output(a, b)


def _has_spread(result) -> bool:
    """Whether some array in the result holds more than one distinct value (random numbers do)."""
    if isinstance(result, dict):
        return any(_has_spread(v) for v in result.values())
    return isinstance(result, np.ndarray) and result.size > 1 and bool(np.any(result != result.flat[0]))


def _same_global_state(s, t) -> bool:
    return s[0] == t[0] and np.array_equal(s[1], t[1]) and tuple(s[2:]) == tuple(t[2:])


def rng_check(function: str, name: str, title: str, arguments: Callable[[np.random.Generator], tuple], *,
              what: str, points: int = 1, hidden: bool = False) -> Check:
    """Randomness only through `rng`: two generators with the same seed give identical results,
    different seeds give different ones, and NumPy's global random state is left alone."""
    label = "two generators seeded 7, one seeded 8, NumPy's global state watched"
    shown = Case.of(label, *arguments(np.random.default_rng(7)))

    def observe(other):
        saved = np.random.get_state()
        try:
            first = snapshot(call(other, function, arguments(np.random.default_rng(7))))
            second = snapshot(call(other, function, arguments(np.random.default_rng(7))))
            third = snapshot(call(other, function, arguments(np.random.default_rng(8))))
            untouched = _same_global_state(saved, np.random.get_state())
        finally:
            np.random.set_state(saved)
        for got in (first, second, third):
            if isinstance(got, Raised):
                return got
        return (identical(first, second), not identical(first, third), untouched, _has_spread(first))

    def run(ns: Namespace):
        observed = observe(ns)
        if isinstance(observed, Raised):
            failure = raised_failure(function, shown, observed, observe)
            failure.same = same_observation
            raise failure
        same_seed, seed_matters, untouched, spread = observed
        problems = []
        if not same_seed:
            problems.append(f"two generators with the same seed (np.random.default_rng(7)) gave different {what}")
        if not seed_matters:
            problems.append(f"generators with different seeds (7 and 8) gave identical {what}: "
                            + ("the rng argument makes no difference" if spread else "nothing in them is random"))
        if not untouched:
            problems.append("NumPy's global random state changed: something called np.random.<function> "
                            "(randn, rand, normal, seed, ...) instead of a method of rng")
        if problems:
            raise Failure(problems[0], case=shown.describe(function),
                          details=problems[1:] + ["every random number must come from the rng argument, "
                                                  "e.g. rng.standard_normal(shape)"],
                          observed=observed, replay=observe, same=same_observation)

    return Check(function, name, title, run, points, hidden)


def snapshot(value):
    """A copy of what came back, so later calls cannot change the observation."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def floating_array(actual, shape, what="the result"):
    """The first rungs for a result with no reference values: an array, this shape, floating, finite."""
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"{what} should be a NumPy array of shape {shape}, but it is {describe(actual)}")
    if actual.shape != tuple(shape):
        details = []
        if actual.shape == tuple(shape)[::-1]:
            details = ["it is transposed"]
        raise Mismatch(f"{what} has shape {actual.shape}, expected {tuple(shape)}", details)
    if actual.dtype.kind != "f":
        raise Mismatch(f"{what} has dtype {actual.dtype}; it should be floating point (float32 or float64)")
    if not np.isfinite(actual).all():
        raise Mismatch(f"{what} contains NaN or inf")


def loose_for_float32(expected, actual, args, kwargs):
    """The reference comparison, but float32 inputs of size 1e4 get rtol 1e-3: float32 holds 1e4 only
    to about 1e-3, so a correct log-sum-exp in float32 is that far off."""
    dtype = next((a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"), np.float64)
    if dtype == np.float32:
        expect_array(expected, actual, rtol=1e-3, atol=1e-5)
    else:
        default_compare(expected, actual, args, kwargs)


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------
# relu


def _relu_cases():
    return [
        Case.of("negative, zero and positive values", np.array([-2.0, -0.5, 0.0, 0.5, 3.0])),
        Case.of("a (4, 5) batch", _rng(21).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", _rng(22).standard_normal((3, 8)).astype(np.float32)),
        Case.of("a 3-D array (2, 3, 4)", _rng(23).standard_normal((2, 3, 4))),
    ]


def _relu_edges():
    return [
        Case.of("all negative (3, 4)", -_rng(24).random((3, 4)) - 0.1),
        Case.of("huge magnitudes", np.array([-1e4, -1.0, 1.0, 1e4])),
        Case.of("zeros, -0.0 and tiny values", np.array([[0.0, -0.0], [1e-300, -1e-300]])),
        Case.of("a float32 row (1, 7)", _rng(25).standard_normal((1, 7)).astype(np.float32)),
    ]


RELU = [
    compare_check("relu", "elementwise_max", "max(z, 0) elementwise, same shape, any dtype", _relu_cases,
                  points=2),
    compare_check("relu", "edge_cases", "all-negative input, zeros, huge values, a single row", _relu_edges,
                  hidden=True),
]

# ---------------------------------------------------------------------------------------------
# relu_derivative


def _relu_derivative_cases():
    return [
        Case.of("negative and positive values", np.array([-2.0, -0.5, 0.5, 3.0])),
        Case.of("a (4, 5) batch", _rng(31).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", _rng(32).standard_normal((3, 8)).astype(np.float32)),
        Case.of("a 3-D array (2, 3, 4)", _rng(33).standard_normal((2, 3, 4))),
    ]


def _relu_derivative_zeros():
    return [
        Case.of("exact zeros among other values", np.array([-1.0, 0.0, 2.0, 0.0, -0.0])),
        Case.of("a (2, 3) batch of zeros", np.zeros((2, 3))),
    ]


def _relu_derivative_edges():
    return [
        Case.of("huge magnitudes", np.array([-1e4, -1.0, 1.0, 1e4])),
        Case.of("tiny magnitudes", np.array([-1e-300, 1e-300, -5e-324, 5e-324])),
        Case.of("a float32 batch (16, 32) with zeros",
                np.where(_rng(34).random((16, 32)) < 0.2, 0, _rng(35).standard_normal((16, 32))).astype(np.float32)),
    ]


RELU_DERIVATIVE = [
    compare_check("relu_derivative", "slope", "1.0 where z > 0, 0.0 elsewhere, as floats", _relu_derivative_cases,
                  points=2),
    compare_check("relu_derivative", "zero_at_zero", "the derivative at exactly z == 0 is 0",
                  _relu_derivative_zeros),
    compare_check("relu_derivative", "edge_cases", "huge and tiny values, float32 with zeros",
                  _relu_derivative_edges, hidden=True),
]

# ---------------------------------------------------------------------------------------------
# sigmoid


def _sigmoid_cases():
    return [
        Case.of("values from -6 to 4", np.array([-6.0, -2.0, -0.5, 0.0, 0.5, 4.0])),
        Case.of("a (4, 5) batch", 3 * _rng(41).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", (3 * _rng(42).standard_normal((3, 8))).astype(np.float32)),
        Case.of("moderately large values", np.array([-30.0, -20.0, 20.0, 30.0])),
    ]


def _sigmoid_extremes():
    return [Case.of("extreme logits up to \u00b11e4", np.array([-1e4, -1000.0, -40.0, 0.0, 40.0, 1e4]))]


def _sigmoid_extreme_batches():
    wide = _rng(43).uniform(-1e4, 1e4, size=(3, 4))
    wide[0, :2] = [-1e4, 1e4]
    return [
        Case.of("a (3, 4) batch with entries up to \u00b11e4", wide),
        Case.of("a 3-D array (2, 2, 3) of large values", _rng(44).uniform(-800, 800, size=(2, 2, 3))),
        Case.of("float32 extremes", np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=np.float32)),
    ]


def _no_warning(called: Called, args, kwargs):
    """No RuntimeWarning for float64 input (float32 input: the values only), then the values."""
    z = args[0]
    if called.warnings and z.dtype == np.float64:
        raise Mismatch("sigmoid warned on this input: " + "; ".join(called.warnings),
                       ["a sigmoid must handle |z| up to 1e4 without overflow: exp may only ever see "
                        "numbers <= 0 (or use np.tanh)"])
    with np.errstate(all="ignore"):
        expected = REFERENCE["sigmoid"](z)
    default_compare(expected, called.value, args, kwargs)


def _warnings_and_value(called: Called, args, kwargs):
    return (called.warnings, called.value)


SIGMOID = [
    compare_check("sigmoid", "values", "1 / (1 + exp(-z)) elementwise, any shape", _sigmoid_cases, points=2),
    prop_check("sigmoid", "no_overflow", "logits of size 1e4: right values and no overflow warning",
               _sigmoid_extremes, _no_warning, observe=_warnings_and_value, record=True),
    prop_check("sigmoid", "no_overflow_batches", "batches of huge logits, float64 and float32",
               _sigmoid_extreme_batches, _no_warning, observe=_warnings_and_value, record=True, hidden=True),
]

# ---------------------------------------------------------------------------------------------
# sigmoid_derivative


def _sigmoid_derivative_cases():
    return [
        Case.of("values from -6 to 4", np.array([-6.0, -2.0, -0.5, 0.0, 0.5, 4.0])),
        Case.of("a (4, 5) batch", 3 * _rng(51).standard_normal((4, 5))),
        Case.of("a float32 batch (3, 8)", (3 * _rng(52).standard_normal((3, 8))).astype(np.float32)),
    ]


def _sigmoid_derivative_extremes():
    return [
        Case.of("extreme logits up to \u00b11e4", np.array([-1e4, -1000.0, -40.0, 0.0, 40.0, 1e4])),
        Case.of("a float32 (3, 4) batch of large values",
                _rng(53).uniform(-200, 200, size=(3, 4)).astype(np.float32)),
        Case.of("a 3-D array (2, 2, 3)", _rng(54).standard_normal((2, 2, 3))),
    ]


SIGMOID_DERIVATIVE = [
    compare_check("sigmoid_derivative", "values", "sigmoid(z) * (1 - sigmoid(z)) elementwise",
                  _sigmoid_derivative_cases, points=2),
    compare_check("sigmoid_derivative", "extremes", "finite and correct for logits up to \u00b11e4",
                  _sigmoid_derivative_extremes, hidden=True),
]

# ---------------------------------------------------------------------------------------------
# softmax


def _softmax_cases():
    return [
        Case.of("a (3, 5) batch of logits", 2 * _rng(61).standard_normal((3, 5))),
        Case.of("a float32 batch (4, 10)", (2 * _rng(62).standard_normal((4, 10))).astype(np.float32)),
        Case.of("a single row (1, 4)", np.array([[1.0, 2.0, 0.5, -1.0]])),
        Case.of("as many rows as classes (4, 4)", 2 * _rng(63).standard_normal((4, 4))),
    ]


def _softmax_1d():
    return [
        Case.of("a 1-D vector of 6 logits", _rng(64).standard_normal(6)),
        Case.of("a float32 1-D vector of 3 logits", np.array([0.5, -1.0, 2.0], dtype=np.float32)),
    ]


def _softmax_large():
    return [
        Case.of("logits of size 1e4 in one row, small ones in the other",
                np.array([[1e4, 9999.0, 9995.0], [1.0, 0.0, -2.0]])),
        Case.of("logits of size -1e4", np.array([[-1e4, -9998.0, -1e4 - 3], [-5.0, -1e4, 0.0]])),
        Case.of("float32 logits of size 1e4 (2, 4)",
                np.array([[1e4, 9998.0, 0.0, -1e4], [-1e4, 1e4, 9999.5, 5.0]], dtype=np.float32)),
    ]


def _softmax_scales():
    rows = _rng(65).standard_normal((6, 5)) * np.array([1e-3, 1.0, 10.0, 100.0, 1000.0, 3000.0])[:, None]
    return [
        Case.of("rows on very different scales (1e-3 .. 3000)", rows),
        Case.of("a random batch (50, 10)", 5 * _rng(66).standard_normal((50, 10))),
        Case.of("a 1-D vector of large logits", np.array([5000.0, 4999.0, -3000.0, 4990.0])),
    ]


SOFTMAX = [
    compare_check("softmax", "rows", "each row of (N, C) logits becomes probabilities summing to 1", _softmax_cases,
                  points=2),
    compare_check("softmax", "one_dimensional", "a 1-D input is one row (same shape back)", _softmax_1d),
    compare_check("softmax", "large_logits", "stable for logits of size 1e4 (subtract each row's max)",
                  _softmax_large, compare=loose_for_float32),
    compare_check("softmax", "varied_scales", "rows on very different scales, large random batches",
                  _softmax_scales, compare=loose_for_float32, hidden=True),
]

CHECKS = RELU + RELU_DERIVATIVE + SIGMOID + SIGMOID_DERIVATIVE + SOFTMAX

