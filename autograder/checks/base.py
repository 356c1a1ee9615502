"""The one way to write a check, so that every check calls the learner, observes and matches
catalogued bugs (hence hints) alike: make the case's inputs (`Case`), call the learner's function
through `ns` (`call`), judge what came back (a verdict raising `Mismatch`, turned into a `Failure`
by `judged`). Check modules build every check with the constructors at the end, and nothing else.
"""
from __future__ import annotations

import contextvars
import copy
import inspect
import linecache
import os
import stat
import sys
import tempfile
import traceback
import types
import warnings
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograder import recorded
from autograder.compare import (
    Mismatch,
    Raised,
    describe,
    describe_input,
    expect_array,
    expect_dict_of_arrays,
    expect_number,
    same_output,
)
from autograder.core import Check, Failure, Namespace

if recorded.available():  # the learner's kit: the reference's answers, recorded when the kit was built
    REFERENCE: Namespace = recorded.reference()
    _REFERENCE_MODULES: tuple = ()
else:
    import solutions

    REFERENCE = types.MappingProxyType({name: getattr(solutions, name) for name in solutions.__all__})
    _REFERENCE_MODULES = (solutions,)
# The folder learner code can write in while a check runs (the sandbox's working folder, at the
# same path on both sides); None: the system's temporary folder.
SCRATCH: contextvars.ContextVar = contextvars.ContextVar("scratch", default=None)
LEARNER_FILE_LIMIT = 200 * 2**20


def scratch_folder(prefix: str = "backprop-kit-") -> str:
    """A fresh folder that learner code can write in and the check can read."""
    folder = tempfile.mkdtemp(prefix=prefix, dir=SCRATCH.get())
    os.chmod(folder, 0o777)
    return folder


def read_learner_file(path: str, limit: int = LEARNER_FILE_LIMIT) -> bytes:
    """The bytes of a file learner code wrote, read safely: a regular file (not a link, a pipe or
    a device), at most `limit` bytes. Raises OSError (with a learner-facing message) otherwise."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{os.path.basename(path)} is not a regular file")
        if info.st_size > limit:
            raise OSError(f"{os.path.basename(path)} is larger than {limit // 2**20} MB")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise OSError(f"{os.path.basename(path)} is larger than {limit // 2**20} MB")
        return data
    finally:
        os.close(fd)


_KIT_DIRS = tuple(
    os.path.dirname(os.path.abspath(m.__file__)) + os.sep for m in (*_REFERENCE_MODULES, sys.modules["autograder"])
)


# ---------------------------------------------------------------------------------------------
# step 1: cases


@dataclass
class Case:
    """Named inputs for one call. `make()` builds fresh objects every time, so the learner, the
    reference and every replayed bug each get their own untouched copy (and their own rng)."""

    name: str
    make: Callable[[], tuple]
    kwargs: dict = field(default_factory=dict)
    readonly: bool = True

    @classmethod
    def of(cls, name: str, *args, readonly: bool = True, **kwargs) -> "Case":
        frozen = copy.deepcopy(args)
        return cls(name, lambda: copy.deepcopy(frozen), kwargs, readonly)

    def arguments(self) -> tuple[tuple, dict]:
        args = self.make()
        kwargs = copy.deepcopy(self.kwargs)
        if self.readonly:
            args = tuple(_freeze(a) for a in args)
            kwargs = {k: _freeze(v) for k, v in kwargs.items()}
        return args, kwargs

    def describe(self, function: str) -> str:
        """`softmax(z)` with z = float64 array of shape (3, 10), named by the reference's signature."""
        args, kwargs = self.make(), self.kwargs
        try:
            names = list(inspect.signature(REFERENCE[function]).parameters)
        except (KeyError, TypeError, ValueError):
            names = [f"arg{i}" for i in range(len(args))]
        shown = [f"{n} = {describe_input(a)}" for n, a in zip(names, args)]
        shown += [f"{k} = {describe_input(v)}" for k, v in kwargs.items()]
        call = f"{function}({', '.join(list(names[: len(args)]) + list(kwargs))})"
        return f"{call} on \u00ab{self.name}\u00bb" + (": " + "; ".join(shown) if shown else "")


def _freeze(value):
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
        return value
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    return value


def network(sizes, n, seed, dtype=np.float64):
    """(params, X, labels): He-scaled weights, small nonzero biases, inputs of unit scale and labels
    in range, all from one seeded rng; the scales of a network part-way through training."""
    rng = np.random.default_rng(seed)
    params = {}
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"] = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(dtype)
        params[f"b{k}"] = (0.1 * rng.standard_normal(fan_out)).astype(dtype)
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], size=n)
    return params, X, labels


# ---------------------------------------------------------------------------------------------
# step 2: calling the learner's function


@dataclass(frozen=True)
class Called:
    """What a call under `record=True` produced: its value and the RuntimeWarnings it emitted."""

    value: Any
    warnings: tuple[str, ...]


def call(ns: Namespace, function: str, args: tuple, kwargs: dict | None = None, *, record: bool = False):
    """Call `ns[function]`; an exception comes back as `Raised`, pointing at the learner's line.

    Floating-point underflow is silenced (exp(-1e4) == 0 is the right answer, not something to warn
    a learner about); overflow, divide and invalid still warn. With `record`, the call runs under
    its own `warnings.catch_warnings` and returns a `Called` carrying the RuntimeWarnings, so a
    check can fail on them and bugs are matched on them."""
    if not record:
        with np.errstate(under="ignore"):
            return _attempt(ns, function, args, kwargs)
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        value = _attempt(ns, function, args, kwargs)
    found = sorted({f"{w.category.__name__}: {w.message}" for w in caught if issubclass(w.category, RuntimeWarning)})
    return value if isinstance(value, Raised) else Called(value, tuple(found))


def _attempt(ns: Namespace, function: str, args: tuple, kwargs: dict | None = None):
    fn = ns.get(function)
    if fn is None:
        return Raised("NameError", f"{function} is not defined")
    try:
        return fn(*args, **(kwargs or {}))
    except Exception as exc:  # learner code may raise anything: it is reported, not propagated
        return Raised(type(exc).__name__, _exception_text(exc))


def _exception_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    where = getattr(exc, "__learner_line__", None)  # an exception rebuilt from the sandbox says where
    if where is None:
        where = learner_line(exc.__traceback__)
    return f"{text} ({where})" if where else text


def learner_line(tb) -> str:
    """'line 3: return e / e.sum(axis=0)': the deepest frame that is the learner's own code."""
    found = ""
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename.startswith(_KIT_DIRS + (sys.prefix, sys.base_prefix)) or "site-packages" in filename:
            continue
        code = linecache.getline(filename, lineno).strip()
        found = f"line {lineno}" + (f": {code}" if code else "")
    return found


def snapshot(value):
    """A copy of what came back, so later calls cannot change the observation."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# observations, and when a catalogued bug reproduces one


@dataclass(frozen=True)
class Odd:
    """An observation that is not the value asked for: `kind` says what went wrong, `text` shows it."""

    kind: str
    text: str = ""


class Shown:
    """A display-only part of an observation (numbers for the message): equal to any other Shown,
    so bugs are matched on the facts beside it, not on incidental values."""

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Shown)

    __hash__ = None

    def __repr__(self):
        return f"Shown({self.value!r})"


@dataclass(frozen=True)
class Approx:
    """A number in an observation that a bug reproduces only approximately (a sample statistic)."""

    value: float
    rel: float = 0.1
    abs: float = 0.0


def same_observation(a, b) -> bool:
    """`same_output` (exceptions by type and message, minus the learner's line), with `Approx`
    entries equal within their tolerance and a `Called` equal in its warnings and its value;
    dicts, lists and tuples entry by entry."""
    if isinstance(a, Approx) and isinstance(b, Approx):
        return abs(a.value - b.value) <= max(a.rel * max(abs(a.value), abs(b.value)), a.abs)
    if isinstance(a, Called) and isinstance(b, Called):
        return same_observation(a.warnings, b.warnings) and same_observation(a.value, b.value)
    return same_output(a, b, inner=same_observation)


# ---------------------------------------------------------------------------------------------
# step 3: judging what came back


def default_compare(expected, actual, args, kwargs):
    """Pick the ladder by what the reference returned."""
    input_dtype = next((a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"), None)
    if isinstance(expected, dict):
        expect_dict_of_arrays(expected, actual, input_dtype=input_dtype)
    elif isinstance(expected, np.ndarray):
        expect_array(expected, actual, input_dtype=input_dtype, integer=expected.dtype.kind in "iu")
    elif isinstance(expected, (int, float, np.number)):
        expect_number(float(expected), actual)
    else:  # pragma: no cover - a check author's mistake
        raise TypeError(f"no default comparison for {type(expected)}")


def loose_for_float32(expected, actual, args, kwargs):
    """The reference comparison, but float32 inputs of size 1e4 get rtol 1e-3: float32 holds 1e4 only
    to about 1e-3, so a correct log-sum-exp in float32 is that far off."""
    dtype = next((a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"), np.float64)
    if dtype == np.float32:
        expect_array(expected, actual, rtol=1e-3, atol=1e-5)
    else:
        default_compare(expected, actual, args, kwargs)


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


def raised_failure(function: str, case: Case, raised: Raised, replay, *, same=same_observation) -> Failure:
    """A learner exception, in the learner's words."""
    if raised.type_name == "NotImplementedError":
        summary = f"{function} is not implemented yet (it raised NotImplementedError)"
        details = ["replace `raise NotImplementedError()` with your code, then run that cell again"]
    elif raised.type_name == "ValueError" and "read-only" in raised.text:
        summary = f"{function} tried to change its input array in place"
        details = [
            "the check passes read-only inputs: a function must not modify the arrays it is given",
            "build a new array instead (e.g. np.maximum(z, 0)), or work on a copy (z = z.copy())",
            f"NumPy said: {raised.text}",
        ]
    else:
        summary = f"{function} raised {raised.type_name}"
        details = [raised.text] if raised.text else []
    return Failure(summary, case=case.describe(function), details=details, observed=raised,
                   replay=replay, same=same)


def judged(function: str, case: Case, observed, replay: Callable[[Namespace], Any], verdict: Callable[[], None], *,
           same=same_observation, where: str | None = None) -> None:
    """The verdict on one case: a `Raised` observation fails with the learner's exception; anything
    else goes to `verdict()`, whose Mismatch becomes the Failure. `replay(ns)` observes the same
    case in another namespace (a catalogued bug's), and `same` says whether that matches."""
    where = where or case.describe(function)
    if isinstance(observed, Raised):
        failure = raised_failure(function, case, observed, replay, same=same)
        failure.case = where
        raise failure
    try:
        with np.errstate(under="ignore"):  # comparing tiny expected values must not warn either
            verdict()
    except Mismatch as m:
        raise Failure(m.summary, case=where, details=m.details, observed=observed, replay=replay,
                      same=same) from None


def run_case(ns: Namespace, function: str, case: Case, judge: Callable[[Any, tuple, dict], None], *,
             observe: Callable[[Any, tuple, dict], Any] | None = None, record: bool = False,
             same: Callable[[Any, Any], bool] = same_observation) -> None:
    """Call `function` on `case`; `judge(actual, args, kwargs)` raises Mismatch (with `record`,
    `actual` is a `Called`). The observation bugs are matched on is `observe(actual, args, kwargs)`
    (the result by default), or the exception the call raised."""
    observe = observe or (lambda actual, a, k: actual)

    def outcome(other):
        a, k = case.arguments()
        # judged against the arguments as given: a call that changed its own copy (layer_sizes.pop)
        # is told so by the promise checks, not judged here against what it left of its input
        given_a, given_k = copy.deepcopy((a, k))
        got = call(other, function, a, k, record=record)
        return got, (got if isinstance(got, Raised) else observe(got, given_a, given_k)), given_a, given_k

    def replay(other):
        return outcome(other)[1]

    actual, observed, args, kwargs = outcome(ns)
    judged(function, case, observed, replay, lambda: judge(actual, args, kwargs), same=same)


def _expected(function: str, *args, **kwargs):
    """What the reference gives; its own floating-point warnings are nobody's business."""
    with np.errstate(all="ignore"):
        return REFERENCE[function](*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# the constructors: every check is one of these. reference_check: agree with the reference;
# property_check: satisfy a property (no reference values, e.g. random weights); probe_check: a
# probe runs the learner's code and reduces what happened to an observation (a value, or a small
# dict of facts), a verdict judges it; raises_check, rng_check, unchanged_check, stateless_check:
# the promises every function makes.


def reference_check(function: str, name: str, title: str, cases: Callable[[], list[Case]], *,
                    compare=default_compare, points: float = 1, hidden: bool = False,
                    uses: tuple[str, ...] = ()) -> Check:
    """The learner's result must agree with the reference's on every case:
    `compare(expected, actual, args, kwargs)` raises Mismatch."""

    def run(ns: Namespace):
        for case in cases():
            a, k = case.arguments()
            expected = _expected(function, *a, **k)
            run_case(ns, function, case, lambda actual, a, k, expected=expected: compare(expected, actual, a, k))

    return Check(function, name, title, run, points, hidden, uses)


def property_check(function: str, name: str, title: str, cases: Callable[[], list[Case]],
                   prop: Callable[[Any, tuple, dict], None], *, observe=None, record: bool = False,
                   same=same_observation, points: float = 1, hidden: bool = False,
                   uses: tuple[str, ...] = ()) -> Check:
    """The learner's result must satisfy `prop(actual, args, kwargs)`, which raises Mismatch; with
    `record`, `actual` is a `Called` (value and warnings)."""

    def run(ns: Namespace):
        for case in cases():
            run_case(ns, function, case, prop, observe=observe, record=record, same=same)

    return Check(function, name, title, run, points, hidden, uses)


def probe_check(function: str, name: str, title: str, cases: Callable[[], list[Case]],
                probe: Callable[[Namespace, Case], Any], verdict: Callable[[Any, Any, Case], None], *,
                points: float = 1, hidden: bool = False, uses: tuple[str, ...] = (),
                reference: bool = False, describe_case: Callable[[Case], str] | None = None) -> Check:
    """For each case: `observed = probe(ns, case)`; a `Raised` observation fails with the learner's
    exception, anything else goes to `verdict(observed, expected, case)`, which raises Mismatch.
    With `reference`, `expected = probe(REFERENCE, case)`, else None. The same probe replays each
    catalogued bug, so hints are matched on the facts, not on incidental details."""

    def run(ns: Namespace):
        for case in cases():
            expected = None
            if reference:
                with np.errstate(all="ignore"):
                    expected = probe(REFERENCE, case)
                if isinstance(expected, (Raised, Odd)):  # pragma: no cover - a check author's mistake
                    raise RuntimeError(f"the reference fails {function} on {case.name}: {expected}")

            def replay(other, case=case):
                return probe(other, case)

            observed = probe(ns, case)
            judged(function, case, observed, replay,
                   lambda observed=observed, expected=expected, case=case: verdict(observed, expected, case),
                   where=describe_case(case) if describe_case else None)

    return Check(function, name, title, run, points, hidden, uses)


def raises_check(function: str, name: str, title: str, cases: Callable[[], list[Case]], exception: type,
                 why: str, *, points: float = 1, hidden: bool = False) -> Check:
    """The learner's function must raise `exception` (or a subclass) on every case: `why` says
    what makes the input invalid, for the message. Bugs are matched on the type of what they
    raised instead (or on returning at all)."""

    def run(ns: Namespace):
        for case in cases():
            def replay(other, case=case):
                a, k = case.arguments()
                got = call(other, function, a, k)
                return Raised(got.type_name) if isinstance(got, Raised) else Raised("returned")

            args, kwargs = case.arguments()
            fn = ns.get(function)
            try:
                with np.errstate(under="ignore"):
                    got = fn(*args, **kwargs)
            except exception:
                continue
            except Exception as exc:
                if type(exc).__name__ == "NotImplementedError":
                    raise raised_failure(function, case, Raised("NotImplementedError"), replay) from None
                raise Failure(f"{function} raised {type(exc).__name__}, but it should raise {exception.__name__}",
                              case=case.describe(function), details=[why, _exception_text(exc)],
                              observed=Raised(type(exc).__name__), replay=replay, same=same_observation) from None
            raise Failure(f"{function} returned {describe(got)}, but it should raise {exception.__name__}",
                          case=case.describe(function),
                          details=[why, f"e.g. `raise {exception.__name__}(f\"...\")` after checking the input"],
                          observed=Raised("returned"), replay=replay, same=same_observation)

    return Check(function, name, title, run, points, hidden)


def rng_check(function: str, name: str, title: str, arguments: Callable[[np.random.Generator], tuple], *,
              what: str, points: float = 1, hidden: bool = False) -> Check:
    """Randomness only through `rng`: two generators with the same seed give identical results,
    different seeds give different ones, and NumPy's global random state is left alone."""
    label = "two generators seeded 7, one seeded 8, NumPy's global state watched"
    shown = Case.of(label, *arguments(np.random.default_rng(7)))

    def probe(other, case):
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
        return (_identical(first, second), not _identical(first, third), untouched, _has_spread(first))

    def verdict(observed, expected, case):
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
            raise Mismatch(problems[0], problems[1:] + ["every random number must come from the rng argument, "
                                                        "e.g. rng.standard_normal(shape)"])

    return probe_check(function, name, title, lambda: [shown], probe, verdict, points=points, hidden=hidden)


def _identical(a, b) -> bool:
    """Exactly the same result (the same seed must give the same weights, bit for bit)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
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


# The promises every function of the learner API makes (issue 10, item 4): real requirements,
# worth points like any other check (PROMISE_POINTS each; the notebooks' test cells add them up).
PROMISE_POINTS = 0.5
_LEAVE_IT = ("a function must leave what it is given as it was: the caller still uses it "
             "(build new arrays and dicts, or work on a copy)")


def unchanged_check(function: str, name: str, title: str, cases: Callable[[], list[Case]], *,
                    arguments: Callable[[Namespace, tuple, dict], tuple | None] | None = None,
                    names: tuple[str, ...] = (), hidden: bool = False, uses: tuple[str, ...] = (),
                    points: float = PROMISE_POINTS, fix: str = "", consume: Callable[[Any], Any] | None = None,
                    may_change: tuple[str, ...] = ()) -> Check:
    """No argument is changed: arrays, lists, dicts and their nested entries (a dict entry replaced
    counts, not only an array written into). Writable arguments, a deep snapshot before the call,
    compared after. `arguments(ns, args, kwargs)` may build the real arguments (backward's cache
    from forward); None skips the case (it cannot be built: another check says why). `consume(got)`
    runs what the call returned (a generator's batches) before comparing, since a generator's code
    only runs then. `may_change` names arguments the API updates in place (sgd_step's params): only
    their structure is compared (the same keys, each entry's shape and dtype), other checks judge
    their values. `fix` says how to keep the promise, in this function's words."""

    def probe(other: Namespace, case: Case):
        args, kwargs = case.arguments()
        if arguments is not None:
            args = arguments(other, args, kwargs)
            if args is None:
                return ()
        before = [_deep_copy(a) for a in args], {k: _deep_copy(v) for k, v in kwargs.items()}
        got = call(other, function, args, kwargs)
        if isinstance(got, Raised):
            return got
        if consume is not None:
            got = consume(got)
            if isinstance(got, Raised):
                return got
        found = []
        for i, (b, a) in enumerate(zip(before[0], args)):
            found += _argument_changes(b, a, names[i] if i < len(names) else f"argument {i + 1}", may_change)
        for k, b in before[1].items():
            found += _argument_changes(b, kwargs[k], k, may_change)
        return tuple(found)

    def verdict(observed, expected, case):
        if observed:
            raise Mismatch(f"{function} changed its argument {observed[0]}",
                           list(observed[1:4]) + [fix or _LEAVE_IT])

    check = probe_check(function, name, title, cases, probe, verdict, points=points, hidden=hidden, uses=uses)
    return dataclasses.replace(check, promise=True)


def stateless_check(function: str, name: str, title: str, cases: Callable[[], list[Case]],
                    calls: Callable[[Namespace, list[Case]], tuple[list, list]], *, hidden: bool = False,
                    uses: tuple[str, ...] = (), points: float = PROMISE_POINTS) -> Check:
    """The result depends on the arguments and nothing else: `calls(ns, cases)` returns (alone,
    interleaved), each input's result when it is the only call and the same inputs' results when
    other calls come between (no global, no default-argument memory, no cache kept between forward
    and backward); they must be the same answers."""

    def interleaved_case():
        shown = cases()
        label = " and ".join(f"\u00ab{c.name}\u00bb" for c in shown)
        return [Case(f"interleaved calls on {label}", shown[0].make, shown[0].kwargs)]

    def probe(other: Namespace, case: Case):
        alone, interleaved = calls(other, cases())
        for got in list(alone) + list(interleaved):
            if isinstance(got, Raised):
                return got
        # the answers themselves are part of what a catalogued bug must reproduce, not only the verdicts
        return tuple((same_output(a, b), b) for a, b in zip(alone, interleaved))

    def verdict(observed, expected, case):
        same = [kept for kept, _ in observed]
        if not all(same):
            i = same.index(False)
            shown = cases()
            which = f"\u00ab{shown[i].name}\u00bb" if i < len(shown) else f"input {i + 1} of {len(same)}"
            raise Mismatch(f"{function} gave another answer for the same input when other calls came between: "
                           f"{which}, the second time",
                           ["its result must depend on its arguments only: nothing may be kept between "
                            "calls (a global variable, a default argument like cache={}, an attribute set "
                            "on a function), and each call must use what it is given"])

    check = probe_check(function, name, title, interleaved_case, probe, verdict, points=points, hidden=hidden,
                        uses=uses)
    return dataclasses.replace(check, promise=True)


def _deep_copy(value):
    try:
        return copy.deepcopy(value)
    except Exception:  # an rng or a function: compared by identity only
        return value


def _argument_changes(before, after, name: str, may_change: tuple[str, ...]) -> list[str]:
    if name in may_change:
        return _structure_changes(before, after, name)
    return _changes(before, after, name)


def _structure_changes(before, after, where: str) -> list[str]:
    """What differs in the structure of an argument the API updates in place: keys, shapes, dtypes."""
    if not isinstance(before, dict):
        return []
    if not isinstance(after, dict):
        return [f"`{where}`: it is no longer a dict"]
    out = [f"`{where}`: its entry {k!r} was removed" for k in before if k not in after]
    out += [f"`{where}`: an entry {k!r} was added" for k in after if k not in before]
    for k in before:
        b, a = before[k], after.get(k)
        if k in after and isinstance(b, np.ndarray) and not (
                isinstance(a, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype):
            out.append(f"`{where}[{k!r}]`: it became {describe(a)} (it was {describe(b)})")
    return out


def _changes(before, after, where: str) -> list[str]:
    """What differs between a snapshot and the object now, each as '`params['b1']`: ...'."""
    if isinstance(before, dict):
        if not isinstance(after, dict):
            return [f"`{where}`: it is no longer a dict"]
        out = [f"`{where}`: its entry {k!r} was removed" for k in before if k not in after]
        out += [f"`{where}`: an entry {k!r} was added" for k in after if k not in before]
        for k in before:
            if k in after:
                out += _changes(before[k], after[k], f"{where}[{k!r}]")
        return out
    if isinstance(before, (list, tuple)):
        if not isinstance(after, type(before)) or len(after) != len(before):
            return [f"`{where}`: it changed from {before!r} to {after!r}"]
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out += _changes(b, a, f"{where}[{i}]")
        return out
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.dtype != before.dtype or after.size != before.size:
            return [f"`{where}`: it was replaced by {describe(after)} (it was {describe(before)})"]
        if after.shape != before.shape:
            return [f"`{where}` in place: its shape changed from {before.shape} to {after.shape}"]
        if not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"):
            return [f"`{where}` in place: {_first_changed_entry(before, after)}"]
        return []
    if isinstance(before, (int, float, str)) and not isinstance(before, bool) and before != after:
        return [f"`{where}`: it changed from {before!r} to {after!r}"]
    return []


def _first_changed_entry(before: np.ndarray, after: np.ndarray) -> str:
    """'entry [0, 2] was 1.5 and is now 0.0 (3 of 12 entries changed)'."""
    changed = (before != after) & ~(np.isnan(before) & np.isnan(after)) if before.dtype.kind in "fc" \
        else before != after
    index = tuple(int(i) for i in np.argwhere(changed)[0])
    count = int(changed.sum())
    where = "[" + ", ".join(map(str, index)) + "]"
    was, now = before[index], after[index]
    return (f"entry {where} was {_number_text(was)} and is now {_number_text(now)} "
            f"({count} of {before.size} {'entry' if before.size == 1 else 'entries'} changed)")


def _number_text(value) -> str:
    value = value.item() if hasattr(value, "item") else value
    return f"{value:.4g}" if isinstance(value, float) else repr(value)
