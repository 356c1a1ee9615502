"""How fast is the reference capstone trainer? Against PyTorch on the same CPU, same everything.

Runs, in one process: the reference trainer (solutions.capstone.train_capstone, NumPy float32), then
PyTorch CPU training of the same network with the same initial weights (copied from the reference's
init_params draw), the same data order (the same rng.permutation per epoch), batch size, optimiser
(torch.optim.SGD with momentum) and per-step learning-rate schedule (solutions.capstone.lr_at), and
the GFLOP/s of a large float32 matmul with NumPy's BLAS on all cores: the ceiling either could reach.
Both sides choose their threads the same way, each epoch: a few steps on 1 thread, a few on every
core, then the faster (on cores busy with other work, spinning BLAS/OpenMP threads can be 10x slower).

    python benchmarks/capstone.py [--repeats N]        # NumPy vs PyTorch
    python benchmarks/capstone.py --numpy-only [--save model.npz] [--epochs E] [--hidden H] [--seed S]

The last line of a comparison is machine-readable and always reads
    ratio=R numpy_s=T torch_s=T numpy_acc=A torch_acc=A gemm_frac=F
with ratio = numpy_s / torch_s (below 1: the NumPy reference is faster) and gemm_frac = the GFLOP/s
the NumPy trainer achieved / the best 2048x2048 float32 matmul GFLOP/s measured in this run (matmuls
timed between the training runs, so both see the same machine). Times are the fastest of --repeats
runs, interleaved NumPy, PyTorch, NumPy, ...; the peak memory is the process's peak resident set
after the first NumPy run (MNIST loaded and one training), before PyTorch is imported.
Without torch it explains how to install it and exits with status 2; --numpy-only needs no torch
(it is the reference's command line: the solutions package loads no data itself).

Timings on a machine that other programs are using are noise: each run says how many CPU-seconds
other processes used meanwhile. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, force an older
kernel: the header line shows which kernel NumPy's BLAS runs (from threadpoolctl).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
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
    from solutions.init import init_params

    rng = np.random.default_rng(config.seed)
    init_params([784, config.hidden, 10], rng)
    return [rng.permutation(n) for _ in range(config.epochs)]


def train_torch(torch, X, labels, config, threads):
    """The same training in idiomatic PyTorch; (model, seconds, threads per epoch, each step's seconds).

    Threads are chosen as the reference chooses its BLAS threads (solutions.capstone.BlasThreads):
    at the start of each epoch a few steps with 1 thread and a few with ``threads``, then the faster
    for the rest of the epoch, so that neither side is judged by threads that wait for a busy core.
    """
    from solutions.capstone import lr_at
    from solutions.init import init_params

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
    batches = -(-len(X) // B)
    total = batches * config.epochs
    trial = max(1, min(8, batches // 8))  # as in train_capstone
    candidates = [1, threads] if threads > 1 else [1]
    step, seconds, used, step_seconds = 0, 0.0, [], np.zeros(total)
    model.train()
    for order in orders:
        t0 = time.perf_counter()
        timings = {}
        t_trial = t0  # when the current thread-count trial began
        for batch, start in enumerate(range(0, len(X), B)):
            if batch % trial == 0 and batch <= trial * len(candidates):
                now = time.perf_counter()
                if batch:
                    timings[torch.get_num_threads()] = now - t_trial
                torch.set_num_threads(candidates[batch // trial] if batch < trial * len(candidates)
                                      else min(timings, key=timings.get))
                t_trial = now
            t_step = time.perf_counter()
            idx = order[start:start + B]
            xb, yb = X_t.index_select(0, idx), y_t.index_select(0, idx)
            for group in optimiser.param_groups:
                group["lr"] = lr_at(step, total, config)
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimiser.step()
            step_seconds[step] = time.perf_counter() - t_step
            step += 1
        seconds += time.perf_counter() - t0
        used.append(torch.get_num_threads())
    torch.set_num_threads(threads)
    return model, seconds, used, step_seconds


def peak_rss_mb():
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def blas_kernel():
    """Which BLAS NumPy runs and its kernel, e.g. 'openblas 0.3.31 SkylakeX, 2 threads' (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown BLAS (pip install threadpoolctl to see it)"
    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not libs:
        return "no BLAS threadpoolctl knows"
    i = libs[0]
    return f"{i['internal_api']} {i.get('version')} {i.get('architecture')}, {i['num_threads']} threads"


def load_data():
    """MNIST: (pixels, labels, X_test, labels_test). The training images as flat uint8 pixels,
    flatten(images), which the reference trains on fastest; the test images as the course and the
    grader prepare them, normalize(flatten(images)), which the trained params take."""
    from autograder.mnist import load_mnist
    from solutions import flatten, normalize

    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    return flatten(train_images), train_labels, normalize(flatten(test_images)), test_labels


def numpy_only(args):
    """The reference's command line: train on the 60,000 training images, report test accuracy,
    training time and peak memory, optionally save the params."""
    from solutions.capstone import CONFIG, predict, save_params, train_capstone

    config = dataclasses.replace(CONFIG, epochs=args.epochs or CONFIG.epochs, hidden=args.hidden or CONFIG.hidden,
                                 seed=CONFIG.seed if args.seed is None else args.seed)
    t0 = time.perf_counter()
    X, labels, X_test, labels_test = load_data()
    print(f"data: {len(X)} training / {len(X_test)} test images, loaded in {time.perf_counter() - t0:.2f} s")
    print(f"config: {config}")
    print(f"blas: {blas_kernel()}")
    params, history = train_capstone(X, labels, config, threads=args.threads,
                                     log=None if args.quiet else lambda line: print(line, flush=True))
    accuracy = float(np.mean(predict(params, X_test) == labels_test))
    if args.save:
        save_params(params, args.save)
        print(f"saved params to {args.save}")
    print(f"test accuracy: {accuracy:.4f}")
    print(f"training time: {history['seconds']:.2f} s "
          f"({training_flops(len(X), config.epochs, config.hidden) / history['seconds'] / 1e9:.0f} GFLOP/s)")
    print(f"peak memory: {peak_rss_mb():.0f} MiB")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="NumPy reference capstone vs PyTorch CPU, same run.")
    parser.add_argument("--repeats", type=int, default=1, help="time each side N times, keep the fastest")
    parser.add_argument("--threads", type=int, default=None,
                        help="most threads either side may use (default: every core)")
    parser.add_argument("--numpy-only", action="store_true", help="train the NumPy reference only, no torch")
    parser.add_argument("--save", metavar="PATH", help="--numpy-only: save the trained params as .npz")
    parser.add_argument("--epochs", type=int, help="--numpy-only: epochs (default: the reference's)")
    parser.add_argument("--hidden", type=int, help="--numpy-only: hidden units (default: the reference's)")
    parser.add_argument("--seed", type=int, help="--numpy-only: seed (default: the reference's)")
    parser.add_argument("--quiet", action="store_true", help="--numpy-only: no per-epoch lines")
    args = parser.parse_args(argv)
    if args.numpy_only:
        return numpy_only(args)

    import importlib.util

    if importlib.util.find_spec("torch") is None:
        print(INSTALL, file=sys.stderr)
        print("benchmarks/capstone.py: cannot compare without torch (exit status 2)", file=sys.stderr)
        return 2

    from solutions.capstone import CONFIG, predict, standardise, train_capstone

    threads = args.threads or os.cpu_count() or 1
    X, train_labels, X_test, test_labels = load_data()
    flops = training_flops(len(X), CONFIG.epochs, CONFIG.hidden)
    print(f"config: {CONFIG}")
    print(f"machine: {os.cpu_count()} cores; numpy {np.__version__} with {blas_kernel()}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(var):
            print(f"note: {var}={os.environ[var]} is set: it may force a slower OpenBLAS kernel")
    print(f"training: {len(X)} images x {CONFIG.epochs} epochs = {flops / 1e9:.0f} GFLOP of matmul")

    a = np.ones((2048, 2048), np.float32)
    peak = 0.0  # the best GFLOP/s of a 2048x2048 float32 matmul, measured between the training runs

    def measure_peak():
        nonlocal peak
        peak = max(peak, matmul_gflops(lambda: a @ a))

    numpy_s, torch_s = float("inf"), float("inf")
    numpy_steps = fastest_torch_steps = np.inf  # each step's fastest time over the runs
    busy, rss_mb, torch = [], None, None
    for r in range(args.repeats):
        # NumPy first: torch's OpenMP workers keep spinning for a while after torch returns.
        (params, history), np_busy = others_cpu(lambda: train_capstone(X, train_labels, CONFIG, threads=threads))
        numpy_s = min(numpy_s, history["seconds"])
        numpy_steps = np.fmin(numpy_steps, history["step_seconds"])
        numpy_acc = float(np.mean(predict(params, X_test) == test_labels))
        measure_peak()
        if torch is None:
            rss_mb = peak_rss_mb()  # data + the NumPy trainer, before torch and its copy of the data
            print(f"numpy peak memory: {rss_mb:.0f} MiB (MNIST loaded, one training run; target < 500 MiB)")
            import torch

            print(f"torch {torch.__version__}: threads chosen per epoch from 1 and {threads}, as NumPy's",
                  flush=True)
            # torch trains on the inputs the reference standardises batch by batch, bit for bit
            # (standardise of the same uint8 pixels); the reference folds the standardisation into
            # W1, b1 at the end, torch keeps it in the data (prepared before its timer starts).
            X_std, X_test_std = standardise(X), standardise(X_test)
        (model, seconds, torch_threads, torch_steps), torch_busy = others_cpu(
            lambda X_std=X_std: train_torch(torch, X_std, train_labels, CONFIG, threads))
        torch_s = min(torch_s, seconds)
        fastest_torch_steps = np.fmin(fastest_torch_steps, torch_steps)
        with torch.no_grad():
            logits = model.eval()(torch.from_numpy(X_test_std))
        torch_acc = float((logits.argmax(1).numpy() == test_labels).mean())
        measure_peak()
        note = ""
        if np_busy is not None:
            busy += [np_busy, torch_busy]
            note = f"  (other processes used {np_busy:.1f} / {torch_busy:.1f} CPU-s meanwhile)"
        print(f"run {r + 1}: numpy {history['seconds']:.2f} s acc {numpy_acc:.4f} "
              f"(BLAS threads per epoch {''.join(map(str, history['threads']))}) | "
              f"torch {seconds:.2f} s acc {torch_acc:.4f} (threads {''.join(map(str, torch_threads))}){note}",
              flush=True)

    a_t = torch.from_numpy(a)
    torch_peak = matmul_gflops(lambda: a_t @ a_t)
    achieved = flops / numpy_s / 1e9
    print(f"numpy: {numpy_s:.2f} s, {achieved:.0f} GFLOP/s achieved "
          f"(2048x2048 float32 matmul: {peak:.0f} GFLOP/s), test accuracy {numpy_acc:.4f}")
    print(f"torch: {torch_s:.2f} s, {flops / torch_s / 1e9:.0f} GFLOP/s achieved "
          f"(2048x2048 float32 matmul: {torch_peak:.0f} GFLOP/s), test accuracy {torch_acc:.4f}")
    print(f"numpy peak memory: {rss_mb:.0f} MiB")
    # On a busy machine no run is quiet from start to end, but each step is quiet in some run:
    # the sum of each step's fastest time estimates a quiet run (an estimate, not a measurement).
    est_np, est_torch = float(np.sum(numpy_steps)), float(np.sum(fastest_torch_steps))
    print(f"each step's fastest of {args.repeats} runs, summed: numpy {est_np:.2f} s, torch {est_torch:.2f} s, "
          f"ratio {est_np / est_torch:.3f}, numpy {flops / est_np / 1e9:.0f} GFLOP/s = "
          f"{flops / est_np / 1e9 / peak:.2f} of the matmul peak")
    if busy and max(busy) > 0.5:
        print(f"warning: other processes were using the CPU during some runs (up to {max(busy):.1f} "
              f"CPU-s); times are the fastest of {args.repeats} runs: use --repeats to get a quiet one")
    print(f"ratio={numpy_s / torch_s:.3f} numpy_s={numpy_s:.2f} torch_s={torch_s:.2f} "
          f"numpy_acc={numpy_acc:.4f} torch_acc={torch_acc:.4f} gemm_frac={achieved / peak:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
