"""Known mistakes and correct alternatives for 06_training, written as a learner would (NumPy and
the API's own names only), so `Variant.source()` can be pasted into a notebook as it is.

Each variant is named `<function>_<variant>` (`Variant.source()` renames it to the API name), so
the `sgd_step`, `iterate_minibatches`, `forward`, ... that the train variants call are the
reference's (imported below), as a pasted notebook would call the learner's own; a variant never
calls another variant (tests/test_catalog.py)."""
import numpy as np

from autograder.catalog import alternative, bug
from solutions.backprop import backward, forward
from solutions.init import init_params
from solutions.loss import accuracy, cross_entropy
from solutions.training import iterate_minibatches, sgd_step

# --- iterate_minibatches: bugs ---


@bug("iterate_minibatches", "returns_first_batch", "`return` inside the loop ends the function at the first "
     "batch (and gives back one pair, not a sequence of pairs): use `yield X_batch, labels_batch` instead")
def iterate_minibatches_returns_first_batch(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        return X[idx], labels[idx]


@bug("iterate_minibatches", "drops_last_batch", "the loop runs N // batch_size times, so the last, smaller "
     "batch is dropped and its samples are never trained on: step with range(0, N, batch_size)")
def iterate_minibatches_drops_last_batch(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for b in range(len(X) // batch_size):
        idx = order[b * batch_size:(b + 1) * batch_size]
        yield X[idx], labels[idx]


@bug("iterate_minibatches", "extra_empty_batch", "N // batch_size + 1 batches is one too many when N is a "
     "multiple of batch_size (the last batch is empty): step with range(0, N, batch_size) instead")
def iterate_minibatches_extra_empty_batch(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for b in range(len(X) // batch_size + 1):
        idx = order[b * batch_size:(b + 1) * batch_size]
        yield X[idx], labels[idx]


@bug("iterate_minibatches", "slice_one_short", "X[start:start + batch_size - 1] is one row short: a slice's "
     "end is already excluded, so X[start:start + batch_size] holds exactly batch_size rows")
def iterate_minibatches_slice_one_short(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size - 1]
        yield X[idx], labels[idx]


@bug("iterate_minibatches", "sampled_with_replacement", "drawing random indices for each batch "
     "(rng.integers / rng.choice) repeats some samples and skips others: shuffle once with rng.permutation(N) "
     "and cut that order into batches")
def iterate_minibatches_sampled_with_replacement(X, labels, batch_size, rng, shuffle=True):
    for start in range(0, len(X), batch_size):
        size = min(batch_size, len(X) - start)
        idx = rng.integers(0, len(X), size) if shuffle else np.arange(start, start + size)
        yield X[idx], labels[idx]


@bug("iterate_minibatches", "separate_permutations", "X and labels are shuffled with two different "
     "permutations, so each image gets someone else's label: draw one permutation and index both with it")
def iterate_minibatches_separate_permutations(X, labels, batch_size, rng, shuffle=True):
    if shuffle:
        X = X[rng.permutation(len(X))]
        labels = labels[rng.permutation(len(labels))]
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], labels[start:start + batch_size]


@bug("iterate_minibatches", "global_random_state", "np.random.shuffle / np.random.permutation use NumPy's "
     "global random state, so the rng you were given (and its seed) is ignored: use rng.permutation(N)")
def iterate_minibatches_global_random_state(X, labels, batch_size, rng, shuffle=True):
    idx = np.arange(len(X))
    if shuffle:
        np.random.shuffle(idx)
    for start in range(0, len(X), batch_size):
        batch = idx[start:start + batch_size]
        yield X[batch], labels[batch]


@bug("iterate_minibatches", "own_generator", "np.random.default_rng() inside the function makes a new, "
     "unseeded Generator, so the order ignores the rng argument and is never reproducible: use rng itself")
def iterate_minibatches_own_generator(X, labels, batch_size, rng, shuffle=True):
    order = np.random.default_rng().permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], labels[idx]


@bug("iterate_minibatches", "shuffles_inputs_in_place", "rng.shuffle(X) reorders the caller's arrays in "
     "place (the training set itself changes): shuffle an index array, order = rng.permutation(N), and "
     "index X[order], labels[order]")
def iterate_minibatches_shuffles_inputs_in_place(X, labels, batch_size, rng, shuffle=True):
    if shuffle:
        state = rng.bit_generator.state
        rng.shuffle(X)
        rng.bit_generator.state = state
        rng.shuffle(labels)
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], labels[start:start + batch_size]


@bug("iterate_minibatches", "always_shuffles", "the shuffle argument is ignored: with shuffle=False the "
     "batches must keep the original order (order = np.arange(N))")
def iterate_minibatches_always_shuffles(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], labels[idx]


@bug("iterate_minibatches", "never_shuffles", "nothing is ever shuffled: with shuffle=True the order must "
     "come from rng, e.g. order = rng.permutation(N)")
def iterate_minibatches_never_shuffles(X, labels, batch_size, rng, shuffle=True):
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], labels[start:start + batch_size]


# --- iterate_minibatches: alternatives ---


@alternative("iterate_minibatches", "list_of_pairs")
def iterate_minibatches_list_of_pairs(X, labels, batch_size, rng, shuffle=True):
    n = X.shape[0]
    order = rng.permutation(n) if shuffle else np.arange(n)
    batches = []
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        batches.append((X[idx], labels[idx]))
    return batches


@alternative("iterate_minibatches", "shuffled_index_array_split")
def iterate_minibatches_shuffled_index_array_split(X, labels, batch_size, rng, shuffle=True):
    indices = np.arange(len(X))
    if shuffle:
        rng.shuffle(indices)
    n_batches = int(np.ceil(len(X) / batch_size))
    for idx in np.array_split(indices, [b * batch_size for b in range(1, n_batches)]):
        yield X[idx], labels[idx]


# --- sgd_step: bugs ---


@bug("sgd_step", "rebinds_loop_variable", "`p = p - lr * g` inside a loop only rebinds the name p; the "
     "arrays in params never change: update through the dict, params[key] -= lr * grads[key]")
def sgd_step_rebinds_loop_variable(params, grads, lr):
    for p, g in zip(params.values(), grads.values()):
        p = p - lr * g
    return params


@bug("sgd_step", "new_dict_not_in_place", "a new dict comes back but the caller's params are unchanged: "
     "sgd_step must update params in place (params[key] -= lr * grads[key]) and return it")
def sgd_step_new_dict_not_in_place(params, grads, lr):
    return {key: params[key] - lr * grads[key] for key in params}


@bug("sgd_step", "forgot_return", "the update is right but nothing is returned (None), so "
     "`params = sgd_step(params, grads, lr)` loses the network: end with `return params`")
def sgd_step_forgot_return(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]


@bug("sgd_step", "plus_sign", "the step goes uphill: gradient DEscent moves against the gradient, "
     "params[key] -= lr * grads[key]")
def sgd_step_plus_sign(params, grads, lr):
    for key in params:
        params[key] += lr * grads[key]
    return params


@bug("sgd_step", "lr_forgotten", "the learning rate is missing: each entry moves by -lr * grad, not by -grad")
def sgd_step_lr_forgotten(params, grads, lr):
    for key in params:
        params[key] -= grads[key]
    return params


@bug("sgd_step", "weights_only", "only the weights W are updated; the biases b learn too: update every "
     "key of params")
def sgd_step_weights_only(params, grads, lr):
    for key in params:
        if key.startswith("W"):
            params[key] -= lr * grads[key]
    return params


@bug("sgd_step", "pairs_by_position", "zip(params.values(), grads.values()) pairs entries by position, "
     "which breaks when grads lists its keys in another order (a backward loop builds W2 before W1): "
     "pair them by key, params[key] -= lr * grads[key]")
def sgd_step_pairs_by_position(params, grads, lr):
    for p, g in zip(params.values(), grads.values()):
        p -= lr * g
    return params


# --- sgd_step: alternatives ---


@alternative("sgd_step", "replace_entries")
def sgd_step_replace_entries(params, grads, lr):
    for name, grad in grads.items():
        params[name] = params[name] - lr * grad
    return params


@alternative("sgd_step", "subtract_out")
def sgd_step_subtract_out(params, grads, lr):
    for key in params:
        np.subtract(params[key], lr * grads[key], out=params[key], casting="same_kind")
    return params


# --- train: bugs ---


@bug("train", "loss_every_batch", "history['loss'] gets one entry per BATCH: sum the batch losses during the "
     "epoch and append their mean once, after the epoch's last batch")
def train_loss_every_batch(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            history["loss"].append(cross_entropy(probs, labels_batch))
            sgd_step(params, backward(params, cache, labels_batch), lr)
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "epochs_off_by_one", "range(1, epochs) runs epochs - 1 times: for epoch in range(epochs) "
     "trains exactly `epochs` times")
def train_epochs_off_by_one(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(1, epochs):
        losses, sizes = [], []
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            losses.append(cross_entropy(probs, labels_batch))
            sizes.append(len(X_batch))
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(np.average(losses, weights=sizes))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "never_updates", "the gradients are computed but params never change: call "
     "sgd_step(params, grads, lr) after backward in every batch")
def train_never_updates(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        total = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            total += cross_entropy(probs, labels_batch) * len(X_batch)
            grads = backward(params, cache, labels_batch)  # noqa: F841  (the mistake: never applied)
        history["loss"].append(total / len(X))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "lr_ignored", "a fixed learning rate is written inside train, so the lr argument has no effect: "
     "pass train's lr to sgd_step")
def train_lr_ignored(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        total = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            total += cross_entropy(probs, labels_batch) * len(X_batch)
            sgd_step(params, backward(params, cache, labels_batch), 0.1)
        history["loss"].append(total / len(X))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "loss_summed", "history['loss'] holds the SUM of the epoch's batch losses, which grows with "
     "the number of batches: divide by the number of batches (or average over the samples)")
def train_loss_summed(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        epoch_loss = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            epoch_loss += cross_entropy(probs, labels_batch)
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(epoch_loss)
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "loss_of_last_batch", "history['loss'] records only the last batch's loss, which is noisy: "
     "accumulate the loss over all the epoch's batches and append their mean")
def train_loss_of_last_batch(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            loss = cross_entropy(probs, labels_batch)
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(loss)
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "val_accuracy_on_training_data", "history['val_accuracy'] is measured on the training data: "
     "use forward(params, X_val) and labels_val, the data the network does not train on")
def train_val_accuracy_on_training_data(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None,
                                        labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        total = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            total += cross_entropy(probs, labels_batch) * len(X_batch)
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(total / len(X))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X)[0], labels))
    return params, history


@bug("train", "global_random_state", "np.random is NumPy's global random state, so the seed in rng does "
     "not control training: draw the shuffle from rng (iterate_minibatches(X, labels, batch_size, rng))")
def train_global_random_state(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        order = np.random.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            probs, cache = forward(params, X[idx])
            total += cross_entropy(probs, labels[idx]) * len(idx)
            sgd_step(params, backward(params, cache, labels[idx]), lr)
        history["loss"].append(total / len(X))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "own_generator", "np.random.default_rng() inside train is a new, unseeded Generator, so two "
     "runs never agree: use the rng argument for the weights and the shuffles")
def train_own_generator(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    rng = np.random.default_rng()
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        total = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            total += cross_entropy(probs, labels_batch) * len(X_batch)
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(total / len(X))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


@bug("train", "never_shuffles", "the batches come in the same order every epoch (shuffle=False), which "
     "biases SGD: let iterate_minibatches shuffle with rng each epoch")
def train_never_shuffles(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    for _epoch in range(epochs):
        total = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng, shuffle=False):
            probs, cache = forward(params, X_batch)
            total += cross_entropy(probs, labels_batch) * len(X_batch)
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(total / len(X))
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


# --- train: alternatives ---


@alternative("train", "mean_of_batch_losses")
def train_mean_of_batch_losses(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": []}
    if X_val is not None:
        history["val_accuracy"] = []
    for _epoch in range(epochs):
        batch_losses = []
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng, shuffle=True):
            probs, cache = forward(params, X_batch)
            batch_losses.append(cross_entropy(probs, labels_batch))
            grads = backward(params, cache, labels_batch)
            params = sgd_step(params, grads, lr)
        history["loss"].append(float(np.mean(batch_losses)))
        if X_val is not None:
            val_probs, _ = forward(params, X_val)
            history["val_accuracy"].append(float(np.mean(np.argmax(val_probs, axis=1) == labels_val)))
    return params, history


@alternative("train", "inline_permutation")
def train_inline_permutation(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    n = len(X)
    for _epoch in range(epochs):
        perm = rng.permutation(n)
        seen, total = 0, 0.0
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            probs, cache = forward(params, X[idx])
            total += cross_entropy(probs, labels[idx]) * len(idx)
            seen += len(idx)
            grads = backward(params, cache, labels[idx])
            for key in params:
                params[key] = params[key] - lr * grads[key]
        history["loss"].append(total / seen)
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


# --- issue 10: unusual correct versions ---


@alternative("iterate_minibatches", "array_split_at_multiples")
def iterate_minibatches_array_split_at_multiples(X, labels, batch_size, rng, shuffle=True):
    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
    for idx in np.array_split(order, np.arange(batch_size, len(X), batch_size)):
        yield X[idx], labels[idx]


@alternative("sgd_step", "through_flat_views")
def sgd_step_through_flat_views(params, grads, lr):
    for key, value in params.items():
        flat = value.reshape(-1)  # a view of the same memory: updating it updates params[key]
        flat -= lr * np.asarray(grads[key]).reshape(-1)
    return params


# --- issue 10, item 4: every entry of a documented output ---


@bug("train", "val_accuracy_filled_at_end", "history['val_accuracy'] repeats the final accuracy for every "
     "epoch; each entry is the accuracy after ITS epoch: append it at the end of every epoch")
def train_val_accuracy_filled_at_end(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None,
                                     labels_val=None):
    params = init_params(layer_sizes, rng)
    history = {"loss": []}
    for _epoch in range(epochs):
        losses = []
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            losses.append(cross_entropy(probs, labels_batch))
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(float(np.mean(losses)))
    if X_val is not None:
        history["val_accuracy"] = [accuracy(forward(params, X_val)[0], labels_val)] * epochs
    return params, history
