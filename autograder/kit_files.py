"""Where the kit finds its own files: the nbgrader course (``source/``, ``nbgrader_config.py``) and MNIST.

They live in the repository, laid out as the design describes (``source/``, ``data/mnist/``,
``nbgrader_config.py`` at the root). The package finds them in one of two places, in this order:

1. the checkout it is imported from (a clone, or an editable install of one): the folders beside
   ``autograder/``, so an edit to ``source/`` is seen at once;
2. the installed package's data: a wheel (``pip install .``) carries the course in
   ``autograder/_kit/`` (``source/``, ``nbgrader_config.py``) and MNIST in a package of its own,
   ``backprop_kit_data`` (``mnist/``, with its README). ``setup.py`` copies them in at build time
   and ``importlib.resources`` finds them, from any working directory. They travel apart because
   the sandbox hides the autograder package from learner code (the course holds the solutions)
   while learner code must read MNIST.

``BACKPROP_KIT_DATA``, when set, names the MNIST folder instead (``autograder.mnist`` reads it).
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path

PACKAGED = "_kit"                 # the course's folder inside the autograder package of a built wheel
DATA_PACKAGE = "backprop_kit_data"  # the package holding MNIST in a built wheel
CONFIG_NAME = "nbgrader_config.py"

__all__ = ["KitFilesError", "checkout", "root", "course_source", "course_config", "mnist_dir"]


class KitFilesError(FileNotFoundError):
    """Neither a checkout nor the installed package holds the kit's files."""


def checkout() -> Path | None:
    """The repository this package is imported from (a clone or an editable install), else None."""
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file() and (repo / "source").is_dir() and (repo / CONFIG_NAME).is_file():
        return repo
    return None


def root() -> Path:
    """A folder laid out like the repository's root for the course files (source/,
    nbgrader_config.py): the checkout, else the copy packaged with the installed kit."""
    repo = checkout()
    if repo is not None:
        return repo
    packaged = importlib.resources.files("autograder") / PACKAGED
    if packaged.is_dir():
        # An installed wheel is unpacked on disk, so this is a real folder (nbgrader needs real files).
        return Path(str(packaged))
    raise KitFilesError(f"the kit's course and data files are neither in a checkout nor packaged in "
                        f"{packaged}: install the kit from its repository (`pip install .` builds them in), "
                        f"or work in a clone")


def course_source() -> Path:
    """The instructor's notebooks: ``source/<assignment>/<notebook>.ipynb``."""
    return root() / "source"


def course_config() -> Path:
    """The nbgrader configuration of the course."""
    return root() / CONFIG_NAME


def mnist_dir() -> Path:
    """MNIST as the kit ships it (the four .gz files and their checksums): the checkout's data/mnist,
    else the installed backprop_kit_data package's mnist/."""
    repo = checkout()
    if repo is not None:
        return repo / "data" / "mnist"
    try:
        packaged = importlib.resources.files(DATA_PACKAGE) / "mnist"
    except ModuleNotFoundError:
        packaged = None
    if packaged is not None and packaged.is_dir():
        return Path(str(packaged))
    raise KitFilesError(f"MNIST is neither in a checkout (data/mnist) nor installed as the {DATA_PACKAGE} "
                        f"package: install the kit from its repository (`pip install .` builds it in), or work "
                        f"in a clone")
