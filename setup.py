"""Build step: a wheel carries the course and MNIST as package data, so `pip install .` works anywhere.

Everything else about the package is in pyproject.toml. The repository keeps the layout the design
describes (source/, data/, nbgrader_config.py at the root); only the built package holds a copy of
those files, in the same layout, under autograder/_kit/, where autograder.kit_files finds them
through importlib.resources. An editable install reads the checkout itself and copies nothing.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# What a learner's or an instructor's installed kit needs beyond the code (paths as in the repository).
KIT_FILES = ["nbgrader_config.py", "source", "data/mnist", "data/README.md", "LICENSE"]
PACKAGED = Path("autograder", "_kit")  # must match autograder.kit_files.PACKAGED
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


class build_py_with_kit_files(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / PACKAGED
        shutil.rmtree(target, ignore_errors=True)
        for name in KIT_FILES:
            source, dest = HERE / name, target / name
            if not source.exists():
                raise FileNotFoundError(f"{source} is missing: the package would be built without it")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=IGNORED)
            else:
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": build_py_with_kit_files})
