"""One pytest test per check, judging the submission named by --submission (the reference if none).

    pytest --pyargs autograder.suite --submission release/02_activations/activations.ipynb
"""
import pytest

from autograder.checks import ASSIGNMENT_OF, all_checks


@pytest.fixture(scope="session")
def runner(request):
    """How each check runs: the reference in-process when no submission is named, else the
    submission in one sandbox for the whole session."""
    path = request.config.getoption("--submission")
    if path is None:
        from autograder.checks.base import REFERENCE

        yield dict(REFERENCE)
        return
    from autograder.checks import FUNCTIONS
    from autograder.checks.base import REFERENCE
    from autograder.sandbox.remote import Sandbox
    from autograder.submission import SubmissionError, read_submission

    try:
        blocks = [b.as_dict() for b in read_submission(path)]
    except SubmissionError as exc:
        pytest.exit(f"autograder: {exc}", returncode=2)
    with Sandbox(blocks, FUNCTIONS, REFERENCE) as sandbox:
        yield sandbox


def _selected(config):
    wanted = config.getoption("--assignment") if config else None
    if not wanted:
        return list(all_checks())
    from autograder.cli import resolve_assignment

    assignment = resolve_assignment(wanted)
    return [c for c in all_checks() if ASSIGNMENT_OF[c.function] == assignment]


def pytest_generate_tests(metafunc):
    if "check" in metafunc.fixturenames:
        checks = _selected(metafunc.config)
        metafunc.parametrize("check", checks, ids=[f"{ASSIGNMENT_OF[c.function]}-{c.id}" for c in checks])


def test_check(check, runner):
    from autograder.judge import judge_checks, judge_one

    if isinstance(runner, dict):
        (result,) = judge_checks(runner, [check])
    else:
        result = judge_one(runner, check)
    if not result.passed:
        pytest.fail(f"{check.function} \u2014 {check.title}\n{result.message}", pytrace=False)
