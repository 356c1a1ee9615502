"""07 capstone: predict, save and load a trained network, and the reference's fast MNIST trainer.

``python -m solutions.capstone`` trains on the 60,000 MNIST training images only, evaluates on the
10,000 test images and prints the test accuracy, the training time and the peak memory.

The trainer is the spec's network (Z_k = A_{k-1} W_k + b_k, ReLU, softmax, mean cross-entropy,
He-normal init from ``init_params``) trained with a fused float32 loop: preallocated buffers,
in-place operations, no gradient w.r.t. the input, SGD with momentum, weight decay and a linear
learning-rate decay.
Everything a second implementation needs to replicate it exactly (benchmarks/capstone.py does, in
PyTorch) is in ``CONFIG`` and the documented order of random draws in ``train_capstone``.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np

from .backprop import forward
from .images import flatten, normalize
from .initialisation import init_params

__all__ = ["predict", "save_params", "load_params",
           "CapstoneConfig", "CONFIG", "standardise", "fold_standardisation", "lr_at", "train_capstone", "main"]


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
    v = m * v + g (v starts at 0); p -= lr * v.
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


if __name__ == "__main__":
    sys.exit(main())
