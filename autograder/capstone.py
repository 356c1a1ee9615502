"""Grade the capstone: a saved model must reach the threshold on the 10,000 MNIST test images.

``grade_model(path, predict)`` checks the model file first (it exists, is a plain ``.npz`` without
pickled objects, holds ``W1, b1, ..., WL, bL`` whose shapes chain from 784 inputs to 10 classes,
floating and finite, of a sane size), then measures test accuracy twice:

- with an independent forward pass of the saved weights written here (ReLU on hidden layers, the
  argmax of the last layer: softmax does not change an argmax), so the file alone is judged;
- with the learner's own ``predict`` (when given), run isolated in a child process.

Both must reach the threshold, and they must agree: a ``predict`` that computes something other
than the network that was saved is reported. A capstone that uses a framework (torch, tensorflow,
keras, jax, sklearn, scipy: `sandbox.frameworks`) instead of the learner's NumPy code is reported and
does not pass. Reading the file is `model_file`'s job; this module grades what it read.

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
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from autograder.assignments import BY_NAME, CAPSTONE
from autograder.cli_common import EXIT_FAIL, EXIT_PASS, EXIT_UNUSABLE, unusable
from autograder.model_file import CLASSES, INPUTS, ModelFileError, layer_sizes, read_model

CAPSTONE_THRESHOLD = 0.97          # the one place the pass mark is set
CAPSTONE_POINTS = BY_NAME[CAPSTONE].model_points  # the points of the notebook's graded test_capstone cell
THRESHOLD_ENV = "BACKPROP_KIT_THRESHOLD"
PREDICT_TIMEOUT = 60.0              # seconds for the learner's predict on the 10,000 test images
MAX_DISAGREEMENTS = 10              # of 10,000: rounding may flip a near-tie, another network flips hundreds

__all__ = ["CAPSTONE_POINTS", "CAPSTONE_THRESHOLD", "CapstoneResult", "ModelFileError", "check_capstone", "grade_model",
           "read_model", "reference_predict", "threshold"]


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


@dataclass(frozen=True)
class PredictOutcome:
    """What one call of the learner's predict came to, as plain data that crosses a process
    boundary (`as_plain`/`from_plain`): predictions (an array of numbers), or what it raised, or
    what was wrong with what it returned, or why it could not run to the end (`crashed`)."""

    predictions: np.ndarray | None = None
    raised: str = ""       # the exception's type name
    text: str = ""         # its message (and the learner's line), when it raised
    problem: str = ""      # what was wrong with the value returned (None, not numbers)
    crashed: str = ""      # the call never finished: it exited, timed out, reached the reference

    def as_plain(self) -> dict:
        plain = {k: getattr(self, k) for k in ("raised", "text", "problem", "crashed")}
        if self.predictions is not None:
            plain.update(predictions=self.predictions.tolist(), dtype=self.predictions.dtype.str)
        return plain

    @classmethod
    def from_plain(cls, plain: dict) -> "PredictOutcome":
        predictions = plain.get("predictions")
        if predictions is not None:
            predictions = np.asarray(predictions, dtype=np.dtype(plain["dtype"]))
        return cls(predictions, **{k: str(plain.get(k, "")) for k in ("raised", "text", "problem", "crashed")})


def _run_predict(predict: Callable, params: dict, X: np.ndarray) -> PredictOutcome:
    """Call predict and describe what came back (never raises a learner's exception). With a
    sandboxed predict the call runs in the sandbox; a LearnerCrash (exit, time out) goes to the caller."""
    try:
        value = predict(params, X)
    except Exception as exc:
        where = getattr(exc, "__learner_line__", None)
        if where is None:
            from autograder.checks.base import learner_line

            where = learner_line(exc.__traceback__)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return PredictOutcome(raised=type(exc).__name__, text=text + (f" ({where})" if where else ""))
    if value is None:
        return PredictOutcome(problem="predict returned None: did it forget to `return` the predictions?")
    try:
        array = np.asarray(value)
    except Exception:
        array = None
    if array is None or array.dtype.kind not in "biuf":
        return PredictOutcome(problem=f"predict returned {type(value).__name__}"
                                      + (f" of dtype {array.dtype}" if array is not None else "")
                                      + ": it should return an integer array of classes, shape (N,)")
    return PredictOutcome(predictions=array)


def evaluate_predict(predict: Callable, params: dict, X: np.ndarray, timeout: float) -> PredictOutcome:
    """predict run in the sandbox when it is a sandboxed function, else (a learner's own kernel
    checking itself) in a forked child, each within `timeout`."""
    from autograder.sandbox.remote import LearnerCrash, RemoteFunction

    if isinstance(predict, RemoteFunction):
        from autograder.assignments import FUNCTIONS

        sandbox = predict.sandbox
        sandbox.begin_check([f for f in FUNCTIONS if f != "predict"], timeout)
        try:
            outcome = _run_predict(predict, params, X)
        except LearnerCrash as crash:
            return PredictOutcome(crashed=crash.reason)
        finally:
            log = sandbox.end_check()
        if log.reached:
            return PredictOutcome(
                crashed="predict tried to use the course's reference answer, which is not available to your code")
        return outcome
    from autograder import isolation

    done = isolation.run_tasks([lambda: _run_predict(predict, params, X).as_plain()], timeout)[0]
    if done.crashed:
        return PredictOutcome(crashed=done.crashed)
    return PredictOutcome.from_plain(done.value)


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


def _outcome_problem(outcome: PredictOutcome, X: np.ndarray) -> str:
    """What went wrong when predict ran on the test images, in the learner's words ('' if nothing)."""
    if outcome.crashed:
        return f"predict could not be evaluated on the {len(X):,} test images: {outcome.crashed}"
    if outcome.raised == "NotImplementedError":
        return _NOT_IMPLEMENTED
    if outcome.raised == "ValueError" and "read-only" in outcome.text:
        return (f"predict tried to change its input X in place (the grader passes the test images "
                f"read-only): work on a copy or build new arrays\nNumPy said: {outcome.text}")
    if outcome.raised:
        return (f"predict raised {outcome.raised} on the {len(X):,} test images (float32, shape "
                f"{X.shape}, values in [0, 1]){': ' + outcome.text if outcome.text else ''}")
    return outcome.problem or _predictions_problem(outcome.predictions, len(X))


def _probe_unimplemented(predict: Callable, timeout: float) -> str:
    """When the file cannot be graded: is predict still a stub? (so the feedback can say so)"""
    dummy = {"W1": np.zeros((INPUTS, 16), np.float32), "b1": np.zeros(16, np.float32),
             "W2": np.zeros((16, CLASSES), np.float32), "b2": np.zeros(CLASSES, np.float32)}
    X = np.zeros((2, INPUTS), np.float32)
    if evaluate_predict(predict, dummy, X, min(timeout, 10.0)).raised == "NotImplementedError":
        return _NOT_IMPLEMENTED
    return ""


_NOT_IMPLEMENTED = ("predict is not implemented yet (it raised NotImplementedError): write it above, run "
                    "its cell, then run this one again")


def grade_model(path: str | os.PathLike, predict: Callable | None = None, *,
                namespace: Mapping | None = None, frameworks: str | None = None, pass_mark: float | None = None,
                timeout: float = PREDICT_TIMEOUT) -> CapstoneResult:
    """Grade the model file at ``path``: file checks, framework check, then test accuracy with the
    grader's forward pass and (when given) the learner's ``predict``, run isolated (in the sandbox
    when it is a sandboxed function).

    ``frameworks`` is what the sandbox found of framework use; without it, ``namespace`` (a
    learner's own kernel) is searched. ``pass_mark`` defaults to ``threshold()``.
    """
    limit = threshold() if pass_mark is None else float(pass_mark)
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
            outcome = evaluate_predict(predict, params, X, timeout)
            problem = _outcome_problem(outcome, X)
            if problem:
                result.problems.append(problem)
            else:
                predictions = outcome.predictions.astype(np.int64)
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
    """How the learner's code uses an ML framework, in words ('' if it does not): `predict` first,
    then the namespace (a learner's own kernel), by the sandbox's rules (`sandbox.frameworks`)."""
    from autograder.sandbox.frameworks import namespace_frameworks

    return namespace_frameworks(namespace or {}, {"predict": predict} if predict is not None else None)


def sandbox_frameworks(sandbox) -> str:
    """How a submission graded in the sandbox uses a framework: what the worker found in its
    namespace, else what its predict reaches ('' if neither)."""
    info = sandbox.info.get("predict")
    return sandbox.frameworks or (f"predict uses {info.framework}" if info and info.framework else "")


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
    result = grade_model(path, predict, namespace=ns, pass_mark=threshold)
    if not result.passed:
        raise CheckFailed(result.text())
    print(result.text())


def run_cli(model: str, submission: str | None = None, as_json: bool = False, require_sandbox: bool = False) -> int:
    """``python -m autograder capstone MODEL.npz [--submission FILE] [--json]``: 0 pass, 1 fail,
    2 unusable model file (or submission). The submission's predict runs in the sandbox."""
    try:
        limit = threshold()  # fixed before any learner code runs
    except ValueError as exc:  # a malformed $BACKPROP_KIT_THRESHOLD
        return unusable(str(exc), as_json=as_json, model=model, submission=submission)
    if not submission:
        return _cli_report(grade_model(model, pass_mark=limit), submission, as_json)
    from autograder.assignments import FUNCTIONS
    from autograder.checks.base import REFERENCE
    from autograder.sandbox.launch import SandboxUnavailable
    from autograder.sandbox.remote import Sandbox
    from autograder.submission import SubmissionError, read_submission

    try:
        blocks = [b.as_dict() for b in read_submission(submission)]
    except SubmissionError as exc:
        return unusable(str(exc), as_json=as_json, model=model, submission=submission)
    try:
        with Sandbox(blocks, FUNCTIONS, REFERENCE, require_sandbox=require_sandbox) as sandbox:
            info = sandbox.info.get("predict")
            if info is None or not info.callable:
                return unusable(f"{submission} defines no function predict", as_json=as_json, model=model,
                                submission=submission)
            frameworks = sandbox_frameworks(sandbox)
            result = grade_model(model, sandbox.function("predict"), frameworks=frameworks, pass_mark=limit)
            isolation = {"level": sandbox.isolation, "detail": sandbox.detail}
    except SandboxUnavailable as exc:
        return unusable(f"--require-sandbox: {exc}", as_json=as_json, model=model, submission=submission)
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
