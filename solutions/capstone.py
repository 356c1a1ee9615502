"""07 capstone: predict, save and load a trained network, and the reference's fast MNIST trainer.

The trainer is the spec's network (Z_k = A_{k-1} W_k + b_k, ReLU, softmax, mean cross-entropy,
He-normal init from ``init_params``) trained the way fast NumPy is written: float32, preallocated
buffers, ``out=`` and in-place operations, no gradient w.r.t. the input, SGD with momentum, weight
decay and a linear learning-rate decay, and BLAS threads chosen by measuring (``BlasThreads``).
It takes the data as arguments and imports nothing from the autograder (the autograder may import
solutions, never the reverse): ``python benchmarks/capstone.py --numpy-only`` loads MNIST, trains it
and prints the test accuracy, the time and the peak memory.
Everything a second implementation needs to replicate it exactly (benchmarks/capstone.py does, in
PyTorch) is in ``CONFIG`` and the documented order of random draws in ``train_capstone``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from .backprop import forward
from .init import init_params

__all__ = ["predict", "save_params", "load_params",
           "CapstoneConfig", "CONFIG", "standardise", "fold_standardisation", "lr_at", "HeavyBallRows",
           "BlasThreads",
           "train_capstone"]


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


# ------------------------------------------------------------------------------------------------
# The fast trainer

INPUTS, CLASSES = 28 * 28, 10

# The reference run, by name: what a second implementation (benchmarks/capstone.py, in PyTorch)
# must copy to replicate it exactly. CapstoneConfig's defaults are these numbers.
HIDDEN = 256          # one hidden ReLU layer: [784, HIDDEN, 10]
EPOCHS = 8
BATCH_SIZE = 128      # 60000 = 468 * 128 + 96: the last batch of each epoch has 96 rows
LR = 0.1              # peak learning rate, decayed linearly to 0 over all steps (lr_at)
MOMENTUM = 0.9        # torch.optim.SGD semantics: g += wd p; v = m v + g; p -= lr v
WEIGHT_DECAY = 5e-4   # L2 on every parameter (weights and biases), as torch.optim.SGD applies it
INPUT_MEAN = 0.1307   # MNIST training-set pixel mean and std after / 255, as fixed constants
INPUT_STD = 0.3081
SEED = 0


@dataclass(frozen=True)
class CapstoneConfig:
    """Everything that defines a capstone training run; the defaults are the reference run.

    Network: [784, hidden, 10], ReLU, softmax, mean cross-entropy, float32 throughout.
    Input: the course's convention, normalize(flatten(images)): float32 pixels / 255, (N, 784).
    The trainer standardises each batch, (x - input_mean) * (1 / input_std) in float32, and folds
    that transform into W1 and b1 before returning (fold_standardisation), so the returned params
    take [0, 1] pixels like every other model in the course.
    Init: ``init_params([784, hidden, 10], rng)`` with rng = np.random.default_rng(seed): He normal
    W1 then W2 (float64 draws cast to float32), zero biases.
    Data order: after the init, one ``rng.permutation(N)`` per epoch; batches are consecutive
    slices of it of ``batch_size`` rows, the last one smaller.
    Optimiser: SGD with momentum and weight decay exactly as torch.optim.SGD(lr, momentum=m,
    weight_decay=wd, dampening=0, nesterov=False) on every parameter: g = grad + wd * p;
    v = m * v + g (v starts at 0); p -= lr * v. (train_capstone computes the same update without v,
    from the last two parameter vectors: the same numbers up to float32 rounding.)
    Schedule: lr_at(step) = lr * (1 - step / total_steps), step 0-based over all batches of all epochs
    (a linear decay to 0 that lets the last epochs settle into a minimum).
    """

    hidden: int = HIDDEN
    epochs: int = EPOCHS
    batch_size: int = BATCH_SIZE
    lr: float = LR
    momentum: float = MOMENTUM
    weight_decay: float = WEIGHT_DECAY
    input_mean: float = INPUT_MEAN
    input_std: float = INPUT_STD
    seed: int = SEED

    @property
    def layer_sizes(self):
        return [INPUTS, self.hidden, CLASSES]


CONFIG = CapstoneConfig()


def standardise(X, config=None):
    """(X - input_mean) / input_std as float32, computed as the trainer does it batch by batch.

    The trainer learns on zero-mean, unit-variance inputs (better conditioned than [0, 1] pixels),
    with fixed constants (the training set's pixel mean and std), never computed from the data at
    hand. X is either floats in [0, 1] (normalize(flatten(images))) or uint8 pixels 0..255
    (flatten(images)), for which the same transform is p * scale - shift (``_pixel_transform``).
    A port that standardises the same X with this function sees bit-identical inputs.
    """
    config = CONFIG if config is None else config
    X = np.asarray(X)
    if X.dtype == np.uint8:
        scale, shift = _pixel_transform(config)
        out = np.multiply(X, scale, dtype=np.float32)
        out -= shift
        return out
    X = np.array(X, dtype=np.float32)  # a copy: never modify the caller's array
    X -= np.float32(config.input_mean)
    X *= np.float32(1.0 / config.input_std)
    return X


def _pixel_transform(config):
    """(scale, shift) with (p / 255 - mean) / std = p * scale - shift for uint8 pixels p, float32."""
    inv_std = 1.0 / config.input_std
    return np.float32(inv_std / 255), np.float32(config.input_mean * inv_std)


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


def _views(buffer, shapes):
    """{key: buffer's next shapes[key].size numbers as that shape}: named views into one flat buffer."""
    views, offset = {}, 0
    for key, value in shapes.items():
        views[key] = buffer[offset:offset + value.size].reshape(value.shape)
        offset += value.size
    return views


class HeavyBallRows:
    """The optimiser's memory as five rows of one (5, P) float32 array, and its update as ONE BLAS call.

    SGD with momentum in heavy-ball form (see ``train_capstone``) reads three vectors per step: the
    parameters p, the previous parameters p_prev and the gradients g (already scaled by lr), and
    writes p_new = a p - c p_prev - g. That is the product of the 3 numbers (a, -c, -1) with the
    (3, P) matrix whose rows are the three vectors: ``np.matmul(coef, rows, out=p_new)`` is one pass
    over memory, on every BLAS thread, where NumPy's elementwise operations need four passes, on one
    core. NumPy hands three rows to the BLAS as one matrix only if they are evenly spaced rows of one
    array, and the result must go to a row that is not read. Five rows do it: the gradients stay in
    row 2 and the parameters move round 1 -> 3 -> 4 -> 0 -> 1, so that (previous, current) is (0, 1),
    (1, 3), (3, 4) or (4, 0): with row 2 that is rows 0 1 2, 1 2 3, 2 3 4 or 0 2 4, evenly spaced each
    time, and the new parameters go to the fourth row of the round, which none of them is.
    ``params`` and ``grads`` are dicts of named views into the rows (params["W1"] is a (784, H) view).
    """

    GRADIENTS = 2
    ROUND = (1, 3, 4, 0)   # the row of the current parameters, step after step

    def __init__(self, init):
        flat = np.concatenate([value.astype(np.float32).ravel() for value in init.values()])
        self.rows = np.empty((5, flat.size), np.float32)
        self.rows[[0, 1]] = flat                     # p_prev = p: no momentum at the first step
        views = [_views(row, init) for row in self.rows]
        self.grads = views[self.GRADIENTS]
        self.coef = np.empty(3, np.float32)
        self._phases = []                            # per step of the round: what the update needs
        for k, current in enumerate(self.ROUND):
            previous, new = self.ROUND[k - 1], self.ROUND[(k + 1) % 4]
            read = sorted((previous, current, self.GRADIENTS))
            spacing = read[1] - read[0]
            assert read[2] - read[1] == spacing and new not in read
            self._phases.append((self.rows[read[0]:read[2] + 1:spacing], self.rows[new], views[new],
                                 read.index(current), read.index(previous), read.index(self.GRADIENTS)))
        self.step_index = 0
        self.params = views[self.ROUND[0]]

    def update(self, a, c):
        """p_new = a p - c p_prev - g in one call; afterwards ``params`` are views of p_new."""
        rows, out, out_views, i_p, i_prev, i_g = self._phases[self.step_index % 4]
        self.coef[i_p], self.coef[i_prev], self.coef[i_g] = a, -c, -1
        np.matmul(self.coef, rows, out=out)
        self.step_index += 1
        self.params = out_views
        return out_views


class BlasThreads:
    """The number of threads the BLAS (OpenBLAS under NumPy) may use, set and measured by the trainer.

    On an idle machine two threads make the large products almost twice as fast. On cores that other
    programs are using, a BLAS thread often has to wait for a core while its partner spins, and a
    product can take ten times longer than on one thread. So the trainer does not guess: at the
    start of every epoch it times a few steps with one thread and a few with ``max_threads``, and
    keeps the faster for the rest of the epoch (``start_epoch``, then ``before_batch`` each step).
    Products too small to split (those with 10 classes on one side) run on one thread whatever is
    set: OpenBLAS decides that by itself.

    Without threadpoolctl (or without a BLAS it knows) it does nothing: the BLAS keeps its default.
    """

    def __init__(self, max_threads=None):
        self.max_threads = max(1, int(max_threads or os.cpu_count() or 1))
        self.current = None
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            self._controller = None
        else:
            self._controller = ThreadpoolController().select(user_api="blas")
        self._original = None if self._controller is None else self._controller.info()

    @property
    def candidates(self):
        """The counts worth trying: 1 and max_threads (only 1 without control or with one core)."""
        if self._controller is None or not self._controller.lib_controllers or self.max_threads == 1:
            return [1]
        return [1, self.max_threads]

    def set(self, threads):
        if self._controller is not None and threads != self.current:
            self._controller.limit(limits=threads)
        self.current = threads

    def start_epoch(self, trial):
        """Begin an epoch whose first ``trial`` batches try each candidate count in turn."""
        self._trial, self._timings, self._since = trial, {}, None

    def before_batch(self, batch):
        """Batches 0..trial-1 on the first candidate, trial..2 trial-1 on the next, then the fastest."""
        candidates, trial = self.candidates, self._trial
        if batch % trial or batch > trial * len(candidates):
            return
        now = time.perf_counter()
        if batch:
            self._timings[self.current] = now - self._since
        self.set(candidates[batch // trial] if batch < trial * len(candidates)
                 else min(self._timings, key=self._timings.get))
        self._since = now

    def restore(self):
        """Give the BLAS back the thread counts it had before (the caller's setting)."""
        if self._controller is not None:
            for lib, info in zip(self._controller.lib_controllers, self._original):
                lib.set_num_threads(info["num_threads"])


def train_capstone(X, labels, config=None, *, X_test=None, labels_test=None, log=None, threads=None):
    """Train the capstone network on X = normalize(flatten(images)) and int labels; (params, history).

    X may also be the uint8 pixels, flatten(images): the same training, faster (see below).

    The data comes in as arguments (the caller loads MNIST: benchmarks/capstone.py does), so the
    reference depends on nothing but NumPy (and, optionally, threadpoolctl to set BLAS threads).

    Random draws, in this order, from np.random.default_rng(config.seed): the initial weights
    (init_params), then one permutation of range(N) per epoch. history holds "loss" (mean training
    loss per epoch, as the model was during that epoch), "test_accuracy" (per epoch, when test data
    is given), "threads" (the BLAS threads each epoch ran with, see BlasThreads), "seconds"
    (training time, evaluation excluded) and "step_seconds" (each step's time, for benchmarks).
    ``log`` is called with one line per epoch when given.
    ``threads``: the most BLAS threads to try (default: every core). The returned params take
    [0, 1] inputs (see fold_standardisation).

    How it is fast, in NumPy alone (each line of the loop says which):
    - float32 everywhere: half the memory traffic of float64, twice the numbers per vector instruction;
    - every array the loop needs is allocated once, before it; the loop writes into them with
      ``out=`` and in-place operators, so a step allocates (almost) nothing;
    - the batch is gathered with ``np.take(..., out=)`` into the same array every step, from uint8
      pixels when X is given as pixels (a quarter of the bytes to fetch from all over memory);
      step by step, not a whole epoch at once: an epoch's gather writes 47 MB that the steps then
      read back from memory, where 128 rows gathered just before use stay in the cache;
    - as few passes over memory as the maths allows: ReLU is a product with its 0/1 mask, which
      the backward pass needs anyway; column sums (the bias gradients) are products with a ones
      vector, which the BLAS does faster than ``np.sum``; the logits are stored transposed, so the
      softmax's per-sample max and sum run down 10 long rows, not along m rows of 10;
    - parameters, gradients and the previous parameters are each ONE flat vector (``params["W1"]``
      is a view into it), rows of one array, so the optimiser is a single BLAS call per step over
      all of them (momentum in heavy-ball form: a sum of three scaled vectors, see HeavyBallRows);
    - scalars are folded into the smallest array: lr and 1/m multiply dZ2 (10 x m), not the
      200,000 gradients;
    - the loss of each sample is kept, not computed: one log over the whole epoch at its end;
    - no gradient with respect to the input (nothing would use it): two large products per step
      remain, X W1 and X^T dZ1, which are ~98% of the arithmetic and run at the BLAS's speed;
    - BLAS threads are measured, not guessed (BlasThreads).
    """
    config = CONFIG if config is None else config
    # uint8 pixels are gathered as they are (4x fewer bytes per batch than float32) and
    # standardised on the way into the float32 batch; anything else becomes float32 once.
    # The pixels are copied once (47 MB) into an array NumPy allocates itself: on Linux NumPy backs
    # large arrays with 2 MiB pages, and a batch is 128 rows from all over X, with 4 KiB pages a
    # page-table walk per row (the gather takes ~15% longer from MNIST as loaded).
    pixels = X.dtype == np.uint8 if isinstance(X, np.ndarray) else False
    X = np.array(X, order="C") if pixels else np.ascontiguousarray(X, dtype=np.float32)
    labels = np.asarray(labels).astype(np.intp)
    n, d = X.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
    B, H, C = config.batch_size, config.hidden, CLASSES
    rng = np.random.default_rng(config.seed)
    init = init_params([d, H, C], rng)

    # All parameters live in one flat float32 vector, and so do their gradients and the previous
    # parameters: rows of one array (HeavyBallRows). params["W1"] etc. are reshaped views into a row,
    # so the backward pass writes the gradients in place and one call updates every parameter.
    optimiser = HeavyBallRows(init)
    params, grads = optimiser.params, optimiser.grads
    gW1, gb1, gW2, gb2 = grads["W1"], grads["b1"], grads["W2"], grads["b2"]

    # The batch's arrays, allocated for a full batch; the last, smaller batch uses their first rows
    # (or columns, for the transposed logits).
    xb_full = np.empty((B, d), np.float32)      # the inputs, standardised in place
    pixels_full = np.empty((B, d), np.uint8) if pixels else None   # the gathered uint8 pixels
    A1_full = np.empty((B, H), np.float32)      # Z1, then the hidden activations relu(Z1)
    mask_full = np.empty((B, H), np.float32)    # 1.0 where the hidden unit is active, else 0.0
    dZ1_full = np.empty((B, H), np.float32)
    # The logits are stored transposed, (10, m): every per-sample reduction of the softmax (max,
    # sum) then runs down 10 long rows instead of along m rows of 10, two to three times faster.
    L_full = np.empty((C, B), np.float32)       # logits^T, then probabilities^T, then dZ2^T
    row_full = np.empty(B, np.float32)          # a per-sample max or sum (softmax)
    ones_full = np.ones(B, np.float32)          # column sums as products: ones @ dZ1 (BLAS) beats np.sum
    rows_full = np.arange(B)
    p_true = np.empty(n, np.float32)            # each sample's probability of its label, this epoch

    f32 = np.float32
    mean, inv_std = f32(config.input_mean), f32(1.0 / config.input_std)
    scale, shift = _pixel_transform(config)
    mu, wd = f32(config.momentum), f32(config.weight_decay)
    batches = -(-n // B)
    total = batches * config.epochs
    # steps timed per candidate thread count, every epoch: enough to tell 1 thread from 2 (they
    # differ by ~2x either way), few enough that the slower one costs little (~1% of an epoch)
    trial = max(1, min(8, batches // 8))
    blas = BlasThreads(threads)
    history = {"loss": [], "test_accuracy": [], "threads": [], "seconds": 0.0,
               "step_seconds": np.zeros(total)}  # each step's duration: a benchmark's raw data
    step, elapsed, lr_prev = 0, 0.0, f32(config.lr)
    try:
        for epoch in range(config.epochs):
            t0 = time.perf_counter()
            order = rng.permutation(n)
            labels_in_order = labels[order]         # one gather per epoch; each batch's is a slice
            blas.start_epoch(trial)
            for batch, start in enumerate(range(0, n, B)):
                blas.before_batch(batch)  # 1 or all BLAS threads: the first steps measure which is faster
                W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
                t_step = time.perf_counter()
                idx = order[start:start + B]
                m = len(idx)
                xb, A1, mask, dZ1 = xb_full[:m], A1_full[:m], mask_full[:m], dZ1_full[:m]
                L, row, ones, rows = L_full[:, :m], row_full[:m], ones_full[:m], rows_full[:m]
                y = labels_in_order[start:start + m]

                # the batch, gathered and standardised in place: (x - mean) / std
                if pixels:
                    np.take(X, idx, axis=0, out=pixels_full[:m])
                    np.copyto(xb, pixels_full[:m])     # a plain uint8 -> float32 conversion, then
                    xb *= scale                        # float32 work in place: faster than one
                    xb -= shift                        # mixed-type multiply, the same numbers
                else:
                    np.take(X, idx, axis=0, out=xb)
                    xb -= mean
                    xb *= inv_std
                # forward: A1 = relu(xb W1 + b1); L = softmax((A1 W2 + b2)^T), stable (max subtracted)
                np.matmul(xb, W1, out=A1)
                A1 += b1
                # ReLU as a product with its own derivative: the 0/1 mask backward needs anyway,
                # computed once (one comparison and one product, cheaper than np.maximum + mask)
                np.greater(A1, 0, out=mask)
                A1 *= mask
                np.matmul(W2.T, A1.T, out=L)           # (A1 W2)^T: BLAS takes transposed operands as they are
                L += b2[:, None]                       # b2 as a column: added to every column
                np.max(L, axis=0, out=row)
                L -= row
                np.exp(L, out=L)
                np.sum(L, axis=0, out=row)
                L /= row
                p_true[start:start + m] = L[y, rows]   # the loss, -log(p_true), is taken per epoch
                # backward: dZ2 = (P - onehot(y)) / m, written over L (transposed like it). The learning
                # rate is folded in here too, into the smallest array there is (10 x m): every gradient
                # below is linear in dZ2, so they all come out already multiplied by lr (see the update).
                lr = f32(lr_at(step, total, config))
                L[y, rows] -= 1
                L *= lr / f32(m)
                np.matmul(A1.T, L.T, out=gW2)
                np.matmul(L, ones, out=gb2)
                np.matmul(L.T, W2.T, out=dZ1)
                dZ1 *= mask                            # relu'(Z1)
                np.matmul(xb.T, dZ1, out=gW1)
                np.matmul(ones, dZ1, out=gb1)
                # SGD with momentum and weight decay, torch.optim.SGD's v = mu v + (g + wd p); p -= lr v,
                # written with the last two parameter vectors instead of v (Polyak's heavy ball): the
                # step lr v is p_prev - p, so with c = mu lr / lr_prev and the gradients lr g already,
                #     p_new = p - (c (p_prev - p) + lr g + lr wd p) = (1 + c - lr wd) p - c p_prev - lr g,
                # one product of 3 coefficients with 3 rows: one BLAS call (HeavyBallRows), where the
                # velocity form needs five elementwise passes over all the parameters.
                c = mu * (lr / lr_prev) if lr_prev else f32(0)   # (lr = 0: no step at all)
                params = optimiser.update(f32(1) + c - lr * wd, c)
                lr_prev = lr
                history["step_seconds"][step] = time.perf_counter() - t_step
                step += 1
            elapsed += time.perf_counter() - t0
            loss = float(-np.mean(np.log(np.maximum(p_true, f32(1e-30)), dtype=np.float64)))
            history["loss"].append(loss)
            history["threads"].append(blas.current)
            line = f"epoch {epoch + 1:2d}/{config.epochs}  loss {loss:.4f}"
            if X_test is not None:
                acc = float(np.mean(predict(fold_standardisation(params, config), X_test)
                                    == np.asarray(labels_test)))
                history["test_accuracy"].append(acc)
                line += f"  test accuracy {acc:.4f}"
            if log is not None:
                log(line + f"  ({elapsed:.2f} s, {blas.current} BLAS thread{'s' * (blas.current > 1)})")
    finally:
        blas.restore()
    history["seconds"] = elapsed
    return fold_standardisation(params, config), history  # plain arrays, for [0, 1] inputs
