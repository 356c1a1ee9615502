"""Grade the capstone: a saved model must reach the threshold on the 10,000 MNIST test images.

``grade_model(path, predict)`` checks the model file first (it exists, is a plain ``.npz`` without
pickled objects, holds ``W1, b1, ..., WL, bL`` whose shapes chain from 784 inputs to 10 classes,
floating and finite, of a sane size), then measures test accuracy twice:

- with an independent forward pass of the saved weights written here (ReLU on hidden layers, the
  argmax of the last layer: softmax does not change an argmax), so the file alone is judged;
- with the learner's own ``predict`` (when given), run isolated in a child process.

Both must reach the threshold, and they must agree: a ``predict`` that computes something other
than the network that was saved is reported. A capstone that uses a framework (torch, tensorflow,
keras, jax, sklearn) instead of the learner's NumPy code is reported and does not pass.

Doors: ``check_capstone("model.npz")`` in the notebook (prints one line, or raises ``CheckFailed``
with the feedback; never writes to stderr), and ``python -m autograder capstone MODEL.npz
[--submission FILE] [--json]`` (exit 0 pass, 1 fail, 2 unusable model file).

The threshold is ``CAPSTONE_THRESHOLD`` (97%), overridden by the environment variable
``BACKPROP_KIT_THRESHOLD`` (a fraction such as ``0.975`` or a percentage such as ``97.5``).
"""
from __future__ import annotations

import functools
import json
import os
import re
import stat
import sys
import types
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from autograder.assignments import BY_NAME, CAPSTONE

CAPSTONE_THRESHOLD = 0.97          # the one place the pass mark is set
CAPSTONE_POINTS = BY_NAME[CAPSTONE].model_points  # the points of the notebook's graded test_capstone cell
THRESHOLD_ENV = "BACKPROP_KIT_THRESHOLD"
INPUTS, CLASSES = 28 * 28, 10
MAX_FILE_BYTES = 100 * 1024 * 1024  # on disk, and unpacked
MAX_PARAMETERS = 5_000_000          # a network that reaches 97% needs about 100,000
PREDICT_TIMEOUT = 60.0              # seconds for the learner's predict on the 10,000 test images
MAX_DISAGREEMENTS = 10              # of 10,000: rounding may flip a near-tie, another network flips hundreds
ML_FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "sklearn")
EXIT_PASS, EXIT_FAIL, EXIT_UNUSABLE = 0, 1, 2

__all__ = ["CAPSTONE_POINTS", "CAPSTONE_THRESHOLD", "CapstoneResult", "ModelFileError", "check_capstone", "grade_model",
           "read_model", "reference_predict", "threshold"]


class ModelFileError(ValueError):
    """The model file cannot be graded; the message lists every problem found, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def threshold() -> float:
    """The pass mark: ``$BACKPROP_KIT_THRESHOLD`` if set (0.975 or 97.5), else ``CAPSTONE_THRESHOLD``."""
    raw = os.environ.get(THRESHOLD_ENV, "").strip()
    if not raw:
        return CAPSTONE_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if 1 < value <= 100:
        value /= 100
    if not 0 < value <= 1:
        raise ValueError(f"{THRESHOLD_ENV}={raw!r}: give the pass mark as a fraction (0.97) or a "
                         f"percentage (97); unset it for the default {CAPSTONE_THRESHOLD:.0%}")
    return value


_threshold_now = threshold  # grade_model's `threshold` argument shadows the function


# ---------------------------------------------------------------------------------------------
# the verdict


@dataclass
class CapstoneResult:
    """What grading one model file found. ``status`` is "pass", "fail" or "unusable" (the file
    itself cannot be graded); ``problems`` holds one learner-facing message per problem."""

    path: str
    threshold: float
    status: str = "unusable"
    problems: list[str] = field(default_factory=list)
    layer_sizes: list[int] | None = None
    parameters: int | None = None
    accuracy: float | None = None            # the grader's forward pass of the saved weights
    predict_accuracy: float | None = None    # the learner's predict on the same weights
    disagreements: int | None = None         # test images where the two differ
    framework: str = ""                      # what framework use was found, if any

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def exit_code(self) -> int:
        return {"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(self.status, EXIT_UNUSABLE)

    def summary(self) -> str:
        """One line: the verdict, the model and both accuracies."""
        name = Path(self.path).name
        if self.layer_sizes is None:
            return f"\u2717 capstone: {name} cannot be graded"
        model = f"{name} ({'-'.join(map(str, self.layer_sizes))}, {self.parameters:,} parameters)"
        scores = []
        if self.predict_accuracy is not None:
            scores.append(f"{self.predict_accuracy:.2%} with your predict")
        if self.accuracy is not None:
            scores.append(f"{self.accuracy:.2%} with the grader's forward pass of the saved weights")
        measured = (": test accuracy " + ", ".join(scores)) if scores else ""
        mark = "\u2713" if self.passed else "\u2717"
        return f"{mark} capstone: {model}{measured} (needed: {self.threshold:.2%})"

    def text(self) -> str:
        """The summary, then every problem, indented like the other checks' feedback."""
        lines = [self.summary()]
        for problem in self.problems:
            first, *rest = problem.splitlines()
            lines.append(f"  problem:  {first}")
            lines += [f"            {line}" for line in rest]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


# ---------------------------------------------------------------------------------------------
# the model file


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


# ---------------------------------------------------------------------------------------------
# evaluation


@functools.cache
def evaluation_data() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 test images as the learner's functions prepare them, read-only: float32 pixels
    in [0, 1] (normalize), one row of 784 per image (flatten); and their labels."""
    from autograder.mnist import load_mnist

    images, labels = load_mnist("test")
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    X.flags.writeable = False
    return X, labels


def reference_predict(params: Mapping[str, np.ndarray], X: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """(N,) int64 classes of the network ``params`` on ``X``: Z = A @ W + b, ReLU on hidden layers,
    argmax of the last (softmax keeps the order of the scores, so it is not needed)."""
    depth = len(params) // 2
    weights = [(_compute_dtype(params[f"W{k}"]), _compute_dtype(params[f"b{k}"])) for k in range(1, depth + 1)]
    out = np.empty(len(X), dtype=np.int64)
    with np.errstate(all="ignore"):
        for start in range(0, len(X), chunk):
            A = X[start:start + chunk]
            for k, (W, b) in enumerate(weights, start=1):
                A = A @ W + b
                if k < depth:
                    A = np.maximum(A, 0)
            out[start:start + chunk] = np.argmax(A, axis=1)
    return out


def _compute_dtype(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.itemsize < 4 else a  # float16 has no fast matmul


def _run_predict(predict: Callable, params: dict, X: np.ndarray):
    """Call predict and describe what came back (never raises a learner's exception): ("ok",
    array), ("bad", message) or ("raised", type name, text). With a sandboxed predict the call
    runs in the sandbox; a LearnerCrash (exit, time out) goes to the caller."""
    try:
        value = predict(params, X)
    except Exception as exc:
        where = getattr(exc, "__learner_line__", None)
        if where is None:
            from autograder.checks.base import learner_line

            where = learner_line(exc.__traceback__)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return ("raised", type(exc).__name__, text + (f" ({where})" if where else ""))
    if value is None:
        return ("bad", "predict returned None: did it forget to `return` the predictions?")
    try:
        array = np.asarray(value)
    except Exception:
        array = None
    if array is None or array.dtype.kind not in "biuf":
        return ("bad", f"predict returned {type(value).__name__}"
                       + (f" of dtype {array.dtype}" if array is not None else "")
                       + ": it should return an integer array of classes, shape (N,)")
    return ("ok", array)


def _plain_outcome(outcome):
    """A predict outcome as JSON-able data (to come back from a forked child) and back."""
    if outcome[0] == "ok":
        return ["ok", outcome[1].tolist(), outcome[1].dtype.str]
    return list(outcome)


def _from_plain(value):
    if isinstance(value, list) and value and value[0] == "ok":
        return ("ok", np.asarray(value[1], dtype=np.dtype(value[2])))
    return tuple(value)


def evaluate_predict(predict: Callable, params: dict, X: np.ndarray, timeout: float):
    """(outcome, crash reason): predict run in the sandbox when it is a sandboxed function, else
    (a learner's own kernel checking itself) in a forked child, each within `timeout`."""
    from autograder.sandbox.remote import LearnerCrash, RemoteFunction

    if isinstance(predict, RemoteFunction):
        from autograder.checks import FUNCTIONS

        sandbox = predict.sandbox
        sandbox.begin_check([f for f in FUNCTIONS if f != "predict"], timeout)
        try:
            outcome = _run_predict(predict, params, X)
        except LearnerCrash as crash:
            return None, crash.reason
        finally:
            log = sandbox.end_check()
        if log.reached:
            return None, "predict tried to use the course's reference answer, which is not available to your code"
        return outcome, ""
    from autograder import isolation

    done = isolation.run_tasks([lambda: _plain_outcome(_run_predict(predict, params, X))], timeout)[0]
    if done.crashed:
        return None, done.crashed
    return _from_plain(done.value), ""


def _predictions_problem(array: np.ndarray, n: int) -> str:
    if array.shape == (n, CLASSES):
        return (f"predict returned class scores of shape {array.shape}; it should return one class per "
                f"image, shape ({n},): the index of the largest score, np.argmax(scores, axis=1)")
    if array.shape != (n,):
        return (f"predict returned shape {array.shape} for {n:,} images; it should return shape ({n},), "
                f"one class per image")
    if array.dtype.kind == "b":
        return "predict returned booleans; it should return integer classes 0..9"
    if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array))):
        example = array[~(np.isfinite(array) & (array == np.round(array)))][0]
        return (f"predict returned non-integer values such as {example:g}; it should return classes "
                f"0..9, e.g. np.argmax(probs, axis=1)")
    outside = (array < 0) | (array >= CLASSES)
    if outside.any():
        return f"predict returned classes outside 0..9, such as {array[outside][0]:g}"
    return ""


def _probe_unimplemented(predict: Callable, timeout: float) -> str:
    """When the file cannot be graded: is predict still a stub? (so the feedback can say so)"""
    dummy = {"W1": np.zeros((INPUTS, 16), np.float32), "b1": np.zeros(16, np.float32),
             "W2": np.zeros((16, CLASSES), np.float32), "b2": np.zeros(CLASSES, np.float32)}
    X = np.zeros((2, INPUTS), np.float32)
    outcome, _ = evaluate_predict(predict, dummy, X, min(timeout, 10.0))
    if isinstance(outcome, tuple) and outcome[:2] == ("raised", "NotImplementedError"):
        return _NOT_IMPLEMENTED
    return ""


_NOT_IMPLEMENTED = ("predict is not implemented yet (it raised NotImplementedError): write it above, run "
                    "its cell, then run this one again")


def grade_model(path: str | os.PathLike, predict: Callable | None = None, *,
                namespace: Mapping | None = None, frameworks: str | None = None, threshold: float | None = None,
                timeout: float = PREDICT_TIMEOUT) -> CapstoneResult:
    """Grade the model file at ``path``: file checks, framework check, then test accuracy with the
    grader's forward pass and (when given) the learner's ``predict``, run isolated (in the sandbox
    when it is a sandboxed function).

    ``frameworks`` is what the sandbox found of framework use; without it, ``namespace`` (a
    learner's own kernel) is searched. ``threshold`` defaults to ``threshold()``.
    """
    limit = _threshold_now() if threshold is None else float(threshold)
    result = CapstoneResult(path=str(path), threshold=limit)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            params = read_model(path)
        except ModelFileError as exc:
            result.problems += exc.problems
            if predict is not None:
                note = _probe_unimplemented(predict, timeout)
                if note:
                    result.problems.append(note)
            return result
        result.layer_sizes = layer_sizes(params)
        result.parameters = int(sum(v.size for v in params.values()))

        result.framework = frameworks if frameworks is not None else frameworks_used(namespace, predict)
        if result.framework:
            result.problems.append(
                f"the capstone must be your own NumPy code, but {result.framework}.\nA network built, "
                f"trained or run by a framework does not count: train with the functions you wrote "
                f"(forward, backward, sgd_step, ...) and predict with NumPy only.")

        X, labels = evaluation_data()
        reference = reference_predict(params, X)
        result.accuracy = float(np.mean(reference == labels))

        if predict is not None:
            value, crashed = evaluate_predict(predict, params, X, timeout)
            problem = ""
            if crashed:
                problem = f"predict could not be evaluated on the {len(X):,} test images: {crashed}"
            elif value[0] == "raised":
                _, name, text = value
                if name == "NotImplementedError":
                    problem = _NOT_IMPLEMENTED
                elif name == "ValueError" and "read-only" in text:
                    problem = (f"predict tried to change its input X in place (the grader passes the test "
                               f"images read-only): work on a copy or build new arrays\nNumPy said: {text}")
                else:
                    problem = (f"predict raised {name} on the {len(X):,} test images (float32, shape "
                               f"{X.shape}, values in [0, 1]){': ' + text if text else ''}")
            elif value[0] == "bad":
                problem = value[1]
            else:
                problem = _predictions_problem(value[1], len(X))
            if problem:
                result.problems.append(problem)
            else:
                predictions = value[1].astype(np.int64)
                result.predict_accuracy = float(np.mean(predictions == labels))
                differ = np.flatnonzero(predictions != reference)
                result.disagreements = int(differ.size)
                if differ.size > MAX_DISAGREEMENTS:
                    i = int(differ[0])
                    result.problems.append(
                        f"your predict and the grader's forward pass of the same saved weights disagree on "
                        f"{differ.size:,} of {len(X):,} test images (e.g. test image {i}: predict says "
                        f"{predictions[i]}, the weights say {reference[i]}).\npredict must compute the "
                        f"network that is saved: Z = A @ W + b for every layer, ReLU on the hidden layers, "
                        f"the argmax of the last. Does it use other weights than its params argument, "
                        f"another activation, or skip a bias?")

        below = [(name, acc) for name, acc in (("your predict", result.predict_accuracy),
                                               ("the grader's forward pass of the saved weights", result.accuracy))
                 if acc is not None and acc < limit]
        if below:
            measured = " and ".join(f"{acc:.2%} with {name}" for name, acc in below)
            result.problems.append(
                f"test accuracy {measured}: below the {limit:.2%} needed.\nTrain longer or with a larger "
                f"hidden layer, tune the learning rate, or try an extension (momentum, learning-rate "
                f"decay); watch the validation accuracy while training.")
    result.status = "fail" if result.problems else "pass"
    return result


# ---------------------------------------------------------------------------------------------
# frameworks


def frameworks_used(namespace: Mapping | None, predict: Callable | None = None) -> str:
    """How the learner's code uses an ML framework, in words ('' if it does not).

    Looks at the functions the learner defined (and the helpers they call, through
    ``judge.framework_used``), at the modules, classes and functions imported into the namespace,
    and at objects made by a framework (a torch model, a fitted sklearn classifier)."""
    from autograder.sandbox.worker import framework_used

    functions: dict[str, Callable] = {}
    if predict is not None:
        functions["predict"] = predict
    for name, value in (namespace or {}).items():
        if name.startswith("_"):
            continue
        if isinstance(value, types.ModuleType):
            top = value.__name__.split(".")[0]
            if top in ML_FRAMEWORKS:
                alias = "" if name == value.__name__ else f" as {name}"
                return f"the notebook imports {value.__name__}{alias}"
            continue
        imported = isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType))
        try:
            module = (getattr(value, "__module__", None) if imported else type(value).__module__) or ""
        except Exception:  # an object whose attribute lookup fails is not a framework's
            module = ""
        if module.split(".")[0] in ML_FRAMEWORKS:
            if imported:
                return f"the notebook imports {module}.{getattr(value, '__name__', name)}"
            return f"the notebook holds `{name}`, a {module}.{type(value).__name__}"
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            functions.setdefault(name, value)
    for name, fn in functions.items():
        used = framework_used(fn)
        if used and used.split(".")[0] in ML_FRAMEWORKS:
            return f"{name} uses {used}"
    return ""


# ---------------------------------------------------------------------------------------------
# doors


def check_capstone(path: str | os.PathLike = "model.npz", *, namespace: Mapping | None = None,
                   threshold: float | None = None) -> None:
    """The notebook door: grade ``path`` with the notebook's ``predict``; print one line when it
    passes, raise ``CheckFailed`` with the feedback when it does not. Never writes to stderr."""
    from autograder.notebook import CheckFailed

    ns = namespace if namespace is not None else sys._getframe(1).f_globals
    predict = ns.get("predict")
    if predict is None or not callable(predict):
        missing = ("predict is missing: define it above and run its cell" if predict is None else
                   f"predict should be a function, but it is {type(predict).__name__}: did a variable "
                   f"reuse its name?")
        raise CheckFailed(f"\u2717 capstone: {Path(path).name} was not graded\n  problem:  {missing}")
    result = grade_model(path, predict, namespace=ns, threshold=threshold)
    if not result.passed:
        raise CheckFailed(result.text())
    print(result.text())


def run_cli(model: str, submission: str | None = None, as_json: bool = False, require_sandbox: bool = False) -> int:
    """``python -m autograder capstone MODEL.npz [--submission FILE] [--json]``: 0 pass, 1 fail,
    2 unusable model file (or submission). The submission's predict runs in the sandbox."""
    try:
        limit = threshold()  # fixed before any learner code runs
    except ValueError as exc:  # a malformed $BACKPROP_KIT_THRESHOLD
        return _cli_error(model, submission, as_json, str(exc))
    if not submission:
        return _cli_report(grade_model(model, threshold=limit), submission, as_json)
    from autograder.checks import FUNCTIONS
    from autograder.checks.base import REFERENCE
    from autograder.sandbox.launch import SandboxUnavailable
    from autograder.sandbox.remote import Sandbox
    from autograder.submission import SubmissionError, read_submission

    try:
        blocks = [b.as_dict() for b in read_submission(submission)]
    except SubmissionError as exc:
        return _cli_error(model, submission, as_json, str(exc))
    try:
        with Sandbox(blocks, FUNCTIONS, REFERENCE, require_sandbox=require_sandbox) as sandbox:
            info = sandbox.info.get("predict")
            if info is None or not info.callable:
                return _cli_error(model, submission, as_json, f"{submission} defines no function predict")
            frameworks = sandbox.frameworks or (f"predict uses {info.framework}" if info.framework else "")
            result = grade_model(model, sandbox.function("predict"), frameworks=frameworks, threshold=limit)
            isolation = {"level": sandbox.isolation, "detail": sandbox.detail}
    except SandboxUnavailable as exc:
        return _cli_error(model, submission, as_json, f"--require-sandbox: {exc}")
    return _cli_report(result, submission, as_json, isolation)


def _cli_report(result: CapstoneResult, submission, as_json: bool, isolation: dict | None = None) -> int:
    """Print the verdict; `isolation` says what ran the learner's predict (none: no learner code ran)."""
    isolation = isolation or {"level": "none", "detail": "no learner code was run: the model file alone was graded"}
    if as_json:
        print(json.dumps({**result.as_dict(), "submission": submission, "isolation": isolation}, indent=2))
    else:
        print(result.text())
        if submission:
            print(f"graded in: {isolation['level']} ({isolation['detail']})")
    return result.exit_code


def _cli_error(model, submission, as_json: bool, message: str) -> int:
    if as_json:
        print(json.dumps({"model": model, "submission": submission, "error": message}))
    else:
        print(f"autograder: {message}", file=sys.stderr)
    return EXIT_UNUSABLE
