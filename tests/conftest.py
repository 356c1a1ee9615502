"""Shared settings for the project's own tests."""
import os

from hypothesis import settings

# Deterministic, database-free property tests: the same verdict on every run and no .hypothesis/ folder.
settings.register_profile("kit", derandomize=True, database=None, deadline=None, print_blob=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kit"))
