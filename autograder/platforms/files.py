"""What a platform hands over: which submitted file to grade, the exported configuration, and the
wheel of this checkout that every export ships."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import kit_files
from autograder.assignments import NOTEBOOK_NAMES
from autograder.platforms import CAPSTONE

CONFIG_NAME = "backprop_kit.json"
SKIPPED_PARTS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git"}
MNIST_TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "SHA256SUMS.raw")


@dataclass
class Config:
    """The settings an export writes beside the kit (backprop_kit.json); every key optional."""

    assignment: str | None = None
    hidden_visibility: str = "after_published"   # Gradescope visibility of hidden checks
    deadline: float = 480.0                       # seconds for one submission, all runs together
    check_timeout: float | None = None            # seconds per check (the judge's default if None)
    require_sandbox: bool = False                 # refuse to grade without the sandbox (the judge's flag)
    extra: dict = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path | None) -> "Config":
        if not path or not Path(path).is_file():
            return cls()
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {k: data.pop(k) for k in list(data) if k in cls.__dataclass_fields__ and k != "extra"}
        return cls(**known, extra=data)

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "extra"}
        out.update(self.extra)
        return out


@dataclass
class Picked:
    """The files chosen from a submission folder, and what the instructor should know about it."""

    code: Path | None = None      # the notebook or .py file
    model: Path | None = None     # the capstone's .npz
    notes: list[str] = field(default_factory=list)


def pick(folder: Path, assignment: str | None) -> Picked:
    """The notebook or .py file to grade (the release notebook's name first, then any notebook, then
    any .py file) and, for the capstone, the model (model.npz first, then any .npz)."""
    picked = Picked()
    if not folder.is_dir():
        picked.notes.append(f"{folder} does not exist")
        return picked
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not SKIPPED_PARTS.intersection(p.relative_to(folder).parts)
                   and not p.name.startswith("."))
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    scripts = [p for p in files if p.suffix == ".py"]
    wanted = NOTEBOOK_NAMES.get(assignment or "")
    named = [p for p in notebooks if p.name == wanted]
    candidates = named or notebooks or scripts
    if candidates:
        picked.code = candidates[0]
        if len(notebooks) + len(scripts) > 1:
            picked.notes.append(f"{len(notebooks) + len(scripts)} notebooks or .py files were submitted; "
                                f"graded {picked.code.relative_to(folder)}")
    if assignment == CAPSTONE:
        models = [p for p in files if p.suffix == ".npz"]
        preferred = [p for p in models if p.name == "model.npz"]
        if models:
            picked.model = (preferred or models)[0]
            if len(models) > 1:
                graded = picked.model.relative_to(folder)
                picked.notes.append(f"{len(models)} .npz files were submitted; graded {graded}")
    return picked


def submission_hash(paths: list[Path]) -> str:
    """SHA-256 over the submitted files' names and bytes: what "already graded" compares."""
    import hashlib

    h = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


# What building the kit's wheel reads from the checkout: the packages, the build files, and what
# setup.py copies into the wheel at build time (the course and MNIST: see setup.py's KIT_FILES).
WHEEL_SOURCES = ("pyproject.toml", "README.md", "setup.py", "autograder", "solutions",
                 "nbgrader_config.py", "source", "data/mnist", "data/README.md")
_WHEEL_CACHE: dict[str, Path] = {}


def build_wheel(dest: Path) -> Path:
    """A wheel of this checkout, built in a scratch copy so the checkout gets no build/ or egg-info
    litter. setup.py runs there, so the wheel carries the course and MNIST and a non-editable install
    of it (on Gradescope, in PrairieLearn's image) finds them through autograder.kit_files."""
    dest.mkdir(parents=True, exist_ok=True)
    repo = kit_files.checkout()
    if repo is None:
        raise RuntimeError("exporting builds the kit's wheel from its repository, and this kit is an installed "
                           "copy: run the export from a clone of the repository (or an editable install of one)")
    cached = _WHEEL_CACHE.get(str(repo))
    if cached is None or not cached.exists():
        cached = _WHEEL_CACHE[str(repo)] = _build(repo)
    target = dest / cached.name
    shutil.copy2(cached, target)
    return target


def _build(repo: Path) -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="backprop-kit-wheel-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")
    for name in WHEEL_SOURCES:
        source, copy = repo / name, scratch / "src" / name
        if not source.exists():
            raise FileNotFoundError(f"{source} is missing: the kit's wheel would be built without it")
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy, ignore=ignore)
        else:
            shutil.copy2(source, copy)
    # Without build isolation when this environment can build wheels (fast, offline); else pip
    # brings the build requirements of pyproject.toml into an isolated environment.
    for isolation in (["--no-build-isolation"], []):
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation,
                               "-q", "-w", str(scratch / "dist"), str(scratch / "src")],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            break
    wheels = sorted((scratch / "dist").glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise RuntimeError(f"building the kit's wheel failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return wheels[0]


def mnist_test_files(data_dir: Path | None = None) -> list[Path]:
    """The MNIST test split and its checksums: all the capstone's grading reads."""
    from autograder.mnist import data_dir as default_dir

    folder = Path(data_dir) if data_dir else default_dir()
    files = [folder / name for name in MNIST_TEST_FILES]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"the capstone needs the MNIST test files: missing {', '.join(missing)}")
    return files
