"""Time a full `python -m autograder check` of a complete submission (every function), sandboxed,
and say what the sandbox costs: the same checks judged in-process (trusted code, no sandbox) in the
same run, per check.

    python benchmarks/check.py [--repeats 5]

Last line: `median_s=T target_s=1.5 ratio=R isolation=L in_process_s=T sandbox_ms_per_check=M`.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.reference_file import reference_source

TARGET_S = 1.5


def in_process_seconds(path: Path) -> tuple[float, int]:
    """The same judge in a fresh interpreter, the reference namespace checked in forked children."""
    code = ("import time; t = time.perf_counter(); from autograder.checks.base import REFERENCE; "
            "from autograder.judge import judge; r = judge(dict(REFERENCE)); "
            "print(time.perf_counter() - t, len(r))")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return time.perf_counter() - start, int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "complete.py"
        path.write_text(reference_source())
        sandboxed, plain, isolation, checks = [], [], "", 0
        for _ in range(repeats):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "autograder", "check", str(path), "--json"],
                                  capture_output=True, text=True)
            sandboxed.append(time.perf_counter() - start)
            if proc.returncode != 0:
                sys.exit(f"the complete submission did not pass:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
            isolation = json.loads(proc.stdout)["isolation"]["level"]
            seconds, checks = in_process_seconds(path)
            plain.append(seconds)
    median, base = statistics.median(sandboxed), statistics.median(plain)
    print("sandboxed runs: " + " ".join(f"{t:.2f}" for t in sandboxed))
    print("in-process runs: " + " ".join(f"{t:.2f}" for t in plain))
    print(f"median_s={median:.2f} target_s={TARGET_S} ratio={median / TARGET_S:.2f} isolation={isolation} "
          f"in_process_s={base:.2f} sandbox_ms_per_check={1000 * (median - base) / checks:.1f}")


if __name__ == "__main__":
    main()
