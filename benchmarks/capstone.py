"""How fast is the reference capstone trainer? Against PyTorch on the same CPU, same everything.

Runs, in one process: the reference trainer (solutions.capstone.train_capstone, NumPy float32), then
PyTorch CPU training of the same network with the same initial weights (copied from the reference's
init_params draw), the same data order (the same rng.permutation per epoch), batch size, optimiser
(torch.optim.SGD with momentum) and per-step learning-rate schedule (solutions.capstone.lr_at).
Prints both training times, both test accuracies, their ratio, and the GFLOP/s each achieves beside
the GFLOP/s of a large float32 matmul on this machine (the ceiling either could reach).

    python benchmarks/capstone.py [--repeats N]

The last line is machine-readable and always reads
    ratio=R numpy_s=T torch_s=T numpy_acc=A torch_acc=A
with ratio = numpy_s / torch_s (below 1: the NumPy reference is faster). Times are the fastest of
--repeats runs. Without torch it explains how to install it and exits with status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

INSTALL = ("PyTorch is not installed; this benchmark compares against it. Install the CPU build with\n"
           "    pip install torch==2.13.0\n"
           "or the project's extra:\n"
           "    pip install -e \".[bench]\"")


def training_flops(n_samples, epochs, hidden, inputs=784, classes=10):
    """Floating-point operations of training, counting matmuls only (2 per multiply-add).

    Per sample: forward X W1 and A1 W2, backward dW1 = X^T dZ1, dW2 = A1^T dZ2 and dA1 = dZ2 W2^T.
    Neither implementation forms the gradient w.r.t. the input X.
    """
    per_sample = 2 * (2 * inputs * hidden) + 3 * (2 * hidden * classes)
    return per_sample * n_samples * epochs


def matmul_gflops(matmul, n=2048, repeats=5):
    """Best GFLOP/s of an n x n float32 matmul: what this machine's BLAS can do at its best."""
    best = float("inf")
    for _ in range(repeats + 1):  # the first call warms up threads and caches
        t0 = time.perf_counter()
        matmul()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def _busy_seconds():
    """CPU-seconds all processes on this machine have used so far (Linux /proc/stat), else None."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def others_cpu(fn):
    """Run fn(); return (its result, CPU-seconds OTHER processes used meanwhile, or None).

    Both sides are sensitive to a busy machine (BLAS and OpenMP threads spin-wait, so one stolen
    core can cost 10x): this says whether a time is trustworthy.
    """
    busy0, own0 = _busy_seconds(), os.times()
    result = fn()
    busy1, own1 = _busy_seconds(), os.times()
    if busy0 is None or busy1 is None:
        return result, None
    own = (own1.user - own0.user) + (own1.system - own0.system)
    return result, max(0.0, busy1 - busy0 - own)


def epoch_orders(config, n):
    """The per-epoch permutations train_capstone draws: init_params first, then one per epoch."""
    from solutions.initialisation import init_params

    rng = np.random.default_rng(config.seed)
    init_params([784, config.hidden, 10], rng)
    return [rng.permutation(n) for _ in range(config.epochs)]


def train_torch(torch, X, labels, config, threads):
    """The same training in idiomatic PyTorch; returns (model, seconds)."""
    from solutions.capstone import lr_at
    from solutions.initialisation import init_params

    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)  # nothing random is drawn by torch; set for good measure
    init = {k: v.astype(np.float32) for k, v in
            init_params([X.shape[1], config.hidden, 10], np.random.default_rng(config.seed)).items()}
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], config.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(config.hidden, 10))
    with torch.no_grad():  # nn.Linear computes x W^T + b: its weight is our W transposed
        model[0].weight.copy_(torch.from_numpy(init["W1"].T.copy()))
        model[0].bias.copy_(torch.from_numpy(init["b1"]))
        model[2].weight.copy_(torch.from_numpy(init["W2"].T.copy()))
        model[2].bias.copy_(torch.from_numpy(init["b2"]))
    optimiser = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t = torch.from_numpy(X)
    y_t = torch.from_numpy(np.array(labels, dtype=np.int64))  # a writable copy
    orders = [torch.from_numpy(o) for o in epoch_orders(config, len(X))]
    B = config.batch_size
    total = -(-len(X) // B) * config.epochs
    step = 0
    seconds = 0.0
    model.train()
    for order in orders:
        t0 = time.perf_counter()
        for start in range(0, len(X), B):
            idx = order[start:start + B]
            xb, yb = X_t.index_select(0, idx), y_t.index_select(0, idx)
            for group in optimiser.param_groups:
                group["lr"] = lr_at(step, total, config)
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimiser.step()
            step += 1
        seconds += time.perf_counter() - t0
    return model, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description="NumPy reference capstone vs PyTorch CPU, same run.")
    parser.add_argument("--repeats", type=int, default=1, help="time each side N times, keep the fastest")
    args = parser.parse_args(argv)

    try:
        import torch
    except ImportError:
        print(INSTALL, file=sys.stderr)
        print("benchmarks/capstone.py: cannot compare without torch (exit status 2)", file=sys.stderr)
        return 2

    from autograder.mnist import load_mnist
    from solutions import flatten, normalize
    from solutions.capstone import CONFIG, predict, standardise, train_capstone

    threads = os.cpu_count() or 1
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    X, X_test = normalize(flatten(train_images)), normalize(flatten(test_images))
    # torch trains on the inputs the reference standardises batch by batch, bit for bit; the
    # reference folds the standardisation into W1, b1 at the end, torch keeps it in the data.
    X_std, X_test_std = standardise(X), standardise(X_test)
    flops = training_flops(len(X), CONFIG.epochs, CONFIG.hidden)
    print(f"config: {CONFIG}")
    print(f"machine: {threads} cores; numpy {np.__version__}, torch {torch.__version__} "
          f"(torch threads set to {threads})")
    print(f"training: {len(X)} images x {CONFIG.epochs} epochs = {flops / 1e9:.0f} GFLOP of matmul")

    numpy_s, torch_s = float("inf"), float("inf")
    busy = []
    for r in range(args.repeats):
        # NumPy first: torch's OpenMP workers keep spinning for a while after torch returns.
        (params, history), np_busy = others_cpu(lambda: train_capstone(X, train_labels, CONFIG))
        numpy_s = min(numpy_s, history["seconds"])
        numpy_acc = float(np.mean(predict(params, X_test) == test_labels))
        (model, seconds), torch_busy = others_cpu(
            lambda: train_torch(torch, X_std, train_labels, CONFIG, threads))
        torch_s = min(torch_s, seconds)
        with torch.no_grad():
            logits = model.eval()(torch.from_numpy(X_test_std))
        torch_acc = float((logits.argmax(1).numpy() == test_labels).mean())
        note = ""
        if np_busy is not None:
            busy += [np_busy, torch_busy]
            note = f"  (other processes used {np_busy:.1f} / {torch_busy:.1f} CPU-s meanwhile)"
        print(f"run {r + 1}: numpy {history['seconds']:.2f} s acc {numpy_acc:.4f} | "
              f"torch {seconds:.2f} s acc {torch_acc:.4f}{note}", flush=True)

    a = np.ones((2048, 2048), np.float32)
    a_t = torch.from_numpy(a)
    np_peak = matmul_gflops(lambda: a @ a)
    torch_peak = matmul_gflops(lambda: a_t @ a_t)
    print(f"numpy: {numpy_s:.2f} s, {flops / numpy_s / 1e9:.0f} GFLOP/s achieved "
          f"(2048x2048 float32 matmul: {np_peak:.0f} GFLOP/s), test accuracy {numpy_acc:.4f}")
    print(f"torch: {torch_s:.2f} s, {flops / torch_s / 1e9:.0f} GFLOP/s achieved "
          f"(2048x2048 float32 matmul: {torch_peak:.0f} GFLOP/s), test accuracy {torch_acc:.4f}")
    if busy and max(busy) > 0.5:
        print(f"warning: other processes were using the CPU during some runs (up to {max(busy):.1f} "
              f"CPU-s); times are the fastest of {args.repeats} runs: use --repeats to get a quiet one")
    print(f"ratio={numpy_s / torch_s:.3f} numpy_s={numpy_s:.2f} torch_s={torch_s:.2f} "
          f"numpy_acc={numpy_acc:.4f} torch_acc={torch_acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
