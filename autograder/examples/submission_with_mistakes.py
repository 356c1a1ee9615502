"""An example submission: the reference with two typical mistakes (softmax and the ReLU derivative),
so `python -m autograder check` shows real feedback in the first minute."""
import numpy as np

import os

def _floating(z):
    """z as an array of a floating dtype: float32 stays float32 (fast), anything else becomes float64."""
    z = np.asarray(z)
    return z if z.dtype.kind == "f" else z.astype(np.float64)


def _rows(labels, n):
    """Integer row-wise class indices, checked against the batch size so a mismatch fails loudly."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the batch, got {labels.shape}")
    return labels


def num_layers(params):
    """L, the number of weight matrices W1..WL; inferred from the keys so any depth works."""
    n = 0
    while f"W{n + 1}" in params:
        n += 1
    if n == 0:
        raise ValueError(f"params has no 'W1'; expected keys W1, b1, ..., WL, bL, got {sorted(params)}")
    return n


def _batches(X, labels, batch_size, order):
    for start in range(0, len(X), batch_size):
        if order is None:  # slices are views: no copy when the order is kept
            yield X[start:start + batch_size], labels[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            yield X[idx], labels[idx]


INPUTS = 784

CLASSES = 10

HIDDEN = 256

EPOCHS = 8

BATCH_SIZE = 128

LR = 0.1

MOMENTUM = 0.9

WEIGHT_DECAY = 0.0005

INPUT_MEAN = 0.1307

INPUT_STD = 0.3081

SEED = 0

def standardise(X, config=None):
    """(X - input_mean) / input_std as float32, computed as the trainer does it batch by batch.

    The trainer learns on zero-mean, unit-variance inputs (better conditioned than [0, 1] pixels),
    with fixed constants (the training set's pixel mean and std), never computed from the data at
    hand. A port that standardises its data with this function sees bit-identical inputs.
    """
    config = CONFIG if config is None else config
    X = np.array(X, dtype=np.float32)  # a copy: never modify the caller's array
    X -= np.float32(config.input_mean)
    X *= np.float32(1.0 / config.input_std)
    return X


def fold_standardisation(params, config=None):
    """Params for raw [0, 1] inputs from params trained on standardised ones: the same network.

    ((x - m) / s) W1 + b1 = x (W1 / s) + (b1 - (m / s) 1^T W1), so the input transform folds into
    the first layer exactly (up to rounding). The result follows the course's convention, the one the
    grader uses: forward(params, normalize(flatten(images))).
    """
    config = CONFIG if config is None else config
    mean, inv_std = float(np.float32(config.input_mean)), float(np.float32(1.0 / config.input_std))
    W1 = params["W1"].astype(np.float64)
    out = {key: np.array(value, copy=True) for key, value in params.items()}
    out["W1"] = (W1 * inv_std).astype(params["W1"].dtype)
    out["b1"] = (params["b1"] - mean * inv_std * W1.sum(axis=0)).astype(params["b1"].dtype)
    return out


def lr_at(step, total_steps, config=None):
    """The learning rate for 0-based batch ``step`` of ``total_steps``: linear decay from lr to 0."""
    config = CONFIG if config is None else config
    return config.lr * (1.0 - step / total_steps)


def train_capstone(X, labels, config=None, *, X_test=None, labels_test=None, log=None):
    """Train the capstone network on X = normalize(flatten(images)) and int labels; (params, history).

    Random draws, in this order, from np.random.default_rng(config.seed): the initial weights
    (init_params), then one permutation of range(N) per epoch. history holds "loss" (mean training
    loss per epoch, as the model was during that epoch), "test_accuracy" (per epoch, when test data
    is given) and "seconds" (training time, evaluation excluded). ``log`` is called with one line per
    epoch when given. The returned params take [0, 1] inputs (see fold_standardisation).
    """
    config = CONFIG if config is None else config
    X = np.ascontiguousarray(X, dtype=np.float32)
    labels = np.asarray(labels).astype(np.intp)
    n, d = X.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
    B, H, C = config.batch_size, config.hidden, CLASSES
    rng = np.random.default_rng(config.seed)
    init = init_params([d, H, C], rng)

    # All parameters live in one flat float32 buffer (and so do their gradients and velocities):
    # params["W1"] etc. are views into it, so the momentum update is 4 NumPy calls per step on one
    # array instead of 4 per parameter. Every buffer is allocated once; the loop only writes.
    flat = np.empty(sum(v.size for v in init.values()), np.float32)
    grad_flat, velocity, update = np.empty_like(flat), np.zeros_like(flat), np.empty_like(flat)
    params, grads, offset = {}, {}, 0
    for key, value in init.items():
        view = slice(offset, offset + value.size)
        params[key] = flat[view].reshape(value.shape)
        params[key][...] = value
        grads[key] = grad_flat[view].reshape(value.shape)
        offset += value.size
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    gW1, gb1, gW2, gb2 = grads["W1"], grads["b1"], grads["W2"], grads["b2"]
    xb_full = np.empty((B, d), np.float32)
    A1_full = np.empty((B, H), np.float32)
    Z2_full = np.empty((B, C), np.float32)
    dZ1_full = np.empty((B, H), np.float32)
    mask_full = np.empty((B, H), bool)
    rows_full = np.arange(B)
    mu = np.float32(config.momentum)
    mean, inv_std = np.float32(config.input_mean), np.float32(1.0 / config.input_std)
    wd = np.float32(config.weight_decay)

    batches = -(-n // B)
    total = batches * config.epochs
    history = {"loss": [], "test_accuracy": [], "seconds": 0.0}
    step = 0
    elapsed = 0.0
    for epoch in range(config.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        loss_sum = 0.0
        for start in range(0, n, B):
            idx = order[start:start + B]
            m = len(idx)
            xb, A1, Z2 = xb_full[:m], A1_full[:m], Z2_full[:m]
            dZ1, mask, rows = dZ1_full[:m], mask_full[:m], rows_full[:m]
            np.take(X, idx, axis=0, out=xb)
            xb -= mean  # standardise the batch (what standardise() does to the whole set)
            xb *= inv_std
            y = labels[idx]
            # forward: A1 = relu(xb W1 + b1), Z2 = A1 W2 + b2, softmax in place
            np.matmul(xb, W1, out=A1)
            A1 += b1
            np.maximum(A1, 0, out=A1)
            np.matmul(A1, W2, out=Z2)
            Z2 += b2
            Z2 -= Z2.max(axis=1, keepdims=True)
            np.exp(Z2, out=Z2)
            Z2 /= Z2.sum(axis=1, keepdims=True)
            p_true = Z2[rows, y]
            loss_sum -= float(np.log(np.maximum(p_true, np.float32(1e-30))).sum())
            # backward: dZ2 = (P - onehot) / m, overwriting P
            Z2[rows, y] = p_true - 1
            Z2 *= np.float32(1.0 / m)
            np.matmul(A1.T, Z2, out=gW2)
            Z2.sum(axis=0, out=gb2)
            np.matmul(Z2, W2.T, out=dZ1)
            np.greater(A1, 0, out=mask)  # A1 > 0 exactly where Z1 > 0
            np.multiply(dZ1, mask, out=dZ1)
            np.matmul(xb.T, dZ1, out=gW1)
            dZ1.sum(axis=0, out=gb1)
            # SGD with momentum and weight decay (torch.optim.SGD): g += wd p; v = mu v + g; p -= lr v
            if wd:
                np.multiply(flat, wd, out=update)
                grad_flat += update
            velocity *= mu
            velocity += grad_flat
            np.multiply(velocity, np.float32(lr_at(step, total, config)), out=update)
            flat -= update
            step += 1
        elapsed += time.perf_counter() - t0
        history["loss"].append(loss_sum / n)
        line = f"epoch {epoch + 1:2d}/{config.epochs}  loss {loss_sum / n:.4f}"
        if X_test is not None:
            acc = float(np.mean(predict(fold_standardisation(params, config), X_test)
                                == np.asarray(labels_test)))
            history["test_accuracy"].append(acc)
            line += f"  test accuracy {acc:.4f}"
        if log is not None:
            log(line + f"  ({elapsed:.2f} s)")
    history["seconds"] = elapsed
    return fold_standardisation(params, config), history  # plain arrays, for [0, 1] inputs


def peak_rss_mb():
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv=None):
    """Train the reference capstone on MNIST's training set; report test accuracy, time and memory."""
    from autograder.mnist import load_mnist

    parser = argparse.ArgumentParser(prog="python -m solutions.capstone", description=main.__doc__)
    parser.add_argument("--epochs", type=int, default=CONFIG.epochs)
    parser.add_argument("--hidden", type=int, default=CONFIG.hidden)
    parser.add_argument("--seed", type=int, default=CONFIG.seed)
    parser.add_argument("--save", metavar="PATH", help="save the trained params as .npz")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    args = parser.parse_args(argv)
    config = dataclasses.replace(CONFIG, epochs=args.epochs, hidden=args.hidden, seed=args.seed)

    t0 = time.perf_counter()
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    X, X_test = normalize(flatten(train_images)), normalize(flatten(test_images))
    load_s = time.perf_counter() - t0
    print(f"data: {len(X)} training / {len(X_test)} test images, loaded in {load_s:.2f} s")
    print(f"config: {config}")

    params, history = train_capstone(X, train_labels, config,
                                     log=None if args.quiet else lambda line: print(line, flush=True))
    accuracy = float(np.mean(predict(params, X_test) == test_labels))
    if args.save:
        save_params(params, args.save)
        print(f"saved params to {args.save}")
    print(f"test accuracy: {accuracy:.4f}")
    print(f"training time: {history['seconds']:.2f} s")
    print(f"peak memory: {peak_rss_mb():.0f} MiB")
    return 0


def flatten(images):
    """(N, H, W) -> (N, H*W), row-major.

    A reshape, not a copy: the pixels of one image are already contiguous, so a view costs nothing.
    """
    images = np.asarray(images)
    return images.reshape(len(images), -1)


def normalize(images):
    """uint8 pixels 0..255 -> float32 in [0, 1], same shape.

    float32 because it halves memory and doubles matmul speed at no cost in accuracy, and inputs of
    order 1 keep the He-initialised activations of order 1.
    """
    out = np.asarray(images).astype(np.float32)  # always a fresh array, so dividing in place is safe
    out /= np.float32(255)  # in place: no second full-size temporary (60,000 images = 188 MB)
    return out


def one_hot(labels, num_classes=10):
    """(N,) integer labels -> (N, num_classes) float64 with a single 1 per row.

    Raises ValueError for labels that are not integers or lie outside [0, num_classes), because a
    silent wrong encoding (or NumPy's negative indexing) would poison every loss computed from it.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive integer, got {num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got {bad.ravel()[0]} "
                         f"({bad.size} out of range)")
    out = np.zeros(labels.shape + (int(num_classes),), dtype=np.float64)
    np.put_along_axis(out, labels[..., None].astype(np.intp), 1.0, axis=-1)
    return out


def relu(z):
    """max(z, 0) elementwise; keeps a floating dtype so float32 networks stay float32."""
    z = _floating(z)
    return np.maximum(z, z.dtype.type(0))


def relu_derivative(z):
    """1.0 where z > 0 else 0.0, including 0 at exactly z == 0 (the usual subgradient choice)."""
    z = _floating(z)
    return (z > 0).astype(z.dtype)


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow for any |z|.

    exp is only ever taken of -|z| <= 0, so it lies in (0, 1]: for z >= 0 use 1 / (1 + e), for z < 0
    the algebraically equal e / (1 + e). Underflow of exp(-|z|) to 0 is the right answer, so it is
    silenced even under np.errstate(all="raise").
    """
    z = _floating(z)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))
    one = z.dtype.type(1)
    return np.where(z >= 0, one / (one + e), e / (one + e))


def sigmoid_derivative(z):
    """sigmoid(z) * (1 - sigmoid(z)), from one stable sigmoid evaluation."""
    s = sigmoid(z)
    return s * (s.dtype.type(1) - s)


def softmax(z):
    """Rows of (N, C) logits -> probabilities summing to 1; a 1-D input is a single row.

    Subtracting each row's max leaves the result unchanged mathematically but keeps exp's argument
    <= 0, so logits of size 1e4 do not overflow. The last axis is the class axis for any ndim.
    """
    z = _floating(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(shifted)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def cross_entropy(probs, labels, eps=1e-12):
    """Mean over the batch of -log(clip(p_true, eps, 1)) as a Python float.

    The clip keeps the loss finite when the network puts probability 0 on the true class
    (log 0 = -inf would turn every later gradient step into NaN).
    """
    probs = np.asarray(probs)
    labels = _rows(labels, len(probs))
    p = probs[np.arange(len(probs)), labels].astype(np.float64)
    return float(-np.mean(np.log(np.clip(p, eps, 1.0))))


def softmax_cross_entropy_grad(logits, labels):
    """(softmax(logits) - one_hot(labels)) / N: the gradient of the mean cross-entropy w.r.t. logits.

    The fused form is why softmax and cross-entropy are paired: no division by a tiny probability.
    """
    grad = softmax(logits)  # a fresh array: safe to modify in place
    labels = _rows(labels, len(grad))
    n = len(grad)
    grad[np.arange(n), labels] -= 1
    grad /= n
    return grad


def accuracy(scores, labels):
    """Fraction of rows whose argmax equals the label, as a Python float (logits or probabilities)."""
    scores = np.asarray(scores)
    labels = _rows(labels, len(scores))
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def he_init(fan_in, fan_out, rng, dtype=np.float64):
    """(fan_in, fan_out) He-normal weights: mean 0, variance 2 / fan_in.

    ReLU zeroes half its inputs, so variance 2 / fan_in (not 1 / fan_in) keeps the variance of the
    activations constant from layer to layer. The draw is always float64 and then cast, so the same
    rng gives the same weights (up to rounding) whatever `dtype` is asked for.
    """
    w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
    return w.astype(dtype, copy=False)


def init_params(layer_sizes, rng, dtype=np.float64):
    """{"W1": (l0, l1), "b1": (l1,), ..., "WL", "bL"}: He weights, zero biases.

    Weights are drawn in layer order W1, W2, ..., WL from `rng` (one he_init call each, nothing
    else drawn), so the same seed and sizes reproduce the same network exactly.
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes needs at least two positive sizes [inputs, ..., classes], "
                         f"got {list(layer_sizes)!r}")
    params = {}
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"] = he_init(fan_in, fan_out, rng, dtype=dtype)
        params[f"b{k}"] = np.zeros(fan_out, dtype=dtype)
    return params


def forward(params, X):
    """(probs, cache) for Z_k = A_{k-1} @ W_k + b_k, ReLU on hidden layers, softmax on the last.

    The cache {"A0": X, "Z1": ..., "A1": ..., "ZL": ..., "AL": probs} keeps every pre-activation
    and activation because backward needs A_{k-1} for dW_k and Z_k for the ReLU mask.
    """
    L = num_layers(params)
    A = np.asarray(X)
    cache = {"A0": A}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z) if k < L else softmax(Z)
        cache[f"Z{k}"] = Z
        cache[f"A{k}"] = A
    return A, cache


def backward(params, cache, labels):
    """Gradient of the MEAN cross-entropy w.r.t. every parameter: same keys and shapes as params.

    Starts from the fused softmax+cross-entropy gradient (probs - one_hot) / N, then walks back:
    dW_k = A_{k-1}^T dZ_k, db_k = sum of dZ_k over the batch, dZ_{k-1} = (dZ_k W_k^T) * [Z_{k-1} > 0].
    The gradient w.r.t. the input X is never formed: nothing learns it.
    """
    L = num_layers(params)
    probs = cache[f"A{L}"]
    n = len(probs)
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the batch, got {labels.shape}")
    dZ = np.array(probs, copy=True)
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        A_prev = cache[f"A{k - 1}"]
        grads[f"W{k}"] = A_prev.T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return {key: grads[key] for key in params}  # the same key order as params


def numerical_gradient(f, x, h=1e-5):
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h for every entry i of x, as float64.

    x is perturbed in place (so f, a closure over x, sees the change) and each entry is restored by
    writing back its stored old value: old + h - h need not round back to old exactly.
    Error O(h^2), which is why it beats the one-sided O(h) difference as a gradient check.
    """
    grad = np.zeros(np.shape(x), dtype=np.float64)
    for idx in np.ndindex(*np.shape(x)):
        old = x[idx]  # a NumPy scalar: an immutable copy of the entry
        try:
            x[idx] = old + h
            f_plus = float(f())
            x[idx] = old - h
            f_minus = float(f())
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def iterate_minibatches(X, labels, batch_size, rng, shuffle=True):
    """A generator of (X_batch, labels_batch) covering every sample exactly once, rows aligned.

    The order is rng.permutation(N) when shuffle (drawn now, one draw per call), else 0..N-1; the
    last batch holds the remainder and may be smaller, so no sample is silently dropped.
    Arguments are checked here rather than at the first next(), so a bad batch_size fails where it
    is written.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    X = np.asarray(X)
    labels = np.asarray(labels)
    if len(X) != len(labels):
        raise ValueError(f"X has {len(X)} rows but labels has {len(labels)}; they must match")
    n = len(X)
    order = rng.permutation(n) if shuffle else None
    return _batches(X, labels, int(batch_size), order)


def sgd_step(params, grads, lr):
    """params[k] -= lr * grads[k] for every key, in place (the arrays keep their identity), returned."""
    for key in params:
        params[key] -= lr * grads[key]
    return params


def train(X, labels, layer_sizes, *, epochs, batch_size, lr, rng, X_val=None, labels_val=None):
    """Minibatch SGD from init_params(layer_sizes, rng): returns (params, history).

    history["loss"][e] is the mean training loss over epoch e (each batch's mean loss weighted by its
    size, so it equals the mean over all samples seen); history["val_accuracy"][e] is the accuracy on
    (X_val, labels_val) after epoch e, or the list stays empty without validation data.
    rng is used for the initial weights first, then for one permutation per epoch.
    """
    if (X_val is None) != (labels_val is None):
        raise ValueError("give both X_val and labels_val, or neither")
    params = init_params(layer_sizes, rng)
    history = {"loss": [], "val_accuracy": []}
    n = len(X)
    for _ in range(epochs):
        total = 0.0
        for X_batch, labels_batch in iterate_minibatches(X, labels, batch_size, rng):
            probs, cache = forward(params, X_batch)
            total += cross_entropy(probs, labels_batch) * len(X_batch)
            sgd_step(params, backward(params, cache, labels_batch), lr)
        history["loss"].append(total / n)
        if X_val is not None:
            history["val_accuracy"].append(accuracy(forward(params, X_val)[0], labels_val))
    return params, history


def predict(params, X):
    """(N,) int64 class predictions: the argmax of the network's output for each row."""
    probs, _ = forward(params, X)
    return np.argmax(probs, axis=1).astype(np.int64)


def save_params(params, path):
    """Write the params dict to ``path`` as an uncompressed .npz, one array per key.

    The file is opened here, so it lands at exactly ``path`` (np.savez would append ".npz" to a bare
    name and load_params(path) would then miss it).
    """
    with open(os.fspath(path), "wb") as fh:
        np.savez(fh, **{key: np.asarray(value) for key, value in params.items()})


def load_params(path):
    """Read a params dict written by save_params: a plain dict, exact dtypes and values, key order kept.

    allow_pickle=False: a model file is data and must never run code when loaded.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}



# --- two typical mistakes, overriding the definitions above ---

def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def relu_derivative(z):
    return z > 0
