"""Batch grading speed: the kit's `grade --jobs 2` beside nbgrader's autograde, same submissions, one run.

    python benchmarks/batch.py [--n 40] [--assignment 02_activations] [--jobs 2] [--judge-per-submission]

Generates N submissions of one assignment, each both as a .py file and as a notebook (the source
notebook, its stubs holding the same code): 7 in 10 complete, 2 in 10 with a catalogued bug, 1 in 10
hostile (a function that floods stdout, exits the process, raises, or loops forever, in turn). Then
times, on the same machine and in this order:
  1. `python -m autograder grade` of the .py files with --jobs 2,
  2. the same of the notebooks,
  3. nbgrader autograde of the notebooks as this course configures it (grades from the kit's
     sandboxed judge, no kernel), 2 submissions at a time (Course.autograde_many, workers=2),
  4. nbgrader autograde as nbgrader works out of the box (its Execute preprocessor: every notebook
     run in a kernel, the test cells' `check()` calls judged there), also 2 at a time (nbgrader has
     no parallel autograde of its own; with this kit's merge of per-worker gradebooks it is nbgrader
     at its best here),
and prints submissions per minute for each, the ratios of 2 to 3 and of 2 to 4, and how many scores
agree between the kit and nbgrader. Targets: >= 200 .py submissions/min, notebooks >= 5x nbgrader
(the anchor is 4: nbgrader as a course without this kit would run it; 3 is the kit inside nbgrader).

`grade` keeps one long-lived judge per job (autograder/judge_service.py); --judge-per-submission
also times 1 and 2 the way `grade` worked before (`grade --judge-per-submission`: a judge process per
submission), in the same run, so the two compare under the same load.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import kit_files
from autograder.checks import ASSIGNMENTS
from autograder.nbgrader_tools import Course, bug_source, notebook_in, paste
from autograder.reference_file import reference_source

REPO = Path(__file__).resolve().parent.parent

HOSTILE = {
    "flood": "def {f}(*args, **kwargs):\n    for i in range(200000):\n        print('spam', i)\n    return None\n",
    "exit": "def {f}(*args, **kwargs):\n    import os\n    os._exit(3)\n",
    "raise": "def {f}(*args, **kwargs):\n    raise RuntimeError('not today')\n",
    "loop": "def {f}(*args, **kwargs):\n    while True:\n        pass\n",
}


def generate(assignment: str, n: int, folder: Path) -> list[tuple[str, str, object]]:
    """(id, kind, notebook) for N submissions; the .py twins are written to folder/py/."""
    from autograder import catalog

    source_nb = nbformat.read(notebook_in(REPO / "source" / assignment), as_version=4)
    functions = ASSIGNMENTS[assignment]
    bugs = [(v.function, code) for f in functions for v in catalog.bugs(f) if (code := bug_source(v))]
    complete = reference_source()
    (folder / "py").mkdir(parents=True)
    out = []
    hostile_kinds = list(HOSTILE)
    for i in range(n):
        sid = f"s{i:04d}"
        slot = i % 10
        if slot <= 6:
            kind, function, code = "complete", None, None
        elif slot <= 8:
            function, code = bugs[(i // 10 * 2 + slot - 7) % len(bugs)]
            kind = "buggy"
        else:
            name = hostile_kinds[(i // 10) % len(hostile_kinds)]
            function = functions[0]
            code = HOSTILE[name].format(f=function)
            kind = f"hostile:{name}"
        nb = source_nb if code is None else paste(source_nb, function, code)
        text = complete if code is None else complete + "\n\n" + code
        (folder / "py" / f"{sid}.py").write_text(text)
        out.append((sid, kind, nb))
    return out


def time_kit(folder: Path, assignment: str, jobs: int, out: Path, *extra: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--assignment", assignment,
                           "--jobs", str(jobs), "--out", str(out), "--force", *extra], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"grade failed:\n{done.stderr[-3000:]}")
    print("   " + done.stderr.strip().splitlines()[-1])
    return elapsed


def lane_seconds(jsonl: Path, kind_of: dict[str, str]) -> str:
    """Where a lane's time went: seconds per submission, by kind (from grade --jsonl)."""
    by_kind: dict[str, list[float]] = {}
    for line in jsonl.read_text().splitlines():
        entry = json.loads(line)
        sid = entry["submission_id"].removesuffix(".py")
        by_kind.setdefault(kind_of.get(sid, "?"), []).append(entry["seconds"])
    total = sum(sum(v) for v in by_kind.values())
    return f"lane seconds {total:.1f}: " + ", ".join(
        f"{k} {len(v)} x {sum(v) / len(v):.2f} s" for k, v in sorted(by_kind.items()))


def stock_nbgrader_config(folder: Path) -> Path:
    """The course's nbgrader_config.py without the kit's grading override: nbgrader's own autograde,
    which executes each notebook in a kernel."""
    kept, skipping = [], False
    for line in kit_files.course_config().read_text().splitlines():
        if line.startswith("from autograder.nbgrader_grading import SandboxedGrades"):
            skipping = True
        if not skipping:
            kept.append(line)
        if skipping and line.startswith("c.SandboxedGrades.require_sandbox"):
            skipping = False
    if skipping or any("SandboxedGrades" in line and not line.startswith("#") for line in kept):
        sys.exit("benchmarks/batch.py: nbgrader_config.py changed; cannot find its grading override to drop")
    path = folder / "stock_nbgrader_config.py"
    path.write_text("\n".join(kept) + "\n")
    return path


def time_nbgrader(a: str, subs, jobs: int, config: Path | None = None) -> tuple[float, dict]:
    with Course.temporary([a]) as course:
        if config is not None:  # the same course, graded the way its config says
            shutil.copy2(config, course.root / "nbgrader_config.py")
            course = Course(course.root)
        course.generate(a)
        for sid, _, nb in subs:
            course.submit(a, sid, nb)
        start = time.perf_counter()
        course.autograde_many([a], workers=jobs)
        elapsed = time.perf_counter() - start
        return elapsed, course.scores(a)


def _scores(path: Path) -> dict[str, tuple[str, str, str]]:
    with open(path, newline="") as f:
        return {row["submission"]: (row["status"], row["score"], row["reason"]) for row in csv.DictReader(f)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--assignment", default="02_activations")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--judge-per-submission", action="store_true",
                        help="also time grade --judge-per-submission (the batch grader before issue 9's speed-up)")
    args = parser.parse_args()
    a = args.assignment
    with tempfile.TemporaryDirectory(prefix="backprop-kit-bench-") as tmp:
        tmp = Path(tmp)
        subs = generate(a, args.n, tmp)
        nb_dir = tmp / "ipynb"
        for sid, _, nb in subs:
            (nb_dir / sid).mkdir(parents=True)
            nbformat.write(nb, nb_dir / sid / notebook_in(REPO / "source" / a).name)
        kinds = {}
        for _, kind, _ in subs:
            kinds[kind] = kinds.get(kind, 0) + 1
        print(f"{args.n} submissions of {a}: " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))
        print(f"cpu: {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")

        kind_of = {sid: kind for sid, kind, _ in subs}
        print("1. kit, .py files")
        t_py = time_kit(tmp / "py", a, args.jobs, tmp / "py.csv", "--jsonl", str(tmp / "py.jsonl"))
        print("   " + lane_seconds(tmp / "py.jsonl", kind_of))
        print("2. kit, notebooks")
        t_nb = time_kit(nb_dir, a, args.jobs, tmp / "nb.csv", "--jsonl", str(tmp / "nb.jsonl"))
        print("   " + lane_seconds(tmp / "nb.jsonl", kind_of))
        py_rate, nb_rate = args.n / t_py * 60, args.n / t_nb * 60
        print(f"kit .py:        {t_py:7.1f} s  {py_rate:7.1f} submissions/min (target >= 200)")
        print(f"kit notebooks:  {t_nb:7.1f} s  {nb_rate:7.1f} submissions/min")
        if args.judge_per_submission:
            print("1'. and 2'. the same with a judge process per submission")
            t_py1 = time_kit(tmp / "py", a, args.jobs, tmp / "py1.csv", "--judge-per-submission")
            t_nb1 = time_kit(nb_dir, a, args.jobs, tmp / "nb1.csv", "--judge-per-submission")
            same = all(_scores(tmp / f"{x}.csv") == _scores(tmp / f"{x}1.csv") for x in ("py", "nb"))
            print(f"kit .py, judge per submission:       {t_py1:7.1f} s  {args.n / t_py1 * 60:7.1f} submissions/min "
                  f"(long-lived judges: {t_py1 / t_py:.1f}x faster)")
            print(f"kit notebooks, judge per submission: {t_nb1:7.1f} s  {args.n / t_nb1 * 60:7.1f} submissions/min "
                  f"(long-lived judges: {t_nb1 / t_nb:.1f}x faster)")
            print(f"the same rows either way: {same}")
        if args.skip_nbgrader:
            return
        kit = {}
        with open(tmp / "nb.csv", newline="") as f:
            for row in csv.DictReader(f):
                kit[row["submission"]] = float(row["score"] or 0)
        print(f"3. nbgrader autograde with the kit's sandboxed grades, {args.jobs} at a time")
        t_nbg, nbg = time_nbgrader(a, subs, args.jobs)
        print(f"4. nbgrader autograde out of the box (a kernel per notebook), {args.jobs} at a time")
        t_stock, stock = time_nbgrader(a, subs, args.jobs, stock_nbgrader_config(tmp))
        for label, seconds, scores in (("nbgrader + kit", t_nbg, nbg), ("nbgrader stock", t_stock, stock)):
            rate = args.n / seconds * 60
            agree = sum(abs(kit.get(sid, -1) - scores[sid].score) < 1e-9 for sid, _, _ in subs if sid in scores)
            print(f"{label}: {seconds:7.1f} s  {rate:7.1f} submissions/min; kit notebooks / it = "
                  f"{nb_rate / rate:.1f}x, kit .py / it = {py_rate / rate:.1f}x; "
                  f"scores agree with the kit's: {agree}/{len(subs)}")
            for sid, kind, _ in subs:
                if sid in scores and abs(kit.get(sid, -1) - scores[sid].score) >= 1e-9:
                    print(f"   {sid} {kind}: kit {kit.get(sid)} {label} {scores[sid].score}")
        print(f"ratio kit notebooks / nbgrader stock = {nb_rate / (args.n / t_stock * 60):.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
