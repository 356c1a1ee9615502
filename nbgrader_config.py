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

# Per cell. The capstone trains a network in one cell; everything else takes seconds.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

# A learner who deleted a test cell gets it back (and scored) instead of breaking grading.
c.OverwriteCells.add_missing_cells = True

# Kernels log only errors: ipykernel's warning that a local kernel talks over TCP is noise here.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
