"""The autograder's test of itself: every catalogued bug fails, blames its own function and shows
its own hint; every catalogued correct alternative passes in full.

The slow tests do it for every variant, judging its whole assignment. The quick loop tries the
first bug and the first alternative of each function against that function's own checks, so it
stays quick however large the catalog grows; a catalog author runs this file whole."""
import ast
import inspect

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


def _catalog_functions():
    """Every function a catalog module defines: the variants and the helpers they call."""
    import importlib
    import types

    from autograder.assignments import TABLE

    for assignment in TABLE:
        module = importlib.import_module(f"autograder.catalog.{assignment.module}")
        for value in vars(module).values():
            if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                yield value


def _api_names_read(code) -> set[str]:
    import types

    names = set(code.co_names) & set(FUNCTIONS)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _api_names_read(const)
    return names


def test_every_variant_has_its_own_name_so_none_shadows_another():
    for variant in BUGS + ALTERNATIVES:
        for api_name, fn in variant.overrides.items():
            assert fn.__name__ not in FUNCTIONS, f"{variant.id}: its {api_name} is named like an API function"
            assert vars(inspect.getmodule(fn))[fn.__name__] is fn, f"{variant.id}: {fn.__name__} is shadowed"


def test_what_a_variant_calls_of_the_api_is_the_reference():
    """A variant's code calls the other API functions by their names, as a pasted notebook would call
    the learner's own; in the catalog those names must be the reference's, never another variant."""
    import solutions

    for fn in _catalog_functions():
        for name in _api_names_read(fn.__code__):
            assert fn.__globals__.get(name) is getattr(solutions, name), (
                f"{fn.__module__}.{fn.__name__} calls {name}, which is not the reference's there")


def test_a_variants_source_defines_the_api_names_it_replaces():
    for variant in BUGS + ALTERNATIVES:
        tree = ast.parse(variant.source())
        assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == list(variant.overrides), variant.id


def _rounds(bugs):
    """The bugs in as few groups as possible, no two in a group replacing the same function."""
    rounds: list[list] = []
    for bug in bugs:
        free = next((r for r in rounds if not any(set(b.overrides) & set(bug.overrides) for b in r)), None)
        if free is None:
            rounds.append(free := [])
        free.append(bug)
    return rounds


def test_every_bug_can_be_pasted_into_the_example_under_its_api_name():
    """`python -m autograder example --bugs ID,...` works for every catalogued bug: the file defines each
    replaced function under its API name (never the catalog's own name) and resolves every name."""
    from autograder.reference_file import example_source, unresolved_names

    for chosen in _rounds(BUGS):
        source = example_source([b.id for b in chosen])
        defined = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
        for bug in chosen:
            assert set(bug.overrides) <= defined and bug.impl.__name__ not in defined, bug.id
        assert not unresolved_names(source), [b.id for b in chosen]
