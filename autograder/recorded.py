"""The reference as recorded answers: what the learner's kit has instead of `solutions`.

The kit is built from the instructor's repository (`autograder/kit/build.py`): every public check
runs there against the reference with each reference function wrapped by a recorder, and what each
call got and gave is stored as plain data (a JSON table plus `.npy` arrays, in `recorded_data/`
beside this file, encoded with `autograder.sandbox.wire`; nothing is pickled). In the kit,
`REFERENCE[name]` is a `RecordedFunction`: called with inputs found in the table, exactly (the hash
of their canonical form) or approximately (same structure, shapes and dtypes; float values within
a tight tolerance), it gives back the stored answer, in-place changes to its arguments included.
With inputs the table does not hold, it calls the learner's own function of that name instead
(`OWN`, set by the judge for the functions standing in) and says so in the check's feedback
(`NOTES`); with no such function, it raises `NotRecorded`.

The table also holds the fingerprints of the catalogued mistakes: for each public check and each
case it can fail on, what every catalogued bug of that function is observed to do there, and its
hint. `hint_for` matches a learner's observation against them with the check's own comparator,
as the full judge matches it against the bugs it replays.

In the repository nothing is recorded here (`available()` is False) and the reference is `solutions`.
"""
from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import importlib
import inspect
import io
import json
import re
import types
import zipfile
from functools import cache
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

DATA_DIR = Path(__file__).with_name("recorded_data")
TABLE, BLOBS = "table.json", "arrays.zip"
MARK = "\x00obj"   # a tuple (MARK, "module:Class", fields) is an observation object (Raised, Odd, ...)
OBJECT_MODULES = ("autograder.compare", "autograder.checks.base", "autograder.checks.activations",
                  "autograder.checks.backprop", "autograder.checks.training", "autograder.checks.capstone",
                  "autograder.sandbox.wire")
# how close float inputs must be to a recorded call's to get its answer (tighter than any effect a
# check measures: a numerical-gradient step of 1e-5 moves an input far more than this)
TOLERANCE = {"float64": (1e-9, 1e-12), "float32": (2e-6, 1e-9), "float16": (1e-3, 1e-6)}

# The learner's own versions of the API functions a check lets the reference stand in for (set by
# the judge while a check runs); the kit falls back to them where it has no recorded answer.
OWN: contextvars.ContextVar[Mapping[str, Callable]] = contextvars.ContextVar(
    "own", default=types.MappingProxyType({}))
# Lines the current check's result should carry (the kit says when the learner's own function stood in).
NOTES: contextvars.ContextVar[list | None] = contextvars.ContextVar("notes", default=None)


class NotRecorded(Exception):
    """The kit holds no recorded answer for this call and there is no learner function to use instead."""


def available(folder: Path | None = None) -> bool:
    """Whether this installation is the learner's kit (it holds recorded answers)."""
    return ((folder or DATA_DIR) / TABLE).is_file()


# ---------------------------------------------------------------------------------------------
# canonical form of a call's inputs


class Unkeyable(Exception):
    """Inputs with no canonical form (an object the table cannot describe)."""


def canonical(value, leaves: list, path: str = "") -> Any:
    """A JSON-able description of `value` in which float arrays and floats are replaced by their
    dtype (and shape) and appended to `leaves`, the values an approximate match may differ in."""
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return ["int", str(value)]
    if type(value) is float:
        leaves.append(np.float64(value))
        return ["float"]
    if isinstance(value, np.generic):
        if value.dtype.kind == "f":
            leaves.append(value)
            return ["npfloat", value.dtype.str]
        return ["npscalar", value.dtype.str, repr(value.item())]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            leaves.append(value)
            return ["farray", value.dtype.str, list(value.shape)]
        if value.dtype.kind in "biuc":
            data = np.ascontiguousarray(value)
            return ["array", value.dtype.str, list(value.shape), hashlib.sha256(data.tobytes()).hexdigest()]
        raise Unkeyable(f"an array of dtype {value.dtype}")
    if isinstance(value, (list, tuple)):
        return ["list" if isinstance(value, list) else "tuple",
                [canonical(v, leaves, f"{path}[{i}]") for i, v in enumerate(value)]]
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: repr(kv[0]))
        return ["dict", [[repr(k), canonical(v, leaves, f"{path}[{k!r}]")] for k, v in items]]
    if isinstance(value, np.random.Generator):
        return ["rng", type(value.bit_generator).__name__, _plain_state(value.bit_generator.state)]
    if isinstance(value, np.dtype):
        return ["dtype", value.str]
    if isinstance(value, type) and value in (bool, int, float):
        return ["pytype", value.__name__]
    if isinstance(value, type) and issubclass(value, np.generic):
        return ["nptype", np.dtype(value).str]
    code = getattr(value, "__code__", None)
    if code is not None:  # a function handed to the reference (numerical_gradient's f): its code and closure
        cells = [c.cell_contents for c in (getattr(value, "__closure__", None) or ())]
        return ["function", getattr(code, "co_qualname", code.co_name),
                [canonical(c, leaves, f"{path}<closure {i}>") for i, c in enumerate(cells)]]
    raise Unkeyable(f"a {type(value).__name__}")


def _plain_state(state):
    if isinstance(state, dict):
        return {str(k): _plain_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return [int(x) for x in state.ravel()]
    if isinstance(state, (np.integer, int)):
        return int(state)
    if isinstance(state, (np.floating, float)):
        return repr(float(state))
    return state


def keys(function: str, args: tuple, kwargs: dict) -> tuple[str, str, list]:
    """(exact key, structure key, leaves) of a call: the exact key hashes everything, the structure
    key everything but the float values."""
    leaves: list = []
    structure = json.dumps([function, canonical(tuple(args), leaves), canonical(dict(kwargs), leaves)],
                           sort_keys=True, separators=(",", ":"))
    shape = hashlib.sha256(structure.encode()).hexdigest()
    exact = hashlib.sha256(structure.encode())
    for leaf in leaves:
        exact.update(np.ascontiguousarray(leaf).tobytes())
    return exact.hexdigest(), shape, leaves


def close(a, b) -> tuple[bool, float]:
    """Whether two float leaves are close enough to share an answer, and how far apart they are."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False, np.inf
    if a.size == 0:
        return True, 0.0
    if not np.array_equal(np.isnan(a), np.isnan(b)) or not np.array_equal(np.isinf(a), np.isinf(b)):
        return False, np.inf
    rtol, atol = TOLERANCE.get(a.dtype.name, TOLERANCE["float64"])
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    finite = np.isfinite(fa)
    if not np.array_equal(fa[~finite], fb[~finite]):
        return False, np.inf
    diff = np.abs(fa[finite] - fb[finite])
    bound = atol + rtol * np.abs(fb[finite])
    ok = bool(np.all(diff <= bound))
    return ok, float(np.max(diff / bound)) if diff.size else 0.0


# ---------------------------------------------------------------------------------------------
# values as plain data (wire's encoding, plus the few observation objects checks build)


def keep_object(value):
    """For `wire.Encoder(keep=...)`: an observation object as a tagged tuple of its fields."""
    from autograder.sandbox import wire

    cls = type(value)
    name = f"{cls.__module__}:{cls.__qualname__}"
    if cls.__module__ not in OBJECT_MODULES:
        raise wire.WireError(f"a {cls.__name__} cannot be stored")
    if dataclasses.is_dataclass(value):
        return (MARK, name, tuple(getattr(value, f.name) for f in dataclasses.fields(value)))
    if hasattr(value, "value") and cls.__name__ == "Shown":
        return (MARK, name, (value.value,))
    raise wire.WireError(f"a {cls.__name__} cannot be stored")


def rebuild_objects(value):
    """The inverse of `keep_object`, for classes of the allowed modules only."""
    if isinstance(value, tuple):
        if len(value) == 3 and value[0] == MARK and isinstance(value[1], str):
            module, _, qualname = value[1].partition(":")
            if module not in OBJECT_MODULES:
                raise ValueError(f"an object of an unknown module {module}")
            cls = getattr(importlib.import_module(module), qualname)
            return cls(*[rebuild_objects(v) for v in value[2]])
        return tuple(rebuild_objects(v) for v in value)
    if isinstance(value, list):
        return [rebuild_objects(v) for v in value]
    if isinstance(value, dict):
        return {k: rebuild_objects(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# the table


class Table:
    """The recorded calls and fingerprints, read from `folder` (its JSON and its arrays)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.data = json.loads((self.folder / TABLE).read_text(encoding="utf-8"))
        with zipfile.ZipFile(self.folder / BLOBS) as z:
            names = sorted(z.namelist(), key=lambda n: int(n.split(".")[0]))
            self.blobs = [z.read(n) for n in names]
        self.exact: dict[str, dict] = {}
        self._leaves: dict[int, np.ndarray] = {}
        self.by_shape: dict[str, list[dict]] = {}
        for entries in self.data["calls"].values():
            for entry in entries:
                self.exact.setdefault(entry["key"], entry)
                self.by_shape.setdefault(entry["shape"], []).append(entry)

    def decode(self, tree, args=(), kwargs=None):
        from autograder.sandbox import wire
        from autograder.sandbox.remote import _argument_resolver

        decoder = wire.Decoder(self.blobs, argument=_argument_resolver(args, kwargs or {}))
        return rebuild_objects(decoder.decode(tree))

    def find(self, function: str, args: tuple, kwargs: dict) -> dict | None:
        try:
            exact, shape, leaves = keys(function, args, kwargs)
        except Unkeyable:
            return None
        if exact in self.exact:
            return self.exact[exact]
        best, best_distance = None, np.inf
        for entry in self.by_shape.get(shape, ()):
            stored = [self._leaf(i) for i in entry["leaves"]]
            distance = 0.0
            for mine, theirs in zip(leaves, stored):
                ok, d = close(mine, theirs)
                if not ok:
                    break
                distance = max(distance, d)
            else:
                if len(stored) == len(leaves) and distance < best_distance:
                    best, best_distance = entry, distance
        return best

    def _leaf(self, index: int):
        """A recorded array, read once from its .npy bytes and kept (each is read for many cases)."""
        from autograder.sandbox import wire

        if index not in self._leaves:
            self._leaves[index] = wire.read_npy(self.blobs[index])
        return self._leaves[index]

    def replay(self, entry: dict, args: tuple, kwargs: dict):
        """The recorded answer: in-place changes written into the caller's arguments, then the value
        returned (or the exception raised)."""
        from autograder.sandbox.remote import _live, learner_exception
        from autograder.sandbox.wire import sync

        for where, key, tree in entry.get("changed", ()):
            after = self.decode(tree)
            mine = args[key] if where == 0 else kwargs[key]
            sync(mine, after, even_read_only=True)
        if entry.get("raised"):
            type_name, message = entry["raised"]
            exc = learner_exception([type_name, type_name, message, ""])
            exc.__from_learner__ = False
            raise exc
        return _live(self.decode(entry["output"], args, kwargs))

    def signature(self, function: str) -> inspect.Signature | None:
        spec = self.data.get("signatures", {}).get(function)
        if spec is None:
            return None
        params = []
        for name, kind, default in spec:
            value = inspect.Parameter.empty if default is None else self.decode(default)
            params.append(inspect.Parameter(name, getattr(inspect.Parameter, kind), default=value))
        return inspect.Signature(params)

    def fingerprints(self, check_id: str, case: str) -> list[tuple[str, Any]]:
        found = self.data.get("fingerprints", {}).get(check_id, {}).get(case, ())
        return [(hint, tree) for hint, tree in found]


class RecordedFunction:
    """One API function of the reference, as the kit has it: recorded answers, else the learner's own."""

    def __init__(self, table: Table, name: str):
        self.table, self.name = table, name
        self.__name__ = self.__qualname__ = name
        signature = table.signature(name)
        if signature is not None:
            self.__signature__ = signature

    def __call__(self, *args, **kwargs):
        entry = self.table.find(self.name, args, kwargs)
        if entry is not None:
            return self.table.replay(entry, args, kwargs)
        own = OWN.get().get(self.name)
        notes = NOTES.get()
        if own is None:
            raise NotRecorded(
                f"the learner's kit holds no recorded answer of {self.name} for these inputs, and no {self.name} "
                f"of yours is defined to use instead: define {self.name} (your version from its notebook) "
                f"and check again")
        if notes is not None:
            line = (f"the kit has no recorded answer of {self.name} for some inputs this check used, so your own "
                    f"{self.name} stood in for it there (the grader uses the reference)")
            if line not in notes:
                notes.append(line)
        return own(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<recorded reference {self.name}>"


@cache
def table(folder: str | None = None) -> Table:
    return Table(Path(folder) if folder else DATA_DIR)


def reference(folder: str | None = None) -> Mapping[str, Callable]:
    """The recorded reference: every API function the table knows, as a read-only mapping."""
    import types

    t = table(folder)
    return types.MappingProxyType({name: RecordedFunction(t, name) for name in t.data["functions"]})


_WHERE = re.compile(r"\s*\(line \d+.*\)$")


def hint_for(failure, check_id: str) -> str | None:
    """The hint of the first catalogued bug whose stored observation on this case is the same as the
    learner's (by the check's comparator); None when the table has no fingerprints for the case."""
    t = table()
    found = t.fingerprints(check_id, failure.case)
    for hint, tree in found:
        try:
            stored = t.decode(tree)
            if failure.same(failure.observed, stored):
                return hint
        except Exception:
            continue
    return ""


def strip_lines(value):
    """Raised texts without the '(line N: code)' that says where they were raised (build side)."""
    from autograder.compare import Raised

    if isinstance(value, Raised):
        return Raised(value.type_name, _WHERE.sub("", value.text))
    if isinstance(value, tuple) and not dataclasses.is_dataclass(value):
        return tuple(strip_lines(v) for v in value)
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        try:
            return dataclasses.replace(value, **{f.name: strip_lines(getattr(value, f.name))
                                                 for f in dataclasses.fields(value) if f.init})
        except Exception:
            return value
    return value


def read_blob(data: bytes) -> np.ndarray:  # pragma: no cover - convenience for inspection
    return np.load(io.BytesIO(data), allow_pickle=False)
