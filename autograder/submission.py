"""Read a submission (a `.py` file or a notebook) into blocks of code, without running any of it.

The judge parses and compiles the code (so a syntax error is reported with its cell and line
before anything starts) and hands the blocks to the sandbox, which runs them in order in one
namespace, as Jupyter would. An error at run time is noted there and loading goes on, so the
functions defined elsewhere are still judged."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SKIP_TAG = "skip-check"  # a notebook cell with this tag (e.g. long training) is not run by the checker
MAX_SOURCE = 5 * 2**20   # characters of code in one submission


class SubmissionError(Exception):
    """The submission cannot be used at all: unreadable, not a notebook, a syntax error."""


@dataclass(frozen=True)
class Block:
    """One piece of code to run: a .py file is one block, a notebook one block per code cell."""

    label: str      # "line" numbers are relative to this block: "cell 4" or the file name
    filename: str   # what tracebacks know it by
    source: str

    def as_dict(self) -> dict:
        return {"label": self.label, "filename": self.filename, "source": self.source}


def read_submission(path: str | Path, *, run_skipped: bool = False) -> list[Block]:
    """The submission's code blocks, each compiled once here to catch syntax errors early.
    `run_skipped` keeps cells tagged skip-check (the capstone's training, when grading it)."""
    path = Path(path)
    blocks = read_blocks(path, run_skipped=run_skipped)
    if sum(len(b.source) for b in blocks) > MAX_SOURCE:
        raise SubmissionError(f"{path}: more than {MAX_SOURCE:,} characters of code; is it the right file?")
    for block in blocks:
        try:
            compile(block.source, block.filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            lineno = getattr(exc, "lineno", None)
            where = f"{block.label}, line {lineno}" if block.label != path.name else f"line {lineno}"
            text = (getattr(exc, "text", "") or "").strip()
            raise SubmissionError(
                f"{path}: syntax error in {where}: {getattr(exc, 'msg', exc)}" + (f"\n    {text}" if text else "")
                + "\nFix that line, then check again."
            ) from None
    return blocks


def read_blocks(path: Path, *, run_skipped: bool = False) -> list[Block]:
    if not path.exists():
        raise SubmissionError(f"{path}: no such file. Give the path of a .py file or a .ipynb notebook.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path}: cannot be read ({exc}).") from None
    if path.suffix == ".ipynb":
        return _notebook_blocks(path, text, run_skipped)
    if path.suffix != ".py":
        raise SubmissionError(f"{path}: a submission is a .py file or a .ipynb notebook, not '{path.suffix}'.")
    return [Block(path.name, f"<{path.name}>", text)]


def _notebook_blocks(path: Path, text: str, run_skipped: bool = False) -> list[Block]:
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SubmissionError(f"{path}: not a valid notebook ({exc}). Was it saved completely?") from None
    if not isinstance(cells, list):
        raise SubmissionError(f"{path}: not a valid notebook (its cells are not a list). Was it saved completely?")
    return notebook_blocks(cells, path.name, run_skipped=run_skipped)


def notebook_blocks(cells: list, name: str, *, run_skipped: bool = False) -> list[Block]:
    """A block per code cell the checker runs: not test cells (the checker is the test), not cells
    tagged skip-check unless `run_skipped`."""
    blocks = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        grading = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        if grading.get("grade") and not grading.get("solution"):
            continue  # a test cell: the checker is the test
        tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
        if SKIP_TAG in tags and not run_skipped:
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        blocks.append(Block(f"cell {number}", f"<{name} cell {number}>", _strip_magics(source)))
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
