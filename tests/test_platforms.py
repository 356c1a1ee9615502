"""The kit on Gradescope, PrairieLearn and GitHub Classroom: real judge runs (subprocesses of the
command-line door), their results checked field by field against each platform's specification.

- Gradescope: gradescope/autograder_samples docs/specs.md (results.json).
- PrairieLearn: PrairieLearn docs/externalGrading.md (results.json, at most 1 MB).
- GitHub Classroom: the runner JSON read by classroom-resources/autograding-grading-reporter.

The slow tests build autograder.zip, lay out an /autograder-like root, run the zip's own setup.sh
(with KIT_PYTHON and friends pointing it at this machine's Python instead of apt) and its
run_autograder.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder.catalog import bugs
from autograder.checks import ASSIGNMENTS, checks_for
from autograder.platforms import normalize, render
from autograder.reference_file import reference_source

A = "02_activations"
MAX_02 = sum(c.points for f in ASSIGNMENTS[A] for c in checks_for(f))


# ---------------------------------------------------------------------------------------------
# the specifications, as checks


GS_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "visibility",
          "stdout_visibility", "extra_data", "tests", "leaderboard"}
GS_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
           "visibility", "extra_data"}
GS_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
GS_FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def assert_gradescope(results: dict, *, score: float, max_score: float, hidden_visibility="after_published"):
    assert set(results) <= GS_TOP, set(results) - GS_TOP
    assert isinstance(results["score"], float) and results["score"] == score
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 0
    assert isinstance(results["output"], str) and results["output"]
    assert results["output_format"] in GS_FORMATS
    assert results["stdout_visibility"] in GS_VISIBILITY
    tests = results["tests"]
    assert tests, "every check is listed, also when the submission could not be graded"
    assert sum(t["max_score"] for t in tests) == max_score
    assert sum(t["score"] for t in tests) == score  # the top-level score agrees with the tests
    numbers = [t["number"] for t in tests]
    assert len(set(numbers)) == len(numbers)
    for t in tests:
        assert set(t) <= GS_TEST, set(t) - GS_TEST
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["number"], str)
        assert isinstance(t["score"], float) and isinstance(t["max_score"], float)
        assert 0 <= t["score"] <= t["max_score"]
        assert t["status"] in ("passed", "failed")
        if t["max_score"]:  # a 0-point check (a promise checked, worth nothing yet) fails at 0 of 0
            assert (t["status"] == "passed") == (t["score"] == t["max_score"])
        assert isinstance(t["output"], str) and t["output"]
        assert t["output_format"] == "md"
        assert t["visibility"] in GS_VISIBILITY
        hidden = "hidden" in t["tags"]
        assert t["visibility"] == (hidden_visibility if hidden else "visible")
        assert all(isinstance(tag, str) for tag in t["tags"])
    json.dumps(results)


PL_TEST = {"name", "description", "points", "max_points", "message", "output", "images"}


def assert_prairielearn(results: dict, *, score: float | None, gradable: bool = True):
    assert len(json.dumps(results).encode()) <= 1_000_000
    assert results["gradable"] is gradable
    if not gradable:
        assert results["format_errors"] and all(isinstance(e, str) for e in results["format_errors"])
        return
    assert isinstance(results["score"], float) and 0.0 <= results["score"] <= 1.0
    assert results["score"] == pytest.approx(score)
    assert isinstance(results["message"], str)
    for t in results["tests"]:
        assert set(t) <= PL_TEST
        assert {"name", "points", "max_points"} <= set(t)  # points are shown only if every test has both
        assert 0 <= t["points"] <= t["max_points"]
        assert all(isinstance(t[k], str) for k in ("name", "description", "message", "output"))
    got = sum(t["points"] for t in results["tests"]) / sum(t["max_points"] for t in results["tests"])
    assert got == pytest.approx(results["score"])


CL_TEST = {"name", "status", "message", "test_code", "filename", "line_no", "duration", "score", "output"}


def assert_classroom(results: dict, *, status: str, score: float, max_score: float):
    assert results["version"] == 3
    assert results["status"] == status and status in ("pass", "fail", "error")
    assert isinstance(results["message"], str) and len(results["message"]) <= 500
    assert results["max_score"] == max_score
    assert sum(t["score"] for t in results["tests"]) == score  # the reporter's "Points X/Y"
    for t in results["tests"]:
        assert set(t) <= CL_TEST
        assert t["status"] in ("pass", "fail", "error")
        assert len(t["output"]) <= 500 and len(t["message"]) <= 500
        assert isinstance(t["name"], str) and t["name"]


# ---------------------------------------------------------------------------------------------
# submissions


@pytest.fixture(scope="module")
def subs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("subs")
    complete = reference_source()
    out = {
        "complete": complete,
        "buggy": complete + "\n\n" + bugs("softmax")[0].source(),     # softmax over axis 0
        "broken": "import numpy as np\n\ndef relu(z:\n    return z\n",  # a syntax error
        "looping": complete + "\nwhile True:\n    pass\n",             # never finishes loading
    }
    paths = {}
    for name, text in out.items():
        paths[name] = folder / f"{name}.py"
        paths[name].write_text(text)
    return paths


def cli(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def buggy_score(subs) -> float:
    """The judge's own score for the buggy submission: every door must give the same."""
    done = cli("check", subs["buggy"], "--assignment", A, "--json")
    score = json.loads(done.stdout)["score"]
    assert 0 < score < MAX_02
    return float(score)


@pytest.fixture(scope="module")
def formats(subs) -> dict:
    """check --format for every platform on the complete, the buggy and the broken submission."""
    running = {(name, fmt): subprocess.Popen(
                   [sys.executable, "-m", "autograder", "check", str(subs[name]), "--assignment", A, "--format", fmt],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name in ("complete", "buggy", "broken") for fmt in ("gradescope", "prairielearn", "classroom")}
    out = {}
    for key, process in running.items():  # nine runs at once: the machine's cores share them
        stdout, _ = process.communicate(timeout=300)
        out[key] = (process.returncode, json.loads(stdout))
    return out


@pytest.mark.slow  # nine runs of `check` (about 9 s)
def test_check_format_exit_codes_match_the_judge(formats):
    for fmt in ("gradescope", "prairielearn", "classroom"):
        assert formats["complete", fmt][0] == 0
        assert formats["buggy", fmt][0] == 1
        assert formats["broken", fmt][0] == 2


@pytest.mark.slow  # nine runs of `check` (about 9 s)
def test_gradescope_results_field_by_field(formats, buggy_score):
    assert_gradescope(formats["complete", "gradescope"][1], score=MAX_02, max_score=MAX_02)
    buggy = formats["buggy", "gradescope"][1]
    assert_gradescope(buggy, score=buggy_score, max_score=MAX_02)
    failed = [t for t in buggy["tests"] if t["status"] == "failed"]
    assert {t["name"].split(":")[0] for t in failed} == {"softmax"}
    assert any("axis" in t["output"] and t["output"].startswith("```") for t in failed)  # the catalogued hint
    broken = formats["broken", "gradescope"][1]
    assert_gradescope(broken, score=0.0, max_score=MAX_02)
    assert "syntax error" in broken["output"]


@pytest.mark.slow  # nine runs of `check` (about 9 s)
def test_prairielearn_results_field_by_field(formats, buggy_score):
    assert_prairielearn(formats["complete", "prairielearn"][1], score=1.0)
    buggy = formats["buggy", "prairielearn"][1]
    assert_prairielearn(buggy, score=buggy_score / MAX_02)
    hidden_failed = [t for t in buggy["tests"] if "(hidden)" in t["name"] and t["points"] < t["max_points"]]
    assert hidden_failed and all(t["output"] == "" for t in hidden_failed)  # hidden details stay hidden
    assert_prairielearn(formats["broken", "prairielearn"][1], score=None, gradable=False)  # attempt not counted


@pytest.mark.slow  # nine runs of `check` (about 9 s)
def test_classroom_results_field_by_field(formats, buggy_score):
    assert_classroom(formats["complete", "classroom"][1], status="pass", score=MAX_02, max_score=MAX_02)
    assert_classroom(formats["buggy", "classroom"][1], status="fail", score=buggy_score, max_score=MAX_02)
    assert_classroom(formats["broken", "classroom"][1], status="error", score=0, max_score=MAX_02)


def test_outputs_are_cut_to_each_platforms_limit():
    long = "problem:  " + "x" * 5000
    report = {"submission": "s.py", "score": 0, "max_score": 1, "results": [
        {"assignment": A, "function": "relu", "check": "elementwise_max", "passed": False, "points": 0,
         "max_points": 1, "message": long}]}
    classroom = json.loads(render(report, "classroom"))
    assert len(classroom["tests"][0]["output"]) == 500 and classroom["tests"][0]["output"].endswith("\u2026")
    many = {**report, "results": report["results"] * 400, "max_score": 400}
    pl = json.loads(render(many, "prairielearn"))
    assert_prairielearn(pl, score=0.0)


def test_todays_report_and_the_sandboxed_judges_report_normalize_alike():
    today = {"submission": "s.py", "score": 0, "max_score": 2, "notes": [], "results": [
        {"assignment": A, "function": "relu", "check": "elementwise_max", "passed": False, "points": 0,
         "max_points": 2, "message": "tried:    relu(z)\nproblem:  wrong values\n          at [0]\nhint:     use max"}]}
    sandboxed = {"submission": "s.py", "score": 0, "max_score": 2, "notes": [], "flags": ["wrote outside /tmp"],
                 "isolation": {"level": "bubblewrap", "detail": "bwrap 0.8.0"}, "results": [
        {"assignment": A, "function": "relu", "check": "elementwise_max",
         "title": "max(z, 0) elementwise, same shape, any dtype",
         "passed": False, "points": 0, "max_points": 2, "hidden": False, "case": "relu(z)", "problem": "wrong values",
         "details": ["at [0]"], "hint": "use max", "message": today["results"][0]["message"]}]}
    a, b = normalize(today), normalize(sandboxed)
    assert a["results"] == b["results"]
    assert a["isolation"]["level"] == "unreported" and b["isolation"]["level"] == "bubblewrap"
    assert b["flags"] == ["wrote outside /tmp"]
    assert normalize(a) == a  # idempotent


# ---------------------------------------------------------------------------------------------
# Gradescope, from the zip


def _dev_site_packages() -> str:
    return sysconfig.get_paths()["purelib"]


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    done = cli("export", "gradescope", A, "--out", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def installed_root(gradescope_zip, tmp_path_factory) -> Path:
    """The zip unpacked as Gradescope does and its own setup.sh run. KIT_PYTHON stands in for the
    python3.11 setup.sh would install with apt; the kit's dependencies come from this environment
    (a .pth, like --system-site-packages), so the test needs no network."""
    from autograder.platforms.gradescope import unpack

    root = unpack(gradescope_zip, tmp_path_factory.mktemp("autograder"))
    env = {**os.environ, "KIT_PYTHON": getattr(sys, "_base_executable", sys.executable),
           "KIT_VENV_ARGS": "--system-site-packages", "KIT_PIP_ARGS": "--no-deps --no-index"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                          timeout=600, cwd=root / "source")
    assert done.returncode == 0, done.stdout + done.stderr
    site = next((root / "source" / "venv" / "lib").glob("python3*/site-packages"))
    (site / "zz_dev_dependencies.pth").write_text(_dev_site_packages() + "\n")
    return root


def run_autograder(root: Path, files: dict[str, str | bytes], timeout=600) -> tuple[dict, str]:
    sub = root / "submission"
    for old in sub.iterdir():
        old.unlink()
    for name, content in files.items():
        (sub / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    (root / "results" / "results.json").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0
    return json.loads((root / "results" / "results.json").read_text()), done.stdout


@pytest.mark.slow
def test_the_zip_holds_setup_and_run_autograder_at_its_root(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as z:
        names = z.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        config = json.loads(z.read("backprop_kit.json"))
    assert {"setup.sh", "run_autograder", "backprop_kit.json"} <= set(names)
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert any(n.startswith("wheels/backprop_kit-") and n.endswith(".whl") for n in names)
    assert config["assignment"] == A and config["hidden_visibility"] == "after_published"


@pytest.mark.slow
def test_the_kit_runs_from_its_own_environment(installed_root):
    python = installed_root / "source" / "venv" / "bin" / "python"
    probe = "import autograder, sys; print(autograder.__file__); print(sys.version_info >= (3, 11))"
    where = subprocess.run([str(python), "-c", probe],
                           capture_output=True, text=True, cwd=installed_root, env={"PATH": os.environ["PATH"]})
    path, new_enough = where.stdout.split()
    assert path.startswith(str(installed_root / "source" / "venv")) and new_enough == "True"


@pytest.mark.slow
def test_the_installed_kit_finds_its_course_and_mnist_in_the_wheel(installed_root):
    """The zip's wheel is built with setup.py, which copies the course and MNIST into it: the
    non-editable install finds them in its own site-packages, not in this checkout."""
    python = installed_root / "source" / "venv" / "bin" / "python"
    probe = ("from autograder import kit_files; print(kit_files.checkout()); print(kit_files.course_config()); "
             "print(kit_files.course_source()); print(kit_files.mnist_dir())")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=installed_root,
                          env={"PATH": os.environ["PATH"]})
    assert done.returncode == 0, done.stderr
    checkout, config, source, mnist = done.stdout.split()
    venv = str(installed_root / "source" / "venv")
    assert checkout == "None"
    assert all(p.startswith(venv) for p in (config, source, mnist))
    assert Path(config).is_file() and (Path(source) / A).is_dir()
    assert (Path(mnist) / "t10k-images-idx3-ubyte.gz").is_file() and (Path(mnist) / "SHA256SUMS.raw").is_file()


@pytest.mark.slow
def test_gradescope_complete_partly_wrong_broken_missing(installed_root, subs, buggy_score):
    results, stdout = run_autograder(installed_root, {"activations.py": subs["complete"].read_text()})
    assert_gradescope(results, score=MAX_02, max_score=MAX_02)
    assert "isolation:" in stdout  # the instructor-only stdout says which isolation graded it

    results, _ = run_autograder(installed_root, {"activations.py": subs["buggy"].read_text()})
    assert_gradescope(results, score=buggy_score, max_score=MAX_02)

    results, _ = run_autograder(installed_root, {"activations.py": subs["broken"].read_text()})
    assert_gradescope(results, score=0.0, max_score=MAX_02)
    assert "syntax error" in results["output"]

    results, _ = run_autograder(installed_root, {"activations.ipynb": b"\x89PNG not a notebook"})
    assert_gradescope(results, score=0.0, max_score=MAX_02)
    assert "cannot be read" in results["output"]

    results, _ = run_autograder(installed_root, {"README.txt": "forgot the notebook"})
    assert_gradescope(results, score=0.0, max_score=MAX_02)
    assert "activations.ipynb" in results["output"]


@pytest.mark.slow
def test_gradescope_a_submission_that_never_finishes_still_gets_results(installed_root, subs):
    config = installed_root / "source" / "backprop_kit.json"
    saved = config.read_text()
    config.write_text(json.dumps({**json.loads(saved), "deadline": 4}))
    try:
        results, stdout = run_autograder(installed_root, {"activations.py": subs["looping"].read_text()})
    finally:
        config.write_text(saved)
    assert_gradescope(results, score=0.0, max_score=MAX_02)
    assert "did not finish within 4 s" in results["output"]
    assert "killed at the deadline" in stdout


@pytest.mark.slow
def test_gradescope_capstone_grades_the_functions_and_the_model(tmp_path, subs):
    from autograder.capstone import CAPSTONE_POINTS
    from autograder.platforms.gradescope import unpack

    out = tmp_path / "capstone.zip"
    assert cli("export", "gradescope", "07", "--out", out).returncode == 0
    with zipfile.ZipFile(out) as z:
        assert {"data/mnist/t10k-images-idx3-ubyte.gz", "data/mnist/t10k-labels-idx1-ubyte.gz",
                "data/mnist/SHA256SUMS.raw"} <= set(z.namelist())
    root = unpack(out, tmp_path / "root")
    # the grading step only: the installed environment is tested above, this one runs from the checkout
    rng = np.random.default_rng(0)
    np.savez(root / "submission" / "model.npz", W1=rng.standard_normal((784, 16)).astype(np.float32),
             b1=np.zeros(16, np.float32), W2=rng.standard_normal((16, 10)).astype(np.float32),
             b2=np.zeros(10, np.float32))
    (root / "submission" / "capstone.py").write_text(subs["complete"].read_text())
    env = {k: v for k, v in os.environ.items() if k != "BACKPROP_KIT_DATA"}
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope-grade", str(root)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    functions = sum(c.points for f in ASSIGNMENTS["07_capstone"] for c in checks_for(f))
    assert_gradescope(results, score=float(functions), max_score=float(functions + CAPSTONE_POINTS))
    model = [t for t in results["tests"] if t["name"].startswith("capstone")]
    assert len(model) == 1 and model[0]["status"] == "failed" and "below the" in model[0]["output"]


# ---------------------------------------------------------------------------------------------
# PrairieLearn and Classroom exports


def test_prairielearn_grade_in_a_grade_root(tmp_path, subs, buggy_score):
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    (root / "student" / "activations.ipynb").write_text("{not json")
    done = cli("prairielearn-grade", root, "--assignment", "02", "--deadline", "60")
    assert done.returncode == 0, done.stderr
    assert_prairielearn(json.loads((root / "results" / "results.json").read_text()), score=None, gradable=False)
    (root / "student" / "activations.ipynb").unlink()
    (root / "student" / "activations.py").write_text(subs["buggy"].read_text())
    assert cli("prairielearn-grade", root, "--assignment", "02").returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert_prairielearn(results, score=buggy_score / MAX_02)


@pytest.mark.slow
def test_prairielearn_export(tmp_path):

    pl = tmp_path / "pl"
    assert cli("export", "prairielearn", "02", "--out", pl, "--image", "me/kit").returncode == 0
    info = json.loads((pl / "questions" / "backprop_02_activations" / "info.json").read_text())
    options = info["externalGradingOptions"]
    assert options["enabled"] and options["image"] == "me/kit" and options["timeout"] <= 600
    entry = options["entrypoint"].split()
    assert entry[0] == "/grade/serverFilesCourse/backprop_kit/run.sh" and entry[1] == A
    assert int(entry[2]) < options["timeout"]  # results are written before PrairieLearn kills the job
    assert os.access(pl / "serverFilesCourse" / "backprop_kit" / "run.sh", os.X_OK)
    assert list((pl / "image" / "wheels").glob("*.whl")) and (pl / "image" / "Dockerfile").is_file()
    question = pl / "questions" / "backprop_02_activations" / "question.html"
    assert 'file-names="activations.ipynb"' in question.read_text()


# ---------------------------------------------------------------------------------------------
# GitHub Classroom, from the template an export writes: the learner's wheel in a fresh environment,
# the workflow's own steps run as the runner runs them


MAX_02_PUBLIC = sum(c.points for f in ASSIGNMENTS[A] for c in checks_for(f, False))
SOURCE_NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / A / "activations.ipynb"


@pytest.fixture(scope="module")
def classroom_template(tmp_path_factory) -> dict:
    """`export classroom` into a template that already holds an earlier export's (full) wheel."""
    import time

    out = tmp_path_factory.mktemp("classroom") / "template"
    stale = out / ".github" / "backprop-kit" / "backprop_kit-0.1.0-py3-none-any.whl"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"the instructor's wheel, with the reference")
    start = time.monotonic()
    done = cli("export", "classroom", A, "--out", out, timeout=900)
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stdout + done.stderr
    wheels = sorted((out / ".github" / "backprop-kit").iterdir())
    assert [w.name for w in wheels] == ["backprop_kit_learner-0.1.0-py3-none-any.whl"]  # the stale one is gone
    print(f"export classroom: {seconds:.1f} s, the wheel {wheels[0].stat().st_size} bytes")
    import yaml

    workflow = yaml.safe_load((out / ".github" / "workflows" / "classroom.yml").read_text())
    return {"root": out, "wheel": wheels[0], "workflow": workflow, "seconds": seconds}


def _steps(template) -> dict:
    job = template["workflow"]["jobs"]["run-autograding-tests"]
    return {s.get("id") or s["name"]: s for s in job["steps"]}


def _run_step(template, step: dict, env: dict, tmp: Path) -> subprocess.CompletedProcess:
    """A `run:` step as the Actions runner runs it (bash -eo pipefail, in the checkout, with
    RUNNER_TEMP and GITHUB_OUTPUT)."""
    script = tmp / "step.sh"
    script.write_text(step["run"])
    (tmp / "output").write_text("")
    env = {**env, "RUNNER_TEMP": str(tmp), "GITHUB_OUTPUT": str(tmp / "output")}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=template["root"],
                          env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def classroom_env(classroom_template, tmp_path_factory) -> dict:
    """A fresh virtual environment first on PATH, with the kit installed by the workflow's own install
    step (offline: PIP_NO_DEPS, PIP_NO_INDEX); NumPy and the other dependencies are borrowed from this
    environment through a .pth line (not as a site folder, so its editable install of the repository
    is not picked up)."""
    venv = tmp_path_factory.mktemp("classroom-venv") / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "BACKPROP_KIT_DATA")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", PIP_NO_DEPS="1", PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    install = _steps(classroom_template)["Install Backprop Kit"]
    done = _run_step(classroom_template, install, env, tmp_path_factory.mktemp("install"))
    assert done.returncode == 0, done.stdout + done.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "zz_dev_dependencies.pth").write_text(_dev_site_packages() + "\n")
    return env


def _classroom_result(template, env, tmp: Path, notebook: bytes | None) -> dict:
    """The workflow's check step on `notebook` (None: the student pushed none): the runner JSON it
    hands to the reporter, decoded from its step output."""
    import base64

    target = template["root"] / "activations.ipynb"
    target.unlink(missing_ok=True)
    if notebook is not None:
        target.write_bytes(notebook)
    done = _run_step(template, _steps(template)["backprop"], env, tmp)
    assert done.returncode == 0, done.stdout + done.stderr
    line, = (tmp / "output").read_text().splitlines()
    assert line.startswith("result=")
    return json.loads(base64.b64decode(line[len("result="):]))


def _notebook_with(extra_source: str) -> bytes:
    import nbformat

    nb = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(extra_source))
    return nbformat.writes(nb).encode()


@pytest.mark.slow  # the export (about 20 s), a fresh environment and five runs of the workflow's check step
def test_classroom_export_runs_the_learners_kit_from_the_workflow(classroom_template, classroom_env, tmp_path):
    steps = _steps(classroom_template)
    command = steps["backprop"]["run"]
    assert "python -m autograder check \"activations.ipynb\" --assignment 02_activations" in command
    assert "--format classroom" in command and "--all-checks" not in command
    assert f'"max_score": {MAX_02_PUBLIC:g}' in command  # the fallback's maximum: the public checks
    job = classroom_template["workflow"]["jobs"]["run-autograding-tests"]
    assert job["name"] == "Autograding Tests"  # the check run the reporter updates
    reporter = [s for s in job["steps"] if "autograding-grading-reporter" in s.get("uses", "")][0]
    assert reporter["with"]["runners"] == "backprop" and "BACKPROP_RESULTS" in reporter["env"]

    # the kit, not the repository, answers: installed in the fresh environment, no reference in reach
    python = ["python", "-c"]
    located = subprocess.run([*python, "import autograder, autograder.recorded as r; print(autograder.__file__, "
                              "r.available())"], env=classroom_env, cwd=tmp_path, capture_output=True, text=True)
    assert "site-packages" in located.stdout and located.stdout.strip().endswith("True"), located
    for module in ("solutions", "autograder.catalog", "autograder.platforms.files"):
        assert subprocess.run([*python, f"import {module}"], env=classroom_env, cwd=tmp_path,
                              capture_output=True).returncode != 0, module

    buggy = bugs("softmax")[0]
    partly_wrong = _notebook_with(buggy.source())
    (tmp_path / "buggy.ipynb").write_bytes(partly_wrong)
    judged = cli("check", tmp_path / "buggy.ipynb", "--assignment", A, "--public", "--json")  # the full judge
    public_buggy_score = float(json.loads(judged.stdout)["score"])
    assert 0 < public_buggy_score < MAX_02_PUBLIC

    runs = {}
    for name, notebook in (("complete", SOURCE_NOTEBOOK.read_bytes()), ("partly wrong", partly_wrong),
                           ("broken", b'{"cells": [{"cell_type": "code", "source": "def relu(z'),
                           ("missing", None)):
        (tmp_path / name).mkdir()
        runs[name] = _classroom_result(classroom_template, classroom_env, tmp_path / name, notebook)

    assert_classroom(runs["complete"], status="pass", score=MAX_02_PUBLIC, max_score=MAX_02_PUBLIC)
    public_checks = [f"{c.function}: {c.title}" for f in ASSIGNMENTS[A] for c in checks_for(f, False)]
    assert [t["name"] for t in runs["complete"]["tests"]] == public_checks  # public checks only, all of them
    assert all(t["filename"] == "activations.ipynb" for t in runs["complete"]["tests"])

    wrong = runs["partly wrong"]
    assert_classroom(wrong, status="fail", score=public_buggy_score, max_score=MAX_02_PUBLIC)
    failed = [t for t in wrong["tests"] if t["status"] == "fail"]
    assert failed and {t["name"].split(":")[0] for t in failed} == {"softmax"}
    assert any("axis" in t["message"] for t in failed)  # the catalogued hint, from the recorded fingerprints
    assert all(t["score"] == 0 for t in failed)

    for name in ("broken", "missing"):
        assert_classroom(runs[name], status="error", score=0, max_score=MAX_02_PUBLIC)
        assert [t["name"] for t in runs[name]["tests"]] == public_checks  # every public check listed at zero
    assert "not" in runs["missing"]["message"]

    # the kit cannot start at all (the install step failed, say): the workflow's own fallback
    broken_env = {**classroom_env, "PYTHONPATH": str(tmp_path / "shadow")}
    (tmp_path / "shadow" / "autograder").mkdir(parents=True)
    (tmp_path / "shadow" / "autograder" / "__init__.py").write_text("raise ImportError('no kit')\n")
    (tmp_path / "fallback").mkdir()
    fallback = _classroom_result(classroom_template, broken_env, tmp_path / "fallback", SOURCE_NOTEBOOK.read_bytes())
    assert_classroom(fallback, status="error", score=0, max_score=MAX_02_PUBLIC)


@pytest.mark.slow
def test_the_classroom_wheel_holds_no_answer(classroom_template):
    from test_kit import hidden_check_leaks, module_leaks, reference_body_leaks, source_leaks

    wheel = classroom_template["wheel"]
    for leaks in (module_leaks(wheel), hidden_check_leaks(wheel), reference_body_leaks(wheel), source_leaks(wheel)):
        assert not leaks, "\n".join(leaks)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert not [n for n in names if n.startswith("solutions/") or "/solutions/" in n]
    assert "autograder/platforms/classroom.py" in names


def test_export_classroom_refuses_all_checks(tmp_path):
    done = cli("export", "classroom", A, "--all-checks", "--out", tmp_path / "template")
    assert done.returncode == 2 and "would ship to every student" in done.stderr
    assert not (tmp_path / "template").exists()
