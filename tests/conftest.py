"""Shared settings and fixtures for the project's own tests.

Tests that start notebook kernels, run nbgrader or build and install the package are marked
`slow`: `python -m pytest -m "not slow"` is the quick loop (under a minute); a plain
`python -m pytest`, as CI runs it, runs everything.

The nbgrader course is built once per test session (the `course` fixture): every assignment of
source/ generated, shared by the release tests and the round trip.
"""
import os
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import settings

from autograder.nbgrader_tools import Course, assignments

REPO = Path(__file__).resolve().parents[1]  # the checkout under test

# Deterministic, database-free property tests: the same verdict on every run and no .hypothesis/ folder.
settings.register_profile("kit", derandomize=True, database=None, deadline=None, print_blob=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kit"))


@pytest.fixture(scope="session")
def course():
    """A temporary nbgrader course with this checkout's config and every assignment of source/, each
    one's release generated (course.seconds["generate"] says how long that took). Tests that add
    to it (submissions, grades) use students of their own, so the release stays as generated."""
    ids = assignments(REPO / "source")
    if not ids:
        pytest.skip("source/ holds no notebooks yet")
    with Course.temporary(ids, source_dir=REPO / "source") as built:
        built.check_kernels()
        start = time.monotonic()
        for a in ids:
            built.generate(a)
        built.seconds = {"generate": time.monotonic() - start}
        yield built


@pytest.fixture(scope="session")
def kit(tmp_path_factory):
    """The learner's kit, built once per session (`bundle`: about a minute and a half), with its wheel
    unpacked beside it (`kit["unpacked"]`); the kit and browser tests share it."""
    from autograder.kit.build import bundle

    out = tmp_path_factory.mktemp("bundle") / "kit"
    built = bundle(out, log=lambda *a: None)
    unpacked = out.parent / "unpacked"
    with zipfile.ZipFile(built["wheel"]) as z:
        z.extractall(unpacked)
    return {**built, "unpacked": unpacked}
