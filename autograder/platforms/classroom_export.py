"""`python -m autograder export classroom ASSIGNMENT --out TEMPLATE`: what the instructor adds to a GitHub
Classroom assignment's template repository, that is to every student's repository.

- `.github/workflows/classroom.yml`: on every push, installs the learner's kit from the wheel beside
  it and runs the kit's own `python -m autograder check NOTEBOOK --assignment A --format classroom`
  (exactly what a student can run locally), then hands the runner JSON to Classroom's reporter.
- `.github/backprop-kit/<the learner's wheel>`: the wheel `python -m autograder bundle` builds
  (`autograder.kit.build`): public checks, the reference's recorded answers on their cases, no
  `solutions`, no hidden check, no catalog. Everything in a student's repository is readable by the
  student, so nothing else may go there; any other wheel found in that folder (an earlier export's)
  is removed.

Hidden checks cannot run there: they would have to ship to every student. The runner JSON is made by
`autograder.platforms.classroom.results_json`, which the kit ships too; this module is the
instructor's only.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from autograder.assignments import NOTEBOOK_NAMES
from autograder.platforms import error_report
from autograder.platforms.classroom import RUNNER_ID, results_json

WHEEL_FOLDER = Path(".github") / "backprop-kit"
WORKFLOW_PATH = Path(".github") / "workflows" / "classroom.yml"
FALLBACK_REASON = "the grader did not produce a result (the kit did not start, or the step ran out of time)"

WORKFLOW = """\
# Backprop Kit autograding for GitHub Classroom ({assignment}).
# Runs on every push: grades {notebook} with the learner's kit (public checks only; the wheel in
# .github/backprop-kit/ holds no reference solution and no hidden check) and reports "Points X/Y".
# The same command works on a student's own machine after `pip install .github/backprop-kit/*.whl`.
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
    timeout-minutes: {job_minutes}
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
        timeout-minutes: {step_minutes}
        run: |
          set +e
          python -m autograder check "{notebook}" --assignment {assignment} --deadline {deadline} --format classroom \\
            > "$RUNNER_TEMP/result.json"
          if ! python -c "import json,sys; json.load(open(sys.argv[1]))" "$RUNNER_TEMP/result.json" 2>/dev/null
          then
            cat > "$RUNNER_TEMP/result.json" <<'END_OF_FALLBACK_RESULT'
          {fallback}
          END_OF_FALLBACK_RESULT
          fi
          echo "result=$(base64 -w 0 "$RUNNER_TEMP/result.json")" >> "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          {env}_RESULTS: "${{{{steps.{runner}.outputs.result}}}}"
        with:
          runners: {runner}
"""


def public_max_score(assignment: str) -> float:
    """The points of the assignment's public checks: the most a Classroom run can report."""
    from autograder.checks import ASSIGNMENTS, checks_for

    return float(sum(c.points for f in ASSIGNMENTS[assignment] for c in checks_for(f, False)))


def workflow_text(assignment: str, deadline: float = 480.0) -> str:
    """The workflow for `assignment`; `deadline` is the seconds the check may take before it reports
    a time-out (the step's own limit is a few minutes longer, so a result is always uploaded)."""
    notebook = NOTEBOOK_NAMES[assignment]
    fallback = results_json(error_report(notebook, FALLBACK_REASON, kind="crash", assignment=assignment,
                                         public=True))
    fallback["tests"] = []  # the kit did not run: the maximum says what was at stake
    step_minutes = math.ceil(deadline / 60) + 2
    return WORKFLOW.format(assignment=assignment, notebook=notebook, runner=RUNNER_ID, env=RUNNER_ID.upper(),
                           deadline=f"{deadline:g}", step_minutes=step_minutes, job_minutes=step_minutes + 5,
                           fallback=json.dumps(fallback, ensure_ascii=True))


def export(assignment: str, out: str | Path, *, deadline: float = 480.0, log=print) -> Path:
    """Write the workflow and the learner's wheel into the template repository `out`."""
    from autograder.kit.build import learner_wheel

    out = Path(out)
    workflow = out / WORKFLOW_PATH
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(workflow_text(assignment, deadline), encoding="utf-8")
    wheels = out / WHEEL_FOLDER
    for stale in sorted(wheels.glob("*.whl")) if wheels.is_dir() else []:
        stale.unlink()  # an earlier export's wheel (before this one, the instructor's, with the answers)
        log(f"removed {stale} (an earlier export's wheel)")
    wheel = learner_wheel(wheels, log=log)
    log(f"wrote {workflow} and {wheel} ({wheel.stat().st_size:,} bytes: the learner's kit, public checks only)")
    return out
