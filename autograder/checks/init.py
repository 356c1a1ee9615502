"""Checks for 04_init: he_init, init_params.

Random weights cannot be compared with the reference's values (a correct learner may draw in
another order, or use He uniform), so these checks test properties on large draws:
- shape, floating dtype, finite;
- mean 0 and variance 2 / fan_in, each within 5 standard errors of its estimate: for n weights of
  variance v the sample mean has standard error sqrt(v / n) and the sample variance v * sqrt(2 / n)
  (normal weights; uniform ones vary less), so a correct implementation fails with probability
  below 1e-6, while 2 / fan_out, 1 / fan_in, Xavier and unscaled draws miss by far more;
- randomness only through rng: same seed, same weights; another seed, other weights; NumPy's
  global random state untouched.
Bugs are matched on a summary (shape, mean in units of the He std, variance as a multiple of
2 / fan_in), compared approximately, so a hint does not depend on the order of the draws.
"""
from __future__ import annotations

import numpy as np

from autograder.checks.base import Approx, Case, floating_array, property_check, rng_check, unchanged_check
from autograder.checks.promises import nothing_kept
from autograder.compare import Mismatch, describe, fmt

SIGMAS = 5.0
MIN_STATISTICS = 1000


def _summary(W, fan_in):
    """What a bug is matched on: shape, mean / He std, variance / (2 / fan_in), all approximate."""
    if not isinstance(W, np.ndarray) or W.dtype.kind not in "biuf" or W.size == 0:
        return W
    target = 2.0 / fan_in
    W = W.astype(np.float64)
    if not np.isfinite(W).all():
        return ("non-finite", W.shape)
    return (W.shape, Approx(W.mean() / np.sqrt(target), rel=0.0, abs=0.05),
            Approx(W.var() / target, rel=0.1, abs=1e-9))


def _he_statistics(W, fan_in, what):
    """Mean 0 and variance 2 / fan_in within SIGMAS standard errors of the estimates."""
    n = W.size
    target = 2.0 / fan_in
    W = W.astype(np.float64)
    mean, var = W.mean(), W.var()
    mean_tol = SIGMAS * np.sqrt(target / n)
    if abs(mean) > mean_tol:
        raise Mismatch(f"{what} have mean {fmt(mean)}; He weights are centred on 0",
                       [f"for {n:,} weights the mean should be within \u00b1{fmt(mean_tol)} of 0",
                        f"(their variance is {fmt(var)}; 2 / fan_in = {fmt(target)})"])
    rel_tol = SIGMAS * np.sqrt(2.0 / n)
    if abs(var / target - 1) > rel_tol:
        raise Mismatch(f"{what} have variance {fmt(var)}, expected 2 / fan_in = 2 / {fan_in} = {fmt(target)}",
                       [f"that is {fmt(var / target)} times the He variance; for {n:,} weights it should be "
                        f"within \u00b1{rel_tol:.1%}",
                        "He normal is rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)"])


# --- he_init ---------------------------------------------------------------------------------


def _he_case(fan_in, fan_out, seed, label=""):
    name = label or f"fan_in={fan_in}, fan_out={fan_out}"
    return Case.of(name, fan_in, fan_out, np.random.default_rng(seed))


def _he_shape_cases():
    return [
        _he_case(3, 5, 101, "a small layer"),
        _he_case(784, 32, 102, "784 inputs, as MNIST's first layer"),
        _he_case(1, 4, 103, "a single input"),
    ]


def _he_variance_cases():
    return [
        _he_case(200, 100, 104, "a layer of 20,000 weights"),
        _he_case(20, 1000, 105, "few inputs, many outputs (20,000 weights)"),
    ]


def _he_hidden_cases():
    return [
        _he_case(1000, 100, 106, "many inputs, few outputs (100,000 weights)"),
        _he_case(10, 10000, 107, "10 inputs, 10,000 outputs"),
        Case.of("sizes given as NumPy integers (np.int64)",
                np.int64(300), np.int64(400), np.random.default_rng(108)),
    ]


def _he_shape(W, args, kwargs):
    floating_array(W, (args[0], args[1]), what="the weights")


def _he_variance(W, args, kwargs):
    floating_array(W, (args[0], args[1]), what="the weights")
    _he_statistics(W, int(args[0]), "the weights")


def _he_observe(W, args, kwargs):
    return _summary(W, int(args[0]))


HE_INIT = [
    property_check("he_init", "shape", "an array of shape (fan_in, fan_out), floating point", _he_shape_cases,
                   _he_shape, observe=_he_observe),
    property_check("he_init", "he_variance", "mean 0 and variance 2 / fan_in on a large draw", _he_variance_cases,
                   _he_variance, observe=_he_observe, points=2),
    rng_check("he_init", "uses_rng", "randomness only from rng: same seed, same weights; global state untouched",
              lambda rng: (30, 20, rng), what="weights"),
    property_check("he_init", "more_layers", "He variance for many and few inputs, NumPy integer sizes",
                   _he_hidden_cases, _he_variance, observe=_he_observe, hidden=True),
]

# --- init_params -----------------------------------------------------------------------------


def _expected_keys(sizes):
    return [f"{p}{k}" for k in range(1, len(sizes)) for p in ("W", "b")]


def _params_summary(params, args, kwargs):
    """Per key, in a fixed order: the summary of a weight matrix (against its own first axis as
    fan_in), or a bias's shape and whether it is all zeros."""
    if not isinstance(params, dict):
        return params
    out = []
    for key in sorted(params, key=str):
        value = params[key]
        if isinstance(value, np.ndarray) and value.ndim == 2 and str(key).startswith("W") and value.size:
            out.append((str(key), _summary(value, value.shape[0])))
        elif isinstance(value, np.ndarray):
            out.append((str(key), value.shape, bool(value.size) and bool(np.all(value == 0))))
        else:
            out.append((str(key), describe(value)))
    return tuple(out)


def _structure(params, args, kwargs):
    """A dict with exactly W1, b1, ..., WL, bL; W_k of shape (l_{k-1}, l_k), b_k of shape (l_k,)
    and all zeros; everything floating point and finite."""
    sizes = list(args[0])
    keys = _expected_keys(sizes)
    if not isinstance(params, dict):
        raise Mismatch(f"init_params should return a dict with keys {keys}, but it returned {describe(params)}")
    missing = [k for k in keys if k not in params]
    extra = [k for k in params if k not in keys]
    if missing or extra:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise Mismatch(f"the dict has the wrong keys: {'; '.join(parts)}",
                       [f"for layer_sizes {sizes} the keys are exactly {keys}: layers count from 1, "
                        f"one W and one b for each of the {len(sizes) - 1} layer(s)"])
    for k in range(1, len(sizes)):
        floating_array(params[f"W{k}"], (sizes[k - 1], sizes[k]), what=f"params['W{k}']")
        floating_array(params[f"b{k}"], (sizes[k],), what=f"params['b{k}']")
        b = params[f"b{k}"]
        if np.any(b != 0):
            raise Mismatch(f"params['b{k}'] is not all zeros: {int(np.sum(b != 0))} of {b.size} entries are not 0",
                           [f"biases start at zero: np.zeros({sizes[k]})"])


def _he_layers(params, args, kwargs):
    _structure(params, args, kwargs)
    sizes = list(args[0])
    for k in range(1, len(sizes)):
        W = params[f"W{k}"]
        if W.size < 2:
            continue
        if np.all(W == W.flat[0]):
            raise Mismatch(f"params['W{k}'] has the same value {fmt(W.flat[0])} everywhere",
                           ["identical weights make every unit of a layer compute the same thing "
                            "(and get the same gradient): the weights must be random"])
        if W.size >= MIN_STATISTICS:  # fewer weights say too little about their variance
            _he_statistics(W, sizes[k - 1], f"the weights in params['W{k}']")


def _init_case(sizes, seed, label):
    return Case.of(label, list(sizes), np.random.default_rng(seed))


def _init_shape_cases():
    return [
        _init_case([784, 128, 10], 111, "two layers"),
        _init_case([4, 3], 112, "one layer"),
        _init_case([5, 8, 6, 3], 113, "three layers"),
    ]


def _init_he_cases():
    return [_init_case([400, 300, 200], 114, "two large layers (120,000 and 60,000 weights)")]


def _init_hidden_cases():
    return [
        _init_case([2, 1], 115, "the smallest network"),
        _init_case([10, 20, 30, 40, 50], 116, "four layers"),
        _init_case([1000, 100], 117, "one layer of 100,000 weights"),
    ]


INIT_PARAMS = [
    property_check("init_params", "keys_and_shapes", "keys W1, b1, ..., WL, bL with the right shapes; zero biases",
                   _init_shape_cases, _structure, observe=_params_summary, points=2),
    property_check("init_params", "he_weights", "every weight matrix He-initialised (mean 0, variance 2 / fan_in)",
                   _init_he_cases, _he_layers, observe=_params_summary),
    rng_check("init_params", "uses_rng", "randomness only from rng: same seed, same network; global state untouched",
              lambda rng: ([6, 5, 4], rng), what="parameters"),
    property_check("init_params", "more_networks", "the smallest network, four layers, He variance again",
                   _init_hidden_cases, _he_layers, observe=_params_summary, hidden=True),
]

CHECKS = HE_INIT + INIT_PARAMS

# --- issue 10, item 4: no argument changed (the layer_sizes list included) ---

PROMISES_04 = [
    unchanged_check("init_params", "leaves_layer_sizes", "the layer_sizes list is left as it was",
                    lambda: [_init_case([5, 8, 6, 3], 118, "three layers")], names=("layer_sizes", "rng"),
                    fix="read layer_sizes by index or with zip(layer_sizes[:-1], layer_sizes[1:]); "
                        "`pop()` or `reverse()` change the caller's list"),
]

CHECKS = CHECKS + PROMISES_04

# --- issue 10, item 4: nothing kept between calls (the same rng state gives the same weights) ---


def _two_draws():
    return [Case.of("(6, 4) from a generator seeded 7", 6, 4, np.random.default_rng(7)),
            Case.of("(6, 4) from a generator seeded 8", 6, 4, np.random.default_rng(8))]


def _two_networks():
    return [Case.of("[5, 4, 3] from a generator seeded 7", [5, 4, 3], np.random.default_rng(7)),
            Case.of("[5, 4, 3] from a generator seeded 8", [5, 4, 3], np.random.default_rng(8))]


PROMISES_04_STATELESS = [
    nothing_kept("he_init", _two_draws,
                 title="generators seeded 7 and 8, each used twice in turn: the same weights for the same seed"),
    nothing_kept("init_params", _two_networks,
                 title="generators seeded 7 and 8, each used twice in turn: the same network for the same seed"),
]

CHECKS = CHECKS + PROMISES_04_STATELESS
