"""GitHub Classroom: the runner JSON its grading reporter reads, and the workflow that produces it.

A Classroom assignment's workflow runs grader steps, each with an `id`; each step leaves its result
as base64 JSON in its output `result`; `classroom-resources/autograding-grading-reporter` reads the
environment variable `<ID>_RESULTS` of each runner listed in `runners`, prints the tests, and posts
"Points X/Y" where X is the sum of the tests' `score` and Y the runner's `max_score`.
Runner JSON: version, status ("pass", "fail", "error"), message, max_score, tests with name,
status, message, test_code, filename, score, output (cut at 500 characters).
"""
from __future__ import annotations

from pathlib import Path

from autograder.platforms import cut, normalize, summary_line
from autograder.platforms.files import NOTEBOOK_NAMES, build_wheel

VERSION = 3
TEXT_LIMIT = 500
RUNNER_ID = "backprop"   # the reporter reads BACKPROP_RESULTS


def results_json(report: dict) -> dict:
    report = normalize(report)
    tests = []
    for r in report["results"]:
        tests.append({
            "name": f"{r['function']}: {r['title']}",
            "status": "pass" if r["passed"] else "fail",
            "message": cut("passed" if r["passed"] else (r["problem"] or "failed")
                           + (f" | hint: {r['hint']}" if r["hint"] else ""), TEXT_LIMIT),
            "test_code": f'check("{r["function"]}")  # {r["check"]}',
            "filename": Path(report["submission"]).name if report["submission"] else "",
            "score": float(r["points"]),
            "output": cut(r["message"], TEXT_LIMIT),
        })
    if report.get("error") and not any(r["passed"] for r in report["results"]):
        status = "error"
    else:
        status = "pass" if report["results"] and all(r["passed"] for r in report["results"]) else "fail"
    message = f"Backprop Kit: {summary_line(report)}"
    if report.get("error"):
        message += f" ({report['error']})"
    return {"version": VERSION, "status": status, "message": cut(message, TEXT_LIMIT),
            "max_score": float(report["max_score"]), "tests": tests}


WORKFLOW = """\
# Backprop Kit autograding for GitHub Classroom ({assignment}).
# Runs on every push: grades {notebook} with the kit and reports "Points X/Y" to Classroom.
name: Autograding Tests
"on":
  - push
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    name: Autograding Tests
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 15
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Python 3.11
        uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install Backprop Kit
        run: python -m pip install -q .github/backprop-kit/*.whl
      - name: Backprop Kit checks
        id: {runner}
        timeout-minutes: 10
        run: |
          set +e
          python -m autograder check "{notebook}" --assignment {assignment}{public} --format classroom \\
            > "$RUNNER_TEMP/result.json"
          if ! python -c "import json,sys; json.load(open(sys.argv[1]))" "$RUNNER_TEMP/result.json" 2>/dev/null
          then
            echo '{{"version": 3, "status": "error", "message": "the grader did not produce a result",' \\
                 '"max_score": {max_score}, "tests": []}}' > "$RUNNER_TEMP/result.json"
          fi
          echo "result=$(base64 -w 0 "$RUNNER_TEMP/result.json")" >> "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          {env}_RESULTS: "${{{{steps.{runner}.outputs.result}}}}"
        with:
          runners: {runner}
"""


def export(assignment: str, out: str | Path, *, public_only: bool = True) -> Path:
    """Files to add to the assignment's template repository: the workflow and the kit's wheel."""
    from autograder.checks import ASSIGNMENTS, checks_for

    out = Path(out)
    notebook = NOTEBOOK_NAMES[assignment]
    max_score = sum(c.points for f in ASSIGNMENTS[assignment] for c in checks_for(f, False if public_only else None))
    workflow = out / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(WORKFLOW.format(assignment=assignment, notebook=notebook, runner=RUNNER_ID,
                                        env=RUNNER_ID.upper(), public=" --public" if public_only else "",
                                        max_score=f"{max_score:g}"))
    build_wheel(out / ".github" / "backprop-kit")
    return out
