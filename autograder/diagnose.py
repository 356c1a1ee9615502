"""Diagnosis by relation: when no catalogued mistake reproduces a wrong answer, say what exact
relation the learner's answer bears to the expected one, in words the learner can check in their
code ("every entry is 4 times too small, and 4 is C, the number of classes").

Everything here is a pure function of plain data (arrays, numbers, tuples, dicts, strings): the
expected observation, the learner's observation and the inputs of the failing case, by parameter
name. No learner code is called, nothing is imported from a sandbox. The judge's hook is
`for_failure` (it replays the failing case with the *reference*, to get the expected observation
and the inputs) and `reconcile` (the cross-case rule: a relational hint is kept only where it
explains every failing check of the function).

A relation is named only when it holds exactly (to rounding) on the whole failing case; when two
different relations fit, both are said briefly; when more fit, none is. `explain` returns '' when
nothing fits. Switch the whole diagnosis off with BACKPROP_KIT_DIAGNOSE=0.
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
import itertools
import math
import numbers
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

PREFIX = "From the numbers: "
ENV = "BACKPROP_KIT_DIAGNOSE"
# sizes a learner may have written into their code for one input (MNIST's, common batch sizes)
FIXED = (10, 28, 32, 64, 100, 128, 256, 784)


def enabled() -> bool:
    """The relational diagnosis is on unless BACKPROP_KIT_DIAGNOSE is 0/false/off/no."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "off", "no")


@dataclass(frozen=True)
class Relation:
    """One exact relation: `key` identifies it independently of the case's numbers, `text` says it."""

    key: str
    text: str


@dataclass(frozen=True)
class Quantity:
    """A named number of the case (a size, an argument): symbol, value, and what it is."""

    symbol: str
    value: float
    what: str


# =============================================================================================
# the API


def explain(function: str, expected: Any, observed: Any, inputs: Mapping[str, Any] | None = None) -> str:
    """The relational hint for one failing case ('' when nothing fits, or too much does)."""
    found = relations(function, expected, observed, inputs or {})
    return phrase(found)


def phrase(found: list[Relation]) -> str:
    texts = list(dict.fromkeys(r.text for r in found))
    if len(texts) == 1:
        return PREFIX + texts[0]
    if len(texts) == 2:
        return PREFIX + _TWO + texts[0] + "; or " + texts[1]
    return ""


def relations(function: str, expected: Any, observed: Any, inputs: Mapping[str, Any]) -> list[Relation]:
    """Every exact relation between `observed` and `expected` on this case."""
    try:
        exp, obs, extra = _view(function, expected, observed, inputs)
        if exp is None:
            return []
        return _dedupe(_relate(exp, obs, _quantities(function, inputs), {**_known(function, inputs), **extra},
                               function, inputs))
    except Exception:  # a diagnosis must never break a verdict
        return []


def by_hand(function: str, expected: Any, observed: Any, inputs: Mapping[str, Any] | None = None) -> str:
    """When nothing fits: what to compare by hand ('' when the failure is not about values)."""
    exp, obs = _numeric_pair(expected, observed)
    if exp is None:
        return ""
    if isinstance(exp, np.ndarray) and exp.ndim:
        return (f"no simple relation to the expected values fits: run {function} on the case above and print "
                f"your result beside the expected one, entry by entry (np.set_printoptions(precision=4)), "
                f"starting from the entries listed; which entries are right tells which step went wrong")
    return (f"no simple relation to the expected value fits: compute {function} for this case by hand, step by "
            f"step, printing each intermediate array, and compare with your code's")


def reference_observation(replay: Callable, function: str, reference: Mapping[str, Callable]):
    """(expected, inputs): the failing case replayed with the reference (trusted code only), and the
    arguments the reference was called with, by parameter name (a copy taken before the call)."""
    seen: list[dict] = []
    target = reference[function]

    def recording(*args, **kwargs):
        if not seen:
            seen.append(_bind(target, copy.deepcopy(args), copy.deepcopy(kwargs)))
        return target(*args, **kwargs)

    expected = replay({**reference, function: recording})
    return expected, (seen[0] if seen else {})


def for_failure(failure, function: str, reference: Mapping[str, Callable]) -> str:
    """The hook for the judge: the relational hint for a Failure ('' when nothing fits or it is off)."""
    if not enabled() or failure.replay is None:
        return ""
    try:
        import warnings

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            expected, inputs = reference_observation(failure.replay, function, reference)
    except Exception:
        return ""
    return explain(function, expected, failure.observed, inputs) or by_hand(function, expected, failure.observed,
                                                                               inputs)


def is_relational(hint: str) -> bool:
    return hint.startswith(PREFIX)


def is_by_hand(hint: str) -> bool:
    """The advice given when no relation fits (not a diagnosis)."""
    return hint.startswith(("no simple relation", "no single relation"))


_TWO = "two explanations fit this case: "


def _parts(hint: str) -> dict[str, str]:
    """The explanations in a relational hint, by their words with the case's numbers blanked out."""
    body = hint[len(PREFIX):]
    texts = body[len(_TWO):].split("; or ") if body.startswith(_TWO) else [body]
    return {_shape_of(t): t for t in texts}


def reconcile(results: list) -> list:
    """The cross-case rule, on the results of one or more functions: an explanation stays only if it
    fits every failing check of its function (the same words, up to the numbers of each case; a check
    a catalogued bug explains is not counted either way); each
    check then shows the explanations all its function's failures share (one, or two said briefly).
    Where none is shared, the relational hints become the compare-by-hand advice."""
    out = list(results)
    by_function: dict[str, list[int]] = {}
    for i, r in enumerate(out):
        if not r.passed:
            by_function.setdefault(r.function, []).append(i)
    for function, idx in by_function.items():
        relational = [i for i in idx if is_relational(out[i].hint)]
        if not relational:
            continue
        # a check whose hint comes from a catalogued bug was not tested for relations: it neither
        # confirms nor contradicts one; a check with no hint, or with the compare-by-hand advice, contradicts
        tested = [i for i in idx if is_relational(out[i].hint) or not out[i].hint or is_by_hand(out[i].hint)]
        common = None
        if len(relational) == len(tested):
            for i in tested:
                keys = set(_parts(out[i].hint))
                common = keys if common is None else common & keys
        for i in relational:
            r = out[i]
            parts = _parts(r.hint)
            if common and len(common) <= 2:
                kept = [t for k, t in parts.items() if k in common]
                hint = PREFIX + (kept[0] if len(kept) == 1 else _TWO + "; or ".join(kept))
            else:
                hint = (f"no single relation to the expected values fits every failing check of {function}: "
                        f"print your result beside the expected one for the smallest case shown, entry by entry")
            if hint != r.hint:
                changes = {"hint": hint}
                if "message" in {f.name for f in dataclasses.fields(r)}:  # a Result that stores its text
                    changes["message"] = r.message.replace(r.hint, hint)
                out[i] = dataclasses.replace(r, **changes)
    return out


def _shape_of(hint: str) -> str:
    """A relational hint with this case's numbers blanked out (names like W1 or float32 kept)."""
    return re.sub(r"(?<![A-Za-z_\d])[-+]?\d[\d.,e+-]*", "#", hint)


# =============================================================================================
# what to compare


def _bind(fn, args, kwargs) -> dict:
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)
    except (TypeError, ValueError):
        return {f"arg{i}": a for i, a in enumerate(args)} | dict(kwargs)


def _view(function, expected, observed, inputs):
    """(expected part, observed part, extra known quantities) to relate, or (None, None, {})."""
    if function == "sgd_step" and isinstance(expected, dict) and isinstance(observed, dict):
        before = inputs.get("params")
        exp, obs = expected.get("returned"), observed.get("returned")
        if not (isinstance(before, dict) and isinstance(exp, dict) and isinstance(obs, dict)):
            return None, None, {}
        if set(obs) != set(exp):
            return exp, obs, {}
        try:
            steps_exp = {k: np.asarray(exp[k], float) - np.asarray(before[k], float) for k in exp}
            steps_obs = {k: np.asarray(obs[k], float) - np.asarray(before[k], float) for k in exp}
        except (TypeError, ValueError):
            return None, None, {}
        return _Steps(steps_exp), _Steps(steps_obs), {}
    if isinstance(expected, dict) and isinstance(observed, dict) and not _all_numeric(expected):
        # a dict of facts: relate its numeric entries, provided every other entry agrees
        for key in expected:
            if key in observed and not _numeric(expected[key]) and not _equal_plain(expected[key], observed[key]):
                return None, None, {}
        exp = _Facts({k: v for k, v in expected.items() if _numeric(v) and k in observed})
        obs = {k: observed[k] for k in exp}
        if len(exp) == 1:
            (k,) = exp
            return exp[k], obs[k], {}
        return (exp, obs, {}) if exp else (None, None, {})
    if isinstance(expected, tuple) and isinstance(observed, tuple) and len(expected) == len(observed) \
            and not _is_summary(expected):
        # warnings (tuples of strings) aside, relate the one numeric part that differs
        pairs = [(e, o) for e, o in zip(expected, observed) if not _equal_plain(e, o)
                 and not (_strings(e) and _strings(o))]
        if len(pairs) == 1 and _numeric(pairs[0][0]):
            return pairs[0][0], pairs[0][1], {}
        if function not in ("he_init", "init_params"):
            return None, None, {}
    return expected, observed, {}


class _Steps(dict):
    """The moves of an update (new - old per key): relations are said about the steps."""


class _Facts(dict):
    """The numeric facts of a probe (counts, lengths): relations are said without their internal names."""


def _strings(x) -> bool:
    return isinstance(x, tuple) and all(isinstance(v, str) for v in x)


def _numeric(x) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, numbers.Real):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    return False


def _all_numeric(d: dict) -> bool:
    return all(_numeric(v) for v in d.values())


def _equal_plain(a, b) -> bool:
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and bool(
                np.array_equal(a, b))
        if hasattr(a, "value") and hasattr(b, "value") and type(a) is type(b):
            return True  # display-only or approximate parts are not what a relation is about
        return bool(a == b)
    except Exception:
        return False


def _numeric_pair(expected, observed):
    if _numeric(expected) and _numeric(observed):
        return (np.asarray(expected, float), np.asarray(observed, float))
    if isinstance(expected, dict) and isinstance(observed, dict):
        for k in expected:
            if k in observed and _numeric(expected[k]) and _numeric(observed[k]) and not _equal_plain(
                    expected[k], observed[k]):
                return np.asarray(expected[k], float), np.asarray(observed[k], float)
    if isinstance(expected, tuple) and isinstance(observed, tuple):
        for e, o in zip(expected, observed):
            if _numeric(e) and _numeric(o):
                return np.asarray(e, float), np.asarray(o, float)
    return None, None


def _is_summary(t) -> bool:
    """The summary the initialiser checks observe: (shape, mean / He std, variance / (2 / fan_in))."""
    return (isinstance(t, tuple) and len(t) == 3 and isinstance(t[0], tuple)
            and all(hasattr(x, "value") for x in t[1:]))


# =============================================================================================
# named quantities of a case

_ROWS = {"logits": "N, the number of samples (len(logits))", "probs": "N, the number of samples (len(probs))",
         "scores": "N, the number of samples (len(scores))", "labels": "N, the number of samples (len(labels))",
         "X": "N, the number of samples (len(X))", "images": "N, the number of images (len(images))",
         "z": "the number of rows of z (len(z))"}
_COLS = {"logits": "C, the number of classes (logits.shape[1])", "probs": "C, the number of classes (probs.shape[1])",
         "scores": "C, the number of classes (scores.shape[1])", "X": "D, the number of features (X.shape[1])",
         "z": "the number of columns of z (z.shape[-1])"}
_SCALARS = {"lr": "lr, the learning rate", "h": "h, the step", "eps": "eps", "fan_in": "fan_in", "fan_out": "fan_out",
            "batch_size": "batch_size", "num_classes": "num_classes"}


def _quantities(function: str, inputs: Mapping[str, Any]) -> list[Quantity]:
    out: dict[str, Quantity] = {}

    def add(symbol, value, what):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return
        if value > 0 and value != 1 and symbol not in out:
            out[symbol] = Quantity(symbol, value, what)

    for name, value in inputs.items():
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.dtype.kind in "biuf":
            rows = _ROWS.get(name)
            if rows:
                add(rows.split(",")[0] if name != "z" else f"len({name})", value.shape[0], rows)
            if value.ndim >= 2:
                cols = _COLS.get(name)
                if cols:
                    add(cols.split(",")[0] if name != "z" else f"{name}.shape[-1]", value.shape[-1], cols)
        elif isinstance(value, (numbers.Real,)) and not isinstance(value, bool) and name in _SCALARS:
            add(name, value, _SCALARS[name])
    if "N" in out and "C" in out:
        add("N*C", out["N"].value * out["C"].value, "N*C, the number of entries (N samples times C classes, "
                                                    "the .size of the array)")
    if function == "backward" and isinstance(inputs.get("labels"), np.ndarray):
        add("N", len(inputs["labels"]), "N, the number of samples (len(labels))")
    return list(out.values())


def _known(function: str, inputs: Mapping[str, Any]) -> dict[str, tuple[np.ndarray, str]]:
    """Arrays of the case a wrong answer may have gained or lost: {symbol: (array, what it is)}."""
    known: dict[str, tuple[np.ndarray, str]] = {}
    labels = inputs.get("labels")
    width = None
    for name in ("logits", "probs", "scores"):
        if isinstance(inputs.get(name), np.ndarray) and inputs[name].ndim == 2:
            width = inputs[name].shape[1]
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.ndim == 1 and width:
        if labels.size and labels.min() >= 0 and labels.max() < width:
            known["one_hot(labels)"] = (np.eye(width)[labels], "the one-hot labels")
    for name, value in inputs.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            known[name] = (value.astype(float), f"the input {name}")
        elif isinstance(value, dict):
            for key, entry in value.items():
                if isinstance(entry, np.ndarray) and entry.dtype.kind == "f":
                    known[f"{name}[{key!r}]"] = (entry.astype(float), f"{name}[{key!r}]")
    z = inputs.get("z")
    if function in ("relu_derivative", "sigmoid_derivative", "sigmoid") and isinstance(z, np.ndarray) \
            and z.dtype.kind == "f":
        zf = z.astype(float)
        with np.errstate(all="ignore"):
            s = 0.5 * (1 + np.tanh(0.5 * zf))
        known["relu(z)"] = (np.maximum(zf, 0), "the ReLU of z, not its slope")
        known["sigmoid(z)"] = (s, "the sigmoid of z")
    if function in ("softmax_cross_entropy_grad",) and isinstance(inputs.get("logits"), np.ndarray):
        z = inputs["logits"].astype(float)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        known["softmax(logits)"] = (e / e.sum(axis=-1, keepdims=True), "the probabilities softmax(logits)")
    return known


# =============================================================================================
# relating two answers


def _relate(exp, obs, qs: list[Quantity], known, function, inputs) -> list[Relation]:
    if isinstance(exp, dict) and isinstance(obs, dict):
        return _relate_dicts(exp, obs, qs, known, function, inputs)
    if _is_summary(exp) and _is_summary(obs):
        return _relate_statistics(exp, obs, inputs.get("fan_in"), "the weights")
    if function == "init_params" and isinstance(exp, tuple) and isinstance(obs, tuple):
        return _relate_layers(exp, obs)
    if not (_numeric(exp) and _numeric(obs)):
        return []
    e = np.asarray(exp)
    o = np.asarray(obs)
    if e.shape != o.shape:
        return _relate_shapes(e, o, qs)
    if e.dtype.kind in "iu" and o.dtype.kind in "iu":
        return _relate_integers(e, o)
    e, o = e.astype(float), o.astype(float)
    if not (np.isfinite(e).all() and np.isfinite(o).all()):
        return []
    rtol = 1e-4 if (np.asarray(exp).dtype == np.float32 or np.asarray(obs).dtype == np.float32) else 1e-6
    if not np.any(o) and np.any(e):
        return [Relation("zero", "every entry is 0 where the expected values are not: is the result computed at "
                                 "all (an array of zeros never filled in, a step never taken, a multiplication by 0)?")]
    found = _ratio(e, o, qs, rtol)
    found += _arrangement(e, o, rtol)
    if not found:
        found += _complement(e, o, rtol)
    if not found:
        found += _equals_known(o, known, rtol)
    if not found:
        found += _difference(e, o, qs, known, rtol)
    if not found:
        found += _other_order(function, o, inputs, rtol)
    return found


def _close(a, b, rtol) -> bool:
    scale = max(float(np.max(np.abs(a))) if np.size(a) else 0.0, float(np.max(np.abs(b))) if np.size(b) else 0.0)
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * 1e-3 * max(scale, 1e-300)))


def _times(r: float) -> str:
    """'4 times too large' / '4 times too small' for a ratio observed / expected."""
    return f"{_n(r)} times too large" if r > 1 else f"{_n(1 / r)} times too small"


def _factors(qs: list[Quantity]) -> list[tuple[float, str, str]]:
    """(ratio observed / expected, key, words) for every named factor an answer may be off by."""
    out = []
    for q in qs:
        v = q.value
        size = v > 1 and float(v).is_integer()
        out.append((1 / v, f"/{q.symbol}",
                    f"{_times(1 / v)}, and {_n(v)} is {q.what}: your result is divided by {q.symbol} once too "
                    f"often, or a multiplication by {q.symbol} is missing" + (" (a mean where a sum belongs?)"
                                                                               if size else "")))
        out.append((v, f"*{q.symbol}",
                    f"{_times(v)}, and {_n(v)} is {q.what}: your result is multiplied by {q.symbol} once too "
                    f"often, or a division by {q.symbol} is missing" + (" (a sum where a mean belongs?)"
                                                                         if size else "")))
    sizes = [q for q in qs if q.value > 1 and float(q.value).is_integer() and "*" not in q.symbol]
    for a, b in itertools.permutations(sizes, 2):
        if a.value != b.value:
            out.append((a.value / b.value, f"{b.symbol}-for-{a.symbol}",
                        f"what dividing by {b.symbol} = {_n(b.value)} instead of by {a.symbol} = {_n(a.value)} gives: "
                        f"is {b.what} used where {a.symbol} belongs?"))
    for q in sizes:
        if q.symbol not in ("N", "C", "D", "batch_size", "num_classes") and not q.symbol.startswith("len("):
            continue
        for k in FIXED:
            if k != q.value:
                out.append((q.value / k, f"{q.symbol}/fixed",
                            f"what dividing by {k} instead of by {q.symbol} = {_n(q.value)} gives ({q.what}): is "
                            f"the number {k} written in your code where {q.symbol} belongs? It must follow the input"))
    out.append((2.0, "2", "twice as large as expected: is something counted twice, or a factor 1/2 missing?"))
    out.append((0.5, "1/2", "half of what is expected: is something divided by 2 that should not be, or a "
                            "term counted once where it belongs twice?"))
    out.append((1 / math.log(10), "log10", f"the expected values divided by ln(10) = {_n(math.log(10))}: that is "
                                           f"np.log10 where the natural logarithm np.log belongs"))
    out.append((1 / math.log(2), "log2", f"the expected values divided by ln(2) = {_n(math.log(2))}: that is "
                                         f"np.log2 where the natural logarithm np.log belongs"))
    out.append((100.0, "100", "100 times the expected value: a percentage where a fraction belongs?"))
    out.append((255.0, "255", "255 times the expected value: is a division by 255 missing?"))
    out.append((255 / 256, "255/256", "the expected values times 255/256: dividing by 256 where 255 belongs?"))
    return out


def _ratio(e, o, qs, rtol) -> list[Relation]:
    nonzero = np.abs(e) > 1e-12 * max(float(np.max(np.abs(e))), 1e-300)
    if not nonzero.any() or (e.size > 1 and nonzero.sum() < 2):
        return []
    r = float(np.median(o[nonzero] / e[nonzero]))
    if not np.isfinite(r) or r == 0 or abs(r - 1) < 10 * rtol or not _close(o, r * e, rtol):
        return []
    if abs(r + 1) < 10 * rtol:
        return [Relation("sign", "every entry has the right size but the wrong sign: look for a subtraction the "
                                 "wrong way round (a - b where b - a belongs) or a missing minus sign")]
    found = []
    sign = -1.0 if r < 0 else 1.0
    factors = _factors(qs)
    # tiers: a named quantity of the case; one size used for another or a fixed size; a generic constant
    tiers = [[f for f in factors if f[1][0] in "*/"],
             [f for f in factors if "-for-" in f[1] or f[1].endswith("/fixed")],
             [f for f in factors if f[1] in ("2", "1/2", "log10", "log2", "100", "255", "255/256")]]
    matching = next((m for m in ([f for f in tier if abs(abs(r) - f[0]) <= 10 * rtol * f[0]] for tier in tiers)
                     if m), [])
    for _value, key, words in matching:
        generic = key in ("log10", "log2", "100", "255", "255/256", "2", "1/2")
        if sign < 0:
            lead = "the wrong sign, and your result is " if generic else "every entry has the wrong sign and is "
        else:
            lead = "your result is " if generic else "every entry is "
        found.append(Relation(("-" if sign < 0 else "") + key, lead + words))
    return found


def _arrangement(e, o, rtol) -> list[Relation]:
    """The right numbers in the wrong places: a transpose, an axis swap, a shift by one."""
    found = []
    if e.ndim >= 2 and not _close(e, o, rtol):
        for perm in itertools.permutations(range(e.ndim)):
            if perm == tuple(range(e.ndim)) or e.transpose(perm).shape != o.shape:
                continue
            if _close(e.transpose(perm), o, rtol) and not _close(e, e.transpose(perm), rtol):
                if e.ndim == 2:
                    found.append(Relation("transpose", "your result is exactly the transpose of the expected one: "
                                                       "rows and columns are swapped (a .T too many or too few, or "
                                                       "the wrong axis in a sum or max)"))
                else:
                    found.append(Relation(f"axes{perm}", f"your result holds the expected numbers with the axes in "
                                                         f"the order {perm}: check which axis each step works on"))
                break
    for axis in range(e.ndim):
        n = e.shape[axis]
        if n < 3:
            continue
        head = [slice(None)] * e.ndim
        tail = [slice(None)] * e.ndim
        head[axis], tail[axis] = slice(1, None), slice(None, -1)
        for a, b, way in ((o[tuple(head)], e[tuple(tail)], "later"), (o[tuple(tail)], e[tuple(head)], "earlier")):
            if _close(a, b, rtol) and not _close(e[tuple(head)], e[tuple(tail)], rtol) and np.ptp(b) > 0:
                where = "" if e.ndim == 1 else f" along axis {axis}"
                found.append(Relation(f"shift{axis}{way}",
                                      f"your entries are the expected ones moved one place {way}{where} (entry i "
                                      f"holds what entry i{'-' if way == 'later' else '+'}1 should): check an index, "
                                      f"a range or a slice that starts or stops one off"))
    return found


def _complement(e, o, rtol) -> list[Relation]:
    """observed = 1 - expected: the mirror image (a sign inside an exp, p where 1 - p belongs)."""
    if e.size >= 2 and np.ptp(e) > 0 and _close(o, 1.0 - e, rtol):
        return [Relation("one-minus", "your result is exactly 1 minus the expected one: a mirror image, e.g. "
                                      "exp(z) where exp(-z) belongs, or p where 1 - p belongs")]
    return []


def _equals_known(o, known, rtol) -> list[Relation]:
    """observed = s * K for a known array K of the case: the answer is some other quantity."""
    found = []
    for symbol, (K, what) in known.items():
        try:
            K = np.broadcast_to(K, o.shape).astype(float)
        except ValueError:
            continue
        if np.count_nonzero(K) >= 1 and _close(o, K, rtol):
            found.append(Relation(f"is:{symbol}", f"your result is exactly {symbol} ({what}) itself: a step of the "
                                                  f"formula is missing after it"))
    return found


def _difference(e, o, qs, known, rtol) -> list[Relation]:
    """observed = expected + s * K for a known array K of the case and a named factor s."""
    d = o - e
    if np.count_nonzero(np.abs(d) > 0) < 2:
        return []
    scales = [(1.0, "", "")] + [(1 / q.value, f"/ {q.symbol}", q.what) for q in qs] + \
             [(q.value, f"* {q.symbol}", q.what) for q in qs]
    found = []
    for symbol, (K, what) in known.items():
        try:
            K = np.broadcast_to(K, e.shape).astype(float)
        except ValueError:
            continue
        if np.count_nonzero(K) < 2:
            continue
        s = float(np.sum(d * K) / np.sum(K * K))
        if s == 0 or not _close(d, s * K, rtol):
            continue
        for value, tail, qwhat in scales:
            for sign, word in ((1, "plus"), (-1, "minus")):
                if abs(s - sign * value) <= 10 * rtol * value:
                    term = f"{symbol} {tail}".strip()
                    note = f" ({qwhat})" if qwhat else ""
                    found.append(Relation(f"{word}:{symbol}{tail}",
                                          f"your result is the expected one {word} {term}{note}, {what}: check the "
                                          f"term with {symbol} in your formula (is it missing, added twice, or added "
                                          f"where it should be subtracted?)"))
    return found


def _other_order(function, o, inputs, rtol) -> list[Relation]:
    """The loss computed with the clip, the log and the mean in another order."""
    if function != "cross_entropy" or o.ndim != 0:
        return []
    probs, labels, eps = inputs.get("probs"), inputs.get("labels"), inputs.get("eps", 1e-12)
    if not (isinstance(probs, np.ndarray) and isinstance(labels, np.ndarray)):
        return []
    p = probs.astype(float)[np.arange(len(probs)), labels]
    with np.errstate(all="ignore"):
        candidates = [
            (np.mean(np.clip(-np.log(p), eps, 1.0)), "log-then-clip",
             "the log was taken first and its result clipped to [eps, 1]: clip the probabilities to [eps, 1] "
             "first, then take -log (a loss per sample can be far above 1)"),
            (-np.log(np.clip(np.mean(p), eps, 1.0)), "log-of-mean",
             "it is -log of the MEAN probability: take -log of each sample's probability first, then the mean"),
            (np.clip(-np.mean(np.log(np.clip(p, eps, 1.0))), eps, 1.0), "loss-clipped",
             "the loss itself was clipped to [eps, 1]: clip the probabilities, not the loss"),
            (-np.mean(np.log(np.clip(p, 0.0, 1.0) + 0.0)) if np.all(p > 0) else np.inf, "no-clip",
             "the probabilities were not clipped at eps before the log"),
        ]
    found = []
    for value, key, words in candidates:
        if np.isfinite(value) and abs(float(o) - value) <= rtol * max(abs(value), 1e-12):
            found.append(Relation(key, "your loss equals the expected computation done in another order: " + words))
    return found


def _relate_integers(e, o) -> list[Relation]:
    d = o.astype(np.int64) - e.astype(np.int64)
    if e.size and np.all(d == d.flat[0]) and d.flat[0] in (1, -1):
        more = "more" if d.flat[0] == 1 else "less"
        return [Relation(f"int{d.flat[0]:+d}", f"every value is exactly 1 {more} than expected: a count, a "
                                                f"range or an index that is one off (indices start at 0, a range "
                                                f"stops before its end)")]
    return []


def _relate_shapes(e, o, qs) -> list[Relation]:
    if e.ndim == 0 and o.ndim == 1 and o.size > 1 and np.isfinite(o).all():
        for how, value in (("mean", o.mean()), ("sum", o.sum())):
            if abs(value - float(e)) <= 1e-6 * max(abs(float(e)), 1e-12):
                return [Relation(f"{how}-of-values", f"your result holds one value per sample, and their {how} is "
                                                     f"exactly the expected number: return that single number, "
                                                     f"np.{how}(...)")]
        return []
    if o.size == e.size and o.size > 1 and e.shape != o.shape and np.squeeze(o).shape == np.squeeze(e).shape:
        if np.allclose(np.reshape(o, e.shape), e, rtol=1e-6, atol=1e-12):
            extra = o.ndim > e.ndim
            how = ("an extra axis of length 1 (keepdims=True, a [None], a (1, n) array?)" if extra else
                   "an axis of length 1 went missing (a reduction without keepdims=True, a squeeze?)")
            return [Relation("axis-of-one", f"your values are right, but the shape is {o.shape} where {e.shape} is "
                                            f"expected: {how}")]
    if o.ndim == e.ndim == 2 and o.shape == e.shape[::-1] and np.allclose(o, e.T, rtol=1e-6, atol=1e-12):
        return [Relation("transpose", "your result is exactly the transpose of the expected one: rows and columns "
                                      "are swapped (a .T too many or too few, or the sizes in the wrong order)")]
    if e.ndim != o.ndim:
        return []
    diff = [i for i in range(e.ndim) if e.shape[i] != o.shape[i]]
    if len(diff) != 1:
        return []
    i = diff[0]
    got = o.shape[i]
    if got in FIXED:
        return [Relation(f"fixed-shape{i}", f"axis {i} of your result has length {got} where this input needs "
                                            f"{e.shape[i]}: is {got} written into your code? Sizes must come from "
                                            f"the input (e.g. len(...) or .shape)")]
    if abs(got - e.shape[i]) == 1:
        return [Relation(f"shape-off-by-one{i}", f"axis {i} of your result has length {got}, one "
                                                 f"{'more' if got > e.shape[i] else 'less'} than the {e.shape[i]} "
                                                 f"expected: check a range or a slice bound")]
    return []


def _relate_dicts(exp, obs, qs, known, function, inputs) -> list[Relation]:
    missing = [k for k in exp if k not in obs]
    extra = [k for k in obs if k not in exp]
    if missing or extra:
        return _relate_keys(exp, obs, missing, extra)
    groups: dict[str, list] = {}
    texts: dict[str, str] = {}
    wrong = []
    for key in exp:
        if _equal_plain(exp[key], obs[key]) or (_numeric(exp[key]) and _numeric(obs[key]) and np.shape(
                exp[key]) == np.shape(obs[key]) and _close(np.asarray(obs[key], float), np.asarray(exp[key], float),
                                                           1e-6)):
            continue
        wrong.append(key)
        found = _relate(exp[key], obs[key], qs, known, function, inputs)
        for r in _dedupe(found):
            groups.setdefault(r.key, []).append(key)
            texts[r.key] = r.text
    if not wrong:
        return []
    whole = [k for k, keys in groups.items() if keys == wrong]
    out = []
    for k in whole:
        names = ", ".join(repr(x) for x in wrong)
        if isinstance(exp, _Facts):
            lead = ""
        elif len(wrong) == len(exp):
            lead = f"in all of {names}: " if len(exp) > 1 else ""
        else:
            right = ", ".join(repr(x) for x in exp if x not in wrong)
            rest_verb = "are" if len(exp) - len(wrong) > 1 else "is"
            lead = f"only {names} {'are' if len(wrong) > 1 else 'is'} wrong ({right} {rest_verb} right): "
        if isinstance(exp, _Steps):
            lead = ("in the step of each of " + lead[len("in all of "):]) if lead.startswith("in all of ") else (
                lead or "in its step: ")
        out.append(Relation(k, lead + texts[k]))
    return out


def _relate_keys(exp, obs, missing, extra) -> list[Relation]:
    def name(k):
        return re.sub(r"\d+", "", str(k)), [int(x) for x in re.findall(r"\d+", str(k))]

    words = []
    if missing and len(missing) == len(extra):
        renamed = []
        for m, x in zip(sorted(missing, key=str), sorted(extra, key=str)):
            renamed.append((m, x))
        if all(str(x).lower() == "d" + str(m).lower() or str(x) == f"grad_{m}" for m, x in renamed):
            return [Relation("keys:prefixed", f"the keys are {_keys(extra)} where {_keys(missing)} are expected: "
                                              f"use exactly the keys of params, without a prefix")]
        def moved(k, by):
            return re.sub(r"\d+", lambda m: str(int(m.group()) + by), str(k))

        for s in (1, -1):
            if {moved(k, -s) for k in obs} == {str(k) for k in exp}:
                low = min(int(x) for k in obs for x in re.findall(r"\d+", str(k)))
                first = [k for k in obs if re.findall(r"\d+", str(k)) == [str(low)]]
                return [Relation(f"keys:shift{s:+d}",
                                 f"the key numbers are one {'higher' if s > 0 else 'lower'} than expected (your "
                                 f"first layer is {_keys(first)}): layers count from 1, so the keys run W1, b1, ... "
                                 f"up to the last layer")]
    if missing:
        words.append(f"{_keys(missing)} {'is' if len(missing) == 1 else 'are'} missing")
    if extra:
        words.append(f"{_keys(extra)} {'was' if len(extra) == 1 else 'were'} not expected")
    if missing and not extra:
        return [Relation("keys:missing", "your dict has every expected key but " + _keys(missing)
                         + ": check the loop that fills it, does it reach every layer (range bounds)?")]
    if extra and not missing:
        return [Relation("keys:extra", "your dict has every expected key and also " + _keys(extra)
                         + ": keep only the keys asked for")]
    return [Relation("keys:other", "; ".join(words) + ": the keys must be exactly " + _keys(list(exp)))]


def _keys(keys) -> str:
    return ", ".join(repr(k) for k in keys)


def _relate_statistics(exp, obs, fan_in, what) -> list[Relation]:
    """Random weights: the spread (variance ratio) and centre off by a named factor."""
    if exp[0] != obs[0]:
        return []
    var_ratio = float(obs[2].value) / float(exp[2].value)
    mean = float(obs[1].value)
    found = []
    if abs(mean) > 0.3:
        found.append(Relation("centre", f"{what} are centred on {_n(mean)} He standard deviations instead of 0: "
                                        f"a draw from [0, a) (rng.random, rng.uniform(0, a)) is all positive; draw "
                                        f"from a range symmetric around 0"))
        return found
    if not np.isfinite(var_ratio) or var_ratio <= 0 or abs(var_ratio - 1) < 0.1:
        return []
    fan_in = float(fan_in) if isinstance(fan_in, numbers.Real) else None
    candidates = [(1 / 3, "bounds", "a uniform draw on [-a, a] has variance a**2 / 3, so a = sqrt(2 / fan_in) gives a "
                                    "third of the He variance: for He uniform the bound is a = sqrt(6 / fan_in)"),
                  (1 / 2, "half", "the 2 is missing: the He variance is 2 / fan_in, not 1 / fan_in"),
                  (2.0, "double", "the variance is twice 2 / fan_in: is the 2 applied twice (4 / fan_in)?"),
                  (3.0, "bounds3", "a uniform bound of sqrt(6 / fan_in) is right for rng.uniform(-a, a); a normal "
                                   "draw is scaled by sqrt(2 / fan_in)")]
    shape = exp[0]
    if len(shape) == 2 and all(isinstance(x, numbers.Integral) for x in shape):
        fan_in, fan_out = float(shape[0]), float(shape[1])
        if fan_in != fan_out:
            candidates += [(fan_in / fan_out, "fan_out", f"that is 2 / fan_out = 2 / {_n(fan_out)}: the variance "
                                                         f"uses fan_out where fan_in = {_n(fan_in)} belongs"),
                           (fan_in / (fan_in + fan_out), "xavier", "that is 2 / (fan_in + fan_out), Xavier/Glorot's "
                                                                   "variance: He uses 2 / fan_in")]
    if fan_in:
        candidates += [(fan_in / 2, "unscaled", f"the variance is fan_in / 2 = {_n(fan_in / 2)} times too large: "
                                                f"the draw is not scaled by sqrt(2 / fan_in)"),
                       (fan_in / 6, "unscaled-uniform",
                        f"the variance is fan_in / 6 = {_n(fan_in / 6)} times too large: "
                        f"a uniform draw on [-1, 1] is not scaled to the He bound sqrt(6 / fan_in)"),
                       (2 / fan_in, "squared", "2 / fan_in is used as the standard deviation, but it is the "
                                               "variance: scale a standard normal draw by np.sqrt(2 / fan_in)")]
    for value, key, words in candidates:
        if abs(var_ratio / value - 1) <= 0.12:
            factor = math.sqrt(var_ratio)
            found.append(Relation(f"spread:{key}", f"the spread of {what} is {_n(factor)} times the He spread "
                                                   f"(variance {_n(var_ratio)} times 2 / fan_in): {words}"))
    return found


def _relate_layers(exp, obs) -> list[Relation]:
    """init_params' per-key summaries: the same statistic off in every weight matrix."""
    if [e[0] for e in exp] != [o[0] for o in obs]:
        ek = {e[0]: None for e in exp if isinstance(e, tuple) and e}
        ok = {o[0]: None for o in obs if isinstance(o, tuple) and o}
        if ek and ok and set(ek) != set(ok):
            return _relate_keys(ek, ok, [k for k in ek if k not in ok], [k for k in ok if k not in ek])
        return []
    found: dict[str, list] = {}
    texts = {}
    wrong = []
    for e, o in zip(exp, obs):
        if len(e) == 2 and len(o) == 2 and _is_summary(e[1]) and _is_summary(o[1]):
            if abs(o[1][2].value / e[1][2].value - 1) > 0.1 or abs(o[1][1].value) > 0.3:
                wrong.append(e[0])
                fan_in = e[1][0][0] if e[1][0] else None
                for r in _relate_statistics(e[1], o[1], fan_in, f"the weights in params['{e[0]}']"):
                    found.setdefault(r.key, []).append(e[0])
                    texts[r.key] = r.text
    if wrong and len(found) == 1:
        (key, keys), = found.items()
        if keys == wrong:
            return [Relation(key, texts[key])]
    return []


def _dedupe(found: Iterable[Relation]) -> list[Relation]:
    seen, out = set(), []
    for r in found:
        if r.key not in seen:
            seen.add(r.key)
            out.append(r)
    return out


def _n(x: float) -> str:
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"
