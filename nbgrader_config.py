"""nbgrader configuration: this repository is the nbgrader course.

The course root is the folder holding this file, wherever it is copied (the demo and the tests copy
it, with source/, into a temporary course). nbgrader reads this file from its working directory:
run `nbgrader ...` from the repository root, with the virtual environment activated (nbgrader
needs `alembic` on PATH, and the `python3` kernel must be this environment's: `jupyter kernelspec
list`). gradebook.db, submitted/, autograded/ and feedback/ appear beside this file; all are
gitignored. To regenerate release/ without leaving a gradebook behind: `python scripts/generate_release.py`.
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader's config loader)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "backprop-kit"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# Grades come from outside the notebook: nbgrader autograde does not run the notebook in a kernel
# (where a learner cell could redefine `check` or rewrite gradebook.db); SandboxedGrades runs the
# learner's cells in the sandboxed judge and writes each test cell's feedback and points itself.
from autograder.nbgrader_grading import SandboxedGrades  # noqa: E402
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades)

c.Autograde.autograde_preprocessors = [SandboxedGrades, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
# Set True where bubblewrap must be available (a grading server): grading then refuses to fall back.
c.SandboxedGrades.require_sandbox = False

# `nbgrader validate` (a learner's own check) still runs the notebook, per cell: the capstone trains a
# network in one cell; everything else takes seconds.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

# A learner who deleted a test cell gets it back (and scored) instead of breaking grading.
c.OverwriteCells.add_missing_cells = True

# Kernels log only errors: ipykernel's warning that a local kernel talks over TCP is noise here.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
