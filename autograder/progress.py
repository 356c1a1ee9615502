"""A progress bar for long loops (the capstone's training) that works in JupyterLab and in a
terminal, and never writes to stderr.

Why not plain ``tqdm``: it draws on stderr, and an nbgrader test cell with *any* stderr output scores
zero; ``tqdm.auto`` also warns on stderr when ipywidgets is missing. So the bar here is the text
``tqdm.std.tqdm`` drawing on ``sys.stdout``, which JupyterLab redraws in place (it understands
carriage returns) just like a terminal does.

    from autograder.progress import progress_bar

    with progress_bar(total=epochs * batches_per_epoch, unit="batch") as bar:
        for epoch in range(epochs):
            for ... in ...:
                ...
                bar.update()
            bar.set_postfix(loss=f"{loss:.3f}")
            bar.write(f"epoch {epoch}: loss {loss:.4f}")   # a line that stays, above the bar

When the notebook runs unattended under nbgrader (``NBGRADER_EXECUTION`` is set), nobody watches the
bar and every redraw would be stored in the graded notebook: the bar is then switched off, and only
the lines given to ``bar.write`` are printed.
"""
from __future__ import annotations

import os
import sys

from tqdm.std import tqdm as _tqdm

__all__ = ["progress_bar", "unattended"]


class ProgressBar(_tqdm):
    """``tqdm.std.tqdm`` without its monitor thread (one less thread in a kernel that the
    autograder forks) and whose ``write`` goes to stdout."""

    monitor_interval = 0

    @classmethod
    def write(cls, s, file=None, end="\n", nolock=False):
        """Print a line above the bar (to ``sys.stdout`` unless ``file`` is given)."""
        return super().write(s, file=sys.stdout if file is None else file, end=end, nolock=nolock)


def unattended() -> bool:
    """True when nobody watches the output: the notebook is run by ``nbgrader`` (autograde, validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def _is_terminal() -> bool:
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(iterable=None, *, total=None, desc=None, unit="it", leave=True, **kwargs) -> ProgressBar:
    """A ``tqdm`` progress bar on stdout: wrap an iterable, or give ``total`` and call ``update()``.

    Any other ``tqdm`` keyword (``mininterval``, ``ncols``, ``disable``...) is passed through. The bar
    redraws at most twice a second, so a fast loop spends its time computing, not printing.
    """
    kwargs.setdefault("mininterval", 0.5)
    kwargs.setdefault("disable", unattended())
    kwargs.setdefault("dynamic_ncols", _is_terminal())
    return ProgressBar(iterable, total=total, desc=desc, unit=unit, leave=leave,
                       file=sys.stdout, **kwargs)
