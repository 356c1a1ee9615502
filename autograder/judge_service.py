"""One judge process that grades submission after submission: the batch grader's way to pay the judge's
start-up (its imports, the bubblewrap probe, the sandbox runtime folder) once per job instead of once
per submission.

Learner code never runs here, as in `check`: every submission is loaded into a sandbox worker of
its own, shut down when its report is written. At the `bubblewrap` level the lane keeps one
pre-imported zygote (autograder.sandbox.zygote_host) in one sandbox: each submission's worker is
forked from it, and the sandbox is reset (every process killed, every writable place restored) when
the worker is shut down and whenever it is restarted, before the next worker is forked; submissions
then go strictly one after another. Without it (BACKPROP_KIT_ZYGOTE=0, or the `process` level)
every worker is a freshly started sandbox whose working folder is removed at the end, and the next
submission's worker is launched (`Sandbox.begin_start`) while the current one is judged, so its
loading overlaps the current judging.

`begin` and `finish` are also what `python -m autograder check` runs, so a report made here is the
one the command would print.

The protocol (`python -m autograder judge-service`, started by autograder.platforms.served):
one JSON object per line on stdin, `{"path": FILE}`; one per line back on the original stdout,
`{"path": FILE, "exit": CODE, "stdout": TEXT}` (what `check --json` would have printed, and its exit
code), in the order asked. Anything else the judge prints goes to stderr. End of input ends it.
"""
from __future__ import annotations

import json
import os
import select
import sys
from collections import deque
from dataclasses import dataclass, field

from autograder.cli_common import EXIT_UNUSABLE, render_verdicts, unusable_text


@dataclass
class Settings:
    """What every submission of a run is judged with (the options of `check`)."""

    functions: list[str] | None = None    # the assignment's functions; all of the API if None
    public: bool = False
    timeout: float | None = None
    require_sandbox: bool = False
    as_json: bool = True


@dataclass
class Pending:
    """A submission whose sandbox worker is launched (or that cannot be graded: `error`)."""

    path: str
    sandbox: object = None
    error: str = ""
    notes: list = field(default_factory=list)


def begin(path: str, settings: Settings, zygote=None) -> Pending:
    """Read the submission and launch its worker (forked by `zygote` if given), without waiting
    for it to load."""
    from autograder.checks import FUNCTIONS
    from autograder.sandbox.launch import SandboxUnavailable
    from autograder.sandbox.remote import LazyReference, Sandbox
    from autograder.submission import SubmissionError, read_submission

    try:
        blocks = read_submission(path)
    except SubmissionError as exc:
        return Pending(path, error=str(exc))
    try:
        sandbox = Sandbox([b.as_dict() for b in blocks], FUNCTIONS, LazyReference(),
                          require_sandbox=settings.require_sandbox, zygote=zygote).begin_start()
    except SandboxUnavailable as exc:
        return Pending(path, error=f"--require-sandbox: {exc}")
    return Pending(path, sandbox)


def finish(pending: Pending, settings: Settings) -> tuple[str, int]:
    """Judge a begun submission: (what `check` prints, its exit code). Shuts the worker down."""
    if pending.error:
        return unusable_text(pending.error, as_json=settings.as_json, submission=pending.path), EXIT_UNUSABLE
    from autograder.judge import judge_submission

    verdicts = judge_submission([], settings.functions, hidden=False if settings.public else None,
                                timeout=settings.timeout, sandbox=pending.sandbox)
    return render_verdicts(pending.path, verdicts, as_json=settings.as_json)


# ---------------------------------------------------------------------------------------------
# the long-lived process


class _Lines:
    """Lines from a file descriptor, read without blocking when asked: a line already sent is
    begun at once, while the current submission is judged."""

    def __init__(self, fd: int):
        self.fd, self.buffer, self.closed = fd, b"", False

    def next(self, wait: bool) -> str | None:
        while b"\n" not in self.buffer and not self.closed:
            if not wait and not select.select([self.fd], [], [], 0)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.closed = True
            self.buffer += chunk
        if b"\n" not in self.buffer:
            return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8")


def serve(settings: Settings, requests: int = 0, replies: int | None = None) -> int:
    """Grade the submissions named on `requests` (a descriptor), one reply line each, in order."""
    if replies is None:  # replies go to the original stdout; whatever else prints goes to stderr
        replies = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    from autograder.sandbox import zygote_host

    zygote = zygote_host.ZygoteHost(settings.require_sandbox) if zygote_host.enabled() else None
    if zygote is not None:
        zygote.prestart()   # its imports overlap the judge's
    lines = _Lines(requests)
    waiting: deque[Pending] = deque()
    try:
        while True:
            if not waiting:
                line = lines.next(wait=True)
                if line is None:
                    return 0
                waiting.append(_begin_line(line, settings, zygote))
            current = waiting.popleft()
            if zygote is None:  # with a zygote, the next worker is forked only once this one is reset
                ahead = lines.next(wait=False)
                if ahead is not None:
                    waiting.append(_begin_line(ahead, settings, zygote))
            out, code = finish(current, settings)
            reply = json.dumps({"path": current.path, "exit": code, "stdout": out}) + "\n"
            _write_all(replies, reply.encode("utf-8"))
    finally:
        if zygote is not None:
            zygote.close()
            replaced = "; ".join(zygote.failures)[:2_000]
            print(f"judge-service: zygote sandboxes started {zygote.started}"
                  + (f", replaced after: {replaced}" if replaced else ""), file=sys.stderr)


def _begin_line(line: str, settings: Settings, zygote=None) -> Pending:
    try:
        path = str(json.loads(line)["path"])
    except (ValueError, KeyError, TypeError):
        return Pending(line[:200], error="the batch grader sent a request this judge cannot read")
    return begin(path, settings, zygote)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]
