"""`python -m autograder check`: full marks for the reference, one bug costs one function, exit codes."""
import json
import subprocess
import sys
import textwrap

import nbformat
import pytest

from autograder import catalog
from autograder.reference_file import DEFAULT_BUGS, example_source, reference_source, unresolved_names
from autograder.checks import points_for
from autograder.cli import main as cli_main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def reference_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "reference_copy.py"
    path.write_text(reference_source())
    return path


def test_reference_copy_gets_full_marks(reference_file):
    proc = run_cli("check", reference_file, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["score"] == report["max_score"] > 0
    assert report["results"] and all(r["passed"] for r in report["results"])
    assert set(report) >= {"submission", "score", "max_score", "results"}
    assert set(report["results"][0]) == {"assignment", "function", "check", "title", "passed", "points", "max_points",
                                         "hidden", "case", "problem", "details", "hint", "internal", "message"}
    assert report["isolation"]["level"] in ("bubblewrap", "process")


def test_one_catalogued_bug_costs_only_its_function(reference_file, tmp_path):
    bug = next(b for b in catalog.bugs("softmax"))
    source = reference_file.read_text() + "\n\n" + bug.source()
    path = tmp_path / "one_bug.py"
    path.write_text(source)
    proc = run_cli("check", path, "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    lost = report["max_score"] - report["score"]
    assert {r["function"] for r in report["results"] if not r["passed"]} == {"softmax"}
    assert 0 < lost <= points_for("softmax")
    text = run_cli("check", path).stdout
    assert bug.hint in text.replace("\n          ", " ") or bug.hint[:60] in text


def test_missing_functions_are_reported_not_crashed(tmp_path):
    path = tmp_path / "partial.py"
    path.write_text("import numpy as np\n\ndef relu(z):\n    return np.maximum(z, 0)\n")
    proc = run_cli("check", path, "--assignment", "02")
    assert proc.returncode == 1
    assert "relu_derivative is missing" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_syntax_error_is_unusable_and_names_the_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\ndef relu(z)\n    return z\n")
    proc = run_cli("check", path)
    assert proc.returncode == 2
    assert "line 3" in proc.stderr and "Traceback" not in proc.stderr


def test_unreadable_submission_is_unusable(tmp_path):
    assert run_cli("check", tmp_path / "nope.py").returncode == 2
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    proc = run_cli("check", bad)
    assert proc.returncode == 2 and "not a valid notebook" in proc.stderr


def test_notebook_submission_runs_code_cells_in_order(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# my work"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("def relu(z):\n    return np.maximum(z, 0)"),
        nbformat.v4.new_code_cell("from autograder import check\ncheck('relu')"),
    ]
    path = tmp_path / "mine.ipynb"
    nbformat.write(nb, path)
    proc = run_cli("check", path, "--assignment", "02_activations", "--json")
    report = json.loads(proc.stdout)
    relu = [r for r in report["results"] if r["function"] == "relu"]
    assert relu and all(r["passed"] for r in relu)
    assert any(not r["passed"] for r in report["results"] if r["function"] == "softmax")


def test_unresolved_names_finds_what_would_be_a_name_error():
    code = textwrap.dedent("""
        import numpy as np
        from os import path as p
        LIMIT = 3
        def f(x):
            y = [helper(v) for v in x]
            return np.sum(y) + len(p.sep) + LIMIT + g(x) + missing
        def g(x):
            def inner():
                return x + undefined_too
            return inner
        class K:
            size = LIMIT
            def m(self):
                return self.size + also_missing
        print(top_level_missing)
        """)
    assert unresolved_names(code) == {"helper", "missing", "undefined_too", "also_missing", "top_level_missing"}


def test_reference_file_resolves_every_name_it_uses():
    assert unresolved_names(reference_source()) == set()


def test_example_resolves_every_name_and_fails_exactly_its_two_functions(tmp_path, capsys):
    """`python -m autograder example` writes the reference with the default bugs pasted in; checking it
    fails exactly their functions, with their hints, and nothing else."""
    path = tmp_path / "example.py"
    assert cli_main(["example", "--out", str(path)]) == 0
    source = path.read_text()
    assert source == example_source()
    compile(source, str(path), "exec")
    assert unresolved_names(source) == set()
    bugs = [b for b in catalog.bugs() if b.id in DEFAULT_BUGS]
    assert len(bugs) == len(DEFAULT_BUGS) == 2
    for bug in bugs:
        assert bug.source().strip() in source
    proc = run_cli("check", path, "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    failed = [r for r in report["results"] if not r["passed"]]
    assert failed and {r["function"] for r in failed} == {b.function for b in bugs}
    assert 0 < report["max_score"] - report["score"] <= sum(points_for(b.function) for b in bugs)
    for bug in bugs:
        assert any(r["hint"] == bug.hint for r in failed if r["function"] == bug.function), bug.id


def test_example_with_chosen_bugs_and_refusals(capsys):
    backward_bug = next(b for b in catalog.bugs("backward") if b.also)  # it brings its own forward
    source = example_source([backward_bug.id])
    assert unresolved_names(source) == set() and source.count("\ndef forward(") == 1
    assert cli_main(["example", "--bugs", "softmax.no_such_bug"]) == 2
    assert "softmax.over_axis_0" in capsys.readouterr().err
    assert cli_main(["example", "--bugs", "softmax.over_axis_0,softmax.no_max_shift"]) == 2
    assert "already replaces" in capsys.readouterr().err
    assert cli_main(["example", "--bugs", ""]) == 0
    assert unresolved_names(capsys.readouterr().out) == set()
