"""Run trusted code, or a learner's own kernel checking itself, in a forked child: each batch of
checks runs with a time limit per check and its output captured and capped. A check that loops,
exits or kills its process fails alone; the judge restarts a child and carries on with the next.
Outcomes come back as JSON, never as pickles. (Grading never uses this: learner code that is
graded runs in the sandbox, see autograder.sandbox.)"""
from __future__ import annotations

import io
import os
import json
import select
import signal
import struct
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

DEFAULT_TIMEOUT = float(os.environ.get("BACKPROP_KIT_TIMEOUT", "5"))
OUTPUT_KEPT = 2_000          # characters of learner output shown in feedback
OUTPUT_LIMIT = 1_000_000     # characters of learner output that fail a check


@dataclass(frozen=True)
class Outcome:
    """What one task produced: its value, or why it has none, and what it printed."""

    value: object = None
    crashed: str = ""            # non-empty when the task gave no value: the reason, for the learner
    printed: str = ""            # the first OUTPUT_KEPT characters printed
    printed_chars: int = 0


class CappedWriter(io.TextIOBase):
    """A stdout that keeps the beginning of what is printed and counts the rest."""

    def __init__(self):
        self.kept: list[str] = []
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if self.count < OUTPUT_KEPT:
            self.kept.append(s[: OUTPUT_KEPT - self.count])
        self.count += len(s)
        return len(s)

    def text(self) -> str:
        return "".join(self.kept)


def _run_one(task: Callable[[], object]) -> Outcome:
    out = CappedWriter()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        value = task()
        crashed = ""
    except SystemExit as exc:
        code = "" if exc.code is None else repr(exc.code)
        value, crashed = None, (f"the code called sys.exit({code}); "
                                "a function should return its result, never end the program")
    except KeyboardInterrupt:
        value, crashed = None, "the code was interrupted"
    finally:
        sys.stdout, sys.stderr = saved
    return Outcome(value, crashed, out.text(), out.count)


def run_tasks(tasks: Sequence[Callable[[], object]], timeout: float = DEFAULT_TIMEOUT) -> list[Outcome]:
    """Run every task, each within `timeout` seconds, in forked children where the OS can fork."""
    if not hasattr(os, "fork"):
        return [_run_in_process(t, timeout) for t in tasks]
    outcomes: list[Outcome] = []
    while len(outcomes) < len(tasks):
        outcomes.extend(_run_forked(tasks[len(outcomes):], timeout))
    return outcomes


def _run_forked(tasks: Sequence[Callable[[], object]], timeout: float) -> list[Outcome]:
    """Run tasks in one child until all are done or one fails to report; return what came back,
    ending with a crash outcome for the task that did not finish."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() in a threaded kernel (3.12+)
        pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(tasks, write_fd)
    os.close(write_fd)
    outcomes: list[Outcome] = []
    reader = _Reader(read_fd)
    try:
        for _ in tasks:
            got = reader.next(timeout)
            if isinstance(got, Outcome):
                outcomes.append(got)
                continue
            if got == "timeout":
                os.kill(pid, signal.SIGKILL)
                reason = f"it did not finish within {timeout:g} s: is there a loop that never ends?"
            else:
                reason = _death_reason(pid)
            outcomes.append(Outcome(crashed=reason))
            break
    finally:
        os.close(read_fd)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # already collected by _death_reason
            pass
    return outcomes


def _child(tasks, write_fd):
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # C-level output of learner code goes nowhere
        os.dup2(devnull, 2)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(write_fd, "wb") as pipe:
            for task in tasks:
                outcome = _run_one(task)
                fields = {"value": outcome.value, "crashed": outcome.crashed, "printed": outcome.printed,
                          "printed_chars": outcome.printed_chars}
                try:
                    data = json.dumps(fields).encode()
                except (TypeError, ValueError) as exc:  # a value that cannot cross: report it, don't die
                    data = json.dumps({"crashed": f"internal: result could not be sent ({exc})"}).encode()
                pipe.write(struct.pack("<Q", len(data)) + data)
                pipe.flush()
    except BaseException:
        code = 70
    finally:
        os._exit(code)


class _Reader:
    """Length-prefixed JSON outcomes from the child's pipe, with a deadline per message."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""

    def next(self, timeout: float):
        deadline = time.monotonic() + timeout
        header = self._read(8, deadline)
        if not isinstance(header, bytes):
            return header
        body = self._read(struct.unpack("<Q", header)[0], deadline)
        if not isinstance(body, bytes):
            return body
        try:
            fields = json.loads(body)
            return Outcome(fields.get("value"), str(fields.get("crashed", "")), str(fields.get("printed", "")),
                           int(fields.get("printed_chars", 0)))
        except (ValueError, TypeError, AttributeError):
            return Outcome(crashed="internal: the child's result was unreadable")

    def _read(self, n: int, deadline: float):
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return "timeout"
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return "died"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data


def _death_reason(pid: int) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        extra = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"the process running it was killed by {name}{extra}"
    return f"the process running it ended abruptly with exit code {os.WEXITSTATUS(status)} (os._exit?)"


def _run_in_process(task, timeout: float) -> Outcome:
    """Where fork is unavailable: same capture, and a timer signal in the main thread if possible."""
    use_alarm = hasattr(signal, "setitimer") and threading_main()
    if use_alarm:
        def on_alarm(signum, frame):
            raise TimeoutError
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return _run_one(task)
    except TimeoutError:
        return Outcome(crashed=f"it did not finish within {timeout:g} s: is there a loop that never ends?")
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
