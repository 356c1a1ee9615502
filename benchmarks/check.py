"""Time a full `python -m autograder check` of a complete submission (every function); prints the median.

    python benchmarks/check.py [--repeats 5]
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.reference_file import reference_source


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "complete.py"
        path.write_text(reference_source())
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "autograder", "check", str(path), "--json"],
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                sys.exit(f"the complete submission did not pass:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    print("runs: " + " ".join(f"{t:.2f}" for t in times))
    print(f"median_s={statistics.median(times):.2f} target_s=5.0 ratio={statistics.median(times) / 5.0:.2f}")


if __name__ == "__main__":
    main()
