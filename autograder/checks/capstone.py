"""Checks for 07_capstone's functions: predict, save_params, load_params. (Grading the trained
model on MNIST's test set is a separate check, elsewhere.)

Files are written to a fresh temporary folder per call, removed afterwards. save_params is judged
by reading its file with NumPy (not the learner's load_params), load_params by reading a file the
reference wrote, so one mistake costs points once. Decisions:
- save_params(params, "model.npz") must write model.npz. For a path without ".npz", writing the
  exact path or path + ".npz" (what np.savez does) are both accepted.
- load_params must return a plain dict: np.load's NpzFile is lazy, keeps the file open and cannot
  be updated in place (sgd_step), so it is not the params dict the spec asks for.
- "Round trip exact" means the same keys, dtypes and bits; key order is not required.
"""
from __future__ import annotations

import io
import os
import shutil

import numpy as np

from autograder.checks.base import (
    LEARNER_FILE_LIMIT,
    REFERENCE,
    Case,
    Odd,
    call,
    network,
    probe_check,
    read_learner_file,
    scratch_folder,
    snapshot,
    unchanged_check,
)
from autograder.compare import Mismatch, Raised, describe, describe_input, expect_array
from autograder.checks.promises import leaves_arguments, nothing_kept

# --- predict ---------------------------------------------------------------------------------


def _predict_case(label, sizes, n, seed, dtype=np.float64) -> Case:
    name = f"{label}: layer sizes {list(sizes)}, {n} sample{'s' if n != 1 else ''}, {np.dtype(dtype).name}"
    return Case(name, lambda: network(sizes, n, seed, dtype)[:2])


def _predict_probe(ns, case):
    args, kwargs = case.arguments()
    return snapshot(call(ns, "predict", args, kwargs))


def _predict_verdict(observed, expected, case):
    expect_array(expected, observed, what="the result", integer=True)


PREDICT = [
    probe_check("predict", "argmax_of_forward", "(N,) integer classes: the argmax of each row of forward's probs",
                lambda: [_predict_case("one hidden layer", (4, 5, 3), 6, 61),
                         _predict_case("MNIST-like output", (6, 8, 10), 12, 62, np.float32)],
                _predict_probe, _predict_verdict, points=2, reference=True),
    probe_check("predict", "single_sample_and_square", "one sample; as many samples as classes; deeper networks",
                lambda: [_predict_case("three hidden layers, one sample", (3, 6, 5, 4, 4), 1, 63),
                         _predict_case("as many samples as classes", (5, 6, 3), 3, 64)],
                _predict_probe, _predict_verdict, hidden=True, reference=True),
]

# --- files -----------------------------------------------------------------------------------


def _file_case(label, sizes, seed, filename, dtype=np.float64) -> Case:
    name = f"{label}: layer sizes {list(sizes)}, {np.dtype(dtype).name}, path '{filename}'"
    return Case(name, lambda: (network(sizes, 1, seed, dtype)[0], filename))


def _params_of(case):
    return case.make()[0]


def _read_npz(path):
    """What NumPy finds in the file, without unpickling anything: {name: array} or an Odd."""
    try:
        data = np.load(io.BytesIO(read_learner_file(path)), allow_pickle=False)
    except OSError as exc:
        return Odd("unreadable", f"not a file NumPy can read ({exc})")
    except ValueError as exc:
        if "pickled" in str(exc):
            return Odd("pickled file", "a pickle of Python objects, not a .npz of arrays")
        return Odd("unreadable", f"not a .npz file NumPy can read ({exc})")
    except Exception as exc:  # a text file, an empty file...
        return Odd("unreadable", f"not a .npz file NumPy can read ({type(exc).__name__})")
    if isinstance(data, np.ndarray):
        return Odd("npy file", f"a single .npy array ({describe(data)}), not a .npz archive of named arrays")
    with data:
        if sum(info.file_size for info in data.zip.infolist()) > 4 * LEARNER_FILE_LIMIT:
            return Odd("unreadable", "a .npz whose arrays unpack to more than 800 MB")
        try:
            return {key: data[key] for key in data.files}
        except ValueError:
            return Odd("object arrays", f"a .npz whose arrays {data.files} hold pickled Python objects, not numbers")


def _content(params_like):
    return {"arrays": {k: np.asarray(v) for k, v in params_like.items()},
            "dtypes": {k: np.asarray(v).dtype.str for k, v in params_like.items()}}


def _save_probe(ns, case):
    (params, filename), _ = case.arguments()
    folder = scratch_folder()
    try:
        path = os.path.join(folder, filename)
        got = call(ns, "save_params", (params, path))
        if isinstance(got, Raised):
            return got
        files = sorted(os.listdir(folder))
        written = path if os.path.isfile(path) else path + ".npz" if os.path.isfile(path + ".npz") else None
        if written is None or (written != path and filename.endswith(".npz")):
            return {"files": files, "content": Odd("no file")}
        found = _read_npz(written)
        return {"files": files, "content": found if isinstance(found, Odd) else _content(found)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _exactly(expected: dict, content, what):
    """Same keys, dtypes and bits."""
    arrays = content["arrays"]
    if set(arrays) != set(expected):
        raise Mismatch(f"{what} holds arrays named {list(arrays)}, expected {list(expected)}",
                       ["give every array its key as its name: np.savez(path, **params)"])
    for key, want in expected.items():
        got = arrays[key]
        if got.dtype != want.dtype:
            raise Mismatch(f"{what}[{key!r}] has dtype {got.dtype}, but the params had {want.dtype}",
                           ["a round trip must be exact: save and load the arrays as they are, without astype"])
        if got.shape != want.shape:
            raise Mismatch(f"{what}[{key!r}] has shape {got.shape}, expected {want.shape}")
        if not np.array_equal(got, want):
            raise Mismatch(f"{what}[{key!r}] has changed values ({int((got != want).sum())} of {got.size} entries)")


def _save_verdict(observed, expected, case):
    params, filename = case.make()
    content = observed["content"]
    if isinstance(content, Odd):
        if content.kind == "no file":
            where = f"'{filename}'" + ("" if filename.endswith(".npz") else f" (or '{filename}.npz')")
            raise Mismatch(f"save_params wrote no file at {where}",
                           [f"the folder holds {observed['files']}" if observed["files"] else "the folder is empty"])
        raise Mismatch(f"the file is {content.text}",
                       ["np.savez(path, **params) stores each array under its key, readable without pickle"])
    _exactly(params, content, "the saved file")


def _load_probe(ns, case):
    (params, filename), _ = case.arguments()
    folder = scratch_folder()
    try:
        path = os.path.join(folder, filename)
        if "compressed" in case.name:
            with open(path, "wb") as fh:
                np.savez_compressed(fh, **params)
        else:
            REFERENCE["save_params"](params, path)
        got = call(ns, "load_params", (path,))
        if isinstance(got, Raised):
            return got
        if not isinstance(got, dict):
            observed = Odd("not a dict", describe(got))
            if hasattr(got, "close"):
                got.close()
            return observed
        if not all(isinstance(v, np.ndarray) for v in got.values()):
            return Odd("not arrays", describe(next(v for v in got.values() if not isinstance(v, np.ndarray))))
        return _content(snapshot(got))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _load_verdict(observed, expected, case):
    if isinstance(observed, Odd):
        details = ["return a plain dict of arrays: with np.load(path) as data: return {k: data[k] for k in data.files}"]
        if "NpzFile" in observed.text:
            details.insert(0, "np.load gives a lazy NpzFile that keeps the file open (and closes with a `with` "
                              "block); it cannot be updated in place by sgd_step")
        if observed.kind == "not a dict":
            raise Mismatch(f"load_params should return a dict, but it returned {observed.text}", details)
        raise Mismatch(f"load_params should return a dict of NumPy arrays, but one value is {observed.text}", details)
    _exactly(_params_of(case), observed, "the loaded params")


def _describe_file(function):
    def describe_case(case):
        params, filename = case.make()
        return (f"{function}({'params, ' if function == 'save_params' else ''}path) on \u00ab{case.name}\u00bb: "
                f"params = {describe_input(params)}; path = <a fresh temporary folder>/{filename}")
    return describe_case


SAVE_PARAMS = [
    probe_check("save_params", "npz_round_trip",
                "writes a .npz at path: the same keys, dtypes and values when read back with np.load",
                lambda: [_file_case("one hidden layer", (4, 5, 3), 71, "model.npz"),
                         _file_case("float32, two hidden layers", (3, 4, 4, 2), 72, "weights.npz", np.float32)],
                _save_probe, _save_verdict, points=2, describe_case=_describe_file("save_params")),
    probe_check("save_params", "path_without_suffix",
                "a path without .npz: writing 'model' or 'model.npz' are both fine",
                lambda: [_file_case("no suffix", (4, 3, 3), 73, "model")],
                _save_probe, _save_verdict, hidden=True, describe_case=_describe_file("save_params")),
]

LOAD_PARAMS = [
    probe_check("load_params", "plain_dict_exact",
                "reads a .npz written by save_params into a plain dict: same keys, dtypes, values",
                lambda: [_file_case("one hidden layer", (4, 5, 3), 81, "model.npz"),
                         _file_case("float32, two hidden layers", (3, 4, 4, 2), 82, "weights.npz", np.float32)],
                _load_probe, _load_verdict, points=2, describe_case=_describe_file("load_params")),
    probe_check("load_params", "compressed_and_deep",
                "a compressed .npz (np.savez_compressed), three hidden layers",
                lambda: [_file_case("compressed, three hidden layers", (5, 4, 3, 4, 2), 83, "model.npz")],
                _load_probe, _load_verdict, hidden=True, describe_case=_describe_file("load_params")),
]

CHECKS = PREDICT + SAVE_PARAMS + LOAD_PARAMS

# --- issue 10, item 4: no argument changed (params entries included) ---

PROMISES_07 = [
    unchanged_check("predict", "leaves_arguments", "params (every entry) and X are left exactly as they were",
                    lambda: [Case("one hidden layer, writable arrays", lambda: network((4, 5, 3), 6, 65)[:2],
                                  readonly=False)], names=("params", "X"),
                    fix="predict reads params and X: `forward(params, X)[0].argmax(axis=1)` changes neither; "
                        "converting entries of params (astype, reshape) must happen on copies"),
]

CHECKS = CHECKS + PROMISES_07

# --- no argument changed (save_params); nothing kept between calls ---


def _two_predictions():
    return [_predict_case("one hidden layer", (4, 5, 3), 6, 66), _predict_case("another of the same shape", (4, 5, 3),
                                                                               6, 67)]


def _two_files():
    return [_file_case("one hidden layer", (4, 5, 3), 84, "model.npz"),
            _file_case("another of the same shape", (4, 5, 3), 85, "model.npz")]


def _in_scratch(ns, args, kwargs):
    """(params, path): the file goes to a fresh folder the check can write in."""
    params, filename = args
    return params, os.path.join(scratch_folder(), filename)


PROMISES_07_MORE = [
    nothing_kept("predict", _two_predictions,
                 title="two networks of one shape, each asked twice in turn: the same predictions each time"),
    leaves_arguments("save_params", _two_files, ("params", "path"),
                     "write what you are given, `np.savez(path, **params)`; converting or renaming entries of "
                     "params itself changes the caller's network",
                     title="params (every entry) is left exactly as it was", arguments=_in_scratch),
    nothing_kept("save_params", _two_files, observe=_save_probe,
                 title="two networks, each saved twice in turn: the same file each time"),
    nothing_kept("load_params", _two_files, observe=_load_probe,
                 title="two files, each loaded twice in turn: each gives its own params each time"),
]

CHECKS = CHECKS + PROMISES_07_MORE
