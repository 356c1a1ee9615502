"""Record what the public checks need of the reference, so the learner's kit can run them without it.

Every public check runs here against the reference, against every catalogued bug and alternative of
its function, and against "planted" failures (the function raises at its first, second, ... call)
that make the check stop at each of its cases in turn. Meanwhile every reference function is wrapped
by a recorder, wherever it is called from: the checks' `REFERENCE`, the reference's own calls to
other reference functions (train calls forward), the catalog's. A recorded call is its inputs'
canonical form (`autograder.recorded.keys`), the answer, and the arguments it changed in place.

For each case a check can fail on, the failure's `replay` is run with every catalogued bug of the
function, as the judge does to find a hint; what each bug is observed to do there is stored with
its hint (the fingerprints). Nothing of a bug's code is stored: only what it returns on the public
cases, with the line numbers of exceptions removed.

`record(folder)` writes `table.json` and `arrays.zip` (one `.npy` per array) into `folder`.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
import sys
import types
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from autograder import recorded
from autograder.sandbox import wire
from autograder.sandbox.remote import _fingerprint, _live
from autograder.sandbox.wire import argument_paths

PLANTED_LIMIT = 80   # calls per check at most: the deepest check calls its function fewer times


class _Encoder(wire.Encoder):
    """wire's encoder writing into one shared, de-duplicated list of arrays."""

    def __init__(self, store: "Store", arguments=None):
        super().__init__(keep=recorded.keep_object, blobs=store.blobs)
        self.store = store
        self.arguments = arguments or {}
        self.max_items = 10**9

    def _blob(self, array: np.ndarray) -> int:
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.asarray(array).view(np.ndarray), allow_pickle=False)
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.store.index:
            self.store.blobs.append(data)
            self.store.index[digest] = len(self.store.blobs) - 1
        return self.store.index[digest]


class Store:
    def __init__(self):
        self.blobs: list[bytes] = []
        self.index: dict[str, int] = {}
        self.calls: dict[str, dict[str, dict]] = {}
        self.fingerprints: dict[str, dict[str, list]] = {}
        self.skipped: dict[str, int] = {}

    def encode(self, value, arguments=None):
        encoder = _Encoder(self, arguments)
        encoder.nodes = -10**9  # no cap on the size of a recorded value
        return encoder.encode(value)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


class Recorder:
    """Wraps reference functions; each call with inputs of a canonical form is stored once."""

    def __init__(self, store: Store):
        self.store = store

    def wrap(self, name: str, fn):
        recorder = self

        @functools.wraps(fn)
        def recording(*args, **kwargs):
            return recorder.call(name, fn, args, kwargs)

        recording.__recorded_original__ = fn
        return recording

    def call(self, name, fn, args, kwargs):
        try:
            exact, shape, leaves = recorded.keys(name, args, kwargs)
        except recorded.Unkeyable:
            self.store.skip(f"{name}: inputs without a canonical form")
            return fn(*args, **kwargs)
        before = ([_fingerprint(a) for a in args], {k: _fingerprint(v) for k, v in kwargs.items()})
        # the inputs as they were (for an approximate match), encoded before the call can change them
        leaf_ids = [self.store.encode(np.asarray(leaf))[1] for leaf in leaves]
        entry = {"key": exact, "shape": shape, "leaves": leaf_ids}
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            entry["raised"] = [type(exc).__name__, text[:500]]
            self._store(name, entry, args, kwargs, before)
            raise
        if inspect.isgenerator(value):
            value = wire.Materialised(tuple(value))
        try:
            entry["output"] = self.store.encode(value, argument_paths(args, kwargs))
        except wire.WireError:
            self.store.skip(f"{name}: an answer that is not plain data")
            return _live(value)
        self._store(name, entry, args, kwargs, before)
        return _live(value)

    def _store(self, name, entry, args, kwargs, before):
        changed = []
        try:
            for i, a in enumerate(args):
                if _fingerprint(a) != before[0][i]:
                    changed.append([0, i, self.store.encode(a)])
            for k, v in kwargs.items():
                if _fingerprint(v) != before[1].get(k):
                    changed.append([1, k, self.store.encode(v)])
        except wire.WireError:
            self.store.skip(f"{name}: arguments changed in place that are not plain data")
            return
        entry["changed"] = changed
        self.store.calls.setdefault(name, {}).setdefault(entry["key"], entry)


@contextmanager
def recording(store: Store):
    """Every reference function wrapped by the recorder, wherever it is reached from; undone after."""
    import solutions
    from autograder import catalog, judge
    from autograder.checks import base

    catalog.bugs()  # import the catalog modules, so their references to solutions are patched too
    recorder = Recorder(store)
    originals = {name: getattr(solutions, name) for name in solutions.__all__}
    wrapped = {name: recorder.wrap(name, fn) for name, fn in originals.items()}
    by_id = {id(fn): name for name, fn in originals.items()}
    mapping = types.MappingProxyType(wrapped)
    patched, original_reference = [], base.REFERENCE
    for module_name, module in list(sys.modules.items()):
        if module is None:
            continue
        if module_name.split(".")[0] == "solutions" or module_name.startswith("autograder.catalog"):
            for attr, value in list(vars(module).items()):
                if id(value) in by_id and value is originals[by_id[id(value)]] and attr != "__all__":
                    patched.append((module, attr, value))
                    setattr(module, attr, wrapped[by_id[id(value)]])
        if module_name.startswith("autograder") and getattr(module, "REFERENCE", None) is original_reference:
            patched.append((module, "REFERENCE", module.REFERENCE))
            module.REFERENCE = mapping
    assert judge.REFERENCE is mapping
    try:
        yield mapping, originals
    finally:
        for module, attr, value in reversed(patched):
            setattr(module, attr, value)


class Planted(Exception):
    """Raised by the n-th call of a function, to stop a check at the case that makes that call."""


def _planted(fn, n):
    count = [0]

    def planted(*args, **kwargs):
        count[0] += 1
        if count[0] == n:
            raise Planted("planted to stop the check here")
        return fn(*args, **kwargs)

    return planted


def _quiet(call):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return call()


def record(folder: Path, *, checks=None, log=print) -> dict:
    """Run and record; write the table into `folder`; return a summary (counts)."""
    from autograder import catalog, diagnose, judge
    from autograder.checks import FUNCTIONS, checks_for
    from autograder.core import Failure

    checks = checks if checks is not None else [c for f in FUNCTIONS for c in checks_for(f, hidden=False)]
    store = Store()
    cases_seen = 0
    with recording(store) as (reference, originals):
        for check in checks:
            function = check.function
            variants = catalog.bugs(function) + catalog.alternatives(function)
            # the reference and every catalogued variant, as the judge runs them (hints included)
            _quiet(lambda check=check: judge._run_local(dict(reference), check))
            for variant in variants:
                _quiet(lambda check=check, variant=variant: judge._run_local({**reference, **variant.overrides}, check))
            # the cases this check can stop at, each reached by a planted failure
            cases: dict[str, Failure] = {}
            for n in range(1, PLANTED_LIMIT + 1):
                ns = {**reference, function: _planted(originals[function], n)}
                try:
                    _quiet(lambda check=check, ns=ns: check.run(ns))
                except Failure as failure:
                    cases.setdefault(failure.case, failure)
                    continue
                except Exception:
                    continue
                break
            prints = store.fingerprints.setdefault(check.id, {})
            for case, failure in cases.items():
                cases_seen += 1
                if failure.replay is None or failure.same is None:
                    continue
                try:  # what the relational diagnosis asks of the reference on this case
                    _quiet(lambda failure=failure, function=function:
                           diagnose.reference_observation(failure.replay, function, reference))
                except Exception:
                    pass
                found = []
                for bug in catalog.bugs(function):
                    try:
                        observed = _quiet(lambda failure=failure, bug=bug:
                                          failure.replay({**reference, **bug.overrides}))
                        found.append([bug.hint, store.encode(recorded.strip_lines(observed))])
                    except wire.WireError:
                        store.skip(f"{check.id}: an observation that is not plain data")
                    except Exception:  # a bug that cannot even run this case matches nothing there
                        continue
                prints[case] = found
            log(f"recorded {check.id}: {len(cases)} case(s), {len(variants)} variant(s)")
        signatures = {}
        for name, fn in originals.items():
            spec = []
            for p in inspect.signature(fn).parameters.values():
                default = None if p.default is inspect.Parameter.empty else store.encode(p.default)
                spec.append([p.name, p.kind.name, default])
            signatures[name] = spec
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    calls = {name: list(entries.values()) for name, entries in store.calls.items()}
    hidden = {f: len(checks_for(f, hidden=True)) for f in FUNCTIONS}  # how many, for the ✓ line: never which
    table = {"version": 1, "functions": list(originals), "signatures": signatures, "calls": calls,
             "fingerprints": store.fingerprints, "hidden_checks": hidden}
    (folder / recorded.TABLE).write_text(json.dumps(table, separators=(",", ":")), encoding="utf-8")
    with zipfile.ZipFile(folder / recorded.BLOBS, "w", zipfile.ZIP_DEFLATED) as z:
        for i, blob in enumerate(store.blobs):
            z.writestr(f"{i}.npy", blob)
    summary = {"checks": len(checks), "cases": cases_seen, "calls": sum(len(v) for v in calls.values()),
               "arrays": len(store.blobs), "skipped": store.skipped}
    log(f"recorded {summary['calls']} reference calls, {summary['arrays']} arrays, {cases_seen} cases; "
        f"skipped: {store.skipped or 'none'}")
    return summary
