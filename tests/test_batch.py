"""`python -m autograder grade DIR`: a row per submission whatever happens, the same CSV whatever
--jobs, and a second run that grades only what changed."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.assignments import ASSIGNMENTS
from autograder.catalog import bugs
from autograder.checks import checks_for, points_for
from autograder.reference_file import reference_source

REPO = Path(__file__).resolve().parent.parent


MAX_02 = sum(points_for(f) for f in ASSIGNMENTS["02_activations"])  # every check of 02, promises included
MAX_02_TEXT = f"{MAX_02:g}"  # as the CSV writes it


def checks_for_02():
    return [c for f in ASSIGNMENTS["02_activations"] for c in checks_for(f)]


def grade(folder, out, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out),
                           "--assignment", "02", "--deadline", "6", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def rows(path) -> dict[str, dict]:
    with open(path, newline="") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


@pytest.fixture
def submissions(tmp_path) -> Path:
    folder = tmp_path / "submitted"
    folder.mkdir()
    complete = reference_source()
    (folder / "alice.py").write_text(complete)
    (folder / "bob.py").write_text(complete + "\n\n" + bugs("softmax")[0].source())
    (folder / "carol.py").write_text("def relu(z:\n    return z\n")
    (folder / "dave.py").write_text(complete + "\nwhile True:\n    pass\n")
    (folder / "erin.py").write_text(complete + "\nimport os\nos._exit(0)\n")
    (folder / "frank").mkdir()
    shutil.copy(REPO / "release" / "02_activations" / "activations.ipynb", folder / "frank")
    (folder / "grace").mkdir()
    (folder / "grace" / "notes.txt").write_text("no code here")
    (folder / "README.txt").write_text("not a submission")
    return folder


@pytest.mark.slow
def test_a_row_per_submission_whatever_happens_and_the_same_csv_whatever_jobs(submissions, tmp_path):
    two, one = tmp_path / "two.csv", tmp_path / "one.csv"
    done = grade(submissions, two, "--jobs", "2", "--jsonl", tmp_path / "two.jsonl")
    assert done.returncode == 0, done.stderr
    got = rows(two)
    assert list(got) == ["alice.py", "bob.py", "carol.py", "dave.py", "erin.py", "frank", "grace"]
    assert got["alice.py"]["status"] == "graded"
    assert got["alice.py"]["score"] == got["alice.py"]["max_score"] == MAX_02_TEXT
    assert got["bob.py"]["status"] == "graded" and 0 < float(got["bob.py"]["score"]) < MAX_02
    assert float(got["bob.py"]["softmax"]) < 4 and got["bob.py"]["relu"] == f"{points_for('relu'):g}"
    assert got["carol.py"]["status"] == "unusable" and "syntax error" in got["carol.py"]["reason"]
    assert got["dave.py"]["status"] == "timeout" and "did not finish within 6 s" in got["dave.py"]["reason"]
    assert got["erin.py"]["status"] in ("graded", "error", "unusable")  # an exiting submission is a row too
    assert got["frank"]["status"] == "graded" and got["frank"]["score"] == "0"  # the untouched release notebook
    assert got["grace"]["status"] == "missing" and got["grace"]["max_score"] == MAX_02_TEXT
    assert "grading" in done.stderr  # the progress bar, on stderr
    lines = [json.loads(line) for line in (tmp_path / "two.jsonl").read_text().splitlines()]
    assert [line["submission_id"] for line in lines] == list(got)
    assert all(line["report"]["results"] for line in lines)

    assert grade(submissions, one, "--jobs", "1").returncode == 0
    assert one.read_text() == two.read_text()
    # a judge process per submission (the grader before long-lived judges) writes the same rows
    per_submission = tmp_path / "per_submission.csv"
    assert grade(submissions, per_submission, "--jobs", "2", "--judge-per-submission").returncode == 0
    assert per_submission.read_text() == two.read_text()


@pytest.mark.slow
def test_a_second_run_grades_only_what_changed(submissions, tmp_path):
    for slow in ("dave.py", "erin.py", "frank", "grace"):
        path = submissions / slow
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    out = tmp_path / "grades.csv"
    assert grade(submissions, out, "--jobs", "2").returncode == 0
    first = out.read_text()

    again = grade(submissions, out, "--jobs", "2")
    assert "graded 0, skipped 3" in again.stderr
    assert out.read_text() == first

    (submissions / "bob.py").write_text(reference_source())  # bob fixed his softmax
    third = grade(submissions, out, "--jobs", "2")
    assert "graded 1, skipped 2" in third.stderr
    assert rows(out)["bob.py"]["score"] == MAX_02_TEXT

    forced = grade(submissions, out, "--jobs", "2", "--force")
    assert "graded 3, skipped 0" in forced.stderr


def test_an_interrupted_csv_is_resumed(tmp_path):
    """A row cut short by a kill is ignored, the complete rows are kept."""
    from autograder.batch import _read_rows

    out = tmp_path / "grades.csv"
    out.write_text("submission,status,reason,score,max_score,checks_passed,checks,isolation,sha256,grader\n"
                   "a.py,graded,,19,19,14,14,unreported,abc,def\n"
                   "b.py,gra")
    assert list(_read_rows(out)) == ["a.py"]


def served(deadline: float = 60.0, **kw):
    from autograder.platforms.runner import JudgeOptions
    from autograder.platforms.served import ServedJudge

    return ServedJudge(JudgeOptions(assignment="02_activations", deadline=deadline), **kw)


@pytest.mark.slow
def test_a_long_lived_judge_gives_each_submission_a_fresh_sandbox(tmp_path):
    """What one submission leaves behind (a file in its folder, a changed builtin, a patched NumPy)
    is gone when the same judge grades the next one."""
    complete = reference_source()
    litter = tmp_path / "litter.py"
    litter.write_text(complete + "\nimport builtins, numpy\nopen('left_behind.txt', 'w').write('x')\n"
                      "builtins.LEFT_BEHIND = 1\nnumpy.maximum = lambda *a, **k: 0\n")
    looks = tmp_path / "looks.py"
    looks.write_text(complete + "\n\n_own_relu = relu\n\ndef relu(z):\n    import builtins, os\n"
                     "    if os.path.exists('left_behind.txt') or hasattr(builtins, 'LEFT_BEHIND'):\n"
                     "        return z\n    return _own_relu(z)\n")
    judge = served()
    try:
        judge.ask(litter)
        judge.ask(looks)   # launched while litter.py is judged
        first, second = judge.answer(litter), judge.answer(looks)
    finally:
        judge.close()
    assert first["max_score"] == MAX_02 and first["score"] < MAX_02  # its own patched numpy.maximum cost it relu
    assert second["score"] == second["max_score"] == MAX_02, [r for r in second["results"] if not r["passed"]]


@pytest.mark.slow
def test_a_long_lived_judge_that_dies_costs_no_submission_its_grade(tmp_path):
    """A killed judge answers None (the batch then grades that submission with a one-shot judge);
    the submissions asked after it go to a fresh judge."""
    import os
    import signal
    import threading
    import time

    complete = reference_source()
    slow = tmp_path / "slow.py"
    slow.write_text(complete + "\nimport time\ntime.sleep(4)\n")
    fine = tmp_path / "fine.py"
    fine.write_text(complete)
    judge = served()
    try:
        judge.ask(slow)
        judge.ask(fine)
        killer = threading.Timer(2.0, lambda: os.killpg(judge._proc.pid, signal.SIGKILL))
        killer.start()
        start = time.monotonic()
        assert judge.answer(slow) is None and time.monotonic() - start < 4
        killer.join()
        assert judge.answer(fine)["score"] == MAX_02
    finally:
        judge.close()


@pytest.mark.slow
def test_a_long_lived_judge_past_its_deadline_is_replaced(tmp_path):
    complete = reference_source()
    loops = tmp_path / "loops.py"
    loops.write_text(complete + "\nwhile True:\n    pass\n")
    fine = tmp_path / "fine.py"
    fine.write_text(complete)
    judge = served(deadline=3)
    try:
        judge.ask(loops)
        judge.ask(fine)
        timed_out = judge.answer(loops)
        assert timed_out["kind"] == "timeout" and "did not finish within 3 s" in timed_out["error"]
        assert timed_out["max_score"] == MAX_02 and len(timed_out["results"]) == len(checks_for_02())
        assert judge.answer(fine)["score"] == MAX_02
    finally:
        judge.close()


@pytest.mark.slow
def test_a_long_lived_judge_is_replaced_after_so_many_answers(tmp_path):
    complete = reference_source()
    paths = []
    for name in ("a", "b", "c"):
        paths.append(tmp_path / f"{name}.py")
        paths[-1].write_text(complete)
    judge = served(recycle_after=2)
    pids = []
    try:
        for path in paths:
            judge.ask(path)
        for path in paths:
            pids.append(judge._proc.pid if judge._proc else None)
            assert judge.answer(path)["score"] == MAX_02
    finally:
        judge.close()
    assert pids[0] is None and pids[1] is not None and pids[2] is None  # a fresh judge for the third
