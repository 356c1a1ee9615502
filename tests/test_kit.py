"""The learner's kit (issue 8): `python -m autograder bundle` builds it, it holds no answer, it
installs alone, and it gives the same public verdicts and hints as the full judge.

The fast tests cover the pieces (cutting hidden checks out of code, the recorded reference's
lookups); the slow ones build the kit once (recording takes about 20 s, the wheel as long again).
"""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import recorded
from autograder.checks import all_checks, checks_for
from autograder.checks.base import REFERENCE, Case
from autograder.kit.build import DISTRIBUTION, strip_hidden, wheel_name

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# the pieces


def test_strip_hidden_keeps_public_checks_and_what_they_use_only():
    source = textwrap.dedent('''
        """doc"""
        import numpy as np

        def _public_cases():
            return [_shared(1)]

        def _shared(x):
            return x

        def _hidden_cases():
            return [_shared(2), _only_hidden()]

        def _only_hidden():
            return "a secret case"

        def helper_used_elsewhere():
            return 1

        A = [make("f", "visible", _public_cases, points=2),
             make("f", "secret_check", _hidden_cases, hidden=True)]
        CHECKS = A
    ''')
    out = strip_hidden(source, {"helper_used_elsewhere"})
    assert "secret_check" not in out and "_hidden_cases" not in out and "a secret case" not in out
    assert "_public_cases" in out and "_shared" in out and "helper_used_elsewhere" in out
    assert "import numpy as np" in out
    compile(out, "<stripped>", "exec")


def test_the_kits_platform_modules_import_only_what_the_kit_ships():
    """The kit's `check --format classroom` runs autograder/platforms' __init__, runner and classroom
    as they are in the repository: none of them may import an instructor-only module, except the
    formats `render` imports lazily and the kit's CLI does not offer (`--format` choices)."""
    from autograder.cli_common import LEARNER_FORMATS
    from autograder.kit.build import SHIPPED

    shipped = {"autograder." + n[:-3].replace("/", ".").removesuffix(".__init__") for n in SHIPPED}
    not_offered = {"gradescope", "prairielearn"}
    assert not not_offered & set(LEARNER_FORMATS)
    found = []
    for name in ("platforms/__init__.py", "platforms/runner.py", "platforms/classroom.py"):
        assert name in SHIPPED
        for node in ast.walk(ast.parse((REPO / "autograder" / name).read_text(encoding="utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) and node.level == 0 else None
            if module and module.split(".")[0] in ("autograder", "solutions") and module not in shipped \
                    and module not in {f"autograder.platforms.{f}" for f in not_offered}:
                found.append(f"{name} imports {module}")
    assert not found, found


def test_canonical_keys_separate_structure_from_float_values():
    x = np.arange(6.0).reshape(2, 3)
    exact1, shape1, leaves = recorded.keys("relu", (x,), {})
    exact2, shape2, _ = recorded.keys("relu", (x + 1e-12,), {})
    exact3, shape3, _ = recorded.keys("relu", (x.astype(np.float32),), {})
    assert shape1 == shape2 and exact1 != exact2 and shape1 != shape3
    assert len(leaves) == 1
    rng1, rng2 = np.random.default_rng(1), np.random.default_rng(2)
    assert recorded.keys("he_init", (3, 4, rng1), {})[1] != recorded.keys("he_init", (3, 4, rng2), {})[1]
    assert recorded.close(x, x + 1e-12)[0] and not recorded.close(x, x + 1e-5)[0]


@pytest.fixture(scope="module")
def small_table(tmp_path_factory):
    from autograder.kit.record import record

    folder = tmp_path_factory.mktemp("recorded")
    checks = checks_for("softmax", hidden=False) + checks_for("numerical_gradient", hidden=False)
    record(folder, checks=checks, log=lambda *a: None)
    return recorded.Table(folder)


def test_recorded_function_answers_exactly_approximately_or_falls_back(small_table):
    softmax = recorded.RecordedFunction(small_table, "softmax")
    z = np.array([[1.0, 2.0, 0.5, -1.0]])
    assert np.array_equal(softmax(z), REFERENCE["softmax"](z))
    assert np.allclose(softmax(z * (1 + 1e-13)), REFERENCE["softmax"](z))  # close inputs: the stored answer
    with pytest.raises(recorded.NotRecorded):
        softmax(np.array([[5.0, 6.0]]))
    own = recorded.OWN.set({"softmax": lambda z: "the learner's own"})
    notes = recorded.NOTES.set([])
    try:
        assert softmax(np.array([[5.0, 6.0]])) == "the learner's own"
        assert "your own softmax stood in" in recorded.NOTES.get()[0]
    finally:
        recorded.NOTES.reset(notes)
        recorded.OWN.reset(own)
    assert list(__import__("inspect").signature(softmax).parameters) == ["z"]


def test_fingerprints_hold_each_bug_observation_per_case(small_table):
    prints = small_table.data["fingerprints"]["softmax.rows"]
    assert len(prints) == 4  # the check's four cases
    hints = {hint for found in prints.values() for hint, _ in found}
    assert any("axis=0" in h for h in hints)


# ---------------------------------------------------------------------------------------------
# the built kit


# The leak checks take a wheel's path, so that every wheel that reaches learners is held to them: the
# kit's (here) and the one a GitHub Classroom export puts in every student's repository
# (tests/test_platforms.py). Each returns the leaks it found, none when the wheel is clean.


def _wheel_texts(wheel) -> dict[str, str]:
    """Every text the wheel holds: its Python files, and the strings of its recorded table."""
    texts = {}
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith((".py", ".md", ".txt", ".toml", "METADATA", "RECORD", "entry_points.txt")):
                texts[name] = z.read(name).decode("utf-8")
            elif name.endswith(".json"):
                texts[name] = "\n".join(_strings(json.loads(z.read(name))))
    return texts


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.mark.slow
def test_bundle_layout_and_the_readme_set_up_command(kit):
    folder = Path(kit["folder"])
    assert (folder / wheel_name()).is_file() and Path(kit["zip"]).is_file()
    assert sorted(p.name for p in (folder / "data" / "mnist").iterdir()) == sorted(
        ["SHA256SUMS.raw", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
    for notebook in (REPO / "release").glob("*/*.ipynb"):
        assert (folder / "notebooks" / notebook.parent.name / notebook.name).read_bytes() == notebook.read_bytes()
    readme = (folder / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert commands and f"pip install ./{wheel_name()}" in commands[0]
    with zipfile.ZipFile(kit["zip"]) as z:
        assert f"{folder.name}/{wheel_name()}" in z.namelist()


# of autograder/platforms, the kit holds what `check --format classroom` runs: no exporter, no other platform
KIT_PLATFORMS = {"autograder/platforms/__init__.py", "autograder/platforms/runner.py",
                 "autograder/platforms/classroom.py"}


def module_leaks(wheel) -> list[str]:
    """What of the instructor's repository the wheel holds as files or imports."""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    top = {n.split("/")[0] for n in names}
    leaks = [f"top-level {t}" for t in sorted(top - {"autograder", f"{DISTRIBUTION.replace('-', '_')}-0.1.0.dist-info",
                                                      f"{DISTRIBUTION.replace('-', '_')}-0.1.0.data"})]
    forbidden = ("solutions", "autograder/catalog", "autograder/kit", "nbgrader",
                 "autograder/reference_file.py", "autograder/examples", "source/")
    leaks += [n for n in names if n.startswith(forbidden) or "/nbgrader" in n]
    leaks += [n for n in names if n.startswith("autograder/platforms/") and n not in KIT_PLATFORMS]
    texts = _wheel_texts(wheel)
    imports = {n: re.findall(r"^\s*(?:import|from)\s+(solutions|nbgrader)\b", t, re.M)
               for n, t in texts.items() if n.endswith(".py")}
    # the one import of solutions is the repository's branch of checks/base.py, after the kit's
    found = {n: i for n, i in imports.items() if i}
    if found != {"autograder/checks/base.py": ["solutions"]}:
        leaks.append(f"imports of solutions or nbgrader: {found}")
    base = texts["autograder/checks/base.py"]
    if not base.index("if recorded.available():") < base.index("import solutions"):
        leaks.append("checks/base.py imports solutions before it looks for the recorded reference")
    return leaks


@pytest.mark.slow
def test_wheel_holds_the_learner_modules_only(kit):
    with zipfile.ZipFile(kit["wheel"]) as z:
        assert KIT_PLATFORMS <= set(z.namelist())
    assert not module_leaks(kit["wheel"])


def _normalised_bodies(source: str) -> dict[str, str]:
    """Every function (nested ones too) as the dump of its body with the docstring removed and every
    name and argument renamed in order of appearance: copies that only rename things still match."""
    out = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = list(node.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        if not body:
            continue
        names: dict[str, str] = {}

        def rename(name, names=names):
            return names.setdefault(name, f"v{len(names)}")

        module = ast.Module(body=[ast.parse(ast.unparse(ast.Module(body=body, type_ignores=[])))], type_ignores=[])
        for n in ast.walk(module):
            if isinstance(n, ast.Name):
                n.id = rename(n.id)
            elif isinstance(n, ast.arg):
                n.arg = rename(n.arg)
        out[f"{node.name}:{node.lineno}"] = ast.dump(module, annotate_fields=False)
    return out


def _repo_bodies(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(p for p in folder.rglob("*.py") if not (folder.name == "catalog" and p.name == "__init__.py")):
        for name, dump in _normalised_bodies(path.read_text()).items():
            out[dump] = f"{path.relative_to(REPO)}:{name}"
    return out


def reference_body_leaks(wheel) -> list[str]:
    """Every function of the wheel whose body is one of the reference's or the catalog's."""
    reference = _repo_bodies(REPO / "solutions")
    catalog = _repo_bodies(REPO / "autograder" / "catalog")  # every catalogued variant (not the registry)
    found = []
    for name, text in _wheel_texts(wheel).items():
        if not name.endswith(".py"):
            continue
        for function, dump in _normalised_bodies(text).items():
            for kind, bodies in (("reference", reference), ("catalog", catalog)):
                if dump in bodies:
                    found.append(f"{name}:{function} is {kind} {bodies[dump]}")
    return found


@pytest.mark.slow
def test_no_function_body_of_the_reference_or_the_catalog(kit):
    found = reference_body_leaks(kit["wheel"])
    assert not found, "\n".join(found)


def _case_names(checks) -> set[str]:
    """The names of every case the checks build, collected by running them on the reference."""
    names: set[str] = set()
    original = Case.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        names.add(self.name)

    Case.__init__ = recording
    try:
        import warnings

        for check in checks:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    check.run(dict(REFERENCE))
                except Exception:
                    pass
    finally:
        Case.__init__ = original
    return names


def hidden_check_leaks(wheel) -> list[str]:
    """The names, titles and case names of hidden checks that the wheel's texts hold."""
    public = [c for c in all_checks() if not c.hidden]
    hidden = [c for c in all_checks() if c.hidden]
    corpus = "\n".join(_wheel_texts(wheel).values())
    public_words = {c.name for c in public} | {c.title for c in public}
    leaks = [f"check name {c.id}" for c in hidden if c.name not in public_words and re.search(rf"\b{c.name}\b", corpus)]
    leaks += [f"check title {c.id}: {c.title}" for c in hidden if c.title in corpus]
    hidden_cases = _case_names(hidden) - _case_names(public)
    assert hidden_cases  # the hidden checks do have cases of their own
    leaks += [f"case \u00ab{name}\u00bb" for name in sorted(hidden_cases) if name in corpus]
    return leaks


@pytest.mark.slow
def test_no_hidden_check_name_or_case(kit):
    leaks = hidden_check_leaks(kit["wheel"])
    assert not leaks, "\n".join(leaks)
    code = ("from autograder.checks import all_checks; import json; "
            "print(json.dumps([[c.id, c.hidden] for c in all_checks()]))")
    listed = json.loads(_kit_python(kit, ["-c", code]).stdout)
    assert listed == [[c.id, False] for c in all_checks() if not c.hidden]


def source_leaks(wheel) -> list[str]:
    """Solution regions and hidden test regions of source/, and catalogued variants' names, in the wheel."""
    corpus = re.sub(r"\s+", " ", "\n".join(_wheel_texts(wheel).values()))
    leaks = []
    for path in sorted((REPO / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for region in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
                text = re.sub(r"\s+", " ", textwrap.dedent(region)).strip()
                if len(text) > 30 and text in corpus:
                    leaks.append(f"{path.name}: {text[:80]}")
            for region in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
                if "hidden=True" in region and "BEGIN HIDDEN TESTS" in corpus:
                    leaks.append(f"{path.name}: a hidden test region")
    from autograder import catalog

    leaks += [f"variant {v.id}" for v in catalog.bugs() + catalog.alternatives() if v.id in corpus]
    return leaks


@pytest.mark.slow
def test_no_source_cell_and_no_catalog_variant_name(kit):
    leaks = source_leaks(kit["wheel"])
    assert not leaks, "\n".join(leaks)


# ---------------------------------------------------------------------------------------------
# installed alone


@pytest.fixture(scope="session")
def kit_venv(kit, tmp_path_factory):
    """A fresh virtual environment with the kit's wheel only (NumPy from the interpreter's own
    site-packages where it has one, else from the package index)."""
    venv = tmp_path_factory.mktemp("venv") / "kit"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", kit["wheel"]], check=True)
    if subprocess.run([str(python), "-c", "import numpy"], capture_output=True).returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "numpy"], check=True)
    return python


def _kit_python(kit, args, cwd=None, python=None):
    """Run the kit's python from a folder where the repository is not importable."""
    python = python or kit.get("python") or sys.executable
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BACKPROP_KIT_DATA")}
    if python == sys.executable:  # the kit unpacked, first on the path (no editable finders)
        prelude = (f"import sys; sys.path.insert(0, {str(kit['unpacked'])!r}); "
                   "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in "
                   "getattr(f, '__module__', type(f).__module__)]; ")
        if args[0] == "-c":
            args = ["-c", prelude + args[1]]
    return subprocess.run([str(python), *args], cwd=cwd or kit["unpacked"].parent, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_kit_alone_checks_a_py_file_and_a_notebook(kit, kit_venv, tmp_path):
    from autograder.reference_file import reference_source

    run = lambda *args: _kit_python(kit, list(args), cwd=tmp_path, python=kit_venv)  # noqa: E731
    assert run("-c", "import solutions").returncode != 0
    assert "No module named 'solutions'" in run("-c", "import solutions").stderr
    located = run("-c", "import autograder, autograder.recorded as r; print(autograder.__file__, r.available())")
    assert "site-packages" in located.stdout and located.stdout.strip().endswith("True"), located
    for name in ("catalog", "kit", "platforms.files", "platforms.gradescope", "platforms.prairielearn",
                 "platforms.served", "platforms.classroom_export"):
        assert run("-c", f"import autograder.{name}").returncode != 0, name
    assert run("-c", "import autograder.platforms.classroom, autograder.platforms.runner").returncode == 0

    (tmp_path / "mine.py").write_text(reference_source())
    done = run("-m", "autograder", "check", "mine.py", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert report["results"] and all(r["passed"] for r in report["results"])
    assert len(report["results"]) == len([c for c in all_checks() if not c.hidden])

    buggy = reference_source() + "\n\ndef softmax(z):\n    e = np.exp(z)\n    return e / e.sum(axis=0, keepdims=True)\n"
    (tmp_path / "buggy.py").write_text(buggy)
    done = run("-m", "autograder", "check", "buggy.py", "--json", "--assignment", "02")
    report = json.loads(done.stdout)
    rows = [r for r in report["results"] if r["function"] == "softmax" and r["check"] == "rows"]
    assert done.returncode == 1 and not rows[0]["passed"] and "axis=0" in rows[0]["hint"]

    notebook = tmp_path / "activations.ipynb"
    notebook.write_bytes((REPO / "release" / "02_activations" / "activations.ipynb").read_bytes())
    done = run("-m", "autograder", "check", str(notebook), "--json", "--assignment", "02")
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["results"]
    assert all("not implemented" in r["problem"] for r in report["results"]), report["results"][:2]
    solved = tmp_path / "solved.ipynb"
    solved.write_bytes((REPO / "source" / "02_activations" / "activations.ipynb").read_bytes())
    done = run("-m", "autograder", "check", str(solved), "--json", "--assignment", "02")
    assert done.returncode == 0 and all(r["passed"] for r in json.loads(done.stdout)["results"]), done.stdout[-2000:]


# ---------------------------------------------------------------------------------------------
# agreement with the full judge


@pytest.mark.slow
def test_every_catalogued_variant_gets_the_full_judges_public_verdict_and_hint(kit):
    from autograder import catalog
    from autograder.judge import judge

    done = subprocess.run([sys.executable, str(REPO / "tests" / "kit_agreement_driver.py"), str(kit["unpacked"]),
                           str(REPO)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    from_kit = json.loads(done.stdout)
    variants = catalog.bugs() + catalog.alternatives()
    differ = []
    for variant in variants:
        key = f"{'bug' if variant.hint else 'alternative'}:{variant.id}"
        full = judge({**REFERENCE, **variant.overrides}, [variant.function], hidden=False)
        mine = from_kit[key]
        got = [(r["check"], r["passed"], r["points"], r["hint"]) for r in mine]
        want = [(r.check, r.passed, r.points, r.hint) for r in full]
        if got != want:
            differ.append(f"{key}:\n  full {want}\n  kit  {got}")
    agreed = len(variants) - len(differ)
    print(f"kit agreement: {agreed} of {len(variants)} catalogued bugs and alternatives")
    assert not differ, f"{agreed} of {len(variants)} agree\n" + "\n".join(differ)


def test_no_release_notebook_imports_solutions():
    found = []
    for path in sorted((REPO / "release").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and re.search(r"^\s*(from|import)\s+solutions\b", cell.source, re.M):
                found.append(path.name)
    assert not found, found
