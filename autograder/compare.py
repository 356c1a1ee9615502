"""The comparison ladder: kind, shape, dtype, finiteness, then values, stopping at the first rung
that fails so the message is about the real problem. Correct-but-different answers pass: a NumPy
scalar for a float, 0 for 0.0, float64 from float32 input, a list where a generator was asked."""
from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograder.sandbox.wire import Opaque

MAX_SHOWN = 3


class Mismatch(Exception):
    """Raised by a comparison: a one-line summary and a few lines of detail."""

    def __init__(self, summary: str, details: list[str] | None = None):
        super().__init__(summary)
        self.summary = summary
        self.details = list(details or [])


@dataclass(frozen=True)
class Raised:
    """What a call observed when it raised instead of returning (comparable across namespaces)."""

    type_name: str
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.type_name}: {self.text}" if self.text else self.type_name


# ---------------------------------------------------------------------------------------------
# describing values


def fmt(x, digits: int = 4) -> str:
    """A number as a learner would want to read it: a few significant digits."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, numbers.Real):
        return f"{float(x):.{digits}g}"
    return repr(x)


def fmt_pair(expected, got) -> tuple[str, str]:
    """Two numbers with just enough digits (4 or more) to show that they differ."""
    for digits in (4, 6, 8, 12, 17):
        a, b = fmt(expected, digits), fmt(got, digits)
        if a != b:
            return a, b
    return a, b


def verb(what: str, singular: str, plural: str) -> str:
    """'the pixels have', 'the result has': the verb that agrees with `what`."""
    head = what.split(" (")[0].strip()
    last = head.split()[-1] if head.split() else head
    many = last.endswith("s") and "[" not in last and last not in ("loss", "accuracy", "bias")
    return f"{what} {plural if many else singular}"


def describe(value) -> str:
    """A short description of any value: its kind, dtype and shape, never the whole thing."""
    if isinstance(value, Raised):
        return f"an exception ({value})"
    if value is None:
        return "None"
    if isinstance(value, Opaque):  # a learner object kept in the sandbox: described by its type
        return f"a {value.type_name}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"a 0-d {value.dtype} array ({fmt(value.item())})"
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (bool, np.bool_)):
        return f"a boolean ({value})"
    if isinstance(value, np.generic):
        return f"a NumPy {value.dtype} scalar ({fmt(value)})"
    if isinstance(value, numbers.Number):
        return f"a Python {type(value).__name__} ({fmt(value)})"
    if isinstance(value, dict):
        keys = ", ".join(map(str, list(value)[:8]))
        return f"a dict with keys [{keys}]"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def describe_input(value) -> str:
    """An input argument as the feedback shows it: arrays by dtype and shape, small things in full."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            text = np.array2string(value, precision=4, separator=", ", max_line_width=10**6)
            return f"{value.dtype} array " + text.replace("\n", "")
        return f"{value.dtype} array of shape {value.shape}"
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {describe_input(v)}" for k, v in list(value.items())[:6])
        return "{" + inner + "}"
    if isinstance(value, np.random.Generator):
        return "a numpy Generator"
    if callable(value):
        return f"a function {getattr(value, '__name__', '')}".strip()
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"a {type(value).__name__} of length {len(value)}"
    return repr(value)


# ---------------------------------------------------------------------------------------------
# tolerances


def tolerance(*dtypes) -> tuple[float, float]:
    """(rtol, atol) fitted to the least precise floating dtype involved."""
    lowest = 64
    for dt in dtypes:
        dt = np.dtype(dt)
        if dt.kind == "f":
            lowest = min(lowest, dt.itemsize * 8)
    if lowest <= 16:
        return 1e-2, 1e-3
    if lowest <= 32:
        return 1e-4, 1e-6
    return 1e-6, 1e-9


# ---------------------------------------------------------------------------------------------
# the ladder


def is_number(x) -> bool:
    return (
        isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))
    ) or (isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf")


def expect_number(expected: float, actual, *, what: str = "the result", rtol=1e-6, atol=1e-9):
    """A single real number close to `expected`."""
    if isinstance(actual, Raised):
        raise Mismatch(f"{what} raised {actual}")
    if not is_number(actual):
        hint = ""
        if isinstance(actual, np.ndarray) and actual.size == 1:
            hint = " (it has one element: return it as a number, e.g. with float(...) or .item())"
        raise Mismatch(f"{what} should be a single number, but it is {describe(actual)}{hint}")
    value = float(actual)
    if not np.isfinite(value) and np.isfinite(expected):
        raise Mismatch(f"{verb(what, 'is', 'are')} {fmt(value)}, but it should be finite ({fmt(expected)})")
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise Mismatch(
            f"{verb(what, 'is', 'are')} wrong",
            ["expected {}, got {} (tolerance rtol={:g}, atol={:g})".format(*fmt_pair(expected, value), rtol, atol)],
        )


def expect_array(
    expected: np.ndarray,
    actual,
    *,
    what: str = "the result",
    rtol: float | None = None,
    atol: float | None = None,
    input_dtype=None,
    integer: bool = False,
):
    """An array of the expected shape, a floating dtype (integer if `integer`), finite where the
    expected is finite, and close in value."""
    expected = np.asarray(expected)
    if isinstance(actual, Raised):
        raise Mismatch(f"{what} raised {actual}")
    if not isinstance(actual, np.ndarray):
        kind = describe(actual)
        raise Mismatch(
            f"{what} should be a NumPy array of shape {expected.shape}, but it is {kind}",
            ["wrap it with np.asarray(...) or build it with NumPy operations"]
            if isinstance(actual, (list, tuple))
            else [],
        )
    if actual.shape != expected.shape:
        raise Mismatch(
            f"{verb(what, 'has', 'have')} shape {actual.shape}, expected {expected.shape}",
            _shape_hint(expected.shape, actual.shape),
        )
    kind = actual.dtype.kind
    if integer:
        if kind not in "iu":
            raise Mismatch(f"{what} should hold integers, but its dtype is {actual.dtype}")
        if not np.array_equal(actual, expected):
            raise Mismatch(f"{verb(what, 'has', 'have')} wrong values", _differences(expected, actual, exact=True))
        return
    if kind == "b":
        raise Mismatch(
            f"{verb(what, 'holds', 'hold')} booleans (dtype bool); it should hold floating-point numbers",
            ["convert it, e.g. `(z > 0).astype(z.dtype)`"],
        )
    if kind != "f":
        raise Mismatch(
            f"{verb(what, 'has', 'have')} dtype {actual.dtype}; it should be floating point (float32 or float64)",
            ["integer results lose the fractions: compute in floating point, e.g. `x.astype(np.float64)`"]
            if kind in "iu"
            else [],
        )
    bad = ~np.isfinite(actual) & np.isfinite(expected)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise Mismatch(
            f"{verb(what, 'contains', 'contain')} {int(bad.sum())} non-finite value(s) (NaN or inf) "
            "where the answer is finite",
            [f"first at index {list(first)}: got {fmt(actual[first])}, expected {fmt(expected[first])}"],
        )
    if rtol is None or atol is None:
        auto_rtol, auto_atol = tolerance(actual.dtype, expected.dtype, input_dtype or np.float64)
        rtol = auto_rtol if rtol is None else rtol
        atol = auto_atol if atol is None else atol
    close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        raise Mismatch(
            f"{verb(what, 'has', 'have')} wrong values in {int((~close).sum())} of {close.size} entries",
            _differences(expected, actual, close=close)
            + [f"(compared with rtol={rtol:g}, atol={atol:g})"],
        )


def expect_dict_of_arrays(expected: dict, actual, *, what: str = "the result", **kw):
    """A dict with exactly the expected keys, each value laddered like an array."""
    if isinstance(actual, Raised):
        raise Mismatch(f"{what} raised {actual}")
    if not isinstance(actual, dict):
        raise Mismatch(f"{what} should be a dict with keys {sorted(expected)}, but it is {describe(actual)}")
    missing = [k for k in expected if k not in actual]
    extra = [k for k in actual if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if extra:
            parts.append(f"unexpected keys {extra}")
        raise Mismatch(f"{verb(what, 'has', 'have')} the wrong keys: " + "; ".join(parts),
                       [f"expected exactly {list(expected)}"])
    for key in expected:
        expect_array(expected[key], actual[key], what=f"{what}[{key!r}]", **kw)


_LEARNER_LINE = re.compile(r"\s*\(line \d+.*\)$")


def same_exception(a: Raised, b: Raised) -> bool:
    """The same exception: its type and its message, minus where in the learner's code it was
    raised (any two read-only complaints match: both wrote into an input). A catalogued bug that
    raises must not claim every exception of its type."""
    if a.type_name != b.type_name:
        return False
    if "read-only" in a.text and "read-only" in b.text:
        return True
    return _LEARNER_LINE.sub("", a.text) == _LEARNER_LINE.sub("", b.text)


def same_output(a, b, *, inner: Callable[[Any, Any], bool] | None = None) -> bool:
    """Whether two observations are the same answer: how the judge decides a catalogued bug
    reproduces what the learner returned. `inner` compares the entries of dicts, lists and tuples
    (`same_output` itself by default), so a caller can add kinds of observation of its own."""
    inner = inner or same_output
    if isinstance(a, Raised) or isinstance(b, Raised):
        return isinstance(a, Raised) and isinstance(b, Raised) and same_exception(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(inner(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(inner(x, y) for x, y in zip(a, b))
    if is_number(a) and is_number(b):
        return bool(np.isclose(float(a), float(b), rtol=1e-5, atol=1e-8, equal_nan=True))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
            return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-5, atol=1e-8, equal_nan=True))
        return bool(np.array_equal(a, b))
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------------
# helpers for messages


def _shape_hint(expected: tuple, actual: tuple) -> list[str]:
    if sorted(expected) == sorted(actual) and expected != actual:
        return ["the same numbers in another order: did you transpose, or use the wrong axis?"]
    if len(actual) < len(expected):
        return ["a dimension went missing: a reduction (sum, max, mean) without keepdims=True, or a squeeze?"]
    if len(actual) > len(expected):
        return ["an extra dimension: broadcasting against the wrong shape?"]
    return []


def _differences(expected: np.ndarray, actual: np.ndarray, *, close=None, exact=False) -> list[str]:
    """The worst entries first (largest difference), indices and numbers aligned in columns."""
    if close is None:
        close = expected == actual
    wrong = np.argwhere(~close)
    if len(wrong) and not exact and expected.dtype.kind in "biuf" and actual.dtype.kind in "biuf":
        with np.errstate(all="ignore"):
            gap = np.abs(actual.astype(np.float64) - expected.astype(np.float64))[~close]
        gap = np.where(np.isnan(gap), np.inf, gap)
        wrong = wrong[np.argsort(-gap, kind="stable")]
    rows = []
    for idx in wrong[:MAX_SHOWN]:
        idx = tuple(int(i) for i in idx)
        where = f"[{', '.join(map(str, idx))}]" if idx else "value"
        rows.append((where,) + fmt_pair(expected[idx], actual[idx]))
    if not rows:
        return []
    w0, w1, w2 = (max(len(r[i]) for r in rows) for i in range(3))
    lines = [f"at {a + ':':<{w0 + 1}} expected {b:>{w1}}, got {c:>{w2}}" for a, b, c in rows]
    if len(wrong) > MAX_SHOWN:
        shown = "" if exact else " (the largest differences are shown)"
        lines.append(f"... and {len(wrong) - MAX_SHOWN} more{shown}")
    return lines
