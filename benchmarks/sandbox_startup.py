"""What starting a sandboxed interpreter costs: `python -c "import numpy"` plain, at the `process`
level and under bubblewrap (median of N runs each, launch to exit, cgroup and kill included).

    python benchmarks/sandbox_startup.py [--repeats 10]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from autograder.sandbox import launch as L


def timed(start) -> float:
    t = time.perf_counter()
    start()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    repeats = parser.parse_args().repeats
    print("machine:", *L.probe())
    for code in ("import numpy", "pass"):
        measure([sys.executable, "-c", code], repeats)


def measure(argv: list[str], repeats: int) -> None:
    def plain():
        subprocess.run(argv, check=True)

    def sandboxed(level):
        def run():
            os.environ[L.ENV_VAR] = level
            with tempfile.TemporaryDirectory() as tmp:
                sb = L.launch(argv, workdir=tmp, readable=[])
                try:
                    assert sb.wait(60) == 0 and sb.isolation == level
                finally:
                    sb.kill()
        return run

    runs = {"plain subprocess": plain, "process": sandboxed("process")}
    if L.probe()[0] == "bubblewrap":
        runs["bubblewrap"] = sandboxed("bubblewrap")
    for start in runs.values():
        start()                                   # warm the caches and the probe
    times = {name: [] for name in runs}
    for _ in range(repeats):                      # interleaved: load on the machine hits all alike
        for name, start in runs.items():
            times[name].append(timed(start))
    print(f"python -c {argv[-1]!r}")
    for name, t in times.items():
        print(f"  {name:>17}: median {statistics.median(t) * 1000:6.1f} ms "
              f"(min {min(t) * 1000:.1f}, max {max(t) * 1000:.1f}, n={repeats})")
    if "bubblewrap" in times:
        cost = statistics.median(times["bubblewrap"]) - statistics.median(times["plain subprocess"])
        print(f"  bubblewrap costs {cost * 1000:+.1f} ms per start (difference of medians)")


if __name__ == "__main__":
    main()
