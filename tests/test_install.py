"""`pip install .` (not editable) gives a kit that works from any folder: MNIST and the nbgrader
course come from the installed package's data, not from a checkout.

The wheel is built from a copy of this checkout and installed with --no-deps into a fresh virtual
environment whose site-packages first receives the test environment's dependencies (numpy,
nbgrader, ...) as hard links, cheap and real files, so that the sandboxed worker, which sees only
that site-packages, finds them as after a full `pip install`. Nothing of this checkout is left
importable there. Then, from an empty folder, it loads MNIST, writes and checks the example
submission, and runs the demo on two assignments whose notebooks load MNIST inside the sandbox
(build the course, generate the releases, autograde three students each with nbgrader)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".ipynb_checkpoints", "_kit")
# what the test environment's site-packages holds of this checkout (an editable install), not copied
EDITABLE = shutil.ignore_patterns("__editable__*", "backprop_kit*", "autograder", "solutions", "__pycache__")

pytestmark = pytest.mark.slow


def run(cmd, **kwargs):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kwargs)
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, env, purelib): the interpreter of a fresh venv holding only the installed wheel, the
    environment to run it with, and that venv's site-packages. Tests run it in their own tmp_path,
    far from the checkout."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "checkout"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", source])
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("backprop_kit-*.whl")

    venv = tmp / "venv"
    made = run([sys.executable, "-m", "venv", "--without-pip", venv])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    shutil.copytree(sysconfig.get_paths()["purelib"], purelib, ignore=EDITABLE, copy_function=os.link,
                    dirs_exist_ok=True, symlinks=True)
    done = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel])
    assert done.returncode == 0, done.stderr[-3000:]

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BACKPROP_KIT_DATA", "VIRTUAL_ENV")}
    # the new venv's bin first; nbgrader's `alembic` (a dependency's script) from the test environment's
    env["PATH"] = os.pathsep.join([str(python.parent), str(Path(sys.executable).parent), env.get("PATH", "")])
    return python, env, purelib


def test_the_installed_package_is_what_runs_and_finds_its_data(installed, tmp_path):
    python, env, purelib = installed
    probe = ("import autograder, solutions; from autograder import kit_files, load_mnist; "
             "images, labels = load_mnist('test'); "
             "print(autograder.__file__, solutions.__file__, kit_files.checkout(), kit_files.root(), "
             "kit_files.mnist_dir(), images.shape, int(labels[:100].sum()))")
    proc = run([python, "-c", probe], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    autograder_file, solutions_file, checkout, root, mnist_dir, *rest = proc.stdout.split()
    assert Path(autograder_file).is_relative_to(purelib) and Path(solutions_file).is_relative_to(purelib)
    assert checkout == "None" and Path(root) == purelib / "autograder" / "_kit"
    assert Path(mnist_dir) == purelib / "backprop_kit_data" / "mnist"  # outside the package the sandbox hides
    assert (Path(root) / "source" / "02_activations" / "activations.ipynb").is_file()
    assert " ".join(rest).startswith("(10000, 28, 28)")


def test_example_and_check_from_another_folder(installed, tmp_path):
    python, env, _ = installed
    folder = tmp_path
    made = run([python, "-m", "autograder", "example", "--out", "example.py"], cwd=folder, env=env)
    assert made.returncode == 0, made.stderr
    proc = run([python, "-m", "autograder", "check", "example.py", "--json"], cwd=folder, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failed = {r["function"] for r in json.loads(proc.stdout)["results"] if not r["passed"]}
    assert failed == {"softmax", "relu_derivative"}


def test_demo_from_another_folder(installed, tmp_path):
    """The demo's whole round trip with the course files of the installed kit, on two assignments
    whose notebooks load MNIST in the sandbox (the capstone trains on it and is graded on it)."""
    python, env, _ = installed
    folder = tmp_path
    demo = "import sys; from autograder.demo import main; sys.exit(main(assignment_ids=['01_data', '07_capstone']))"
    proc = run([python, "-c", demo], cwd=folder, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "every score is as expected" in proc.stdout
    assert not any(folder.iterdir()), "the demo left files in the working folder"
