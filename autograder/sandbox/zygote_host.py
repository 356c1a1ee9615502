"""The judge's side of a batch lane's zygote (autograder.sandbox.zygote): one bubblewrap sandbox,
started once, that forks a pre-imported worker per submission and is wiped clean between workers.

Only for the long-lived batch judge (autograder.judge_service) at the `bubblewrap` level, and only
while BACKPROP_KIT_ZYGOTE is not 0/off: everything else starts a fresh sandbox per worker.

`spawn(read_fd, write_fd)` resets the sandbox if a worker ran in it since the last reset, forks a
worker on the two pipe ends and returns its handle (a `Sandboxed` look-alike for remote.Sandbox);
the handle's `kill()` resets at once (every process of the sandbox killed, every writable place
restored). A reset that does not answer "clean" within RESET_TIMEOUT, a dead zygote or any reply
out of protocol kills the whole sandbox (`Sandboxed.kill`); the next spawn starts a fresh one. If a
fresh one cannot start either, `spawn` returns None and the caller launches a sandbox of its own.
The working folder is the host's for its whole life, the same path across fresh zygotes (emptied
from here after a sandbox is killed), so `Sandbox.workdir` stays valid for a submission.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from autograder.sandbox import launch

ENV_VAR = "BACKPROP_KIT_ZYGOTE"
READY_TIMEOUT = 60.0
RESET_TIMEOUT = 10.0
REPLY_TIMEOUT = 5.0


def enabled() -> bool:
    """The zygote is on unless BACKPROP_KIT_ZYGOTE is 0/false/off/no, and only under bubblewrap."""
    if os.environ.get(ENV_VAR, "").strip().lower() in ("0", "false", "off", "no"):
        return False
    try:
        return launch.probe()[0] == "bubblewrap"
    except ValueError:
        return False


class ZygoteError(Exception):
    """The zygote missed a deadline, died, or answered out of protocol."""


class _Process:
    """What remote.Sandbox asks of a worker's process: poll() and wait(), from the zygote."""

    def __init__(self, host: "ZygoteHost", pid: int, generation: int):
        self.host, self.pid, self.generation = host, pid, generation
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.host.status(self)
        return self.returncode

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else REPLY_TIMEOUT)
        while self.poll() is None and time.monotonic() < deadline:
            self.host.await_news(deadline)
        if self.returncode is None:
            self.returncode = self.host.status(self, ask=True)
        return self.returncode


class ForkedWorker:
    """A worker forked by the zygote; kill() resets the sandbox."""

    def __init__(self, host: "ZygoteHost", pid: int):
        self.host = host
        self.process = _Process(host, pid, host.generation)
        self.isolation, self.detail = host.sandboxed.isolation, host.sandboxed.detail

    def kill(self) -> None:
        self.host.reset()


class ZygoteHost:
    """One zygote sandbox for one lane. Not thread-safe; one worker at a time."""

    def __init__(self, require_sandbox: bool = False):
        self.require_sandbox = require_sandbox
        self.workdir = Path(tempfile.mkdtemp(prefix="backprop-kit-sandbox-"))
        os.chmod(self.workdir, 0o777)
        self.sandboxed: launch.Sandboxed | None = None
        self.control: socket.socket | None = None
        self.dirty = False
        self.ready = False
        self.exits: dict[int, int] = {}   # worker pid -> exit code, as the zygote told
        self.generation = 0
        self.started = 0     # sandboxes started (for tests and benchmarks)
        self.failures: list[str] = []

    # -- the sandbox -------------------------------------------------------------------------------

    def _start(self) -> None:
        from autograder.sandbox.remote import _passed_environment, hidden_paths, matplotlib_cache, python_paths
        from autograder.sandbox.remote import readable_paths, runtime_dir

        self._empty_workdir()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        paths = [str(runtime_dir())] + python_paths()
        bootstrap = (f"import sys; sys.path[:0] = {paths!r}; "
                     f"from autograder.sandbox.zygote import main; main(sys.argv)")
        env = {"MPLBACKEND": "Agg", "MPLCONFIGDIR": str(matplotlib_cache()), "PYTHONHASHSEED": "0",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               **_passed_environment()}
        try:
            self.sandboxed = launch.launch(
                [sys.executable, "-I", "-S", "-B", "-c", bootstrap, str(theirs.fileno())],
                workdir=self.workdir, readable=readable_paths(), hidden=hidden_paths(),
                pass_fds=(theirs.fileno(),), env=env, require_sandbox=self.require_sandbox, as_pid_1=True)
        finally:
            theirs.close()
        self.control = ours
        self.exits.clear()
        self.generation += 1
        self.started += 1
        self.ready = False
        if self.sandboxed.isolation != "bubblewrap":
            raise ZygoteError(f"the zygote needs bubblewrap, this is {self.sandboxed.isolation}")

    def prestart(self) -> None:
        """Launch the zygote now without waiting for its imports (the judge imports meanwhile)."""
        try:
            if self.sandboxed is None:
                self._start()
        except (ZygoteError, OSError, launch.SandboxUnavailable) as exc:
            self._kill(str(exc))

    def _await_ready(self) -> None:
        reply = self._receive(READY_TIMEOUT)
        if reply.get("ready") is not True or reply.get("threads") != 1:
            raise ZygoteError(f"the zygote did not start as expected: {reply}")
        self.ready = True

    def _kill(self, why: str) -> None:
        self.failures.append(why)
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.sandboxed is not None:
            self.sandboxed.kill()
            self.sandboxed = None
        self._empty_workdir()
        self.dirty = False

    def _empty_workdir(self) -> None:
        """Called only when no sandbox runs: nothing inside can race the removal."""
        for child in list(self.workdir.iterdir()) if self.workdir.exists() else []:
            _chmod_tree(child)
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def _receive(self, timeout: float) -> dict:
        """The reply to the request just sent; the exits told before it are noted on the way."""
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply is None:
                raise ZygoteError(f"the zygote did not answer within {timeout:g} s")
            if not self._noted(reply):
                return reply

    def _message(self, deadline: float) -> dict | None:
        if not select.select([self.control], [], [], max(deadline - time.monotonic(), 0))[0]:
            return None
        data = self.control.recv(65536)
        if not data:
            raise ZygoteError("the zygote ended")
        try:
            reply = json.loads(data)
        except ValueError:
            raise ZygoteError("the zygote answered out of protocol") from None
        if not isinstance(reply, dict) or "error" in reply:
            raise ZygoteError(f"the zygote answered {str(reply)[:300]}")
        return reply

    def _noted(self, message: dict) -> bool:
        if set(message) == {"exited", "code"} and isinstance(message["exited"], int):
            self.exits[message["exited"]] = message["code"] if isinstance(message["code"], int) else 128 + 9
            return True
        return False

    def await_news(self, deadline: float) -> None:
        """Wait (until `deadline` at most) for the zygote to tell something unasked."""
        if self.control is None:
            return
        try:
            message = self._message(deadline)
            if message is not None and not self._noted(message):
                raise ZygoteError("the zygote answered what was not asked")
        except ZygoteError as exc:
            self._kill(str(exc))

    def _ask(self, request: dict, timeout: float, fds=()) -> dict:
        try:
            if fds:
                socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
            else:
                self.control.send(json.dumps(request).encode())
        except OSError as exc:
            raise ZygoteError(f"the zygote cannot be reached ({exc.strerror})") from None
        return self._receive(timeout)

    # -- what remote.Sandbox uses ----------------------------------------------------------------

    def reset(self) -> bool:
        """Kill every process in the sandbox and restore its writable places; False (and the
        sandbox killed) if the zygote does not answer clean in time."""
        if self.sandboxed is None or not self.dirty:
            return self.sandboxed is not None
        try:
            reply = self._ask({"op": "reset"}, RESET_TIMEOUT)
            if reply.get("clean") is not True:
                raise ZygoteError(f"the reset left the sandbox unclean: {str(reply.get('why'))[:300]}")
        except ZygoteError as exc:
            self._kill(str(exc))
            return False
        self.dirty = False
        self.exits.clear()
        return True

    def spawn(self, read_fd: int, write_fd: int) -> ForkedWorker | None:
        """A fresh worker on these pipe ends, in a clean sandbox; None if no zygote can start."""
        for _ in range(2):
            try:
                if self.sandboxed is not None and self.dirty:
                    self.reset()
                if self.sandboxed is None:
                    self._start()
                if not self.ready:
                    self._await_ready()
                self.dirty = True
                pid = self._ask({"op": "fork"}, REPLY_TIMEOUT, fds=(read_fd, write_fd)).get("pid")
                if not isinstance(pid, int):
                    raise ZygoteError("the zygote did not say which worker it forked")
                return ForkedWorker(self, pid)
            except (ZygoteError, OSError, launch.SandboxUnavailable) as exc:
                self._kill(str(exc))
        return None

    def status(self, process: _Process, ask: bool = False):
        """The worker's exit code (bwrap's convention: 128 + signal), None while it runs: from
        what the zygote told (no round trip), or asked when `ask`."""
        if process.generation != self.generation or self.sandboxed is None:
            return 128 + 9     # its sandbox was killed
        try:
            while process.pid not in self.exits and self.await_news_now():
                pass
            if process.pid in self.exits or not ask:
                return self.exits.get(process.pid)
            code = self._ask({"op": "status", "pid": process.pid}, REPLY_TIMEOUT).get("code")
        except ZygoteError as exc:
            self._kill(str(exc))
            return 128 + 9
        return code if isinstance(code, int) else None

    def await_news_now(self) -> bool:
        """Note one message already waiting; False if none was (or the zygote is gone)."""
        if self.control is None:
            return False
        message = self._message(0)
        if message is None:
            return False
        if not self._noted(message):
            raise ZygoteError("the zygote answered what was not asked")
        return True

    def close(self) -> None:
        if self.control is not None or self.sandboxed is not None:
            self._kill("closed")
        self.failures.pop() if self.failures and self.failures[-1] == "closed" else None
        shutil.rmtree(self.workdir, ignore_errors=True)


def _chmod_tree(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, 0o700)
            for child in path.iterdir():
                _chmod_tree(child)
    except OSError:
        pass
