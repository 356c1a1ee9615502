"""The learner's kit, built from the instructor's repository (`python -m autograder bundle --out DIR`).

Build-side only: nothing of this package ships in the kit. See `build.py`."""
