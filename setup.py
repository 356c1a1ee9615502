"""Build step: a wheel carries the course and MNIST as package data, so `pip install .` works anywhere.

Everything else about the package is in pyproject.toml. The repository keeps the layout the design
describes (source/, data/, nbgrader_config.py at the root); only the built package holds copies:
the course in autograder/_kit/, MNIST in the backprop_kit_data package, where autograder.kit_files
finds them through importlib.resources. An editable install reads the checkout itself and copies
nothing.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# What an installed kit needs beyond the code, as (path in the repository, path in the wheel). The
# course (it holds the solutions) goes inside the autograder package, which the sandbox hides from
# learner code; MNIST (public data, read by learner code) goes in a package of its own.
KIT_FILES = [
    ("nbgrader_config.py", "autograder/_kit/nbgrader_config.py"),   # autograder.kit_files.PACKAGED
    ("source", "autograder/_kit/source"),
    ("data/mnist", "backprop_kit_data/mnist"),                       # autograder.kit_files.DATA_PACKAGE
    ("data/README.md", "backprop_kit_data/README.md"),               # MNIST's credit and licence travel with it
]
DATA_INIT = '''"""MNIST as Backprop Kit ships it (CC BY-SA 3.0: see README.md here); read by autograder.mnist."""\n'''
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


class build_py_with_kit_files(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        build = Path(self.build_lib)
        for top in ("autograder/_kit", "backprop_kit_data"):
            shutil.rmtree(build / top, ignore_errors=True)
        for name, packaged in KIT_FILES:
            source, dest = HERE / name, build / packaged
            if not source.exists():
                raise FileNotFoundError(f"{source} is missing: the package would be built without it")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=IGNORED)
            else:
                shutil.copy2(source, dest)
        (build / "backprop_kit_data" / "__init__.py").write_text(DATA_INIT)


setup(cmdclass={"build_py": build_py_with_kit_files})
