"""Each rule the command lines, the capstone grader and the sandbox share lives in one module:
the exit codes and error output (`cli_common`), the list of frameworks (`sandbox.frameworks`),
reading a model file (`model_file`)."""
from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder import capstone, cli, cli_common, judge, model_file
from autograder.capstone import PredictOutcome, frameworks_used
from autograder.kit import learner_cli
from autograder.sandbox import frameworks, worker

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"


def test_both_command_lines_and_the_capstone_use_the_shared_exit_codes_and_names():
    assert (cli.EXIT_PASS, cli.EXIT_FAIL, cli.EXIT_UNUSABLE) == (0, 1, 2)
    assert cli.resolve_assignment is learner_cli.resolve_assignment is cli_common.resolve_assignment
    assert capstone.unusable is cli.unusable is learner_cli.unusable is cli_common.unusable
    assert capstone.read_model is model_file.read_model
    for name in ("cli.py", "kit/learner_cli.py", "capstone.py"):
        tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
        assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    for t in ast.walk(node.targets[0]) if isinstance(t, ast.Name)}
        assert not assigned & {"EXIT_PASS", "EXIT_FAIL", "EXIT_UNUSABLE"}, name


def test_an_unusable_input_is_one_json_object_or_one_line_on_stderr(capsys):
    assert cli_common.unusable("no such file", as_json=True, model="m.npz", submission=None) == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {"model": "m.npz", "submission": None, "error": "no such file"} and not err
    assert cli_common.unusable("no such file") == 2
    out, err = capsys.readouterr()
    assert err == "autograder: no such file\n" and not out


def test_an_unknown_assignment_names_the_known_ones():
    assert cli_common.resolve_assignment("init") == "04_init"
    with pytest.raises(SystemExit, match="choose one of 01_data, 02_activations"):
        cli_common.resolve_assignment("08")


def test_one_list_of_frameworks():
    assert worker.framework_used is judge.framework_used is frameworks.framework_used
    assert worker.namespace_frameworks is frameworks.namespace_frameworks
    for path in PACKAGE.rglob("*.py"):
        if path.name == "frameworks.py" or "catalog" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lists = [n for n in ast.walk(tree) if isinstance(n, ast.Tuple | ast.List | ast.Set)
                 and {"torch", "sklearn"} <= {e.value for e in n.elts if isinstance(e, ast.Constant)}]
        assert not lists, f"{path.relative_to(PACKAGE)} keeps its own list of frameworks"


def _namespace(source: str, **extra) -> dict:
    ns = {"np": np, **extra}
    exec(textwrap.dedent(source), ns)
    return ns


def test_the_capstone_in_a_kernel_and_the_sandbox_judge_frameworks_alike():
    scipy = type(np)("scipy")
    scipy.special = type(np)("scipy.special")
    ns = _namespace("def predict(params, X):\n    return scipy.special.softmax(X).argmax(1)\n", scipy=scipy)
    assert frameworks_used(ns, ns["predict"]) == "predict uses scipy"   # calling scipy counts (as in checks)
    plain = _namespace("def predict(params, X):\n    return X\n", scipy=scipy)
    assert frameworks_used(plain, plain["predict"]) == ""   # importing it does not


def test_a_predict_outcome_crosses_a_process_boundary_as_plain_data():
    for outcome in (PredictOutcome(predictions=np.arange(3, dtype=np.int32)),
                    PredictOutcome(raised="ValueError", text="read-only (cell 3, line 2)"),
                    PredictOutcome(problem="predict returned None"), PredictOutcome(crashed="timed out")):
        plain = json.loads(json.dumps(outcome.as_plain()))
        back = PredictOutcome.from_plain(plain)
        assert (back.raised, back.text, back.problem, back.crashed) == (
            outcome.raised, outcome.text, outcome.problem, outcome.crashed)
        if outcome.predictions is None:
            assert back.predictions is None
        else:
            np.testing.assert_array_equal(back.predictions, outcome.predictions)
            assert back.predictions.dtype == outcome.predictions.dtype


def test_both_command_lines_print_a_platforms_format_with_one_function(monkeypatch):
    """`check --format` is cli_common.check_in_format in both CLIs (the Classroom workflow runs the
    kit's, an instructor the repository's): one runner JSON, never two copies."""
    seen = []
    monkeypatch.setattr(cli_common, "check_in_format", lambda args, cmd: seen.append((args.format, cmd)) or 0)
    for module in (cli, learner_cli):
        args = module.build_parser().parse_args(["check", "x.ipynb", "--assignment", "02", "--format", "classroom"])
        assert args.func(args) == 0
    assert seen == [("classroom", cli.cmd_check), ("classroom", learner_cli.cmd_check)]
    with pytest.raises(SystemExit):  # the kit ships no Gradescope or PrairieLearn code
        learner_cli.build_parser().parse_args(["check", "x.ipynb", "--format", "gradescope"])
