"""The judge's side of the boundary: start the worker in the sandbox, load the submission into it,
and call learner functions there as if they were local.

`Sandbox.function(name)` returns a `RemoteFunction`: calling it sends the arguments as plain data,
waits (within the check's deadline) while answering the worker's callbacks (a stand-in of another
API function: the reference runs here; a function the check passed in, such as the `f` of
numerical_gradient), then rebuilds what came back as plain data, writes in-place changes back into
the caller's arguments, replays what the call printed and warned, and returns the value or raises
the learner's exception. A worker that dies, hangs or talks nonsense is killed; the check that was
running fails with the reason, and the next call starts a fresh worker.
"""
from __future__ import annotations

import builtins
import compileall
import os
import select
import shutil
import sys
import sysconfig
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from autograder.isolation import OUTPUT_LIMIT
from autograder.sandbox import launch, wire

PACKAGE = Path(__file__).resolve().parents[1]     # the autograder package
# What of the autograder package learner code may import inside the sandbox: the runtime a
# notebook uses (data, plots, progress bar, a `check` that does nothing there) and the worker.
RUNTIME_FILES = {
    "__init__.py": "__init__.py",
    "notebook.py": "notebook.py",
    "mnist.py": "mnist.py",
    "plots.py": "plots.py",
    "progress.py": "progress.py",
    "blas_threads.py": "blas_threads.py",   # the capstone's training cell chooses BLAS threads with it
    "kaggle.py": "kaggle.py",
    "rehearsal.py": "rehearsal.py",   # the capstone's set-up cell imports it; while loading it does nothing
    "sandbox/__init__.py": "sandbox/__init__.py",
    "sandbox/wire.py": "sandbox/wire.py",
    "sandbox/frameworks.py": "sandbox/frameworks.py",
    "sandbox/worker.py": "sandbox/worker.py",
    "sandbox/zygote.py": "sandbox/zygote.py",
    "sandbox/runtime_capstone.py": "capstone.py",
}
LOAD_TIMEOUT = 120.0   # seconds for the submission's own code to run once
BLOCK_TIMEOUT = 60.0   # seconds for one cell of it


class UseOwn(Exception):
    """A judge-side function asked to call learner code while the worker waits on a callback (the
    learner's kit falls back to the learner's own version of a stand-in it has no recorded answer
    for): the worker is told to run its own function of that name instead."""


class LearnerCrash(BaseException):
    """The learner's code ended the call without a result (exit, crash, time out, garbage).
    A BaseException, so no `except Exception` in a check can mistake it for a learner error."""

    def __init__(self, reason: str, *, timed_out: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


@dataclass
class NameInfo:
    """What the sandbox says about one API name after loading: is it there, is it a function."""

    defined: bool = False
    callable: bool = False
    type_name: str = ""
    framework: str = ""


@dataclass
class CallLog:
    """What learner code printed and which reference it reached during one check."""

    printed: list = field(default_factory=list)
    printed_chars: int = 0
    reached: list = field(default_factory=list)

    def add_printed(self, text: str, count: int) -> None:
        if not isinstance(text, str) or not isinstance(count, int):
            return
        kept = sum(len(p) for p in self.printed)
        if kept < 2_000:
            self.printed.append(text[: 2_000 - kept])
        self.printed_chars += max(count, len(text))

    @property
    def text(self) -> str:
        return "".join(self.printed)


class Sandbox:
    """One worker process holding one submission. Not thread-safe; one check at a time."""

    def __init__(self, blocks: Sequence[dict], names: Sequence[str], reference: Mapping[str, Callable], *,
                 require_sandbox: bool = False, load_timeout: float = LOAD_TIMEOUT, block_timeout: float | None = None,
                 env: Mapping | None = None, local_reference: str | None = None, zygote=None):
        self.blocks = list(blocks)
        # a lane's zygote (autograder.sandbox.zygote_host) forks this worker, and resets its sandbox
        # on every restart and at the end; only for the plain worker (no env, no local reference)
        self.zygote = zygote if not env and local_reference is None else None
        self.names = list(names)
        self.reference = reference
        self.require_sandbox = require_sandbox
        self.load_timeout = load_timeout
        self.block_timeout = block_timeout or BLOCK_TIMEOUT
        # source of the reference functions this worker may run itself (a throwaway worker for one
        # function's checks: never the judged function's own reference)
        self.local_reference = local_reference
        self.env = dict(env or {})
        self.isolation, self.detail = "", ""
        self.notes: list[str] = []
        self.info: dict[str, NameInfo] = {}
        self.frameworks = ""
        self.reached_at_load: list[str] = []
        self.load_printed = ""
        self._proc = None
        self._workdir: Path | None = None
        self._deadline = None
        self._stand_ins: frozenset = frozenset()
        self.log = CallLog()
        self._loaded_once = False
        self._pending = None   # the load deadline of a worker launched but not yet waited for
        self._answering = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> "Sandbox":
        """Start a worker and run the submission in it (or finish what `begin_start` began); the
        first time, keep what loading said."""
        if self._pending is None:
            self.begin_start()
        return self._finish_start()

    def begin_start(self) -> "Sandbox":
        """Launch the worker and send it the submission, without waiting for it to load: the judge
        can import and prepare meanwhile (`start` then waits for it)."""
        self.close()
        if self.zygote is not None:
            self._workdir = self.zygote.workdir
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="backprop-kit-sandbox-"))
            os.chmod(self._workdir, 0o777)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        try:
            self._proc = self.zygote.spawn(to_worker_r, from_worker_w) if self.zygote is not None else None
        except BaseException:
            for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w):
                os.close(fd)
            raise
        if self._proc is None:
            self._launch(to_worker_r, from_worker_w)
        else:
            os.close(to_worker_r)
            os.close(from_worker_w)
        self._write_fd, self._read_fd = to_worker_w, from_worker_r
        self.isolation, self.detail = self._proc.isolation, self._proc.detail
        # loading has its own deadline: a check's deadline, if one is running, is kept for its calls
        self._pending = time.monotonic() + self.load_timeout
        try:
            self._send(wire.pack({"kind": "load", "blocks": self.blocks, "names": self.names,
                                  "block_timeout": self.block_timeout, "local_reference": self.local_reference}, []),
                       self._pending)
        except (TimeoutError, BrokenPipeError, ConnectionError):
            pass  # the reply (or its absence) says what happened
        return self

    def _launch(self, to_worker_r: int, from_worker_w: int) -> None:
        """A sandbox of the worker's own (closes the two ends it passes on)."""
        runtime = runtime_dir()
        paths = [str(runtime)] + python_paths()
        bootstrap = (f"import sys; sys.path[:0] = {paths!r}; "
                     f"from autograder.sandbox.worker import main; main(sys.argv)")
        env = {"MPLBACKEND": "Agg", "MPLCONFIGDIR": str(matplotlib_cache()), "PYTHONHASHSEED": "0",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               **_passed_environment(), **self.env}
        try:
            self._proc = launch.launch(
                [sys.executable, "-I", "-S", "-B", "-c", bootstrap, str(to_worker_r), str(from_worker_w)],
                workdir=self._workdir, readable=readable_paths(), hidden=hidden_paths(),
                pass_fds=(to_worker_r, from_worker_w), env=env, require_sandbox=self.require_sandbox)
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)

    def ready(self) -> "Sandbox":
        """The worker loaded (waited for if it was launched with `begin_start`), started if never.
        A worker that died is restarted by the next call, not here: a submission whose loading
        ends the process is not run again for every check (its functions are missing anyway)."""
        if self._pending is not None or (self._proc is None and not self._loaded_once):
            self.start()
        return self

    def _finish_start(self) -> "Sandbox":
        deadline, self._pending = self._pending, None
        try:
            header, _ = self._exchange(None, deadline=deadline, what="loading")
        except LearnerCrash as crash:
            if not self._loaded_once:
                self.notes.append(f"loading stopped: {crash.reason}")
                self._loaded_once = True
            self.info = {name: NameInfo() for name in self.names}
            return self
        if not self._loaded_once:
            self._loaded_once = True
            self.notes += [str(n)[:2_000] for n in _list(header.get("notes"))][:50]
            self.frameworks = str(header.get("frameworks") or "")[:500]
            self.reached_at_load = [str(r)[:200] for r in _list(header.get("reached"))][:10]
            self.load_printed = str(header.get("printed") or "")[:2_000]
        names = header.get("names") if isinstance(header.get("names"), dict) else {}
        self.info = {name: _name_info(names.get(name)) for name in self.names}
        return self

    def close(self) -> None:
        self._pending = None
        if self._proc is not None:
            for fd in (self._write_fd, self._read_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._proc.kill()
            self._proc = None

    def shutdown(self) -> None:
        """Stop the worker and remove its working folder."""
        self.close()
        if self._workdir is not None and (self.zygote is None or self._workdir != self.zygote.workdir):
            shutil.rmtree(self._workdir, ignore_errors=True)   # (the zygote's is emptied by its reset)
        self._workdir = None

    def __enter__(self):
        return self.start() if self._proc is None or self._pending is not None else self

    def __exit__(self, *exc):
        self.shutdown()
        return False

    @property
    def workdir(self) -> Path:
        """The folder the worker may write in, at the same path on both sides."""
        if self._workdir is None:
            self.start()
        return self._workdir

    # -- one check -----------------------------------------------------------------------------

    def begin_check(self, stand_ins: Sequence[str], timeout: float) -> None:
        """Every call until `end_check` shares one deadline, and may reach the reference only of
        the functions in `stand_ins` (the ones not being judged)."""
        self._stand_ins = frozenset(stand_ins)
        if self._pending is not None or self._proc is None or self._proc.process.poll() is not None:
            self.start()  # a fresh worker after a crash: its loading is not the check's time
        self._deadline = time.monotonic() + timeout
        self._timeout = timeout
        self._fresh = True
        self.log = CallLog()

    def end_check(self) -> CallLog:
        self._deadline = None
        self._stand_ins = frozenset()
        return self.log

    def function(self, name: str) -> "RemoteFunction":
        return RemoteFunction(self, name)

    def call(self, function: str, args: tuple, kwargs: dict):
        if self._answering:  # the worker is waiting on a callback: it runs its own function instead
            raise UseOwn(function)
        if self._pending is not None or self._proc is None or self._proc.process.poll() is not None:
            self.start()
        callables: dict[int, Callable] = {}

        def register(fn):
            callables[len(callables) + 1] = fn
            return len(callables)

        encoder = wire.Encoder(callable_handle=register)
        values = {"args": tuple(args), "kwargs": dict(kwargs), "global_rng": _plain_legacy(np.random.get_state())}
        encoded = {k: encoder.encode(v) for k, v in values.items()}
        budget = None
        if self._deadline is not None:  # a check's call: stop it once the check's output passes the limit
            budget = max(OUTPUT_LIMIT - self.log.printed_chars, 0)
        request = wire.pack({"kind": "call", "function": function, "stand_ins": sorted(self._stand_ins_for(function)),
                             "errstate": np.geterr(), "materialise": True, "max_items": 10_000,
                             "output_budget": budget,
                             "fresh": getattr(self, "_fresh", True), "values": encoded}, encoder.blobs)
        self._fresh = False
        header, blobs = self._exchange(request, callables=callables, arguments=(args, kwargs))
        return self._finish(function, header, blobs, args, kwargs)

    def _stand_ins_for(self, function: str) -> set:
        return {name for name in self._stand_ins if name != function}

    def _finish(self, function, header, blobs, args, kwargs):
        self.log.add_printed(header.get("printed", ""), header.get("printed_chars", 0))
        self.log.reached += [str(r)[:200] for r in _list(header.get("reached"))][:10]
        decoder = wire.Decoder(blobs, argument=_argument_resolver(args, kwargs))
        values = header.get("values") if isinstance(header.get("values"), dict) else {}
        try:
            if "args" in values:
                wire.sync(args, decoder.decode(values["args"]), even_read_only=True)
                wire.sync(kwargs, decoder.decode(values["kwargs"]), even_read_only=True)
            if "global_rng" in values:
                _set_legacy(decoder.decode(values["global_rng"]))
            _replay_warnings(header.get("warnings"))
            outcome = header.get("outcome")
            if outcome == "returned":
                return _live(decoder.decode(values["value"]))
        except wire.WireError as exc:
            raise LearnerCrash(f"{function} sent back something the grader cannot read ({exc})") from None
        if outcome == "raised":
            raise learner_exception(header.get("error"))
        if outcome == "exit":
            raise LearnerCrash(str(header.get("error"))[:500])
        if outcome == "unsendable":
            reason = str(header.get("error"))[:300]
            raise LearnerCrash(f"{function} returned something the grader cannot read: {reason}")
        raise LearnerCrash(f"{function} sent back a reply the grader does not understand")

    # -- the conversation ------------------------------------------------------------------------

    def _exchange(self, request: bytes, *, callables=None, arguments=None, deadline=None, what: str = ""):
        """Send `request`; answer callbacks until the final reply; return it unpacked."""
        deadline = deadline or self._deadline
        try:
            if request is not None:  # None: the request went out already (begin_start)
                self._send(request, deadline)
            while True:
                header, blobs = wire.unpack(wire.read_frame(self._read_fd, wire.MAX_LEARNER_FRAME,
                                                            _waiter(deadline)))
                if header.get("kind") != "callback":
                    return header, blobs
                self._send(self._answer(header, blobs, callables or {}, arguments), deadline)
        except TimeoutError:
            self.close()
            limit = f"{self.load_timeout:g} s" if what == "loading" else self._timeout_text()
            raise LearnerCrash(f"it did not finish within {limit}: is there a loop that never ends?",
                               timed_out=True) from None
        except (EOFError, BrokenPipeError, ConnectionError):
            reason = self._death_reason()
            self.close()
            raise LearnerCrash(reason) from None
        except wire.WireError as exc:
            self.close()
            raise LearnerCrash(f"the learner process sent something the grader cannot read ({exc})") from None

    def _timeout_text(self) -> str:
        return f"{getattr(self, '_timeout', self.load_timeout):g} s"

    def _send(self, payload: bytes, deadline) -> None:
        data = memoryview(len(payload).to_bytes(8, "little") + payload)
        wait = _waiter(deadline, write=True)
        while data:
            wait(self._write_fd)
            written = os.write(self._write_fd, data[: 1 << 16])
            data = data[written:]

    def _answer(self, header, blobs, callables, arguments) -> bytes:
        """Run what a callback asks for, here in the judge, and pack the reply."""
        self.log.add_printed(header.get("printed", ""), header.get("printed_chars", 0))
        target = header.get("target")
        values = header.get("values") if isinstance(header.get("values"), dict) else {}
        try:
            decoder = wire.Decoder(blobs)
            if header.get("outcome") == "unsendable":
                raise wire.WireError(str(header.get("error"))[:300])
            args, kwargs = decoder.decode(values["args"]), decoder.decode(values["kwargs"])
            if not (isinstance(args, tuple) and isinstance(kwargs, dict) and all(isinstance(k, str) for k in kwargs)):
                raise wire.WireError("malformed arguments")
        except (wire.WireError, KeyError) as exc:
            return _error_reply("TypeError", f"the arguments could not be passed on: {exc}")
        if isinstance(target, list) and len(target) == 2 and target[0] == "ref" and isinstance(target[1], str):
            name = target[1]
            if name not in self._stand_ins or name not in self.reference:
                self.log.reached.append(f"the reference {name}")
                return _error_reply("NameError", f"{name} is not available while {name} itself is being checked")
            fn = self.reference[name]
        elif isinstance(target, list) and len(target) == 2 and target[0] == "fn" and target[1] in callables:
            fn = callables[target[1]]
            if arguments is not None and "call_args" in values:  # the learner may have changed them in place
                try:
                    now = decoder.decode(values["call_args"])
                    wire.sync(arguments[0], now[0], even_read_only=True)
                    wire.sync(arguments[1], now[1], even_read_only=True)
                except (wire.WireError, TypeError, IndexError):
                    pass
        else:
            return _error_reply("NameError", "an unknown function was called")
        before = _fingerprint((args, kwargs))
        self._answering += 1
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                value = fn(*args, **kwargs)
        except UseOwn:
            if target[0] == "ref":
                return wire.pack({"kind": "result", "outcome": "own"}, [])
            return _error_reply("NotRecorded", "no recorded answer for these inputs, and learner code cannot run here")
        except Exception as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return _error_reply(type(exc).__name__, text)
        finally:
            self._answering -= 1
        encoder = wire.Encoder()
        try:
            encoded_args = {}
            if _fingerprint((args, kwargs)) != before:  # it changed its arguments in place (sgd_step)
                encoded_args = {"args": encoder.encode(args), "kwargs": encoder.encode(kwargs)}
            encoder.arguments = wire.argument_paths(args, kwargs)
            encoded_args["value"] = encoder.encode(_plain(value))
        except wire.WireError as exc:
            return _error_reply("TypeError", f"the result could not be passed back: {exc}")
        return wire.pack({"kind": "result", "outcome": "returned", "values": encoded_args}, encoder.blobs)

    def _death_reason(self) -> str:
        proc = self._proc.process if self._proc is not None else None
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=2)
            except Exception:
                code = None
        if code is not None and code > 128 and self._proc is not None and self._proc.isolation == "bubblewrap":
            code = 128 - code  # bubblewrap reports a child killed by signal N as 128 + N
        if code is not None and code < 0:
            import signal

            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            if name == "SIGKILL":
                return "the process was killed by signal SIGKILL (out of memory, or another limit?)"
            if name in ("SIGXCPU", "SIGXFSZ"):
                return f"it hit a resource limit (signal {name}: too much CPU time or too large a file)"
            return f"the process died from signal {name}"
        return ("the process ended abruptly (os._exit, or the code crashed the interpreter); a function "
                "should return its result, never end the program")


class LazyReference(Mapping):
    """The reference functions, imported on first use: a sandbox can be launched before the judge
    has imported its checks and the reference."""

    def _table(self):
        from autograder.checks.base import REFERENCE

        return REFERENCE

    def __getitem__(self, name):
        return self._table()[name]

    def __iter__(self):
        return iter(self._table())

    def __len__(self):
        return len(self._table())


class RemoteFunction:
    """A learner function as the judge sees it: called here, run in the sandbox."""

    def __init__(self, sandbox: Sandbox, name: str):
        self.sandbox, self.__name__ = sandbox, name

    def __call__(self, *args, **kwargs):
        return self.sandbox.call(self.__name__, args, kwargs)

    def __repr__(self):
        return f"<your {self.__name__}, run in the sandbox>"


def _fingerprint(value):
    """What in-place changes to arguments would change: array bytes, dict and list contents."""
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return tuple((repr(k), _fingerprint(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_fingerprint(v) for v in value))
    if isinstance(value, np.random.Generator):
        return repr(value.bit_generator.state)
    return id(value)


def learner_exception(error) -> Exception:
    """The learner's exception rebuilt from plain data: a built-in class (or a subclass named like
    theirs), its first line, and the learner's line it came from."""
    parts = [str(p)[:2_000] for p in (error if isinstance(error, list) else [])] + ["", "", "", ""]
    type_name, base_name, message, line = parts[:4]
    base = getattr(builtins, base_name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = Exception
    cls = base if type_name == base.__name__ or not type_name.isidentifier() else _subclass(type_name, base)
    try:
        exc = cls(message)
    except Exception:
        exc = Exception(message)
    exc.__learner_line__ = line
    exc.__from_learner__ = True
    return exc


@cache
def _subclass(name: str, base: type) -> type:
    return type(name, (base,), {"__module__": "learner"})


def _error_reply(type_name: str, text: str) -> bytes:
    return wire.pack({"kind": "result", "outcome": "raised", "error": [type_name, text[:500]]}, [])


def _waiter(deadline, write: bool = False):
    def wait(fd):
        if deadline is None:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready = select.select([], [fd], [], left)[1] if write else select.select([fd], [], [], left)[0]
        if not ready:
            raise TimeoutError
    return wait


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _name_info(raw) -> NameInfo:
    if not isinstance(raw, dict) or raw.get("defined") is not True:
        return NameInfo()
    return NameInfo(True, raw.get("callable") is True, str(raw.get("type", ""))[:100],
                    str(raw.get("framework", ""))[:200])


def _argument_resolver(args, kwargs):
    def resolve(path):
        if len(path) != 2:
            raise wire.WireError("a malformed argument reference")
        where, key = path
        try:
            return args[key] if where == 0 else kwargs[key]
        except (IndexError, KeyError, TypeError):
            raise wire.WireError("a reference to a missing argument") from None
    return resolve


def _live(value):
    """A materialised generator becomes a generator again (it yields what the learner's yielded,
    then raises what it raised); everything else is already plain."""
    if isinstance(value, wire.Materialised):
        return _replay_iterator(value)
    if isinstance(value, tuple):
        return tuple(_live(v) for v in value)
    if isinstance(value, list):
        return [_live(v) for v in value]
    return value


def _replay_iterator(materialised: wire.Materialised):
    for item in materialised.items:
        yield _live(item)
    if materialised.error:
        raise learner_exception(list(materialised.error))


def _plain(value):
    """What the reference returns, ready to travel: generators read to the end."""
    if hasattr(value, "__next__") and hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        return wire.Materialised(tuple(value))
    return value


def _replay_warnings(raw) -> None:
    for entry in _list(raw)[:20]:
        if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(e, str) for e in entry)):
            continue
        name, base, text = entry
        category = getattr(builtins, base, None)
        if not (isinstance(category, type) and issubclass(category, Warning)):
            category = UserWarning
        warnings.warn_explicit(text[:500], category, "<your code>", 0)


def _plain_legacy(state) -> dict:
    name, keys, pos, has_gauss, cached = state
    return {"name": str(name), "keys": np.asarray(keys), "pos": int(pos), "has_gauss": int(has_gauss),
            "cached": float(cached)}


def _set_legacy(plain) -> None:
    try:
        keys = np.asarray(plain["keys"], dtype=np.uint32)
        if plain["name"] != "MT19937" or keys.shape != (624,):
            return
        np.random.set_state(("MT19937", keys, int(plain["pos"]), int(plain["has_gauss"]), float(plain["cached"])))
    except (KeyError, TypeError, ValueError):
        pass


# ---------------------------------------------------------------------------------------------
# what the sandbox sees


@cache
def runtime_dir() -> Path:
    """A folder holding the learner-side `autograder` package: only RUNTIME_FILES, copied once
    per judge process. Nothing of the checks, the catalog or the reference is in it."""
    root = Path(tempfile.mkdtemp(prefix="backprop-kit-runtime-"))
    for source, target in RUNTIME_FILES.items():
        destination = root / "autograder" / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / source, destination)
    # compiled here, once: the worker runs with -B and would otherwise compile them on every start
    compileall.compile_dir(root, quiet=1)
    for folder in [root, *root.rglob("*")]:
        os.chmod(folder, 0o755 if folder.is_dir() else 0o644)
    import atexit

    atexit.register(shutil.rmtree, root, True)
    return root


@cache
def matplotlib_cache() -> Path:
    """A matplotlib config folder whose font cache is built once, so every worker finds it."""
    folder = Path(tempfile.gettempdir()) / f"backprop-kit-mpl-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    os.chmod(folder, 0o777)
    return folder


def python_paths() -> list[str]:
    """Where the worker finds NumPy, matplotlib and tqdm: this interpreter's site-packages."""
    return list(_python_paths())


@cache
def _python_paths() -> tuple[str, ...]:
    found = []
    for key in ("purelib", "platlib"):
        for scheme_vars in ({}, {"base": sys.base_prefix, "platbase": sys.base_prefix}):
            path = sysconfig.get_path(key, vars=scheme_vars or None)
            if path and os.path.isdir(path) and path not in found:
                found.append(path)
    return tuple(found)


def readable_paths() -> list[Path]:
    from autograder.mnist import data_dir

    paths = [runtime_dir(), matplotlib_cache(), *map(Path, python_paths())]
    try:
        paths.append(Path(data_dir()))
    except Exception:
        pass
    return [p for p in dict.fromkeys(paths) if p.exists()]


def hidden_paths() -> list[Path]:
    """The grader and the reference where they sit inside a readable folder (an installed package
    in site-packages), and the course folder: covered by an empty folder in the sandbox."""
    hidden = []
    for name in ("solutions", "autograder", "nbgrader"):
        for base in python_paths():
            candidate = Path(base) / name
            if candidate.exists():
                hidden.append(candidate)
    return hidden


def _passed_environment() -> dict:
    """The few settings learner code may see: where MNIST is, the capstone's pass mark."""
    from autograder.capstone import THRESHOLD_ENV, threshold
    from autograder.mnist import data_dir

    env = {THRESHOLD_ENV: repr(threshold())}
    try:
        env["BACKPROP_KIT_DATA"] = str(data_dir())
    except Exception:
        pass
    return env
