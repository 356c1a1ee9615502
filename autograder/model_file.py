"""Reading a capstone model file: a plain ``.npz`` holding ``W1, b1, ..., WL, bL`` whose shapes chain
from 784 inputs to 10 classes, floating and finite, of a sane size.

Kept apart from grading so the parsing rules (and every learner-facing message about a bad file)
live in one place. Nothing in a file is ever unpickled, and sizes are read from the array headers
before any data is loaded, so a hostile or huge file costs nothing.
"""
from __future__ import annotations

import os
import re
import stat
import warnings
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np

INPUTS, CLASSES = 28 * 28, 10
MAX_FILE_BYTES = 100 * 1024 * 1024  # on disk, and unpacked
MAX_PARAMETERS = 5_000_000          # a network that reaches 97% needs about 100,000


class ModelFileError(ValueError):
    """The model file cannot be graded; the message lists every problem found, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def read_model(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The params of a model file, checked: raises ``ModelFileError`` listing every problem.

    Nothing in the file is ever unpickled, and sizes are read from the array headers before any
    data is loaded, so a hostile or huge file costs nothing.
    """
    path = Path(path)
    shown = str(path)
    if not path.exists():
        where = path.resolve().parent
        near = [p.name for p in (path.with_name(path.name + ".npy"), path.with_name(path.name + ".npz"),
                                 path.with_suffix(".npy")) if p != path and p.is_file()]
        if near:
            raise ModelFileError([
                f"{shown} does not exist (looked in {where}), but {near[0]} does: np.save writes one "
                f"array and adds .npy to the name, np.savez adds .npz.\nSave the params dict with "
                f"np.savez(path, **params) to a path that ends in .npz."])
        raise ModelFileError([
            f"{shown} does not exist (looked in {where}).\n"
            f"Run the training cell and the cell that calls save_params(params, \"{path.name}\"), "
            f"then this one; if training stopped early (an error, or the time limit), fix that first."])
    if path.is_symlink() or not stat.S_ISREG(path.lstat().st_mode):
        what = "a folder" if path.is_dir() else "a link or a special file"
        raise ModelFileError([f"{shown} is {what}, not a model file; save the model with save_params"])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ModelFileError([f"{shown} is {size / 2**20:,.0f} MB; the grader accepts model files up to "
                              f"{MAX_FILE_BYTES / 2**20:,.0f} MB (a network that reaches 97% needs under 1 MB)"])
    headers = _npz_headers(path, shown)
    problems = []
    total = sum(int(np.prod(shape)) for shape, _ in headers.values())
    unpacked = sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in headers.values())
    if total > MAX_PARAMETERS or unpacked > MAX_FILE_BYTES:
        raise ModelFileError([f"{shown} holds {total:,} numbers ({unpacked / 2**20:,.0f} MB); the grader "
                              f"accepts up to {MAX_PARAMETERS:,} parameters (a network that reaches 97% "
                              f"needs about 100,000: e.g. [784, 128, 10])"])
    problems += _key_problems(list(headers))
    keys = _expected_keys(list(headers))
    if not keys or any(key not in headers for key in keys):
        raise ModelFileError(problems)  # without every W_k and b_k there is no network to check
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.load(path, allow_pickle=False) as data:
                params = {key: data[key] for key in keys}
    except Exception as exc:  # damaged data behind valid headers
        raise ModelFileError(problems + [f"{shown} cannot be read as .npz ({type(exc).__name__}: {exc}); "
                                         f"save it again with save_params"]) from None
    shape_problems = _shape_problems(params)
    problems += shape_problems or _value_problems(params)
    if problems:
        raise ModelFileError(problems)
    return {key: (value.reshape(-1) if key.startswith("b") else value) for key, value in params.items()}


def _npz_headers(path: Path, shown: str) -> dict[str, tuple[tuple, np.dtype]]:
    """{key: (shape, dtype)} of every array of an .npz, from the headers alone."""
    save_hint = "save the params dict with save_params, i.e. np.savez(path, **params)"
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head.startswith(b"\x93NUMPY"):
            what = ("a single .npy array, not an .npz archive of named arrays (np.save writes one array, "
                    "and a dict given to np.save becomes a pickled object)")
        elif head[:1] in (b"\x80", b"(", b"}"):
            what = "a pickle (pickle.dump or joblib?), not an .npz archive"
        elif not head:
            what = "empty (0 bytes): saving was interrupted or never wrote anything"
        else:
            what = "not an .npz archive (not even a zip file)"
        raise ModelFileError([f"{shown} is {what}; {save_hint}"]) from None
    except OSError as exc:
        raise ModelFileError([f"{shown} cannot be read ({exc.strerror or exc})"]) from None
    headers, problems = {}, []
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                pickled = " (a pickle: was it written by torch.save?)" if info.filename.endswith(".pkl") else ""
                problems.append(f"{shown} contains {info.filename!r}, which is not a NumPy array{pickled}; "
                                f"a model file holds only the arrays W1, b1, ..., WL, bL; {save_hint}")
                continue
            key = info.filename[:-4]
            try:
                with archive.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                              else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = reader(fh)
            except Exception as exc:
                problems.append(f"entry {key!r} of {shown} is not a readable NumPy array ({exc})")
                continue
            if dtype.hasobject:
                problems.append(
                    f"entry {key!r} of {shown} holds Python objects (a pickle), not numbers: the grader "
                    f"never unpickles a file.\n"
                    + ("np.savez(path, params) or np.savez(path, params=params) stores the whole dict as "
                       "one object; unpack it instead: np.savez(path, **params)"
                       if key in ("arr_0", "params", "model", "weights") else
                       f"make {key!r} a plain float array (np.asarray(value, dtype=np.float32)), then save "
                       f"with np.savez(path, **params)"))
                continue
            headers[key] = (tuple(shape), dtype)
    if problems:
        raise ModelFileError(problems)
    if not headers:
        raise ModelFileError([f"{shown} is an empty archive: it holds no arrays; {save_hint}"])
    return headers


_KEY = re.compile(r"([Wb])([1-9][0-9]*)")


def _expected_keys(keys: list[str]) -> list[str]:
    """W1, b1, ..., WL, bL in order, L the largest layer number among the keys ([] if none)."""
    depth = max((int(m.group(2)) for k in keys if (m := _KEY.fullmatch(k))), default=0)
    return [f"{p}{k}" for k in range(1, depth + 1) for p in "Wb"]


def _key_problems(keys: list[str]) -> list[str]:
    """The keys must be exactly W1, b1, ..., WL, bL for some L >= 1."""
    expected = _expected_keys(keys)
    depth = len(expected) // 2
    problems = []
    if not depth:
        shown = ", ".join(map(repr, keys[:8])) + (" ..." if len(keys) > 8 else "")
        hint = ""
        if any(_KEY.fullmatch(k.capitalize() if k[:1] == "w" else k) for k in keys):
            hint = " (names are case-sensitive: weights are W1, W2, ... with a capital W)"
        return [f"the file holds {shown}, but no W1: a model file holds the params dict's arrays, "
                f"named W1, b1, W2, b2, ..., WL, bL{hint}; save it with np.savez(path, **params)"]
    missing = [k for k in expected if k not in keys]
    extra = [k for k in keys if k not in expected]
    if missing:
        miscased = [k for k in extra if k[:1] == "w" and "W" + k[1:] in missing]
        hint = (f" (names are case-sensitive: {'W' + miscased[0][1:]}, not {miscased[0]})" if miscased else "")
        problems.append(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing: a network "
                        f"with {depth} layer{'s' if depth > 1 else ''} needs {', '.join(expected)}{hint}")
    if extra:
        problems.append(f"unexpected entr{'y' if len(extra) == 1 else 'ies'} {', '.join(map(repr, extra))}: "
                        f"the file should hold only the parameters {', '.join(expected)} "
                        f"(keep optimiser state such as momentum out of params, or save it elsewhere)")
    return problems


def _shape_problems(params: dict) -> list[str]:
    """Shapes chain 784 -> ... -> 10 with matching biases; every array is floating point."""
    depth = len(params) // 2
    problems = []
    fan_in = INPUTS
    for k in range(1, depth + 1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        for key, value in ((f"W{k}", W), (f"b{k}", b)):
            if value.dtype.kind != "f":
                problems.append(f"{key} has dtype {value.dtype}: parameters must be floating point "
                                f"(float32 or float64)")
        if W.ndim != 2:
            problems.append(f"W{k} has shape {W.shape}: a weight matrix is 2-D, (inputs, outputs)")
            return problems
        rows, cols = W.shape
        if rows != fan_in:
            if k == 1 and cols == INPUTS:
                problems.append(f"W1 has shape {W.shape}, transposed: with Z = X @ W1 + b1 and X of shape "
                                f"(N, 784), W1 must be (784, hidden units)")
            elif k == 1:
                problems.append(f"W1 has shape {W.shape}, but an MNIST image has {INPUTS} pixels: W1 must "
                                f"have {INPUTS} rows (inputs, outputs)")
            else:
                problems.append(f"the layers do not chain: W{k - 1} has {fan_in} outputs but W{k} has shape "
                                f"{W.shape} ({rows} inputs); W{k} must be ({fan_in}, outputs)")
            return problems
        if b.shape not in ((cols,), (1, cols)):
            problems.append(f"b{k} has shape {b.shape}, but W{k} {W.shape} has {cols} outputs: b{k} must "
                            f"have shape ({cols},)")
        fan_in = cols
    if fan_in != CLASSES:
        problems.append(f"the last layer W{depth} has {fan_in} outputs, but there are {CLASSES} digits: "
                        f"W{depth} must be ({params[f'W{depth}'].shape[0]}, {CLASSES})")
    return problems


def _value_problems(params: dict) -> list[str]:
    problems = []
    for key, value in params.items():
        bad = value.size - int(np.count_nonzero(np.isfinite(value)))
        if bad:
            nans = int(np.count_nonzero(np.isnan(value)))
            kinds = " and ".join(x for x in (f"{nans:,} NaN" if nans else "",
                                             f"{bad - nans:,} infinite" if bad > nans else "") if x)
            problems.append(f"{key} holds {kinds} value{'s' if bad > 1 else ''} (of {value.size:,}): training "
                            f"diverged; lower the learning rate and train again")
    return problems


def layer_sizes(params: Mapping[str, np.ndarray]) -> list[int]:
    depth = len(params) // 2
    return [INPUTS] + [int(params[f"W{k}"].shape[1]) for k in range(1, depth + 1)]
