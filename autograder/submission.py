"""Turn a submission (a `.py` file or a notebook) into a namespace of learner functions.

Code runs in order in one namespace, as Jupyter would. A syntax error makes the submission
unusable (the message names the cell and line); an error at run time is noted and loading goes
on, so the functions defined elsewhere are still judged."""
from __future__ import annotations

import json
import linecache
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

from autograder import isolation

LOAD_TIMEOUT = 120.0
SKIP_TAG = "skip-check"  # a notebook cell with this tag (e.g. long training) is not run by the checker


class SubmissionError(Exception):
    """The submission cannot be used at all: unreadable, not a notebook, a syntax error."""


@dataclass
class Submission:
    path: Path
    namespace: dict
    notes: list[str] = field(default_factory=list)  # what went wrong while loading, for the report


@dataclass(frozen=True)
class Block:
    """One piece of code to run: a .py file is one block, a notebook one block per code cell."""

    label: str      # "line" numbers are relative to this block: "cell 4" or the file name
    filename: str   # what tracebacks and linecache know it by
    source: str


def load(path: str | Path, timeout: float = LOAD_TIMEOUT) -> Submission:
    """Run the submission's code and return its namespace."""
    path = Path(path)
    blocks = read_blocks(path)
    compiled = []
    for block in blocks:
        try:
            compiled.append((block, compile(block.source, block.filename, "exec")))
        except SyntaxError as exc:
            where = f"{block.label}, line {exc.lineno}" if block.label != path.name else f"line {exc.lineno}"
            text = (exc.text or "").strip()
            raise SubmissionError(
                f"{path}: syntax error in {where}: {exc.msg}" + (f"\n    {text}" if text else "")
                + "\nFix that line, then check again."
            ) from None
        _remember_source(block)
    namespace = {"__name__": "__submission__", "__file__": str(path.resolve())}
    sub = Submission(path, namespace)
    from autograder import notebook  # check(...) calls inside the submission must not judge while loading

    with notebook.loading():
        for block, code in compiled:
            note = _run_block(code, namespace, timeout)
            if note:
                sub.notes.append(f"{block.label}: {note}")
    return sub


def read_blocks(path: Path) -> list[Block]:
    if not path.exists():
        raise SubmissionError(f"{path}: no such file. Give the path of a .py file or a .ipynb notebook.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path}: cannot be read ({exc}).") from None
    if path.suffix == ".ipynb":
        return _notebook_blocks(path, text)
    if path.suffix != ".py":
        raise SubmissionError(f"{path}: a submission is a .py file or a .ipynb notebook, not '{path.suffix}'.")
    return [Block(path.name, str(path.resolve()), text)]


def _notebook_blocks(path: Path, text: str) -> list[Block]:
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SubmissionError(f"{path}: not a valid notebook ({exc}). Was it saved completely?") from None
    blocks = []
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {})
        grading = meta.get("nbgrader", {})
        if grading.get("grade") and not grading.get("solution"):
            continue  # a test cell: the checker is the test
        if SKIP_TAG in meta.get("tags", []):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        blocks.append(Block(f"cell {number}", f"<{path.name} cell {number}>", _strip_magics(source)))
    return blocks


def _strip_magics(source: str) -> str:
    """IPython's `%magic` and `!shell` lines mean nothing outside a kernel: keep them as comments."""
    out = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass  # " + stripped
        out.append(line)
    return "\n".join(out) + "\n"


def _remember_source(block: Block) -> None:
    lines = block.source.splitlines(keepends=True)
    linecache.cache[block.filename] = (len(block.source), None, lines, block.filename)


def _run_block(code, namespace: dict, timeout: float) -> str:
    """Run one block in-process (the functions must live here); return a note if it failed."""
    from autograder.checks.base import learner_line

    def task():
        try:
            exec(code, namespace)
        except Exception as exc:
            where = learner_line(exc.__traceback__)
            return f"raised {type(exc).__name__}: {exc}" + (f" ({where})" if where else "")
        return ""

    alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if alarm:
        def on_alarm(signum, frame):
            raise TimeoutError
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        outcome = isolation._run_one(task)
    except TimeoutError:
        return f"did not finish within {timeout:g} s and was stopped"
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return outcome.crashed or outcome.value
