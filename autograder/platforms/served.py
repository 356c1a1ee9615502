"""The batch grader's side of autograder.judge_service: one long-lived judge process per job, asked
for one submission after another.

A report comes back exactly as `judge_file` would make it from `check --json`, or the submission
gets what a one-shot judge run would give it:
- the judge answers within the submission's deadline: its report (`report_from_run`);
- the deadline passes: the judge's whole process group is killed (with the sandbox workers in it),
  the submission gets a timeout report, and a fresh judge takes the submissions still asked for;
- the judge dies or answers nonsense: None, and the caller grades that submission with a one-shot
  judge (`judge_file`), so a judge that dies (whatever killed it) costs no submission its grade.
A judge is also replaced after `recycle_after` answers, so nothing it accumulates over a long batch
(memory, caches) grows without bound.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from collections import deque

from autograder.platforms.runner import JudgeOptions, Run, _kill_group, autograder_argv, report_from_run


class ServedJudge:
    """One `python -m autograder judge-service` process and the submissions asked of it, in order.
    Not thread-safe: one per batch job."""

    def __init__(self, options: JudgeOptions, recycle_after: int = 250):
        self.options = options
        self.recycle_after = recycle_after
        self.answered = 0                  # by the current process
        self.asked: deque[str] = deque()   # sent (or to be sent to a fresh judge), not yet answered
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._buffer = b""

    def argv(self) -> list[str]:
        return autograder_argv(self.options.python) + ["judge-service"] + self.options.judge_flags()

    def ask(self, path: str) -> None:
        """Ask for a submission ahead of `answer`: the judge launches its sandbox as soon as it is
        free, while it still judges the one before."""
        self.asked.append(str(path))
        if self._proc is not None:
            self._send(str(path))

    def answer(self, path: str) -> dict | None:
        """The report of `path` (asked now if it was not), waiting at most the options' deadline;
        None if the judge died without one (grade it with a one-shot judge instead)."""
        path = str(path)
        if path not in self.asked:
            self.ask(path)
        while self.asked[0] != path:  # answers come in order: skip what the caller gave up on
            self.asked.popleft()
            self._stop()
        start = time.monotonic()
        try:
            if self._proc is None:
                self._start()
            line = self._read_line(start + self.options.deadline)
        except BaseException:
            self._stop()
            raise
        finally:
            self.asked.popleft()
        run = Run(self.argv() + [path], seconds=time.monotonic() - start)
        if line is None:  # the deadline passed: the next submissions go to a fresh judge
            self._stop()
            return report_from_run(run, path, self.options.assignment, self.options.deadline,
                                   public=self.options.public)
        try:
            reply = json.loads(line)
            run.returncode, run.stdout = int(reply["exit"]), str(reply["stdout"])
            valid = reply["path"] == path and run.returncode in (0, 1, 2)
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            self._stop()
            return None
        self.answered += 1
        if self.answered >= self.recycle_after:
            self._stop()   # the next answer starts a fresh judge, asked again for what is still asked
        return report_from_run(run, path, self.options.assignment, self.options.deadline,
                                   public=self.options.public)

    def close(self) -> None:
        """End the judge (its input closes; it is killed if it does not go within a few seconds)."""
        if self._proc is not None:
            try:
                self._proc.stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()

    # -- the process ---------------------------------------------------------------------------

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                      env=self.options.environment(), start_new_session=True)
        self._buffer, self.answered = b"", 0
        for path in self.asked:
            self._send(path)

    def _stop(self) -> None:
        if self._proc is not None:
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            _kill_group(self._proc)
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _send(self, path: str) -> None:
        try:
            self._proc.stdin.write(json.dumps({"path": path}).encode("utf-8") + b"\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # a dead judge: `answer` finds out and the submission is graded another way

    def _read_line(self, deadline: float) -> str | None:
        """The next reply line; None at the deadline; "" if the judge ended without one."""
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return ""
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8", "replace")
