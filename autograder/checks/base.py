"""Building blocks for writing checks: named cases, calling a learner function safely, and the
two common shapes of check (agree with the reference; satisfy a property)."""
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
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograder import recorded
from autograder.compare import (
    Mismatch,
    Raised,
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
# cases


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


# ---------------------------------------------------------------------------------------------
# calling


def attempt(ns: Namespace, function: str, args: tuple, kwargs: dict | None = None):
    """Call `ns[function]`; an exception comes back as `Raised`, pointing at the learner's line."""
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


def raised_failure(function: str, case: Case, raised: Raised, replay) -> Failure:
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
                   replay=replay, same=same_output)


# ---------------------------------------------------------------------------------------------
# the two common shapes of check


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


def run_case(ns: Namespace, function: str, case: Case, judge: Callable[[Any, tuple, dict], None],
             *, observe: Callable[[Any, tuple, dict], Any] | None = None):
    """Call the learner on `case` and let `judge(actual, args, kwargs)` raise Mismatch.

    `observe(actual, args, kwargs)` turns what happened into the observation bugs are matched
    on (by default the return value); the same function is used when a bug is replayed.
    """
    observe = observe or (lambda actual, args, kwargs: actual)

    def replay(other: Namespace):
        a, k = case.arguments()
        return observe(attempt(other, function, a, k), a, k)

    args, kwargs = case.arguments()
    actual = attempt(ns, function, args, kwargs)
    observed = observe(actual, args, kwargs)
    if isinstance(actual, Raised):
        raise raised_failure(function, case, actual, replay)
    try:
        judge(actual, args, kwargs)
    except Mismatch as m:
        raise Failure(m.summary, case=case.describe(function), details=m.details, observed=observed,
                      replay=replay, same=same_output) from None


def reference_check(function: str, name: str, title: str, cases: Callable[[], list[Case]], *,
                    compare=default_compare, points: float = 1.0, hidden: bool = False,
                    uses: tuple[str, ...] = ()) -> Check:
    """The learner's result must agree with the reference's on every case."""

    def run(ns: Namespace):
        for case in cases():
            ref_args, ref_kwargs = case.arguments()
            expected = REFERENCE[function](*ref_args, **ref_kwargs)
            run_case(ns, function, case, lambda actual, a, k: compare(expected, actual, a, k))

    return Check(function, name, title, run, points, hidden, uses)


def property_check(function: str, name: str, title: str, cases: Callable[[], list[Case]],
                   prop: Callable[[Any, tuple, dict], None], *, observe=None, points: float = 1.0,
                   hidden: bool = False, uses: tuple[str, ...] = ()) -> Check:
    """The learner's result must satisfy `prop(actual, args, kwargs)` (which raises Mismatch)."""

    def run(ns: Namespace):
        for case in cases():
            run_case(ns, function, case, prop, observe=observe)

    return Check(function, name, title, run, points, hidden, uses)


def raises_check(function: str, name: str, title: str, cases: Callable[[], list[Case]], exception: type,
                 why: str, *, points: float = 1.0, hidden: bool = False) -> Check:
    """The learner's function must raise `exception` (or a subclass) on every case: `why` says
    what makes the input invalid, for the message."""

    def run(ns: Namespace):
        for case in cases():
            def replay(other, case=case):
                a, k = case.arguments()
                got = attempt(other, function, a, k)
                return got if isinstance(got, Raised) else Raised("returned")

            args, kwargs = case.arguments()
            fn = ns.get(function)
            try:
                got = fn(*args, **kwargs)
            except exception:
                continue
            except Exception as exc:
                if type(exc).__name__ == "NotImplementedError":
                    raise raised_failure(function, case, Raised("NotImplementedError"), replay) from None
                raise Failure(f"{function} raised {type(exc).__name__}, but it should raise {exception.__name__}",
                              case=case.describe(function), details=[why, _exception_text(exc)],
                              observed=Raised(type(exc).__name__), replay=replay, same=same_output) from None
            from autograder.compare import describe
            raise Failure(f"{function} returned {describe(got)}, but it should raise {exception.__name__}",
                          case=case.describe(function),
                          details=[why, f"e.g. `raise {exception.__name__}(f\"...\")` after checking the input"],
                          observed=Raised("returned"), replay=replay, same=same_output)

    return Check(function, name, title, run, points, hidden)
