"""Time a cold load of all 70,000 MNIST images (train + test), each run in a fresh process.

A fresh process has an empty loader cache, so each run pays for decompression, header checks and
SHA-256 like a learner's first notebook cell does. The OS page cache stays warm: this measures the
loader, not the disk. Import time is reported separately so a heavy ``autograder/__init__`` shows.

    python benchmarks/mnist_load.py [--runs 5]
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from autograder.mnist import load_mnist
t1 = time.perf_counter()
train, test = load_mnist("train"), load_mnist("test")
t2 = time.perf_counter()
assert len(train[0]) + len(test[0]) == 70_000
print(json.dumps({{"import": t1 - t0, "load": t2 - t1}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    code = CHILD.format(root=str(ROOT))
    times = [json.loads(subprocess.run([sys.executable, "-c", code], check=True, text=True,
                                       capture_output=True, cwd=ROOT).stdout)
             for _ in range(runs)]
    loads = [t["load"] for t in times]
    print(f"cold load of 70,000 images, {runs} fresh processes: "
          f"median {statistics.median(loads):.3f} s (min {min(loads):.3f}, max {max(loads):.3f})")
    print(f"import autograder.mnist: median {statistics.median(t['import'] for t in times):.3f} s")


if __name__ == "__main__":
    main()
