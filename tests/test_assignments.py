"""The table of assignments (autograder/assignments.py) is the only list: the checks, the catalog,
the reference, the course's notebooks and the kit all hold exactly the assignments and functions it
names, in files named after their assignment."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import solutions
from autograder import catalog
from autograder.assignments import ASSIGNMENT_OF, BY_NAME, CAPSTONE, FUNCTIONS, MODULES, TABLE, find
from autograder.checks import all_checks
from autograder.kit.build import SHIPPED

REPO = Path(__file__).resolve().parents[1]


def test_names_and_functions_are_unique():
    assert len({a.name for a in TABLE}) == len({a.module for a in TABLE}) == len(TABLE) == 7
    assert len(FUNCTIONS) == len(set(FUNCTIONS)) == sum(len(a.functions) for a in TABLE)


@pytest.mark.parametrize("assignment", TABLE, ids=lambda a: a.name)
def test_every_part_of_an_assignment_is_named_after_it(assignment):
    assert assignment.name.endswith("_" + assignment.module)
    for package in ("autograder/checks", "autograder/catalog", "solutions"):
        assert (REPO / package / f"{assignment.module}.py").is_file(), f"{package}/{assignment.module}.py"
    for course in ("source", "release"):
        notebooks = sorted(p.name for p in (REPO / course / assignment.folder).glob("*.ipynb"))
        assert notebooks == [assignment.notebook], f"{course}/{assignment.folder}"


def test_the_course_has_no_assignment_outside_the_table():
    for course in ("source", "release"):
        folders = sorted(p.name for p in (REPO / course).iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
        assert folders == [a.folder for a in TABLE], course


def test_the_checks_cover_exactly_the_tables_functions_module_by_module():
    for assignment in TABLE:
        module = importlib.import_module(f"autograder.checks.{assignment.module}")
        assert {c.function for c in module.CHECKS} == set(assignment.functions), assignment.name
    assert {c.function for c in all_checks()} == set(FUNCTIONS)


def test_the_catalog_holds_variants_of_the_tables_functions_only_in_their_assignments_module():
    for variant in catalog.bugs() + catalog.alternatives():
        assert variant.function in FUNCTIONS, variant.id
        assert variant.impl.__module__ == f"autograder.catalog.{BY_NAME[ASSIGNMENT_OF[variant.function]].module}"


def test_the_reference_exports_exactly_the_tables_functions_from_their_assignments_module():
    assert list(solutions.__all__) == list(FUNCTIONS)
    for assignment in TABLE:
        module = importlib.import_module(f"solutions.{assignment.module}")
        for function in assignment.functions:
            assert getattr(solutions, function) is getattr(module, function), function


def test_the_kit_ships_the_table_its_checks_read():
    assert "assignments.py" in SHIPPED and "checks/__init__.py" in SHIPPED
    assert MODULES == tuple(a.module for a in TABLE)


def test_an_assignment_is_found_by_name_number_or_module():
    assert find("04_init") is find("04") is find("init") is BY_NAME["04_init"]
    assert find("05").notebook == "backprop.ipynb"
    assert find("nope") is None
    assert CAPSTONE == "07_capstone" and BY_NAME[CAPSTONE].model_points > 0
