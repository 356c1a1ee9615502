"""The only place learner code runs when grading: a fresh interpreter inside the sandbox, or (the
batch grader under bubblewrap) a child forked from its lane's pre-imported zygote (zygote.py).

It imports the standard library, NumPy, `wire` and `frameworks`, nothing of the judge, the checks or the
reference. It runs the submission's code once, then answers the judge's requests over two pipes:
call this function with these arguments (plain data), and send back what came of it (plain data:
the value, or the exception, plus what the call printed and warned, and the arguments as they are
afterwards, so in-place updates are seen). A function from the API that the learner's code calls
and that is not being judged is a stand-in: calling it asks the judge, which runs the reference
on its side; the reference itself never comes here.

    python -I -S worker.py READ_FD WRITE_FD      (started by autograder.sandbox.remote)

While a check's call runs, the judge sends how much more it may print (`output_budget`): the write
that passes it raises OutputLimit, so a flood stops at once instead of running to its end.
"""
from __future__ import annotations

import builtins
import importlib.abc
import inspect
import io
import linecache
import os
import signal
import sys
import traceback
import warnings

import numpy as np

from autograder.sandbox import wire
from autograder.sandbox.frameworks import framework_used, namespace_frameworks

PRINT_KEPT = 2_000
OFF_LIMITS = ("solutions", "autograder.checks", "autograder.catalog", "autograder.judge",
              "autograder.reference_file", "autograder.capstone_grading", "nbgrader")


class OutputLimit(BaseException):
    """Raised inside print (any write) once a checked call has printed more than its budget: the
    check has failed already (judge.py, OUTPUT_LIMIT), so the function stops there. A BaseException,
    so an `except Exception` around the print does not swallow it."""


class CappedOutput(io.TextIOBase):
    """stdout and stderr of learner code: keeps the beginning, counts the rest; while `budget` is
    set (a check's call), a write that takes what was printed past it raises OutputLimit."""

    def __init__(self):
        self.kept, self.count = [], 0
        self.budget: int | None = None
        self.spent = 0          # printed since the budget was set (take() does not reset it)

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        if self.count < PRINT_KEPT:
            self.kept.append(s[: PRINT_KEPT - self.count])
        self.count += len(s)
        self.spent += len(s)
        if self.budget is not None and self.spent > self.budget:
            raise OutputLimit
        return len(s)

    def flush(self):
        pass

    def take(self):
        text, count = "".join(self.kept), self.count
        self.kept, self.count = [], 0
        return text, count


class ReferenceBlocker(importlib.abc.MetaPathFinder):
    """Refuses imports of the reference and the grader, and remembers who tried."""

    def __init__(self):
        self.attempts: list[str] = []

    def find_spec(self, name, path=None, target=None):
        if any(name == p or name.startswith(p + ".") for p in OFF_LIMITS):
            self.attempts.append(name)
            raise ImportError(f"`{name}` is not available here: your code has to compute its own answers")
        return None


class Worker:
    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.files: dict[str, str] = {}     # block filename -> label, for pointing at learner lines
        self.kept: dict[int, object] = {}   # handles of values plain data cannot carry
        self.out = CappedOutput()
        self.blocker = ReferenceBlocker()
        sys.meta_path.insert(0, self.blocker)

    # -- the loop ------------------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            try:
                header, blobs = wire.unpack(wire.read_frame(self.read_fd))
            except EOFError:
                return
            kind = header.get("kind")
            if kind == "load":
                self.send(self.load(header))
            elif kind == "call":
                self.send(self.call(header, blobs))
            elif kind == "reset":
                self.kept.clear()
                self.send(wire.message("ok"))
            elif kind == "bye":
                return

    def send(self, payload: bytes) -> None:
        wire.write_frame(self.write_fd, payload)

    # -- loading the submission ----------------------------------------------------------------

    def load(self, header) -> bytes:
        local = header.get("local_reference")
        if isinstance(local, str):  # a throwaway worker: these stand-ins run here, not in the judge
            self.local_refs = {"__name__": "reference", "__builtins__": builtins}
            exec(compile(local, "<reference>", "exec"), self.local_refs)
        notes = []
        for block in header["blocks"]:
            label, filename, source = block["label"], block["filename"], block["source"]
            self.files[filename] = label
            linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
            note = self._run_block(source, filename, float(header.get("block_timeout", 60)))
            if note:
                notes.append(f"{label}: {note}")
        printed, count = self.out.take()
        names = {name: self.describe_name(name) for name in header.get("names", [])}
        fields = {"notes": notes, "printed": printed, "printed_chars": count, "names": names,
                  "frameworks": namespace_frameworks(self.ns), "reached": self._reached()}
        return wire.message("loaded", fields)

    def _run_block(self, source: str, filename: str, timeout: float) -> str:
        def on_alarm(signum, frame):
            raise TimeoutError

        with self.captured():
            previous = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                exec(compile(source, filename, "exec"), self.ns)
            except TimeoutError:
                return f"did not finish within {timeout:g} s and was stopped"
            except SystemExit as exc:
                return f"called sys.exit({'' if exc.code is None else exc.code!r}); the rest of that cell did not run"
            except Exception as exc:
                return f"raised {type(exc).__name__}: {_first_line(exc)}" + self._where(exc)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        return ""

    def captured(self):
        worker = self

        class _Capture:
            def __enter__(self):
                self.saved = sys.stdout, sys.stderr
                sys.stdout = sys.stderr = worker.out

            def __exit__(self, *exc):
                sys.stdout, sys.stderr = self.saved
                return False

        return _Capture()

    def describe_name(self, name: str) -> dict:
        value = self.ns.get(name, _MISSING)
        if value is _MISSING:
            return {"defined": False}
        info = {"defined": True, "callable": callable(value), "type": type(value).__name__[:100]}
        info["framework"] = framework_used(value) if callable(value) else ""
        return info

    # -- calls -----------------------------------------------------------------------------------

    def call(self, header, blobs) -> bytes:
        function = header["function"]
        stand_ins = header.get("stand_ins", [])
        if header.get("fresh"):  # the first call of a check: nothing kept from the one before
            self.kept.clear()
        decoder = wire.Decoder(blobs, resolve_handle=self._resolve, remote=self._judge_callable)
        args = decoder.decode(header["values"]["args"])
        kwargs = decoder.decode(header["values"]["kwargs"])
        state = header["values"].get("global_rng")
        if state is not None:
            np.random.set_state(_legacy_state(decoder.decode(state)))
        self._call_args = (args, kwargs)
        saved = {name: self.ns.get(name, _MISSING) for name in stand_ins}
        self._own = {name: fn for name, fn in saved.items() if fn is not _MISSING}
        for name in stand_ins:
            self.ns[name] = self._stand_in(name)
        fn = self.ns.get(function, _MISSING)
        outcome, value = "returned", None
        budget = header.get("output_budget")
        self.out.budget, self.out.spent = (budget if isinstance(budget, int) else None), 0
        errstate = {k: v for k, v in header.get("errstate", {}).items() if k in ("divide", "over", "under", "invalid")}
        with warnings.catch_warnings(record=True) as caught, self.captured(), np.errstate(**errstate):
            warnings.simplefilter("always")
            try:
                if fn is _MISSING:
                    raise NameError(f"name '{function}' is not defined")
                value = fn(*args, **kwargs)
                if inspect.isgenerator(value) or (header.get("materialise") and _is_iterator(value)):
                    value = self._materialise(value, int(header.get("max_items", 10_000)))
            except OutputLimit:
                outcome, value = "raised", ["OutputLimit", "Exception", "it printed more than the check allows", ""]
            except Exception as exc:
                outcome, value = "raised", self._exception(exc)
            except BaseException as exc:  # sys.exit, KeyboardInterrupt: the call ends, the worker goes on
                outcome, value = "exit", _exit_reason(exc)
            finally:
                self.out.budget = None
                for name, old in saved.items():
                    if old is _MISSING:
                        self.ns.pop(name, None)
                    else:
                        self.ns[name] = old
        printed, count = self.out.take()
        found = []
        for w in caught[:50]:
            entry = [w.category.__name__, _base_warning(w.category), str(w.message)[:500]]
            if entry not in found:
                found.append(entry)
        fields = {"outcome": outcome, "printed": printed, "printed_chars": count, "warnings": found[:20],
                  "reached": self._reached()}
        values = {"args": args, "kwargs": kwargs, "global_rng": _plain_legacy(np.random.get_state())}
        if outcome == "returned":
            values["value"] = value
        else:
            fields["error"] = value
        return self._reply("done", fields, values, (args, kwargs))

    def _reply(self, kind, fields, values, arguments=None) -> bytes:
        """Encode a reply; a value plain data cannot carry stays here behind a handle. With
        `arguments`, a returned value that IS one of them is sent as a reference to it."""
        try:
            return self._encode(kind, fields, values, arguments)
        except wire.WireError as exc:
            fields = {**fields, "outcome": "unsendable", "error": str(exc)[:500]}
            values = {k: v for k, v in values.items() if k != "value"}
            try:
                return self._encode(kind, fields, values, None)
            except wire.WireError:
                return wire.message(kind, fields, {}, wire.Encoder())

    def _encode(self, kind, fields, values, arguments) -> bytes:
        encoder = wire.Encoder(keep=self._keep)
        encoded = {}
        for name, value in values.items():
            if name == "value" and arguments is not None:
                encoder.arguments = wire.argument_paths(*arguments)
            encoded[name] = encoder.encode(value)
            encoder.arguments = {}
        return wire.pack({"kind": kind, **fields, "values": encoded}, encoder.blobs)

    def _keep(self, value):
        handle = len(self.kept) + 1
        self.kept[handle] = value
        return wire.Opaque(handle, type(value).__name__)

    def _resolve(self, handle):
        if handle not in self.kept:
            raise wire.WireError("an unknown handle")
        return self.kept[handle]

    def _materialise(self, iterator, cap: int) -> wire.Materialised:
        items = []
        try:
            for item in iterator:
                items.append(item)
                if len(items) > cap:
                    return wire.Materialised(tuple(items[:cap]), None, True)
        except Exception as exc:
            return wire.Materialised(tuple(items), tuple(self._exception(exc)), False)
        return wire.Materialised(tuple(items))

    def _exception(self, exc: BaseException) -> list:
        base = next((c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"), "Exception")
        return [type(exc).__name__[:100], base, _first_line(exc)[:2000], self._learner_line(exc.__traceback__)]

    def _where(self, exc) -> str:
        line = self._learner_line(exc.__traceback__)
        return f" ({line})" if line else ""

    def _learner_line(self, tb) -> str:
        """'line 3: return e / e.sum(axis=0)': the deepest frame in the learner's own code."""
        found = ""
        for frame, lineno in traceback.walk_tb(tb):
            filename = frame.f_code.co_filename
            if filename in self.files:
                code = linecache.getline(filename, lineno).strip()
                found = f"line {lineno}" + (f": {code[:200]}" if code else "")
        return found

    def _reached(self) -> list:
        attempts, self.blocker.attempts = self.blocker.attempts, []
        return sorted(set(attempts))[:10]

    # -- calls back to the judge -----------------------------------------------------------------

    def _stand_in(self, name: str):
        local = getattr(self, "local_refs", {}).get(name)
        if callable(local):
            return local
        worker = self

        def stand_in(*args, **kwargs):
            return worker._callback(["ref", name], args, kwargs)

        stand_in.__name__ = stand_in.__qualname__ = name
        return stand_in

    def _judge_callable(self, handle: int):
        worker = self

        def judge_function(*args, **kwargs):
            return worker._callback(["fn", handle], args, kwargs)

        return judge_function

    def _callback(self, target, args, kwargs):
        """Ask the judge to run `target`; the caller's arguments (the ones this call was given)
        travel with it, so a function of the judge sees them as they are now."""
        printed, count = self.out.take()
        values = {"args": args, "kwargs": kwargs}
        if target[0] == "fn":  # a function of the judge may read the call's arguments: send them as they are now
            values["call_args"] = getattr(self, "_call_args", ((), {}))
        payload = self._reply("callback", {"target": target, "printed": printed, "printed_chars": count}, values)
        self.send(payload)
        try:
            header, blobs = wire.unpack(wire.read_frame(self.read_fd))
        except EOFError:
            os._exit(0)
        def argument(path):
            return (args, kwargs)[path[0]][path[1]]

        decoder = wire.Decoder(blobs, resolve_handle=self._resolve, remote=self._judge_callable, argument=argument)
        values = header.get("values", {})
        if "args" in values:  # the reference changed its arguments in place (sgd_step): so do we
            wire.sync(args, decoder.decode(values["args"]))
            wire.sync(kwargs, decoder.decode(values["kwargs"]))
        if header.get("outcome") == "raised":
            type_name, message = header["error"][0], header["error"][1]
            raise _rebuild_exception(type_name, message)
        if header.get("outcome") == "own" and target[0] == "ref":  # the judge has no answer: use the learner's own
            own = getattr(self, "_own", {}).get(target[1])
            if own is None:
                raise NameError(f"name '{target[1]}' is not defined")
            return own(*args, **kwargs)
        return _live(decoder.decode(values["value"]))


_MISSING = object()


def _rebuild_exception(type_name: str, message: str) -> Exception:
    cls = getattr(builtins, type_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = RuntimeError
    try:
        return cls(message)
    except Exception:
        return RuntimeError(message)


def _live(value):
    """What the judge read from a generator becomes a generator again."""
    if isinstance(value, wire.Materialised):
        return (item for item in value.items)
    return value


def _is_iterator(value) -> bool:
    return hasattr(value, "__next__") and hasattr(value, "__iter__")


def _first_line(exc: BaseException) -> str:
    try:
        text = str(exc).strip()
    except Exception:
        return "(its message could not be read)"
    return text.splitlines()[0] if text else ""


def _exit_reason(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else repr(exc.code)[:100]
        return f"the code called sys.exit({code}); a function should return its result, never end the program"
    if isinstance(exc, KeyboardInterrupt):
        return "the code was interrupted"
    return f"the code raised {type(exc).__name__[:100]}, which ends a program, not a function"


def _base_warning(category) -> str:
    return next((c.__name__ for c in category.__mro__ if c.__module__ == "builtins"), "UserWarning")


def _plain_legacy(state):
    name, keys, pos, has_gauss, cached = state
    return {"name": str(name), "keys": keys, "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)}


def _legacy_state(plain):
    keys = np.asarray(plain["keys"], dtype=np.uint32)
    return (plain["name"], keys, plain["pos"], plain["has_gauss"], plain["cached"])


def main(argv) -> None:
    read_fd, write_fd = int(argv[1]), int(argv[2])
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # output below Python's (os.write(1, ...), C code) goes nowhere
        os.dup2(devnull, fd)
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.setrecursionlimit(3000)
    from autograder import notebook  # check(...) calls in the submission do nothing here

    notebook._loading += 1
    Worker(read_fd, write_fd).serve()


if __name__ == "__main__":
    main(sys.argv)
