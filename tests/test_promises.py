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


# --- a function that breaks each promise, for every function of the API ---------------------
# Each variant is the reference with one promise broken, so the check of that promise is what
# must catch it (other checks may fail too: a read-only input makes a writing function raise).

# (function, the argument it writes into, the check that watches that argument)
WRITES = [
    ("flatten", 0, "images", "leaves_arguments"),
    ("normalize", 0, "images", "leaves_arguments"),
    ("one_hot", 0, "labels", "leaves_arguments"),
    ("relu", 0, "z", "leaves_arguments"),
    ("relu_derivative", 0, "z", "leaves_arguments"),
    ("sigmoid", 0, "z", "leaves_arguments"),
    ("sigmoid_derivative", 0, "z", "leaves_arguments"),
    ("softmax", 0, "z", "leaves_arguments"),
    ("cross_entropy", 0, "probs", "leaves_arguments"),
    ("softmax_cross_entropy_grad", 0, "logits", "leaves_arguments"),
    ("accuracy", 0, "scores", "leaves_arguments"),
    ("init_params", 0, "layer_sizes", "leaves_layer_sizes"),
    ("forward", 0, "params", "leaves_arguments"),
    ("backward", 1, "cache", "leaves_arguments"),
    ("numerical_gradient", 1, "x", "restores_x"),
    ("iterate_minibatches", 0, "X", "leaves_arguments"),
    ("sgd_step", 1, "grads", "leaves_arguments"),
    ("train", 0, "X", "leaves_arguments"),
    ("predict", 0, "params", "leaves_arguments"),
    ("save_params", 0, "params", "leaves_arguments"),
]
# he_init(fan_in, fan_out, rng) and load_params(path) take nothing that can be changed in place
# (rng is documented to be consumed).
NOTHING_TO_CHANGE = {"he_init", "load_params"}


def _scribble(value):
    """Change a value in place the way careless code does: an entry overwritten, an item added."""
    if isinstance(value, np.ndarray):
        value.flat[0] = value.flat[0] + 1
    elif isinstance(value, dict):
        _scribble(next(v for v in value.values() if isinstance(v, (np.ndarray, dict, list))))
    elif isinstance(value, list):
        value.append(value[-1])


def writing_into(function, position):
    reference = REFERENCE[function]
    if function == "iterate_minibatches":  # a generator: it writes while the batches are taken
        def generator(*args, **kwargs):
            yield from reference(*args, **kwargs)
            _scribble(args[position])
        return generator

    def variant(*args, **kwargs):
        result = reference(*args, **kwargs)
        _scribble(args[position])
        return result
    return variant


@pytest.mark.parametrize("function, position, name, check", WRITES, ids=[w[0] for w in WRITES])
def test_a_function_that_changes_an_argument_is_caught(function, position, name, check):
    results = judge({**REFERENCE, function: writing_into(function, position)}, [function])
    failed = {r.check: r for r in results if not r.passed}
    assert check in failed, f"{function} writing into {name} passed {check}"
    if check == "leaves_arguments":
        message = failed[check]
        assert message.problem.startswith(f"{function} changed its argument `{name}"), message.problem
        assert "in place: entry [" in message.problem or "changed from" in message.problem, message.problem
        assert message.details[-1].strip(), "no advice on keeping the promise"


def test_every_function_has_its_argument_promise_checked():
    from autograder.checks import FUNCTIONS

    assert {w[0] for w in WRITES} | NOTHING_TO_CHANGE == set(FUNCTIONS)


def _drift(value, step):
    """The answer moved by an amount that grows with every call: what a kept counter does."""
    if isinstance(value, np.ndarray):
        return value + (step if value.dtype.kind in "iu" else 0.5 * step)
    if isinstance(value, dict):
        return {k: _drift(v, step) for k, v in value.items()}
    if isinstance(value, tuple):
        return (_drift(value[0], step),) + value[1:]
    if isinstance(value, list):
        return [_drift(v, step) for v in value]
    return value + 0.25 * step


def counting(function):
    """The reference with a call counter in its closure (like a global) that its answers depend on,
    so an input asked twice, with another call between, gets two answers."""
    reference, calls = REFERENCE[function], [0]

    def variant(*args, **kwargs):
        calls[0] += 1
        if function == "save_params":
            return reference(_drift(args[0], calls[0]), args[1])
        result = reference(*args, **kwargs)
        if function == "iterate_minibatches":
            return (_drift(batch, calls[0]) for batch in list(result))
        if function == "sgd_step":
            for key in result:
                result[key] += 0.001 * calls[0]
            return result
        return _drift(result, calls[0])
    return variant


def remembering_rng(function):
    """The first generator it is given, kept in a global and used ever after (a stateful initialiser)."""
    reference, kept = REFERENCE[function], []

    def variant(*args):
        kept.append(args[-1]) if not kept else None
        return reference(*args[:-1], kept[0])
    return variant


@pytest.mark.parametrize("function", [f for f in REFERENCE if f in __import__("autograder.checks").checks.FUNCTIONS])
def test_a_function_that_keeps_state_between_calls_is_caught(function):
    variant = remembering_rng(function) if function in ("he_init", "init_params") else counting(function)
    results = judge({**REFERENCE, function: variant}, [function])
    failed = {r.check: r for r in results if not r.passed}
    assert "nothing_kept_between_calls" in failed, f"a stateful {function} passed"
    problem = failed["nothing_kept_between_calls"].problem
    assert problem.startswith(f"{function} gave another answer for the same input when other calls came between"), \
        problem


# --- the same verdicts when the learner's code runs in the sandbox ---------------------------
# Arguments a sandboxed function changes come back to the judge (wire.sync): array entries, a new
# shape, dict entries replaced by arrays of another dtype, items popped from a list.

SANDBOXED = {
    "flatten": "def flatten(images):\n    images.shape = (len(images), -1)\n    return images\n",
    "softmax": ("import numpy as np\n\ndef softmax(z):\n    z -= z.max(axis=-1, keepdims=True)\n"
                "    e = np.exp(z)\n    return e / e.sum(axis=-1, keepdims=True)\n"),
    "predict": ("import numpy as np\n\ndef predict(params, X):\n    for key in params:\n"
                "        params[key] = params[key].astype(np.float32)\n"
                "    return forward(params, X)[0].argmax(axis=1)\n"),
    "init_params": ("import numpy as np\n\ndef init_params(layer_sizes, rng):\n    params = {}\n    k = 0\n"
                    "    while len(layer_sizes) > 1:\n        k += 1\n        fan_in = layer_sizes.pop(0)\n"
                    "        params[f'W{k}'] = he_init(fan_in, layer_sizes[0], rng)\n"
                    "        params[f'b{k}'] = np.zeros(layer_sizes[0])\n    return params\n"),
    "iterate_minibatches": ("def iterate_minibatches(X, labels, batch_size, rng, shuffle=True):\n"
                            "    if shuffle:\n        order = rng.permutation(len(X))\n"
                            "        X[:] = X[order]\n        labels[:] = labels[order]\n"
                            "    for start in range(0, len(X), batch_size):\n"
                            "        yield X[start:start + batch_size], labels[start:start + batch_size]\n"),
    "relu": ("import numpy as np\n\nCALLS = [0]\n\ndef relu(z):\n    CALLS[0] += 1\n"
             "    return np.maximum(z, 0) * (1 + 0 * CALLS[0]) + 1e-3 * CALLS[0] * (z > 0)\n"),
}
PROMISE_CHECKS = {"leaves_arguments", "leaves_layer_sizes", "nothing_kept_between_calls"}


@pytest.mark.slow
@pytest.mark.parametrize("function", list(SANDBOXED))
def test_promise_verdicts_are_the_same_in_the_sandbox(function):
    from autograder.judge import judge_submission
    from autograder.reference_file import reference_source

    ns = dict(REFERENCE)
    exec(compile(SANDBOXED[function], f"<{function}>", "exec"), ns)
    local = {r.check: (r.passed, r.problem) for r in judge(ns, [function]) if r.check in PROMISE_CHECKS}
    source = reference_source() + "\n\n" + SANDBOXED[function]
    verdicts = judge_submission([{"label": "v.py", "filename": "<v.py>", "source": source}], [function])
    sandboxed = {r.check: (r.passed, r.problem) for r in verdicts.results if r.check in PROMISE_CHECKS}
    assert sandboxed == local
    assert not all(passed for passed, _ in local.values()), f"the broken {function} kept every promise"


def _not_implemented(*args, **kwargs):
    raise NotImplementedError()


def test_an_unwritten_function_earns_no_promise_points():
    """A stub keeps every promise trivially; it must not earn their points (nor through a stub
    forward: backward's promises are judged on the reference's cache then, as its other checks are)."""
    from autograder.checks import FUNCTIONS, checks_for
    from autograder.judge import judge_checks

    every_stub = {**REFERENCE, **{f: _not_implemented for f in FUNCTIONS}}
    promises = [c for f in FUNCTIONS for c in checks_for(f) if c.name in PROMISE_CHECKS | {"restores_x"}]
    earned = [f"{r.function}.{r.check}" for r in judge_checks(every_stub, promises) if r.points]
    assert not earned


def test_a_wrong_function_earns_no_promise_points():
    """relu returning its input unchanged leaves z alone and keeps no state: both promises hold, yet
    with no right answer elsewhere they earn nothing, and say why; the right relu earns them."""
    from autograder.checks import checks_for
    from autograder.judge import judge_checks

    relu_checks = checks_for("relu")
    assert any(c.promise for c in relu_checks) and any(not c.promise for c in relu_checks)
    wrong = judge_checks({**REFERENCE, "relu": lambda z: z.copy()}, relu_checks)
    assert sum(r.points for r in wrong) == 0
    held = [r for c, r in zip(relu_checks, wrong) if c.promise]
    assert held and all("counts only once relu gives a right answer" in r.problem for r in held)
    right = judge_checks(dict(REFERENCE), relu_checks)
    assert all(r.passed for r in right) and sum(r.points for r in right) == sum(c.points for c in relu_checks)
