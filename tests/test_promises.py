"""Issue 10, item 4: every promise of the learner API is checked; for each, a function that breaks
it (and passes every older check) is caught by the check that tests that promise."""
import numpy as np
import pytest

from autograder import catalog
from autograder.checks.base import REFERENCE
from autograder.judge import judge


def _variant(vid):
    return next(v for v in catalog.bugs() if v.id == vid)


def failing_checks(overrides, function):
    return {r.check for r in judge({**REFERENCE, **overrides}, [function]) if not r.passed}


def train_normalising_X_in_place(X, labels, layer_sizes, **kwargs):
    X -= X.mean(axis=0)  # changes the caller's data
    return REFERENCE["train"](X, labels, layer_sizes, **kwargs)


def predict_casting_params(params, X):
    for key in params:
        params[key] = params[key].astype(np.float32)
    return REFERENCE["predict"](params, X)


@pytest.mark.parametrize("overrides, function, check", [
    (_variant("forward.reshapes_params_biases").overrides, "forward", "leaves_arguments"),       # a dict entry
    (_variant("backward.writes_into_cache").overrides, "backward", "leaves_arguments"),         # the cache
    (_variant("init_params.consumes_layer_sizes").overrides, "init_params", "leaves_layer_sizes"),  # a list
    ({"train": train_normalising_X_in_place}, "train", "leaves_arguments"),                     # an array
    ({"predict": predict_casting_params}, "predict", "leaves_arguments"),                       # entries replaced
], ids=["forward-params-entry", "backward-cache", "init_params-list", "train-X", "predict-params"])
def test_no_argument_changed(overrides, function, check):
    assert check in failing_checks(overrides, function)


def test_nothing_kept_between_calls():
    bug = _variant("backward.uses_last_forward")
    assert failing_checks(bug.overrides, "backward") == {"nothing_kept_between_calls"}


def test_every_documented_entry_checked():
    bug = _variant("train.val_accuracy_filled_at_end")
    assert failing_checks(bug.overrides, "train") == {"every_val_accuracy_entry"}


def test_the_reference_keeps_every_promise():
    results = judge(dict(REFERENCE), ["forward", "backward", "init_params", "train", "predict"])
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
