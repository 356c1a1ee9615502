"""PrairieLearn external grading: results.json, the grading run in /grade, and a course's files.

PrairieLearn copies the student's files to /grade/student, the course's `serverFilesCourse` entries
to /grade/serverFilesCourse, runs the question's entrypoint in the question's Docker image (no network
by default, a job timeout of 30 s by default and 600 s at most) and reads /grade/results/results.json
(at most 1 MB): `gradable`, `score` in [0, 1], `message`, `tests` with `name`, `description`, `points`,
`max_points`, `message`, `output`.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from autograder.platforms import CAPSTONE, cut, error_report, normalize, summary_line
from autograder.platforms.files import CONFIG_NAME, NOTEBOOK_NAMES, Config, build_wheel, mnist_test_files, pick
from autograder.platforms.runner import JudgeOptions, judge_capstone, judge_file

SIZE_LIMIT = 1_000_000          # bytes of results.json PrairieLearn accepts
OUTPUT_LIMIT = 20_000           # characters of feedback per test before the size budget applies
HIDDEN_SUMMARY = "a hidden check: its details are not shown"


def results_json(report: dict, *, show_hidden_feedback: bool = False) -> dict:
    """PrairieLearn's results for one report, within SIZE_LIMIT."""
    report = normalize(report)
    kind = report.get("kind", "")
    if report.get("error") and kind in ("unusable", "missing", "crash"):
        # Not the student's fault to be charged for: the attempt is not counted.
        return {"gradable": False, "format_errors": [report["error"]],
                "message": report["error"] if kind != "crash" else
                "The grader failed on this submission; this attempt does not count. Please tell your instructor."}
    tests = []
    for r in report["results"]:
        secret = r["hidden"] and not show_hidden_feedback
        hint = f"\nhint: {r['hint']}" if r["hint"] else ""
        message = "passed" if r["passed"] else HIDDEN_SUMMARY if secret else (r["problem"] or "failed") + hint
        tests.append({
            "name": f"{r['function']}: {r['title']}" + (" (hidden)" if r["hidden"] else ""),
            "description": f"{r['assignment']} \u00b7 check {r['check']} of {r['function']}",
            "points": float(r["points"]),
            "max_points": float(r["max_points"]),
            "message": message,
            "output": "" if r["passed"] or secret else cut(r["message"], OUTPUT_LIMIT),
        })
    most = report["max_score"]
    score = report["score"] / most if most > 0 else 0.0
    lines = [f"Backprop Kit: {summary_line(report)}"]
    if report.get("error"):
        lines.append(report["error"])
    lines += report["notes"]
    out = {"gradable": True, "score": min(1.0, max(0.0, score)), "message": "\n".join(lines), "tests": tests}
    return fit(out)


def fit(results: dict, limit: int = SIZE_LIMIT) -> dict:
    """Shorten the tests' outputs (longest first) until the JSON is within `limit` bytes."""
    def size() -> int:
        return len(json.dumps(results, ensure_ascii=False).encode("utf-8"))

    budget = OUTPUT_LIMIT
    while size() > limit and budget > 50:
        budget //= 2
        for t in results.get("tests", []):
            t["output"] = cut(t["output"], budget)
            t["message"] = cut(t["message"], max(budget, 200))
    if size() > limit:  # thousands of tests: keep the score, say what was dropped
        kept = results["tests"][: max(0, len(results["tests"]) // 2)]
        results["message"] += f"\n({len(results['tests']) - len(kept)} test results left out to stay within 1 MB)"
        results["tests"] = kept
        return fit(results, limit)
    return results


def grade_root(root: str | Path = "/grade", *, assignment: str | None = None, deadline: float | None = None,
               config: Config | None = None, python: str | None = None, log=None) -> dict:
    """Grade ROOT/student and write ROOT/results/results.json (always); returns what was written."""
    log = log or (lambda text: print(text, flush=True))
    start = time.monotonic()
    root = Path(root)
    config = config or Config.read(root / "serverFilesCourse" / "backprop_kit" / CONFIG_NAME)
    if assignment:
        config.assignment = assignment
    if deadline:
        config.deadline = deadline
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    show_hidden = bool(config.extra.get("show_hidden_feedback", False))
    try:
        options = JudgeOptions(assignment=config.assignment, timeout=config.check_timeout, deadline=config.deadline,
                               require_sandbox=config.require_sandbox, python=python)
        picked = pick(root / "student", config.assignment)
        if config.assignment == CAPSTONE and (picked.code or picked.model):
            report, runs = judge_capstone(picked.code, picked.model, options)
        elif picked.code:
            report, runs = judge_file(picked.code, options)
        else:
            wanted = NOTEBOOK_NAMES.get(config.assignment or "", "a notebook or .py file")
            report, runs = error_report("", f"no notebook or .py file was submitted: submit {wanted}",
                                        kind="missing"), []
        report["notes"] = picked.notes + report["notes"]
        for run in runs:
            log(f"[backprop-kit] ran {' '.join(run.argv[1:])}: "
                f"{'killed at the deadline' if run.timed_out else f'exit {run.returncode}'} in {run.seconds:.1f} s")
        results = results_json(report, show_hidden_feedback=show_hidden)
    except Exception as exc:
        log(f"[backprop-kit] grading failed: {type(exc).__name__}: {exc}")
        report = error_report("", "the grader failed", kind="crash")
        results = results_json(report)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, target)
    log(f"[backprop-kit] isolation: {report['isolation'].get('level')}; {summary_line(report)} "
        f"in {time.monotonic() - start:.1f} s")
    return results


# ---------------------------------------------------------------------------------------------
# the course files

DOCKERFILE = """\
# The external-grading image for Backprop Kit (Python >= 3.11, the kit, the MNIST test split).
# PrairieLearn grades without network by default, so everything is installed here, at build time.
FROM python:3.11-slim
COPY wheels/ /tmp/wheels/
RUN pip install --no-cache-dir /tmp/wheels/*.whl && rm -rf /tmp/wheels
COPY data/ /opt/backprop-kit/data/
ENV BACKPROP_KIT_DATA=/opt/backprop-kit/data/mnist PYTHONDONTWRITEBYTECODE=1
"""

RUN_SH = """\
#!/bin/sh
# PrairieLearn's entrypoint for Backprop Kit questions: grade /grade/student, write /grade/results.
# The question's info.json passes the assignment and the seconds grading may take (kept below the
# job timeout, so results are written before PrairieLearn kills the job): run.sh 02_activations 75
exec python3 -m autograder prairielearn-grade /grade --assignment "$1" ${2:+--deadline "$2"}
"""

QUESTION_HTML = """\
<pl-question-panel>
  <p>Upload your completed notebook <code>{notebook}</code>{model}. It is graded by Backprop Kit: every
  function is checked on its own, and a wrong answer is explained.</p>
</pl-question-panel>

<pl-file-upload file-names="{files}"></pl-file-upload>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""

TIMEOUTS = {CAPSTONE: 240}   # seconds of PrairieLearn's job timeout; 90 for the others


def export(assignments: list[str], out: str | Path, *, image: str = "YOUR_DOCKERHUB_USER/backprop-kit-grader",
           config: Config | None = None) -> Path:
    """A folder to merge into a PrairieLearn course, plus the image to build and push."""
    import shutil
    import uuid

    out = Path(out)
    config = config or Config()
    build_wheel(out / "image" / "wheels")
    (out / "image" / "data" / "mnist").mkdir(parents=True, exist_ok=True)
    for f in mnist_test_files():
        shutil.copy2(f, out / "image" / "data" / "mnist" / f.name)
    (out / "image" / "Dockerfile").write_text(DOCKERFILE)
    kit = out / "serverFilesCourse" / "backprop_kit"
    kit.mkdir(parents=True, exist_ok=True)
    (kit / "run.sh").write_text(RUN_SH)
    (kit / "run.sh").chmod(0o755)
    (kit / CONFIG_NAME).write_text(json.dumps(dict(config.as_dict(), assignment=None), indent=2) + "\n")
    for assignment in assignments:
        timeout = TIMEOUTS.get(assignment, 90)
        q = out / "questions" / f"backprop_{assignment}"
        q.mkdir(parents=True, exist_ok=True)
        notebook = NOTEBOOK_NAMES[assignment]
        files = notebook + (",model.npz" if assignment == CAPSTONE else "")
        info = {
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"backprop-kit/{assignment}")),
            "title": f"Backprop Kit {assignment}",
            "topic": "Neural networks from scratch",
            "tags": ["backprop-kit"],
            "type": "v3",
            "singleVariant": True,
            "gradingMethod": "External",
            "externalGradingOptions": {
                "enabled": True,
                "image": image,
                "serverFilesCourse": ["backprop_kit/"],
                "entrypoint": f"/grade/serverFilesCourse/backprop_kit/run.sh {assignment} {timeout - 15}",
                "timeout": timeout,
            },
        }
        (q / "info.json").write_text(json.dumps(info, indent=2) + "\n")
        (q / "question.html").write_text(QUESTION_HTML.format(
            notebook=notebook, files=files,
            model=" and your saved model <code>model.npz</code>" if assignment == CAPSTONE else ""))
    return out
