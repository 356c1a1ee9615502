"""The autograder's test of itself: every catalogued bug fails, blames its own function and shows
its own hint; every catalogued correct alternative passes in full.

The quick tests judge the functions a variant replaces; the slow ones judge its whole assignment."""
import pytest

from autograder import catalog
from autograder.checks import ASSIGNMENT_OF, ASSIGNMENTS, FUNCTIONS
from autograder.checks.base import REFERENCE
from autograder.judge import judge

BUGS = catalog.bugs()
ALTERNATIVES = catalog.alternatives()


def _judge(variant, whole_assignment=False):
    """Judge the functions the variant replaces, or every function of its assignment."""
    ns = {**REFERENCE, **variant.overrides}
    functions = ASSIGNMENTS[ASSIGNMENT_OF[variant.function]]
    return judge(ns, functions if whole_assignment else [f for f in functions if f in variant.overrides])


def _messages(results):
    return "\n".join(r.message for r in results)


# Quick: every bug fails its own function's checks with its own hint; every alternative passes them.


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_bug_fails_and_shows_its_hint(bug):
    failed = [r for r in _judge(bug) if not r.passed]
    assert failed, f"no check caught the catalogued bug {bug.id}"
    assert any(r.hint == bug.hint for r in failed), (
        f"{bug.id} failed, but none of its failures shows its hint; they said:\n{_messages(failed)}")


@pytest.mark.parametrize("alt", ALTERNATIVES, ids=[a.id for a in ALTERNATIVES])
def test_alternative_passes(alt):
    results = _judge(alt)
    failed = [r for r in results if not r.passed]
    assert results and not failed, f"a correct alternative was rejected:\n{_messages(failed)}"


# Slow (every function of the assignment judged with the variant in place, about three times the
# work): a bug costs its own function's points only, an alternative costs nothing anywhere.


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_bug_blames_only_its_function(bug):
    blamed = {r.function for r in _judge(bug, whole_assignment=True) if not r.passed}
    assert blamed == {bug.function}, f"{bug.id} should only cost {bug.function}'s points, not {blamed - {bug.function}}"


@pytest.mark.slow
@pytest.mark.parametrize("alt", ALTERNATIVES, ids=[a.id for a in ALTERNATIVES])
def test_alternative_passes_in_the_whole_assignment(alt):
    failed = [r for r in _judge(alt, whole_assignment=True) if not r.passed]
    assert not failed, f"a correct alternative made other checks fail:\n{_messages(failed)}"


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
