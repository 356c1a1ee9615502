"""The autograder's checks as a pytest suite: see test_checks.py."""
