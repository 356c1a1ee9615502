"""Kaggle "Digit Recognizer" CSVs: read train.csv / test.csv, write a submission.

Learners who also enter the Kaggle competition get the same arrays as ``load_mnist`` (uint8
``(N, 28, 28)``, int64 labels) and a submission file Kaggle accepts. Reading takes a fast NumPy path;
only when that fails is the file scanned line by line, so that the error names the file and the line.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from pathlib import Path

import numpy as np

PIXELS = 784
PIXEL_HEADER = [f"pixel{i}" for i in range(PIXELS)]
_INT = re.compile(r"[+-]?\d+")

__all__ = ["KaggleFormatError", "load_kaggle_csv", "write_kaggle_submission"]


class KaggleFormatError(ValueError):
    """A Kaggle CSV or a submission is malformed; the message names the file and the line."""


def load_kaggle_csv(path: str | os.PathLike):
    """Return ``(images, labels)`` from a Kaggle CSV: uint8 ``(N, 28, 28)`` and int64 ``(N,)``.

    ``train.csv`` has the header ``label,pixel0,...,pixel783``; ``test.csv`` has no label column and
    gives ``labels=None``.
    """
    path = Path(path)
    try:
        return _load(path)
    except UnicodeDecodeError as err:
        raise KaggleFormatError(f"{path}: not a UTF-8 text CSV (byte {err.start} cannot be decoded); "
                                "is it the zip Kaggle downloads? unzip it first") from None


def _load(path: Path):
    with open(path, encoding="utf-8-sig", newline=None) as f:
        has_label = _check_header(path, f.readline())
        with warnings.catch_warnings():  # a header-only file is fine: it gives N = 0
            warnings.simplefilter("ignore", UserWarning)
            try:
                # int16: a quarter of int64's memory for train.csv (42,000 x 785), and any overflow is
                # an out-of-range value that _diagnose reports.
                data = np.loadtxt(f, delimiter=",", dtype=np.int16, comments=None, ndmin=2)
            except ValueError as err:
                data, failure = None, str(err)
    ncols, skip = PIXELS + has_label, 0
    if data is not None and data.size == 0:
        data = np.empty((0, ncols), dtype=np.int16)
    if data is not None and data.shape[1] == ncols:
        pixels = data[:, has_label:]
        labels = data[:, 0].astype(np.int64) if has_label else None
        if _within(pixels, 255) and (labels is None or _within(labels, 9)):
            return pixels.astype(np.uint8).reshape(-1, 28, 28), labels
        bad = (pixels < 0).any(axis=1) | (pixels > 255).any(axis=1)
        if labels is not None:
            bad |= (labels < 0) | (labels > 9)
        failure, skip = "a value out of range", int(np.flatnonzero(bad)[0])
    elif data is not None:
        failure = f"{data.shape[1]} columns"
    raise KaggleFormatError(_diagnose(path, has_label, skip) or f"{path}: cannot be read ({failure})")


def _within(values: np.ndarray, top: int) -> bool:
    return values.min(initial=0) >= 0 and values.max(initial=0) <= top


def _check_header(path: Path, line: str) -> int:
    """Validate the header (line 1); 1 if it has a label column (train.csv)."""
    if not line.strip():
        raise KaggleFormatError(f"{path}, line 1: the file is empty or starts with a blank line; "
                                "expected the header 'label,pixel0,...,pixel783' (train.csv) or "
                                "'pixel0,...,pixel783' (test.csv)")
    names = [name.strip() for name in next(csv.reader([line]))]
    has_label = int(names[:1] == ["label"] or len(names) == PIXELS + 1)  # judge as train.csv
    expected = ["label"] * has_label + PIXEL_HEADER
    if names != expected:
        if len(names) != len(expected):
            what = f"{len(names)} columns, expected {len(expected)}"
        else:
            i = next(i for i, (a, b) in enumerate(zip(names, expected)) if a != b)
            what = f"column {i + 1} is {names[i]!r}, expected {expected[i]!r}"
        raise KaggleFormatError(f"{path}, line 1: bad header ({what}); expected "
                                "'label,pixel0,...,pixel783' (train.csv) or 'pixel0,...,pixel783' "
                                "(test.csv)")
    return has_label


def _diagnose(path: Path, has_label: int, skip: int = 0) -> str | None:
    """Describe the first bad data line after the first ``skip`` data lines (the error path only)."""
    ncols = PIXELS + has_label
    with open(path, encoding="utf-8-sig", newline=None) as f:
        next(f)
        for lineno, line in enumerate(f, start=2):
            if not line.strip():
                continue  # blank lines are skipped, as np.loadtxt does
            if skip:
                skip -= 1
                continue
            fields = line.rstrip("\r\n").split(",")
            where = f"{path}, line {lineno}"
            if len(fields) != ncols:
                return f"{where}: {len(fields)} values, expected {ncols} (the header's columns)"
            try:  # fast path: a well-formed line costs one map(int) call
                values = list(map(int, fields))
                if min(values) >= 0 and max(values) <= 255 and (not has_label or values[0] <= 9):
                    continue
            except ValueError:
                pass
            for col, field in enumerate(fields):
                name = "label" if has_label and col == 0 else PIXEL_HEADER[col - has_label]
                top = 9 if name == "label" else 255
                if not _INT.fullmatch(field.strip()):
                    return f"{where}: {name} is {field!r}, expected an integer 0..{top}"
                if not 0 <= int(field) <= top:
                    return f"{where}: {name} is {int(field)}, expected an integer 0..{top}"
    return None


def write_kaggle_submission(predictions, path: str | os.PathLike) -> Path:
    """Write ``ImageId,Label`` rows (ImageId from 1) for integer class predictions of shape ``(N,)``."""
    path = Path(path)
    preds = np.asarray(predictions)
    if preds.ndim != 1:
        hint = " (class scores? pass scores.argmax(axis=1))" if preds.ndim == 2 else ""
        raise KaggleFormatError(f"{path}: predictions must have shape (N,), got {preds.shape}{hint}")
    if preds.size and not (np.issubdtype(preds.dtype, np.integer)
                           or (np.issubdtype(preds.dtype, np.floating)
                               and np.all(preds == np.round(preds)))):
        raise KaggleFormatError(f"{path}: predictions must be integer classes 0..9, got dtype "
                                f"{preds.dtype}")
    if preds.size and (preds.min() < 0 or preds.max() > 9):
        bad = int(np.flatnonzero((preds < 0) | (preds > 9))[0])
        raise KaggleFormatError(f"{path}: prediction for ImageId {bad + 1} is {preds[bad]}, "
                                "expected a class 0..9")
    ids = np.arange(1, preds.size + 1)
    rows = np.column_stack([ids, preds.astype(np.int64)])
    np.savetxt(path, rows, fmt="%d", delimiter=",", header="ImageId,Label", comments="")
    return path
