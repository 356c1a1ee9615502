"""Checks for 06_training: iterate_minibatches, sgd_step, train.

A correct learner may shuffle differently from the reference, so minibatches and training are
judged by properties (every sample once, rows aligned, same seed same result, the loss is the
epoch's mean, the network learns an easy problem), never by equality with the reference's order.
Observations are small dicts of facts, so a catalogued bug matches whatever permutation it drew.
"""
from __future__ import annotations

import itertools

import numpy as np

from autograder.checks.base import REFERENCE, Case, Odd, Shown, call, probe_check, snapshot, unchanged_check
from autograder.checks.base import PROMISE_POINTS
from autograder.compare import Mismatch, Raised, describe, expect_dict_of_arrays, fmt, is_number
from autograder.checks.promises import batches, leaves_arguments, nothing_kept

# ---------------------------------------------------------------------------------------------
# NumPy's global random state: reset to a known seed before learner code runs (so a replayed bug
# draws what the learner drew), compared afterwards, and put back as it was.


class GlobalState:
    def __enter__(self):
        self.saved = np.random.get_state()
        np.random.seed(20240)
        self.marker = np.random.get_state()
        self.touched = False
        return self

    def __exit__(self, *exc):
        now = np.random.get_state()
        self.touched = not (np.array_equal(now[1], self.marker[1]) and now[2:] == self.marker[2:])
        np.random.set_state(self.saved)
        return False


# --- iterate_minibatches ---------------------------------------------------------------------
# X rows say which sample they are: X[i] = [i, 10 i + 1, 10 i + 2]; labels[i] = (3 i + 1) % 10.


def _samples(n, dtype=np.float64):
    i = np.arange(n)
    X = np.stack([i, 10 * i + 1, 10 * i + 2], axis=1).astype(dtype)
    return X, (3 * i + 1) % 10


def _mb_case(n, batch_size, shuffle, seed=0, dtype=np.float64) -> Case:
    name = f"N={n}, batch_size={batch_size}, shuffle={shuffle}" + (", float32 X" if dtype == np.float32 else "")

    def build():
        X, labels = _samples(n, dtype)
        return X, labels, batch_size, np.random.default_rng(seed)

    return Case(name, build, {"shuffle": shuffle}, readonly=False)


def _materialise(ns, args, kwargs):
    """Call iterate_minibatches and read all its batches: a list of (X_batch, labels_batch), or
    what went wrong (Raised, Odd)."""
    got = call(ns, "iterate_minibatches", args, kwargs)
    if isinstance(got, Raised):
        return got
    if got is None:
        return Odd("None", "None (is there a `return` or a `yield`?)")
    limit = len(args[0]) + 2  # more batches than samples (plus an empty one) means a loop that never stops
    items = call({"read": lambda: list(itertools.islice(got, limit))}, "read", ())
    if isinstance(items, Raised):
        if items.type_name == "TypeError" and "not iterable" in items.text:
            return Odd("not iterable", describe(got))
        return items
    if len(items) == limit:
        return Odd("endless", f"more than {limit - 1} batches for {limit - 2} samples")
    batches = []
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            return Odd("not pairs", describe(item))
        xb, lb = np.asarray(item[0]), np.asarray(item[1])
        if xb.ndim != 2 or xb.shape[1] != args[0].shape[1] or lb.shape != (len(xb),):
            return Odd("bad batch", f"X_batch is {describe(xb)} and labels_batch is {describe(lb)}")
        batches.append((xb, lb))
    return batches


def _facts(batches, X, labels, before):
    """What a list of batches says: sizes, coverage, alignment, order, inputs left alone."""
    n = len(before[0])
    ids = np.concatenate([b[0][:, 0] for b in batches]) if batches else np.zeros(0)
    rows_ok = all(np.array_equal(b[0][:, 1], 10 * b[0][:, 0] + 1) for b in batches)
    ids = ids.astype(np.int64)
    counts = np.bincount(ids[(ids >= 0) & (ids < n)], minlength=n) if rows_ok else np.zeros(n)
    missing, repeated = int((counts == 0).sum()), int((counts > 1).sum())
    once = "each once" if not missing and not repeated and len(ids) == n else (
        "missing and repeated" if missing and repeated else "missing" if missing else "repeated")
    aligned = rows_ok and all(np.array_equal(b[1], (3 * b[0][:, 0].astype(np.int64) + 1) % 10) for b in batches)
    mutated = not (np.array_equal(X, before[0]) and np.array_equal(labels, before[1]))
    return {
        "sizes": tuple(len(b[0]) for b in batches),
        "once": once,
        "missing": Shown(missing),
        "aligned": bool(aligned),
        "in_order": bool(np.array_equal(ids, np.arange(n))),
        "mutated": mutated,
    }


def _mb_run(ns, case, seed=None):
    args, kwargs = case.arguments()
    if seed is not None:
        args = args[:3] + (np.random.default_rng(seed),)
    before = (args[0].copy(), args[1].copy())
    with GlobalState() as state:
        batches = _materialise(ns, args, kwargs)
    if isinstance(batches, (Raised, Odd)):
        return batches, None
    facts = _facts(batches, args[0], args[1], before)
    facts["global"] = state.touched
    order = np.concatenate([b[0][:, 0] for b in batches]) if batches else np.zeros(0)
    return facts, order


def _mb_probe(ns, case):
    return _mb_run(ns, case)[0]


def _mb_rng_probe(ns, case):
    """Three calls: seed 0, seed 0 again, seed 1."""
    first, order = _mb_run(ns, case, seed=0)
    if not isinstance(first, dict):
        return first
    again = _mb_run(ns, case, seed=0)[1]
    other = _mb_run(ns, case, seed=1)[1]
    return {
        **first,
        "same_seed_same": again is not None and np.array_equal(order, again),
        "other_seed_differs": other is None or not np.array_equal(order, other),
    }


def _mb_verdict(facts, expected, case):
    if isinstance(facts, Odd):
        if facts.kind == "not pairs":
            raise Mismatch("iterate_minibatches should give pairs (X_batch, labels_batch), but one item is "
                           + facts.text, ["`yield X_batch, labels_batch` once per batch, inside the loop"])
        if facts.kind == "endless":
            raise Mismatch(f"iterate_minibatches gives {facts.text}: does its loop ever stop?",
                           ["loop over the batch starts, for start in range(0, N, batch_size)"])
        if facts.kind in ("None", "not iterable"):
            raise Mismatch(f"iterate_minibatches should give (X_batch, labels_batch) pairs, but it returned "
                           f"{facts.text}",
                           ["a generator that yields (X_batch, labels_batch), or a list of such pairs"])
        raise Mismatch(f"a batch has the wrong shape: {facts.text}",
                       ["X_batch holds whole rows of X, (batch, D), and labels_batch the matching labels, (batch,)"])
    X, labels, batch_size, _ = case.make()
    n = len(X)
    want = (batch_size,) * (n // batch_size) + ((n % batch_size,) if n % batch_size else ())
    sizes = facts["sizes"]
    if sizes != want:
        details = [f"N={n} samples in batches of {batch_size} gives sizes {list(want)}"]
        if 0 in sizes:
            details.append("one batch is empty: count the batches as ceil(N / batch_size), or step "
                           "range(0, N, batch_size)")
        elif sum(sizes) < n:
            details.append(f"{n - sum(sizes)} sample(s) are never given out")
        shown = list(sizes) if len(sizes) <= 12 else list(sizes[:12]) + ["..."]
        raise Mismatch(f"the batches have sizes {shown}", details)
    if facts["once"] != "each once":
        missing = facts["missing"].value
        parts = {"missing": f"{missing} sample(s) never appear",
                 "repeated": "some samples appear more than once",
                 "missing and repeated": f"some samples appear twice while {missing} never appear"}
        raise Mismatch(f"not every sample comes out exactly once: {parts[facts['once']]}",
                       ["take one permutation of all N indices and cut it into consecutive batches"])
    if not facts["aligned"]:
        raise Mismatch("rows and labels are no longer aligned: labels_batch[i] is not the label of X_batch[i]",
                       ["index X and labels with the same indices (one permutation for both)"])
    if not case.kwargs.get("shuffle", True) and not facts["in_order"]:
        raise Mismatch("with shuffle=False the samples must come out in their original order 0, 1, ..., N-1")
    if facts["mutated"]:
        raise Mismatch("X or labels was changed in place",
                       ["shuffle an index array (rng.permutation(N)) and index with it; "
                        "leave the caller's arrays alone"])
    if facts["global"]:
        raise Mismatch("NumPy's global random state changed",
                       ["randomness must come only from the rng argument: rng.permutation(N), not np.random.*"])


def _mb_rng_verdict(facts, expected, case):
    _mb_verdict(facts, expected, case)
    if facts["in_order"]:
        raise Mismatch("with shuffle=True the 100 samples still come out in their original order",
                       ["shuffle with rng, e.g. order = rng.permutation(N)"])
    if not facts["same_seed_same"]:
        raise Mismatch("two calls with rngs of the same seed gave different orders",
                       ["draw the order from the rng you are given, nothing else"])
    if not facts["other_seed_differs"]:
        raise Mismatch("rngs with different seeds gave the same order: the order does not come from rng",
                       ["draw the order from the rng you are given, e.g. rng.permutation(N)"])


def _mb_order_cases():
    return [_mb_case(10, 3, False), _mb_case(12, 4, False), _mb_case(5, 8, False)]


def _mb_shuffle_cases():
    return [_mb_case(100, 32, True), _mb_case(33, 10, True, seed=3), _mb_case(7, 7, True, seed=4)]


def _mb_rng_cases():
    return [_mb_case(100, 25, True)]


def _mb_edge_cases():
    return [_mb_case(1, 4, True, seed=5), _mb_case(9, 3, True, seed=6, dtype=np.float32),
            _mb_case(8, 1, False), _mb_case(6, 6, False)]


ITERATE_MINIBATCHES = [
    probe_check("iterate_minibatches", "in_order_without_shuffle",
                "shuffle=False: batches of batch_size in order, the last one smaller",
                _mb_order_cases, _mb_probe, _mb_verdict, points=2),
    probe_check("iterate_minibatches", "every_sample_once",
                "shuffle=True: every sample exactly once, rows and labels aligned",
                _mb_shuffle_cases, _mb_probe, _mb_verdict, points=2),
    probe_check("iterate_minibatches", "shuffles_with_rng",
                "the order comes from rng: same seed same order, other seed other order",
                _mb_rng_cases, _mb_rng_probe, _mb_rng_verdict),
    probe_check("iterate_minibatches", "edge_sizes", "one sample, batch_size 1, N == batch_size, float32",
                _mb_edge_cases, _mb_probe, _mb_verdict, hidden=True),
]

# --- sgd_step --------------------------------------------------------------------------------


def _sgd_case(name, sizes, lr, seed, dtype=np.float64, grads_order=None) -> Case:
    """Writable params; read-only grads of realistic size (optionally listed in another key order)."""

    def build():
        rng = np.random.default_rng(seed)
        params, grads = {}, {}
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{k}"] = (rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(dtype)
            params[f"b{k}"] = (0.1 * rng.standard_normal(b)).astype(dtype)
        for key in grads_order or params:
            g = (0.05 * rng.standard_normal(params[key].shape)).astype(dtype)
            g.flags.writeable = False
            grads[key] = g
        return params, grads, lr

    return Case(name, build, readonly=False)


def _classify(d, before, expected):
    if not isinstance(d, dict) or set(d) != set(expected):
        return "not a params dict"
    try:
        if all(np.allclose(np.asarray(d[k], dtype=np.float64), expected[k], rtol=1e-5, atol=1e-7) for k in d):
            return "updated"
        if all(np.array_equal(d[k], before[k]) for k in d):
            return "unchanged"
    except (TypeError, ValueError):
        pass
    return "wrong"


def _sgd_probe(ns, case):
    args, kwargs = case.arguments()
    params, grads, lr = args
    before = snapshot(params)
    expected = {k: before[k].astype(np.float64) - lr * np.asarray(grads[k], dtype=np.float64) for k in before}
    got = call(ns, "sgd_step", args, kwargs)
    if isinstance(got, Raised):
        return got
    return {
        "returned": snapshot(got) if isinstance(got, dict) else Odd("not a dict", describe(got)),
        "same_dict": got is params,
        "returned_is": _classify(got, before, expected),
        "caller_is": _classify(params, before, expected),
    }


def _sgd_values(observed, expected, case):
    got = observed["returned"]
    if isinstance(got, Odd):
        extra = ["end with `return params`"] if got.text == "None" else []
        raise Mismatch(f"sgd_step should return the params dict, but it returned {got.text}", extra)
    if observed["returned_is"] == "unchanged":
        raise Mismatch("the params came back unchanged: no entry moved by -lr * grad")
    expect_dict_of_arrays(expected["returned"], got, what="the returned params",
                          input_dtype=case.make()[0]["W1"].dtype)


def _sgd_in_place(observed, expected, case):
    _sgd_values(observed, expected, case)
    if observed["caller_is"] == "unchanged":
        raise Mismatch("the caller's params dict still holds the old values: sgd_step must update it in place",
                       ["params[key] -= lr * grads[key] changes the arrays the caller holds; a new dict does not"])
    if observed["caller_is"] != "updated":
        raise Mismatch("the caller's params dict does not hold the updated values",
                       ["update params itself (params[key] -= lr * grads[key]) and return it"])


def _sgd_value_cases():
    return [
        _sgd_case("a [3, 4, 2] network, lr=0.1", (3, 4, 2), 0.1, 51),
        _sgd_case("a float32 [4, 5, 3] network, lr=0.5", (4, 5, 3), 0.5, 52, np.float32),
    ]


def _sgd_place_cases():
    return [_sgd_case("a [3, 4, 2] network, lr=0.1", (3, 4, 2), 0.1, 53)]


def _sgd_hidden_cases():
    return [
        _sgd_case("square [3, 3, 3] layers, grads listed W2, b2, W1, b1 (as a backward loop builds them)",
                  (3, 3, 3), 0.2, 54, grads_order=["W2", "b2", "W1", "b1"]),
        _sgd_case("three layers [5, 4, 3, 3], lr=0.05", (5, 4, 3, 3), 0.05, 55),
    ]


SGD_STEP = [
    probe_check("sgd_step", "moves_against_gradient", "every entry becomes params - lr * grads",
                _sgd_value_cases, _sgd_probe, _sgd_values, points=2, reference=True),
    probe_check("sgd_step", "in_place_and_returned",
                "updates the caller's dict in place (arrays or entries) and returns the params",
                _sgd_place_cases, _sgd_probe, _sgd_in_place, reference=True),
    probe_check("sgd_step", "pairs_by_key", "grads paired with params by key, any order, any depth",
                _sgd_hidden_cases, _sgd_probe, _sgd_in_place, hidden=True, reference=True),
]

# --- train -----------------------------------------------------------------------------------
# Three well-separated blobs in 4-D: a [4, 8, 3] network learns them in a few epochs.


def _blobs(n, seed, classes=3, d=4, relabel=0):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    X = 3.0 * np.eye(classes, d)[labels] + 0.5 * rng.standard_normal((n, d))
    return X, (labels + relabel) % classes


def _train_case(name, *, n=48, epochs=3, batch_size=16, lr=0.5, seed=0, val=False, val_relabel=0) -> Case:
    def build():
        X, labels = _blobs(n, 100 + seed)
        return X, labels, [4, 8, 3]

    kwargs = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "rng": np.random.default_rng(seed)}
    if val:
        X_val, labels_val = _blobs(30, 200 + seed, relabel=val_relabel)
        kwargs.update(X_val=X_val, labels_val=labels_val)
    return Case(name, build, kwargs)


def _call_train(ns, case, **override):
    args, kwargs = case.arguments()
    kwargs.update(override)
    with GlobalState() as state:
        got = call(ns, "train", args, kwargs)
    return got, args, kwargs, state.touched


def _unpack(got):
    """(params, history) or an Odd saying what came back instead."""
    if isinstance(got, Raised):
        return got
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        return Odd("not a pair", describe(got))
    params, history = got
    if not isinstance(params, dict):
        return Odd("params", describe(params))
    if not isinstance(history, dict):
        return Odd("history", describe(history))
    if not isinstance(history.get("loss"), (list, tuple, np.ndarray)):
        return Odd("loss", describe(history.get("loss")))
    return params, history


def _structure_problem(obs):
    """The verdict for an Odd from _unpack (shared by every train check)."""
    if isinstance(obs, Odd):
        what = {"not a pair": "train should return (params, history), but it returned ",
                "params": "the params train returns should be a dict, but they are ",
                "history": "history should be a dict {'loss': [...], 'val_accuracy': [...]}, but it is ",
                "loss": "history['loss'] should be a list with one number per epoch, but it is "}
        raise Mismatch(what.get(obs.kind, "") + obs.text)


def _shapes_probe(ns, case):
    got = _unpack(_call_train(ns, case)[0])
    if not isinstance(got, tuple):
        return got
    params, history = got
    val = history.get("val_accuracy")
    return {
        "params": {k: tuple(np.shape(v)) for k, v in params.items()},
        "loss_len": len(history["loss"]),
        "loss_numbers": all(is_number(v) and np.isfinite(float(v)) for v in history["loss"]),
        "val_len": len(val) if isinstance(val, (list, tuple, np.ndarray)) else describe(val),
    }


def _shapes_verdict(obs, expected, case):
    _structure_problem(obs)
    sizes = case.make()[2]
    want = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        want[f"W{k}"], want[f"b{k}"] = (a, b), (b,)
    if obs["params"] != want:
        raise Mismatch(f"the params have keys and shapes {obs['params']}",
                       [f"for layer_sizes {sizes} they should be {want}: start from init_params(layer_sizes, rng)"])
    epochs = case.kwargs["epochs"]
    if obs["loss_len"] != epochs:
        raise Mismatch(f"history['loss'] has {obs['loss_len']} entries for epochs={epochs}",
                       ["append one number per epoch: the mean training loss of that epoch"])
    if not obs["loss_numbers"]:
        raise Mismatch("history['loss'] should hold finite numbers (one float per epoch)")
    if "X_val" in case.kwargs and obs["val_len"] != epochs:
        raise Mismatch(f"history['val_accuracy'] has {obs['val_len']} entries for epochs={epochs}",
                       ["with validation data, append the validation accuracy after every epoch"])


def _train_accuracy(params, X, labels):
    return REFERENCE["accuracy"](REFERENCE["forward"](params, X)[0], labels)


def _learns_probe(ns, case):
    got = _unpack(_call_train(ns, case)[0])
    if not isinstance(got, tuple):
        return got
    params, history = got
    X, labels, _ = case.make()
    loss, val = list(history["loss"]), history.get("val_accuracy") or [None]
    try:
        accuracy = _train_accuracy(params, X, labels)
    except Exception as exc:  # params of the wrong shapes: the shapes check says so
        return Odd("params", f"a dict the network cannot use ({type(exc).__name__})")
    return {
        "loss_fell": len(loss) >= 2 and float(loss[-1]) < float(loss[0]),
        "accuracy_high": accuracy >= 0.9,
        "val_high": val[-1] is not None and float(val[-1]) >= 0.9,
        "loss": Shown([round(float(v), 3) for v in loss[:1] + loss[-1:]]),
        "accuracy": Shown(round(accuracy, 3)),
    }


def _learns_verdict(obs, expected, case):
    _structure_problem(obs)
    if not obs["accuracy_high"]:
        raise Mismatch(f"after training, the accuracy on this easy, separable training set is only "
                       f"{fmt(obs['accuracy'].value)} (at least 0.9 expected)",
                       [f"history['loss'] went from {fmt(obs['loss'].value[0])} to {fmt(obs['loss'].value[-1])}",
                        "every batch needs forward, backward and an sgd_step that changes params"])
    if not obs["loss_fell"]:
        raise Mismatch(f"the training loss did not fall: history['loss'] went from {fmt(obs['loss'].value[0])} "
                       f"to {fmt(obs['loss'].value[-1])}")
    if not obs["val_high"]:
        raise Mismatch("the last validation accuracy is below 0.9 although the network fits the training "
                       "data, which has the same distribution")


def _mean_loss_probe(ns, case):
    """lr = 0: params never move, so every epoch's mean loss is the loss of the returned params.
    A second run of 1 epoch from the same seed tells whether the params moved after all."""
    got = _unpack(_call_train(ns, case)[0])
    if not isinstance(got, tuple):
        return got
    params, history = got
    short = _unpack(_call_train(ns, case, epochs=1)[0])
    moved = not (isinstance(short, tuple) and short[0].keys() == params.keys()
                 and all(np.array_equal(short[0][k], params[k]) for k in params))
    X, labels, _ = case.make()
    try:
        full = REFERENCE["cross_entropy"](REFERENCE["forward"](params, X)[0], labels)
    except Exception as exc:
        return Odd("params", f"a dict the network cannot use ({type(exc).__name__})")
    loss = np.asarray(history["loss"], dtype=np.float64)
    batches = -(-len(X) // case.kwargs["batch_size"])
    if len(loss) and np.allclose(loss, full, rtol=1e-5, atol=1e-9):
        relation = "mean"
    elif len(loss) and np.allclose(loss, full * batches, rtol=1e-5, atol=1e-9):
        relation = "sum over batches"
    else:
        relation = "other"
    return {"relation": relation, "moved": moved, "entries": len(loss),
            "varies": bool(len(loss) and not np.allclose(loss, loss[0], rtol=1e-9, atol=1e-12)),
            "full": Shown(round(float(full), 6)), "loss": Shown([round(float(v), 6) for v in loss[:4]])}


def _mean_loss_verdict(obs, expected, case):
    _structure_problem(obs)
    if obs["relation"] == "mean":
        return
    shown = ", ".join(fmt(v) for v in obs["loss"].value)
    if obs["moved"]:
        raise Mismatch(f"with lr=0 the params must not move, yet 1 epoch and 3 epochs from the same seed end "
                       f"with different params (history['loss'] = [{shown}])",
                       ["pass train's lr to sgd_step (is a fixed learning rate written somewhere?)"])
    if obs["relation"] == "sum over batches":
        raise Mismatch(f"history['loss'] holds the SUM of the batch losses ([{shown}]), not their mean "
                       f"({fmt(obs['full'].value)})")
    raise Mismatch(f"history['loss'] should hold the mean training loss of each epoch: with lr=0 that is "
                   f"{fmt(obs['full'].value)} every epoch, but it holds [{shown}]",
                   (["it changes from epoch to epoch although the params do not move: one batch's loss?"]
                    if obs["varies"] else [])
                   + ["average the loss over all the epoch's batches (weighted by batch size, or not)"])


def _reproducible_probe(ns, case):
    first, _, _, touched1 = _call_train(ns, case)
    second, _, _, touched2 = _call_train(ns, case)
    a, b = _unpack(first), _unpack(second)
    if not isinstance(a, tuple):
        return a
    same = isinstance(b, tuple) and a[0].keys() == b[0].keys() and all(
        np.array_equal(a[0][k], b[0][k]) for k in a[0]) and np.array_equal(
        np.asarray(a[1]["loss"], dtype=float), np.asarray(b[1]["loss"], dtype=float))
    return {"same": bool(same), "global": touched1 or touched2}


def _reproducible_verdict(obs, expected, case):
    _structure_problem(obs)
    if obs["global"]:
        raise Mismatch("NumPy's global random state changed",
                       ["all randomness (initial weights, shuffling) must come from the rng argument"])
    if not obs["same"]:
        raise Mismatch("two runs with rngs of the same seed gave different params or loss histories",
                       ["draw everything random from the rng you are given (init_params(layer_sizes, rng), "
                        "iterate_minibatches(..., rng)), and never create a new Generator inside train"])


def _val_probe(ns, case):
    got = _unpack(_call_train(ns, case)[0])
    if not isinstance(got, tuple):
        return got
    params, history = got
    X, labels, _ = case.make()
    val = history.get("val_accuracy")
    if not isinstance(val, (list, tuple, np.ndarray)) or len(val) == 0:
        return Odd("history", f"a dict whose 'val_accuracy' is {describe(val)}")
    try:
        on_val = _train_accuracy(params, case.kwargs["X_val"], case.kwargs["labels_val"])
        on_train = _train_accuracy(params, X, labels)
    except Exception as exc:
        return Odd("params", f"a dict the network cannot use ({type(exc).__name__})")
    last = float(val[-1])
    return {"matches": bool(np.isclose(last, on_val, atol=1e-9)),
            "is_training_accuracy": bool(np.isclose(last, on_train, atol=1e-9) and not np.isclose(on_val, on_train)),
            "last": Shown(round(last, 6)), "on_val": Shown(round(float(on_val), 6))}


def _val_verdict(obs, expected, case):
    _structure_problem(obs)
    if not obs["matches"]:
        details = ["it should be the accuracy of the params after that epoch on (X_val, labels_val)"]
        if obs["is_training_accuracy"]:
            details.append("it equals the accuracy on the TRAINING data")
        raise Mismatch(f"the last history['val_accuracy'] is {fmt(obs['last'].value)}, but the returned params "
                       f"score {fmt(obs['on_val'].value)} on the validation data", details)


def _shuffle_probe(ns, case):
    """The rng's state after 1 and after 2 epochs: a new shuffle per epoch moves it on."""
    one = _call_train(ns, case, epochs=1)
    two = _call_train(ns, case, epochs=2)
    for got in (one[0], two[0]):
        if isinstance(got, Raised):
            return got
    fresh = case.arguments()[1]["rng"].bit_generator.state
    return {"rng_used": one[2]["rng"].bit_generator.state != fresh,
            "rng_used_per_epoch": one[2]["rng"].bit_generator.state != two[2]["rng"].bit_generator.state,
            "global": one[3] or two[3]}


def _shuffle_verdict(obs, expected, case):
    if obs["global"]:
        raise Mismatch("NumPy's global random state changed, and the rng argument was not used for shuffling",
                       ["shuffle with rng: iterate_minibatches(X, labels, batch_size, rng) every epoch"])
    if not obs["rng_used"]:
        raise Mismatch("train never drew anything from its rng argument",
                       ["the initial weights (init_params(layer_sizes, rng)) and every epoch's shuffle come from rng"])
    if not obs["rng_used_per_epoch"]:
        raise Mismatch("the second epoch drew nothing from rng: the training data is not reshuffled each epoch",
                       ["call iterate_minibatches(X, labels, batch_size, rng) (shuffle=True) every epoch"])


TRAIN = [
    probe_check("train", "returns_params_and_history",
                "(params, history): params shaped by layer_sizes, one loss (and val accuracy) per epoch",
                lambda: [_train_case("3 epochs with validation data", val=True),
                         _train_case("2 epochs, no validation data", epochs=2, seed=1)],
                _shapes_probe, _shapes_verdict, points=2),
    probe_check("train", "learns_separable_problem",
                "learns three well-separated blobs: the loss falls, accuracy above 0.9",
                lambda: [_train_case("48 samples, 3 classes, 4 epochs, lr=0.5", epochs=4, val=True)],
                _learns_probe, _learns_verdict, points=2),
    probe_check("train", "loss_is_epoch_mean",
                "history['loss'] is each epoch's mean training loss (checked with lr=0)",
                lambda: [_train_case("lr=0, 3 epochs, 3 batches of 16", lr=0.0, seed=2)],
                _mean_loss_probe, _mean_loss_verdict, points=2),
    probe_check("train", "reproducible_and_clean",
                "same seed, same params and history; NumPy's global random state untouched",
                lambda: [_train_case("2 epochs, batches of 10 (the last smaller)", epochs=2, batch_size=10, seed=3)],
                _reproducible_probe, _reproducible_verdict, hidden=True),
    probe_check("train", "val_accuracy_on_validation_data",
                "history['val_accuracy'] is measured on X_val, labels_val",
                lambda: [_train_case("validation labels that differ from the training pattern", val=True,
                                     val_relabel=1, seed=4)],
                _val_probe, _val_verdict, hidden=True),
    probe_check("train", "reshuffles_every_epoch", "draws a new shuffle from rng every epoch",
                lambda: [_train_case("the same seed, trained for 2 epochs and for 1 epoch", epochs=2, seed=5)],
                _shuffle_probe, _shuffle_verdict, hidden=True),
]

CHECKS = ITERATE_MINIBATCHES + SGD_STEP + TRAIN

# --- issue 10, item 4: no argument changed; every documented output checked, every entry ---


def _train_writable():
    case = _train_case("2 epochs with validation data, writable arrays", epochs=2, val=True, seed=6)
    return [Case(case.name, case.make, case.kwargs, readonly=False)]


def _val_entries_probe(ns, case):
    """history['val_accuracy'][k] of a 3-epoch run against the validation accuracy of the params a
    (k + 1)-epoch run from the same seed returns (training is the same up to then)."""
    got = _unpack(_call_train(ns, case)[0])
    if not isinstance(got, tuple):
        return got
    val = got[1].get("val_accuracy")
    if not isinstance(val, (list, tuple, np.ndarray)) or len(val) != case.kwargs["epochs"]:
        return Odd("history", f"a dict whose 'val_accuracy' is {describe(val)}")
    right = []
    for k in range(case.kwargs["epochs"]):
        shorter = _unpack(_call_train(ns, case, epochs=k + 1)[0])
        if not isinstance(shorter, tuple):
            return shorter
        try:
            on_val = _train_accuracy(shorter[0], case.kwargs["X_val"], case.kwargs["labels_val"])
        except Exception as exc:
            return Odd("params", f"a dict the network cannot use ({type(exc).__name__})")
        right.append(bool(is_number(val[k]) and np.isclose(float(val[k]), on_val, atol=1e-9)))
    again = _unpack(_call_train(ns, case)[0])
    values = tuple(round(float(v), 6) if is_number(v) else describe(v) for v in val)
    same = isinstance(again, tuple) and tuple(
        round(float(v), 6) if is_number(v) else describe(v) for v in again[1].get("val_accuracy") or ()) == values
    return {"right": tuple(right), "values": values, "reproducible": bool(same)}


def _val_entries_verdict(obs, expected, case):
    _structure_problem(obs)
    wrong = [k for k, ok in enumerate(obs["right"]) if not ok]
    if wrong:
        raise Mismatch(f"history['val_accuracy'][{wrong[0]}] is not the validation accuracy after epoch {wrong[0] + 1}",
                       [f"entries {wrong} of {len(obs['right'])} are wrong: append accuracy(forward(params, X_val)[0], "
                        f"labels_val) once after every epoch's last batch"])


PROMISES_06 = [
    unchanged_check("train", "leaves_arguments", "X, labels and the layer_sizes list are left as they were",
                    _train_writable, names=("X", "labels", "layer_sizes"),
                    fix="normalise or shuffle into new arrays (`X = (X - mean) / std`, `X[order]`); `-=`, "
                        "`rng.shuffle(X)` or `layer_sizes.pop()` change the caller's data"),
    probe_check("train", "every_val_accuracy_entry",
                "every entry of history['val_accuracy'] is the validation accuracy after its epoch",
                lambda: [_train_case("3 epochs with validation data, lr=0.2", epochs=3, lr=0.2, val=True, seed=7)],
                _val_entries_probe, _val_entries_verdict, hidden=True, points=PROMISE_POINTS),
]

CHECKS = CHECKS + PROMISES_06

# --- no argument changed (iterate_minibatches, sgd_step's grads); nothing kept between calls ---


def _two_shuffles():
    return [_mb_case(10, 4, True, seed=11), _mb_case(10, 4, True, seed=12)]


def _two_steps():
    """Two sgd_step cases whose grads are writable too, so writing into them is seen, not refused."""

    def writable_grads(case):
        def build():
            params, grads, lr = case.make()
            return params, {k: g.copy() for k, g in grads.items()}, lr
        return Case(case.name, build, case.kwargs, readonly=False)

    return [writable_grads(_sgd_case("a [3, 4, 2] network, lr=0.1", (3, 4, 2), 0.1, 56)),
            writable_grads(_sgd_case("another [3, 4, 2] network, lr=0.1", (3, 4, 2), 0.1, 57))]


def _two_trainings():
    return [_train_case("2 epochs, batches of 16", epochs=2, seed=8),
            _train_case("2 epochs from another seed", epochs=2, seed=9)]


PROMISES_06_MORE = [
    leaves_arguments("iterate_minibatches", _two_shuffles, ("X", "labels", "batch_size", "rng"),
                     "index with a permutation, `X[order[start:start + batch_size]]`, which makes new arrays; "
                     "`rng.shuffle(X)` or `X[:] = X[order]` reorders the caller's data",
                     title="X and labels are left exactly as they were (after every batch was taken)",
                     consume=batches),
    nothing_kept("iterate_minibatches", _two_shuffles,
                 title="generators seeded 11 and 12, each used twice in turn: the same batches for the same seed"),
    leaves_arguments("sgd_step", _two_steps, ("params", "grads", "lr"),
                     "update params only, entry by entry (`params[key] -= lr * grads[key]`); read grads, never "
                     "write into them, and keep params' keys and shapes",
                     title="grads is left as it was; params keeps its keys, shapes and dtypes",
                     may_change=("params",)),
    nothing_kept("sgd_step", _two_steps,
                 title="two networks, each stepped twice in turn from fresh params: the same result each time"),
    probe_check("train", "loss_is_epoch_mean_with_validation",
                "history['loss'] is the training loss (not the validation loss) when validation data is given",
                lambda: [_train_case("lr=0, 2 epochs, with validation data", lr=0.0, epochs=2, val=True, seed=10)],
                _mean_loss_probe, _mean_loss_verdict, hidden=True, points=PROMISE_POINTS),
    nothing_kept("train", _two_trainings,
                 title="two trainings, each run twice in turn from the same seed: the same params and history"),
]

CHECKS = CHECKS + PROMISES_06_MORE

# --- public checks of the stubs' other docstring promises (PROMISE_POINTS each; tests/test_docstring_promises.py)


def _no_validation_probe(ns, case):
    got = _unpack(_call_train(ns, case)[0])
    if not isinstance(got, tuple):
        return got
    val = got[1].get("val_accuracy", [])   # no such key: no entries either
    return {"entries": len(val) if isinstance(val, (list, tuple, np.ndarray)) else describe(val)}


def _no_validation_verdict(obs, expected, case):
    _structure_problem(obs)
    if obs["entries"] != 0:
        shown = f"{obs['entries']} entries" if isinstance(obs["entries"], int) else obs["entries"]
        raise Mismatch(f"without validation data, history['val_accuracy'] should have no entries, but it has {shown}",
                       ["append to history['val_accuracy'] only when X_val and labels_val are given"])


PUBLIC_PROMISES_06 = [
    probe_check("train", "no_val_accuracy_without_validation",
                "without validation data, history['val_accuracy'] has no entries",
                lambda: [_train_case("2 epochs, no validation data", epochs=2, seed=8)],
                _no_validation_probe, _no_validation_verdict, points=PROMISE_POINTS),
    probe_check("train", "val_accuracy_of_trained_params",
                "the last history['val_accuracy'] is the returned params' accuracy on X_val, labels_val",
                lambda: [_train_case("validation labels shifted by 2 classes", val=True, val_relabel=2, seed=9)],
                _val_probe, _val_verdict, points=PROMISE_POINTS),
    probe_check("train", "draws_from_rng", "the initial weights and every epoch's shuffle come from rng",
                lambda: [_train_case("the same seed, trained for 2 epochs and for 1 epoch", epochs=2, seed=10)],
                _shuffle_probe, _shuffle_verdict, points=PROMISE_POINTS),
]

CHECKS = CHECKS + PUBLIC_PROMISES_06
