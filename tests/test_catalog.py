"""The autograder's test of itself: every catalogued bug fails, blames its own function and shows
its own hint; every catalogued correct alternative passes in full.

The slow tests do it for every variant, judging its whole assignment. The quick loop tries the
first bug and the first alternative of each function against that function's own checks, so it
stays quick however large the catalog grows; a catalog author runs this file whole."""
import pytest

from autograder import catalog
from autograder.checks import ASSIGNMENT_OF, ASSIGNMENTS, FUNCTIONS
from autograder.checks.base import REFERENCE
from autograder.judge import judge

BUGS = catalog.bugs()
ALTERNATIVES = catalog.alternatives()


def _first_of_each_function(variants):
    return [next(v for v in variants if v.function == f) for f in FUNCTIONS if any(v.function == f for v in variants)]


FIRST_BUGS = _first_of_each_function(BUGS)
FIRST_ALTERNATIVES = _first_of_each_function(ALTERNATIVES)


def _judge(variant, whole_assignment=False):
    """Judge the functions the variant replaces, or every function of its assignment."""
    ns = {**REFERENCE, **variant.overrides}
    functions = ASSIGNMENTS[ASSIGNMENT_OF[variant.function]]
    return judge(ns, functions if whole_assignment else [f for f in functions if f in variant.overrides])


def _messages(results):
    return "\n".join(r.message for r in results)


def _assert_fails_with_its_hint(bug, results):
    failed = [r for r in results if not r.passed]
    assert failed, f"no check caught the catalogued bug {bug.id}"
    assert any(r.hint == bug.hint for r in failed), (
        f"{bug.id} failed, but none of its failures shows its hint; they said:\n{_messages(failed)}")
    return failed


@pytest.mark.parametrize("bug", FIRST_BUGS, ids=[b.id for b in FIRST_BUGS])
def test_first_bug_of_each_function_fails_with_its_hint(bug):
    _assert_fails_with_its_hint(bug, _judge(bug))


@pytest.mark.parametrize("alt", FIRST_ALTERNATIVES, ids=[a.id for a in FIRST_ALTERNATIVES])
def test_first_alternative_of_each_function_passes(alt):
    results = _judge(alt)
    failed = [r for r in results if not r.passed]
    assert results and not failed, f"a correct alternative was rejected:\n{_messages(failed)}"


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_bug_fails_blames_its_function_and_shows_its_hint(bug):
    failed = _assert_fails_with_its_hint(bug, _judge(bug, whole_assignment=True))
    blamed = {r.function for r in failed}
    assert blamed == {bug.function}, f"{bug.id} should only cost {bug.function}'s points, not {blamed - {bug.function}}"


@pytest.mark.slow
@pytest.mark.parametrize("alt", ALTERNATIVES, ids=[a.id for a in ALTERNATIVES])
def test_alternative_passes_in_full(alt):
    results = _judge(alt, whole_assignment=True)
    failed = [r for r in results if not r.passed]
    assert results and not failed, f"a correct alternative was rejected:\n{_messages(failed)}"


def test_catalog_is_large_and_covers_every_function():
    assert len(BUGS) >= 40
    assert len(ALTERNATIVES) >= 15
    without = [f for f in FUNCTIONS if not catalog.bugs(f)]
    assert not without, f"functions without a catalogued bug: {without}"
    assert len({b.id for b in BUGS}) == len(BUGS), "two bugs share a name"
    assert all(b.hint.strip() for b in BUGS)


def test_reference_passes_every_check():
    results = judge(dict(REFERENCE))
    failed = [r for r in results if not r.passed]
    assert not failed, "\n".join(r.message for r in failed)
    assert results and all(r.points == r.max_points for r in results)
