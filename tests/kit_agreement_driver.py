"""Run by tests/test_kit.py in a child process: the kit's public verdicts and hints for every
catalogued bug and alternative, printed as one JSON object.

    python tests/kit_agreement_driver.py STAGED_PACKAGE_FOLDER REPOSITORY

The kit's `autograder` (the staged package) comes first on the path; the repository is there only
for `solutions` (a learner's other functions, all correct) and the catalog, which is loaded here by
file for the test (the kit has none). The catalog's own calls to reference functions go to the
kit's recorded reference, as a learner's calls to the functions standing in do.
"""
import importlib.util
import json
import sys
from pathlib import Path

stage, repository = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
sys.path[:0] = [str(stage)]
sys.path.append(str(repository))
# an editable install of the repository would find autograder.catalog for the kit's package: drop it
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", type(f).__module__)]

import autograder  # noqa: E402
from autograder import judge, recorded  # noqa: E402
from autograder.checks.base import REFERENCE  # noqa: E402

assert Path(autograder.__file__).resolve().is_relative_to(stage), autograder.__file__
assert recorded.available() and judge.catalog is None, "the staged package must be the kit"

import solutions  # noqa: E402

folder = repository / "autograder" / "catalog"
spec = importlib.util.spec_from_file_location("autograder.catalog", folder / "__init__.py",
                                              submodule_search_locations=[str(folder)])
catalog = importlib.util.module_from_spec(spec)
sys.modules["autograder.catalog"] = catalog
spec.loader.exec_module(catalog)
variants = catalog.bugs() + catalog.alternatives()

# the catalog's calls to reference functions go through the kit's recorded reference
originals = {id(getattr(solutions, n)): n for n in solutions.__all__}
for name, module in list(sys.modules.items()):
    if name.startswith("autograder.catalog.") and module is not None:
        for attr, value in list(vars(module).items()):
            if id(value) in originals:
                setattr(module, attr, REFERENCE[originals[id(value)]])

out = {}
for variant in variants:
    ns = {name: getattr(solutions, name) for name in solutions.__all__}
    ns.update(variant.overrides)
    results = judge.judge(ns, [variant.function], hidden=False)
    out[f"{'bug' if variant.hint else 'alternative'}:{variant.id}"] = [
        {"check": r.check, "passed": r.passed, "points": r.points, "hint": r.hint, "problem": r.problem,
         "notes": [text for label, text in r.extra if label == "note"]} for r in results]
print(json.dumps(out))
