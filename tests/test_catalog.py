"""The autograder's test of itself: every catalogued bug fails, blames its own function and shows
its own hint; every catalogued correct alternative passes in full."""
import pytest

from autograder import catalog
from autograder.checks import ASSIGNMENT_OF, ASSIGNMENTS, FUNCTIONS
from autograder.checks.base import REFERENCE
from autograder.judge import judge

BUGS = catalog.bugs()
ALTERNATIVES = catalog.alternatives()


def _judge_assignment(variant):
    ns = {**REFERENCE, **variant.overrides}
    return judge(ns, ASSIGNMENTS[ASSIGNMENT_OF[variant.function]])


@pytest.mark.parametrize("bug", BUGS, ids=[b.id for b in BUGS])
def test_bug_fails_blames_its_function_and_shows_its_hint(bug):
    results = _judge_assignment(bug)
    failed = [r for r in results if not r.passed]
    assert failed, f"no check caught the catalogued bug {bug.id}"
    blamed = {r.function for r in failed}
    assert blamed == {bug.function}, f"{bug.id} should only cost {bug.function}'s points, not {blamed - {bug.function}}"
    assert any(r.hint == bug.hint for r in failed), (
        f"{bug.id} failed, but none of its failures shows its hint; they said:\n"
        + "\n".join(r.message for r in failed)
    )


@pytest.mark.parametrize("alt", ALTERNATIVES, ids=[a.id for a in ALTERNATIVES])
def test_alternative_passes_in_full(alt):
    results = _judge_assignment(alt)
    failed = [r for r in results if not r.passed]
    assert not failed, "a correct alternative was rejected:\n" + "\n".join(r.message for r in failed)


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
