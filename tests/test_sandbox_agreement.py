"""The sandbox changes where learner code runs, not what the judge says: catalogued mistakes and
correct alternatives, written into a submission as a learner would write them, get the same
verdicts and hints from the sandboxed judge as from the in-process one."""
from __future__ import annotations

import pytest

from autograder import catalog
from autograder.checks import ASSIGNMENT_OF, ASSIGNMENTS, FUNCTIONS
from autograder.checks.base import REFERENCE
from autograder.judge import judge, judge_submission
from autograder.reference_file import reference_source

pytestmark = pytest.mark.slow  # a sandbox per variant


def _one_per_function(variants):
    chosen = {}
    for v in variants:
        chosen.setdefault(v.function, v)
    return [chosen[f] for f in FUNCTIONS if f in chosen]


BUGS = _one_per_function(catalog.bugs())
ALTERNATIVES = _one_per_function(catalog.alternatives())


def _verdicts(results):
    return [(r.function, r.check, r.passed, r.points, r.hint) for r in results]


@pytest.mark.parametrize("variant", BUGS + ALTERNATIVES, ids=[v.id for v in BUGS + ALTERNATIVES])
def test_sandboxed_and_in_process_verdicts_agree(variant):
    functions = ASSIGNMENTS[ASSIGNMENT_OF[variant.function]]
    local = judge({**REFERENCE, **variant.overrides}, functions)
    source = reference_source() + "\n\n" + variant.source()
    sandboxed = judge_submission([{"label": "v.py", "filename": "<v.py>", "source": source}], functions)
    assert _verdicts(sandboxed.results) == _verdicts(local)
