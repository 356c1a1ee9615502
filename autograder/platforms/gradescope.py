"""Gradescope: the autograder.zip, the grading run inside its container, and results.json.

Gradescope unpacks the zip to /autograder/source, runs setup.sh once to build the image, then for
every submission runs /autograder/run_autograder with the student's files in /autograder/submission
and reads /autograder/results/results.json (score, execution_time, output, tests with name, number,
score, max_score, status, output, output_format, visibility, tags). What run_autograder prints goes
to results/stdout, which only instructors see.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import time
import zipfile
from pathlib import Path

from autograder.platforms import CAPSTONE, cut, error_report, md_block, normalize, summary_line
from autograder.platforms.files import CONFIG_NAME, Config, build_wheel, mnist_test_files, pick
from autograder.platforms.runner import JudgeOptions, judge_capstone, judge_file

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
TEST_OUTPUT_LIMIT = 20_000   # characters of feedback per test (the judge's messages are far shorter)


def results_json(report: dict, *, hidden_visibility: str = "after_published", execution_time: float | None = None,
                 extra_output: list[str] = ()) -> dict:
    """Gradescope's results.json for one (normalized) report."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"visibility {hidden_visibility!r}: choose one of {', '.join(VISIBILITIES)}")
    report = normalize(report)
    tests, numbers = [], {}
    for r in report["results"]:
        fn_number = numbers.setdefault(r["function"], [len(numbers) + 1, 0])
        fn_number[1] += 1
        tests.append({
            "name": f"{r['function']}: {r['title']}",
            "number": f"{fn_number[0]}.{fn_number[1]}",
            "score": float(r["points"]),
            "max_score": float(r["max_points"]),
            "status": "passed" if r["passed"] else "failed",
            "output": _test_output(r),
            "output_format": "md",
            "visibility": hidden_visibility if r["hidden"] else "visible",
            "tags": [r["assignment"], r["function"], "hidden" if r["hidden"] else "public"],
        })
    out = {
        "score": float(report["score"]),
        "output": _overall_output(report, extra_output),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"isolation": report["isolation"], "flags": report["flags"],
                       "error_kind": report.get("kind", "")},
    }
    if execution_time is not None:
        out["execution_time"] = max(0, round(execution_time))
    return out


def _test_output(r: dict) -> str:
    if r["passed"]:
        return "\u2713 passed" + ("\n\n" + md_block(r["message"]) if r["message"].strip() else "")
    return md_block(cut(r["message"].strip() or "failed", TEST_OUTPUT_LIMIT))


def _overall_output(report: dict, extra: list[str]) -> str:
    lines = [f"**Backprop Kit**: {summary_line(report)}"]
    if report.get("error"):
        lines += ["", "Your submission could not be graded:", "", md_block(report["error"])]
    notes = list(extra) + report["notes"]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    if any(r["hidden"] for r in report["results"]):
        lines += ["", "Some checks are hidden until your instructor publishes the grades; the total "
                      "shown before then counts only the visible ones."]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# grading inside the container


def grade_root(root: str | Path, *, config: Config | None = None, python: str | None = None,
               log=None) -> dict:
    """Grade ROOT/submission, write ROOT/results/results.json, and return what was written.

    Always writes: a placeholder first (so even a killed run leaves valid JSON), then the verdict, or
    an error result naming what went wrong."""
    log = log or (lambda text: print(text, flush=True))
    start = time.monotonic()
    root = Path(root)
    config = config or Config.read(root / "source" / CONFIG_NAME)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    target = results_dir / "results.json"
    _write(target, results_json(error_report("", "grading started but did not finish", kind="crash",
                                             assignment=config.assignment), execution_time=0))
    try:
        data = root / "source" / "data" / "mnist"
        env = {"BACKPROP_KIT_DATA": str(data)} if data.is_dir() and "BACKPROP_KIT_DATA" not in os.environ else {}
        options = JudgeOptions(assignment=config.assignment, timeout=config.check_timeout, deadline=config.deadline,
                               require_sandbox=config.require_sandbox, python=python, env=env)
        picked = pick(root / "submission", config.assignment)
        for note in picked.notes:
            log(f"[backprop-kit] {note}")
        runs = []
        if config.assignment == CAPSTONE and (picked.code or picked.model):
            report, runs = judge_capstone(picked.code, picked.model, options)
        elif picked.code:
            report, runs = judge_file(picked.code, options)
        else:
            report = error_report("", "no notebook (.ipynb) or Python file (.py) was found in your submission: "
                                      f"upload {_wanted(config.assignment)}", kind="missing",
                                  assignment=config.assignment)
        for run in runs:
            log(f"[backprop-kit] ran {' '.join(run.argv[1:])}: "
                f"{'killed at the deadline' if run.timed_out else f'exit {run.returncode}'} in {run.seconds:.1f} s")
            if run.stderr.strip():
                log("[backprop-kit] judge stderr (last lines):\n" + "\n".join(run.stderr.strip().splitlines()[-15:]))
        results = results_json(report, hidden_visibility=config.hidden_visibility,
                               execution_time=time.monotonic() - start,
                               extra_output=picked.notes)
    except Exception as exc:  # the grader's own failure still leaves results for the student
        log(f"[backprop-kit] grading failed: {type(exc).__name__}: {exc}")
        report = error_report("", "the grader failed on this submission (not your fault): please tell your "
                                  "instructor", kind="crash", assignment=config.assignment)
        results = results_json(report, execution_time=time.monotonic() - start)
    _write(target, results)
    iso = report["isolation"]
    log(f"[backprop-kit] isolation: {iso.get('level')} ({iso.get('detail', '')})")
    if report["flags"]:
        log("[backprop-kit] flags: " + "; ".join(report["flags"]))
    log(f"[backprop-kit] {config.assignment or 'all assignments'}: {summary_line(report)}"
        + (f" [{report.get('kind')}: {report.get('error', '')[:300]}]" if report.get("error") else ""))
    return results


def _wanted(assignment: str | None) -> str:
    from autograder.platforms.files import NOTEBOOK_NAMES

    if assignment == CAPSTONE:
        return "capstone.ipynb and model.npz"
    return NOTEBOOK_NAMES.get(assignment or "", "your notebook")


def _write(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# the zip

SETUP_SH = r"""#!/usr/bin/env bash
# Backprop Kit on Gradescope, run once when the autograder image is built.
# Gradescope's Ubuntu 22.04 has python3 3.10, which its harness uses: it is left alone. The kit needs
# Python >= 3.11, so this installs python3.11 beside it (Ubuntu's own package, or the deadsnakes PPA
# when that is missing), makes a virtual environment and installs the kit from the wheel in this zip.
# Switches (for testing this very script elsewhere): KIT_PYTHON (an interpreter >= 3.11 to use),
# KIT_VENV (where the environment goes), KIT_VENV_ARGS, KIT_PIP_ARGS (extra arguments).
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${KIT_VENV:-$SOURCE/venv}"
PY="${KIT_PYTHON:-}"
new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
if [ -z "$PY" ]; then
  for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null && new_enough "$(command -v "$candidate")"; then
      PY="$(command -v "$candidate")"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  if ! apt-get install -y -q python3.11 python3.11-venv; then
    apt-get install -y -q software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -q
    apt-get install -y -q python3.11 python3.11-venv
  fi
  PY=/usr/bin/python3.11
fi
new_enough "$PY" || { echo "setup.sh: $PY is older than Python 3.11" >&2; exit 1; }
"$PY" -m venv ${KIT_VENV_ARGS:-} "$VENV"
"$VENV/bin/python" -m pip install -q ${KIT_PIP_ARGS:-} "$SOURCE"/wheels/*.whl
# Fail the image build now rather than at the first submission.
"$VENV/bin/python" -m autograder gradescope-grade --help >/dev/null
echo "Backprop Kit installed in $VENV ($("$VENV/bin/python" --version));" \
     "system python3 untouched: $(python3 --version 2>&1 || true)"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Backprop Kit on Gradescope, run for every submission (in /autograder). The kit always writes
# results/results.json; if it cannot even start, this script writes one saying so.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${KIT_VENV:-$ROOT/source/venv}"
mkdir -p "$ROOT/results"
"$VENV/bin/python" -m autograder gradescope-grade "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  echo "[backprop-kit] the grader did not start (exit $status)"
  message="The grader could not start, so this submission was not graded."
  message="$message This is not your fault: please tell your instructor."
  printf '{"score": 0, "output": "%s", "tests": []}\n' "$message" > "$ROOT/results/results.json"
fi
exit 0
"""


def export_zip(assignment: str, out: str | Path, *, config: Config | None = None) -> Path:
    """autograder.zip for one assignment: setup.sh and run_autograder at the root, the kit's wheel,
    the configuration, and for the capstone the MNIST test files."""
    import tempfile

    config = config or Config()
    config.assignment = assignment
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            _add(z, "setup.sh", SETUP_SH, executable=True)
            _add(z, "run_autograder", RUN_AUTOGRADER, executable=True)
            _add(z, CONFIG_NAME, json.dumps(config.as_dict(), indent=2) + "\n")
            z.write(wheel, f"wheels/{wheel.name}")
            if assignment == CAPSTONE:
                for f in mnist_test_files():
                    z.write(f, f"data/mnist/{f.name}")
    return out


def _add(z: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    z.writestr(info, text)


def unpack(zip_path: str | Path, root: str | Path) -> Path:
    """Lay out ROOT the way Gradescope does: the zip in ROOT/source (modes kept), run_autograder
    copied to ROOT, empty submission/ and results/."""
    import shutil

    root = Path(root)
    source = root / "source"
    source.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            path = Path(z.extract(info, source))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir(exist_ok=True)
    (root / "results").mkdir(exist_ok=True)
    return root


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m autograder gradescope-grade ROOT")
