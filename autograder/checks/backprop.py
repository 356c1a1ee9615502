"""Checks for 05_backprop: forward, backward (judged through the learner's own forward, since the
cache is theirs), numerical_gradient.

Probes, not plain calls: backward needs forward's cache, and numerical_gradient is judged on
whether it put x back as well as on its values; the same probe replays each catalogued bug.
"""
from __future__ import annotations

import numpy as np

from autograder.checks.base import (
    REFERENCE,
    Case,
    Odd,
    call,
    network,
    probe_check,
    snapshot,
    stateless_check,
    unchanged_check,
)
from autograder.compare import Mismatch, Raised, describe, expect_array, expect_dict_of_arrays
from autograder.checks.promises import nothing_kept

# ---------------------------------------------------------------------------------------------
# consistent networks (`network` builds them)


def _net_case(label: str, sizes, n, seed, dtype=np.float64) -> Case:
    """A case of (params, X, labels), read-only; its name says the architecture."""
    name = f"{label}: layer sizes {list(sizes)}, {n} sample{'s' if n != 1 else ''}, {np.dtype(dtype).name}"
    return Case(name, lambda: network(sizes, n, seed, dtype))


# --- forward ---------------------------------------------------------------------------------


def _forward_probe(ns, case):
    (params, X, _labels), _ = case.arguments()
    out = call(ns, "forward", (params, X))
    if isinstance(out, Raised):
        return out
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        return Odd("not a pair", describe(out))
    return snapshot(out[0])


def _forward_verdict(observed, expected, case):
    if isinstance(observed, Odd):
        raise Mismatch(f"forward should return a pair (probs, cache), but it returned {observed.text}",
                       ["end with `return probs, cache`: backward needs what forward computed on the way"])
    dtype = case.make()[1].dtype
    expect_array(expected, observed, what="probs (the first thing forward returns)", input_dtype=dtype)


def _describe_forward(case):
    return f"forward(params, X) on \u00ab{case.name}\u00bb"


def _forward_cases():
    return [
        _net_case("one hidden layer", (4, 5, 3), 6, 11),
        _net_case("two hidden layers", (5, 7, 6, 4), 8, 12),
        _net_case("float32 network", (6, 8, 3), 5, 13, np.float32),
    ]


def _forward_hidden_cases():
    return [
        _net_case("three hidden layers", (3, 6, 5, 7, 4), 7, 14),
        _net_case("a single sample", (4, 3, 5), 1, 15),
        _net_case("no hidden layer (softmax regression)", (5, 3), 4, 16),
    ]


FORWARD = [
    probe_check("forward", "probs", "returns (probs, cache) with the network's softmax probabilities",
                _forward_cases, _forward_probe, _forward_verdict, points=2, reference=True,
                describe_case=_describe_forward),
    probe_check("forward", "any_depth", "any number of layers, and a single sample",
                _forward_hidden_cases, _forward_probe, _forward_verdict, hidden=True, reference=True,
                describe_case=_describe_forward),
]

# --- backward --------------------------------------------------------------------------------


def _backward_probe(ns, case):
    """forward (the learner's, or a bug's own) for the cache, then backward: the gradients.

    When that forward is wrong, backward cannot be judged through it; it is then tried once on the
    reference's cache (a dict {"A0": X, "Z1": ..., "A1": ..., ...}), and counts as right if it is
    right there, so a mistake in forward costs forward's points only wherever that can be told."""
    (params, X, labels), _ = case.arguments()
    out = call(ns, "forward", (params, X))
    if isinstance(out, Raised):
        problem = Odd("forward raised", str(out))
    elif not (isinstance(out, (tuple, list)) and len(out) == 2):
        problem = Odd("forward is wrong", f"it returned {describe(out)}, not a pair (probs, cache)")
    else:
        try:
            expect_array(REFERENCE["forward"](params, X)[0], out[0], what="its probs", input_dtype=X.dtype)
            return snapshot(call(ns, "backward", (params, out[1], labels)))
        except Mismatch as m:
            problem = Odd("forward is wrong", m.summary)
    probs, cache = REFERENCE["forward"](params, X)
    grads = snapshot(call(ns, "backward", (params, cache, labels)))
    try:
        expect_dict_of_arrays(REFERENCE["backward"](params, cache, labels), grads, input_dtype=X.dtype)
    except Mismatch:
        return problem
    return grads


def _forward_first(observed):
    if isinstance(observed, Odd):
        raise Mismatch("backward is checked through your forward, which is wrong: fix forward first",
                       [f"forward: {observed.text}" if observed.kind == "forward is wrong"
                        else f"forward raised {observed.text}",
                        "backward needs forward's cache, so it is judged with your own forward"])


def _backward_verdict(observed, expected, case):
    _forward_first(observed)
    dtype = case.make()[1].dtype
    expect_dict_of_arrays(expected, observed, what="grads", input_dtype=dtype)


def _loss_of(params, X, labels):
    return REFERENCE["cross_entropy"](REFERENCE["forward"](params, X)[0], labels)


def central_differences(params, X, labels, h=1e-5):
    """The gradient of the mean cross-entropy by central differences, entry by entry (float64)."""
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    X = np.asarray(X, dtype=np.float64)
    grads = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + h
            up = _loss_of(params, X, labels)
            value[idx] = old - h
            down = _loss_of(params, X, labels)
            value[idx] = old
            grad[idx] = (up - down) / (2 * h)
        grads[key] = grad
    return grads


def _numerical_verdict(observed, expected, case):
    _forward_first(observed)
    params, X, labels = case.make()
    numeric = central_differences(params, X, labels)
    try:
        expect_dict_of_arrays(numeric, observed, what="grads", rtol=1e-5, atol=1e-7)
    except Mismatch as m:
        raise Mismatch(m.summary, m.details + [
            "the expected values are central differences (h=1e-5) of the mean cross-entropy of this network: "
            "the loss itself says what its gradient is"]) from None


def _describe_backward(case):
    return f"forward(params, X), then backward(params, cache, labels) on \u00ab{case.name}\u00bb"


def _backward_cases():
    return [
        _net_case("one hidden layer", (4, 5, 3), 6, 21),
        _net_case("two hidden layers", (5, 7, 6, 4), 8, 22),
        _net_case("float32 network", (6, 8, 3), 5, 23, np.float32),
        _net_case("a single sample", (3, 4, 2), 1, 24),
    ]


def _backward_numeric_cases():
    return [
        _net_case("one hidden layer", (3, 4, 3), 5, 31),
        _net_case("two hidden layers", (4, 6, 5, 3), 4, 32),
        _net_case("three hidden layers", (3, 5, 4, 6, 2), 3, 33),
    ]


BACKWARD = [
    probe_check("backward", "matches_reference",
                "gradients of the mean cross-entropy: same keys, shapes and values as params (through your forward)",
                _backward_cases, _backward_probe, _backward_verdict, points=3, uses=("forward",),
                reference=True, describe_case=_describe_backward),
    probe_check("backward", "central_differences",
                "agrees with central differences of the loss, one to three hidden layers",
                _backward_numeric_cases, _backward_probe, _numerical_verdict, points=2, hidden=True,
                uses=("forward",), describe_case=_describe_backward),
]

# --- numerical_gradient ----------------------------------------------------------------------


def _fx_case(name: str, build, **kwargs) -> Case:
    """(f, x) built fresh for every call, f closing over that very x; x is writable. f is named
    plainly "f", so a learner's error reads "f() takes 0 positional arguments"."""

    def make():
        f, x = build()
        f.__name__ = f.__qualname__ = "f"
        return f, x

    return Case(name, make, kwargs, readonly=False)


def _cubes(shape, seed, lo=0.5, hi=2.0):
    def build():
        x = np.random.default_rng(seed).uniform(lo, hi, shape)
        return (lambda: float(np.sum(x ** 3))), x
    return build


def _quadratic(seed):
    def build():
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(4)
        a = rng.standard_normal((4, 4))
        c = rng.standard_normal(4)
        return (lambda: float(x @ a @ x + c @ x)), x
    return build


def _net_loss(sizes, n, seed, key, as_array=False):
    def build():
        params, X, labels = network(sizes, n, seed)
        x = params[key]
        if as_array:  # f returns a 0-d array, not a float
            return (lambda: np.asarray(_loss_of(params, X, labels))), x
        return (lambda: _loss_of(params, X, labels)), x
    return build


def _sines(shape, seed):
    def build():
        x = np.random.default_rng(seed).standard_normal(shape)
        return (lambda: np.sum(np.sin(x))), x
    return build


def _numgrad_probe(ns, case):
    args, kwargs = case.arguments()
    x = args[1]
    before = x.copy()
    got = call(ns, "numerical_gradient", args, kwargs)
    if isinstance(got, Raised):
        return got
    if x.tobytes() == before.tobytes():
        restored = "exactly"
    elif np.allclose(x, before, rtol=1e-9, atol=1e-12):
        restored = "almost"
    else:
        restored = "no"
    return {"grad": snapshot(got), "restored": restored}


def _numgrad_values(observed, expected, case):
    expect_array(expected["grad"], observed["grad"], what="the numerical gradient")


def _numgrad_restored(observed, expected, case):
    if observed["restored"] == "no":
        raise Mismatch("x was left changed: numerical_gradient must put every entry back after perturbing it",
                       ["f reads x, so a leftover +h or -h shifts every later evaluation (and the caller's weights)"])
    if observed["restored"] == "almost":
        raise Mismatch("x was restored only approximately: some entries differ in their last bits",
                       ["x + h - h is not always exactly x in floating point: save the entry before perturbing it "
                        "and write that saved value back"])


def _numgrad_cases():
    return [
        _fx_case("a quadratic f = x @ A @ x + c @ x, x of shape (4,)", _quadratic(41)),
        _fx_case("f = sum(x**3), x of shape (2, 3)", _cubes((2, 3), 42)),
        _fx_case("f = mean cross-entropy of a [4, 5, 3] network, x = its W1", _net_loss((4, 5, 3), 6, 43, "W1")),
    ]


def _restore_cases():
    return [
        _fx_case("f = sum(x**3), x of shape (3, 4) with awkward values", _cubes((3, 4), 44, 0.1, 3.0)),
        _fx_case("f = mean cross-entropy of a [3, 4, 2] network, x = its W2", _net_loss((3, 4, 2), 5, 45, "W2")),
    ]


def _central_cases():
    return [
        _fx_case("f = sum(x**3) with h = 1e-3: central differences are exact up to h**2", _cubes((5,), 46), h=1e-3),
        _fx_case("f = sum(x**3) with a large h = 0.1: the answer depends on h", _cubes((2, 2), 47), h=0.1),
    ]


def _shape_cases():
    return [
        _fx_case("f = sum(sin(x)), x of shape (2, 3, 2)", _sines((2, 3, 2), 48)),
        _fx_case("f returns a 0-d array; x = b1 of a [3, 4, 2] network", _net_loss((3, 4, 2), 4, 49, "b1", True)),
    ]


NUMERICAL_GRADIENT = [
    probe_check("numerical_gradient", "values", "central differences of f for each entry of x",
                _numgrad_cases, _numgrad_probe, _numgrad_values, points=2, reference=True),
    probe_check("numerical_gradient", "restores_x", "x is restored exactly (bit for bit) afterwards",
                _restore_cases, _numgrad_probe, _numgrad_restored),
    probe_check("numerical_gradient", "central_and_h", "uses central (not forward) differences with the given h",
                _central_cases, _numgrad_probe, _numgrad_values, reference=True),
    probe_check("numerical_gradient", "any_shape", "x of any shape, f returning a 0-d array",
                _shape_cases, _numgrad_probe, _numgrad_values, hidden=True, reference=True),
]

CHECKS = FORWARD + BACKWARD + NUMERICAL_GRADIENT


# --- issue 10, item 4: no argument changed (params entries, the cache); nothing kept between calls ---


def _writable_net(label, sizes, n, seed, dtype=np.float64) -> Case:
    name = f"{label}: layer sizes {list(sizes)}, {n} samples, {np.dtype(dtype).name}, writable arrays"
    return Case(name, lambda: network(sizes, n, seed, dtype), readonly=False)


def _promise_nets():
    return [_writable_net("one hidden layer", (4, 5, 3), 6, 91),
            _writable_net("two hidden layers", (5, 6, 4, 3), 7, 92)]


def _forward_arguments(ns, args, kwargs):
    return args[:2]


def _own_forward(ns, params, X):
    """The learner's (probs, cache), or None when forward is wrong here (its own checks say so)."""
    out = call(ns, "forward", (params, X))
    if isinstance(out, Raised) or not (isinstance(out, (tuple, list)) and len(out) == 2):
        return None
    try:
        expect_array(REFERENCE["forward"](params, X)[0], out[0], input_dtype=X.dtype)
    except Mismatch:
        return None
    return out


def _forward_for_backward(ns, params, X):
    """The learner's own (probs, cache), or the reference's when their forward is wrong here: as in
    backward's other checks, a mistake in forward costs forward's points, and an unwritten backward
    earns nothing."""
    return _own_forward(ns, params, X) or REFERENCE["forward"](params, X)


def _backward_arguments(ns, args, kwargs):
    """(params, cache, labels) with the cache of the learner's own forward (or the reference's)."""
    params, X, labels = args
    return params, _forward_for_backward(ns, params, X)[1], labels


def _forward_backward_interleaved(ns, cases):
    """backward on each network alone (right after its forward), then after both forwards."""
    nets = [c.arguments()[0] for c in cases]
    alone = []
    for params, X, labels in nets:
        out = _forward_for_backward(ns, params, X)
        alone.append(snapshot(call(ns, "backward", (params, out[1], labels))))
    nets = [c.arguments()[0] for c in cases]
    outs = [_forward_for_backward(ns, params, X) for params, X, _ in nets]
    interleaved = [snapshot(call(ns, "backward", (params, out[1], labels)))
                   for (params, _, labels), out in zip(nets, outs)]
    return alone, interleaved


PROMISES_05 = [
    unchanged_check("forward", "leaves_arguments", "params (every entry) and X are left exactly as they were",
                    _promise_nets, arguments=_forward_arguments, names=("params", "X"),
                    fix="read params and X, never assign into them: `Z = A @ W + b` makes new arrays, while "
                        "`+=`, `out=` or `params[key] = ...` change the caller's network"),
    unchanged_check("backward", "leaves_arguments", "params, the cache and labels are left exactly as they were",
                    _promise_nets, arguments=_backward_arguments, names=("params", "cache", "labels"),
                    fix="compute each gradient into a new array (`dZ = dA * (Z > 0)`, not `dA[Z <= 0] = 0` on "
                        "an array the cache holds); forward's cache must stay as forward left it",
                    uses=("forward",)),
    stateless_check("backward", "nothing_kept_between_calls",
                    "two networks' forwards, then their backwards: each gets its own gradients",
                    _promise_nets, _forward_backward_interleaved, uses=("forward",)),
]

CHECKS = CHECKS + PROMISES_05

# --- nothing kept between calls: forward and numerical_gradient too ---


def _same_shape_nets():
    return [_writable_net("one hidden layer", (4, 5, 3), 6, 93),
            _writable_net("another of the same shape", (4, 5, 3), 6, 94)]


def _two_cubes():
    return [_fx_case("f = sum(x ** 3), x of shape (3, 2)", _cubes((3, 2), 56)),
            _fx_case("the same f on another x of shape (3, 2)", _cubes((3, 2), 57))]


PROMISES_05_STATELESS = [
    nothing_kept("forward", _same_shape_nets, observe=_forward_probe,
                 title="two networks of one shape, each run twice in turn: the same probs each time"),
    nothing_kept("numerical_gradient", _two_cubes, observe=_numgrad_probe,
                 title="two points x, each differentiated twice in turn: the same gradient each time"),
]

CHECKS = CHECKS + PROMISES_05_STATELESS
