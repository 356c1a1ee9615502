"""Run the judge as a black box: `python -m autograder check FILE --json` in a subprocess, with a
deadline, and always come back with a report.

Whatever the subprocess does (prints garbage, dies, loops, leaves children behind), `judge_file`
returns a normalized report: the judge's own, or an error report saying why there is none
(`kind` "unusable", "timeout" or "crash"), with every check of the assignment at zero when the
assignment is known. The subprocess runs in its own session, so on time-out the whole process group
(the judge and anything learner code started in it) is killed.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.platforms import CAPSTONE, error_report, merge, normalize

STDOUT_LIMIT = 20_000_000  # bytes of judge output read back; a report is far smaller


@dataclass
class Run:
    """One subprocess: what it printed and how it ended."""

    argv: list[str]
    returncode: int | None = None     # None: killed at the deadline
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def run(argv: list[str], deadline: float, env: dict | None = None, cwd: str | None = None) -> Run:
    """Run `argv` for at most `deadline` seconds; output goes to files (no pipe can fill up)."""
    result = Run(list(argv))
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                start_new_session=True)
        try:
            proc.wait(timeout=max(0.1, deadline))
            result.returncode = proc.returncode
        except subprocess.TimeoutExpired:
            pass
        finally:
            _kill_group(proc)
        result.seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        result.stdout = out.read(STDOUT_LIMIT).decode("utf-8", "replace")
        result.stderr = err.read(200_000).decode("utf-8", "replace")
    return result


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def autograder_argv(python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", "autograder"]


@dataclass
class JudgeOptions:
    """What every judge run of a platform or a batch uses."""

    assignment: str | None = None
    timeout: float | None = None        # seconds per check (the judge's --timeout)
    deadline: float = 300.0             # seconds for the whole submission
    require_sandbox: bool = False       # pass --require-sandbox (the sandboxed judge refuses to grade without)
    public: bool = False
    python: str | None = None           # the interpreter that runs the judge (default: this one)
    env: dict = field(default_factory=dict)  # added to the judge's environment

    def judge_flags(self) -> list[str]:
        """The options as `check` and `judge-service` both take them."""
        flags = ["--assignment", self.assignment] if self.assignment else []
        if self.timeout is not None:
            flags += ["--timeout", f"{self.timeout:g}"]
        if self.public:
            flags.append("--public")
        if self.require_sandbox:
            flags.append("--require-sandbox")
        return flags

    def check_argv(self, submission: str) -> list[str]:
        return autograder_argv(self.python) + ["check", submission, "--json"] + self.judge_flags()

    def environment(self) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        return env


def report_from_run(proc: Run, submission: str, assignment: str | None, deadline: float, *,
                    public: bool = False) -> dict:
    """The judge's report if it printed one; otherwise an error report saying what happened (listing
    the assignment's checks at zero: its public ones only, with `public`)."""
    if proc.timed_out:
        return error_report(submission, f"grading did not finish within {deadline:g} s and was stopped: does "
                            "the code loop forever, or train at the top level? Put long training in a cell "
                            "tagged skip-check, or behind `if __name__ == \"__main__\":` in a .py file.",
                            kind="timeout", assignment=assignment, public=public)
    raw = _last_json_object(proc.stdout)
    if raw is not None and proc.returncode in (0, 1, 2):
        try:
            report = normalize(raw)
        except (ValueError, TypeError, KeyError) as exc:
            return error_report(submission, f"the grader printed a report it cannot read ({exc})",
                                kind="crash", assignment=assignment, public=public)
        if report.get("error") and not report["results"] and assignment:
            report = error_report(submission, report["error"], kind=report.get("kind", "unusable"),
                                  assignment=assignment, isolation=report["isolation"], public=public)
        return report
    tail = (proc.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
    return error_report(submission, f"the grader stopped without a verdict (exit code {proc.returncode}): {tail}",
                        kind="crash", assignment=assignment, public=public)


def _last_json_object(text: str):
    """The judge prints one JSON object; take the last one that parses (a stray line before it is
    tolerated)."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    start = text.rfind("\n{")
    while start != -1:
        try:
            return json.loads(text[start + 1:])
        except json.JSONDecodeError:
            start = text.rfind("\n{", 0, start)
    return None


def judge_file(submission: str | Path, options: JudgeOptions) -> tuple[dict, list[Run]]:
    """Judge one .py or notebook (and, for the capstone, its model file: see `judge_capstone`)."""
    submission = str(submission)
    proc = run(options.check_argv(submission), options.deadline, env=options.environment())
    return report_from_run(proc, submission, options.assignment, options.deadline, public=options.public), [proc]


def judge_capstone(notebook: str | Path | None, model: str | Path | None,
                   options: JudgeOptions) -> tuple[dict, list[Run]]:
    """The capstone: its functions (predict, save_params, load_params) and its saved model, within
    one deadline shared by both runs."""
    start = time.monotonic()
    reports, runs = [], []
    fn_options = JudgeOptions(**{**options.__dict__, "assignment": CAPSTONE})
    if notebook:
        report, r = judge_file(notebook, fn_options)
        reports.append(report)
        runs += r
    else:
        reports.append(error_report("", "no notebook or .py file was submitted, so predict, save_params and "
                                        "load_params cannot be checked", kind="missing", assignment=None))
        reports[-1]["results"] = [x for x in _capstone_placeholders("no notebook or .py file was submitted")
                                  if x["function"] != "capstone"]
        reports[-1]["max_score"] = sum(x["max_points"] for x in reports[-1]["results"])
    left = options.deadline - (time.monotonic() - start)
    model_reason = ""
    if not model:
        model_reason = ("no model file (.npz) was submitted: "
                        "save your trained parameters with save_params and submit the file")
    elif left <= 1:
        model_reason = "grading ran out of time before the model file could be graded"
    if model_reason:
        rep = error_report(str(model or ""), model_reason, kind="missing" if not model else "timeout")
        rep["results"] = [x for x in _capstone_placeholders(model_reason) if x["function"] == "capstone"]
        rep["max_score"] = sum(x["max_points"] for x in rep["results"])
        reports.append(rep)
    else:
        argv = autograder_argv(options.python) + ["capstone", str(model), "--json"]
        if notebook:
            argv += ["--submission", str(notebook)]
        if options.require_sandbox:
            argv.append("--require-sandbox")
        proc = run(argv, left, env=options.environment())
        runs.append(proc)
        rep = report_from_run(proc, str(model), None, left)
        if rep.get("error") and not rep["results"]:
            reason = rep["error"]
            rep["results"] = [x for x in _capstone_placeholders(reason) if x["function"] == "capstone"]
            rep["max_score"] = sum(x["max_points"] for x in rep["results"])
        reports.append(rep)
    return merge(reports, str(notebook or model or "")), runs


def _capstone_placeholders(reason: str) -> list[dict]:
    from autograder.platforms import placeholder_results

    return placeholder_results(CAPSTONE, reason)
