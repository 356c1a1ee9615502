"""The README matches the code: every command in its bash blocks exists (without running the long
ones), every path it names exists, its settings table lists exactly the kit's environment variables,
and what it says `check("softmax")` prints is what it prints.

A command it does not know how to verify fails this test: teach `_verify` about it."""
from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from autograder.checks import FUNCTIONS, checks_for
from autograder.cli import build_parser, resolve_assignment
from autograder.nbgrader_tools import assignments

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
OPERATORS = {"&&", "||", ";", "|", "&"}


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M)


def commands(block: str) -> list[list[str]]:
    """Each simple command of a block as its words: comments dropped, split at && || ; | &."""
    found = []
    for line in block.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in lexer:
            if token in OPERATORS:
                found.append(words)
                words = []
            else:
                words.append(token)
        found.append(words)
    return [w for w in found if w]


COMMANDS = [(i, words) for i, block in enumerate(bash_blocks(README)) for words in commands(block)]


def test_the_readme_has_commands_and_ci_reads_its_test_line():
    assert len(COMMANDS) >= 10
    first = bash_blocks(README)[0].splitlines()
    assert len(first) >= 2 and "python -m pytest" in first[1], ".ci/run runs the second line of the first bash block"


@pytest.fixture(scope="module")
def pytest_help(tmp_path_factory) -> str:
    """pytest's options with the kit's plugin loaded (from an empty folder: no conftest, no ini)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True,
                          cwd=tmp_path_factory.mktemp("help"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_command_exists(pytest_help):
    created: set[str] = set()  # files and folders earlier commands make (a venv, --out FILE)
    problems = []
    for block, words in COMMANDS:
        try:
            _verify(words, created, pytest_help)
        except AssertionError as err:
            problems.append(f"block {block + 1}: `{shlex.join(words)}`: {err}")
    assert not problems, "README commands that do not exist as written:\n" + "\n".join(problems)


def _exists(path: str, created: set[str]) -> bool:
    return (REPO / path).exists() or any(path == c or path.startswith(c.rstrip("/") + "/") for c in created)


def _verify(words: list[str], created: set[str], pytest_help: str) -> None:
    program, args = words[0], words[1:]
    if program in ("python", "python3") and args[:2] == ["-m", "venv"]:
        created.add(args[2])
    elif program in (".", "source"):
        assert _exists(args[0], created), f"{args[0]} does not exist"
    elif program == "pip":
        assert args[0] == "install", "only `pip install` is verified"
        target = args[-1]
        path, _, extras = target.partition("[")
        assert (REPO / path / "pyproject.toml").is_file(), f"{path} is not an installable project"
        known = set(PYPROJECT["project"].get("optional-dependencies", {}))
        wanted = set(filter(None, extras.rstrip("]").split(",")))
        assert wanted <= known, f"no such extra: {sorted(wanted - known)}"
    elif program in ("python", "python3") and args[:2] == ["-m", "autograder"]:
        _verify_autograder(args[2:], created)
    elif program in ("python", "python3") and args[:2] == ["-m", "pytest"]:
        _verify_pytest(args[2:], created, pytest_help)
    elif program in ("python", "python3") and args and args[0].endswith(".py"):
        assert (REPO / args[0]).is_file(), f"{args[0]} does not exist"
    elif program == "jupyter":
        assert args[0] == "lab" and importlib.util.find_spec("jupyterlab"), "only `jupyter lab` is verified"
        assert all(_exists(a, created) for a in args[1:] if not a.startswith("-")), f"{args[1:]} do not exist"
    elif program == "nbgrader":
        from nbgrader.apps.nbgraderapp import NbGraderApp

        assert args[0] in NbGraderApp.subcommands, f"nbgrader has no {args[0]!r} command"
        named = [a for a in args[1:] if re.fullmatch(r"\d\d_\w+", a)]
        assert named and set(named) <= set(assignments(REPO / "source")), f"unknown assignment in {named}"
    elif program == "ruff":
        assert args[0] == "check", "only `ruff check` is verified"
        assert "ruff" in PYPROJECT["tool"] and any(
            d.startswith("ruff") for d in PYPROJECT["project"]["optional-dependencies"]["dev"]), \
            "ruff is not configured in pyproject.toml or not in the dev extra"
        assert "ruff check" in (REPO / ".ci" / "run").read_text(), ".ci/run does not run ruff"
    else:
        raise AssertionError(f"{program!r}: test_readme does not know how to verify this command")


def _verify_autograder(argv: list[str], created: set[str]) -> None:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        raise AssertionError("the command line is refused by autograder's parser") from None
    for name in ("submission", "model"):
        path = getattr(args, name, None)
        if path:
            assert _exists(path, created), f"{path} does not exist"
    if getattr(args, "assignment", None):
        resolve_assignment(args.assignment)  # SystemExit for an unknown one
    if getattr(args, "out", None):
        created.add(args.out)


def _verify_pytest(argv: list[str], created: set[str], pytest_help: str) -> None:
    markers = {m.split(":")[0].strip() for m in PYPROJECT["tool"]["pytest"]["ini_options"].get("markers", [])}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-"):
            option = arg.split("=")[0]
            assert re.search(rf"(^|[\s,]){re.escape(option)}([\s=,]|$)", pytest_help, re.M), f"pytest has no {option}"
            value = argv[i + 1] if i + 1 < len(argv) and "=" not in arg and not argv[i + 1].startswith("-") else None
            if option == "-m":
                names = set(re.findall(r"\w+", value)) - {"and", "or", "not"}
                assert names <= markers, f"unregistered markers {sorted(names - markers)}"
            elif option == "--pyargs":
                assert importlib.util.find_spec(value), f"no module {value}"
            elif option == "--submission":
                assert _exists(value, created), f"{value} does not exist"
            elif option == "--assignment":
                resolve_assignment(value)
            i += 2 if value is not None and option in ("-m", "--pyargs", "--submission", "--assignment", "-k") else 1
        else:
            assert _exists(arg, created), f"{arg} does not exist"
            i += 1


def test_paths_in_backquotes_exist():
    """`source/`, `autograder/capstone.py`, `data/README.md`, ...: whatever looks like a path of the
    repository (a / in it, or a file name with an extension, found anywhere in it) and is not a
    pattern (`submitted/<student>/...`)."""
    names = {p.name for top in REPO.iterdir() if not top.name.startswith(".") for p in [top, *top.rglob("*")]
             if ".venv" not in p.parts and "__pycache__" not in p.parts}
    missing = []
    for token in set(re.findall(r"`([^`\s]+)`", README)):
        if "<" in token or "(" in token or token.startswith(("-", "$", "http")):
            continue
        if "/" in token:
            if not (REPO / token).exists():
                missing.append(token)
        elif re.fullmatch(r"[\w.-]+\.(py|md|toml|ipynb|raw|txt)", token) and token not in names:
            missing.append(token)  # a bare file name: somewhere in the repository
    assert not missing, f"README names paths that do not exist: {sorted(missing)}"


def test_settings_table_lists_every_environment_variable():
    used = set()
    for folder in ("autograder", "solutions"):
        for path in (REPO / folder).rglob("*.py"):
            used |= set(re.findall(r"BACKPROP_KIT_[A-Z_]+", path.read_text(encoding="utf-8")))
    documented = set(re.findall(r"^\| `(BACKPROP_KIT_[A-Z_]+)` \|", README, flags=re.M))
    assert documented == used, f"undocumented: {sorted(used - documented)}; gone: {sorted(documented - used)}"


def test_check_line_counts_the_public_checks():
    claims = re.findall(r"✓ (\w+): all (\d+) (?:public )?checks passed", README)
    assert claims
    for function, count in claims:
        assert function in FUNCTIONS
        assert int(count) == len(checks_for(function, hidden=False)), f"{function} has another number of public checks"
