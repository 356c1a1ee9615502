"""Grade a folder of submissions on one machine: `python -m autograder grade DIR --jobs N --out grades.csv`.

- N lanes at a time, each with one long-lived judge process (autograder.judge_service: the judge's
  start-up is paid once per lane, and each submission still runs in a sandbox worker of its own:
  under bubblewrap forked from the lane's pre-imported zygote, in a sandbox reset between workers;
  otherwise freshly started, launched while the submission before it is judged). Each submission has its own deadline: a
  judge that runs out of time is killed with its process group, and a fresh one takes the lane's next
  submission. A judge that dies, and the capstone's two runs, are graded by one-shot judge subprocesses
  (`python -m autograder check FILE --json`), as with --judge-per-submission for every submission.
- A row per submission whatever happens: `status` is "graded", "unusable" (the judge cannot use the
  file: a syntax error, not a notebook), "missing" (a folder with nothing to grade), "timeout" or
  "error" (the judge failed), and `reason` says why.
- Resumable: each row records `sha256`, a hash of the submitted files' names and bytes, and `grader`,
  a hash of the kit's own code and of the options that change a verdict. A submission whose CSV row
  has the same two is not graded again (unless --force); rows with status "error" are retried.
  Rows are appended as they finish, so an interrupted batch keeps what it did.
- Independent of --jobs and of order: the judge is deterministic (fixed seeds), rows are sorted by
  submission when the batch ends, and nothing in a row depends on timing.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.platforms import CAPSTONE, error_report
from autograder.platforms.files import pick, submission_hash
from autograder.platforms.runner import JudgeOptions, judge_capstone, judge_file
from autograder.platforms.served import ServedJudge

FIXED_COLUMNS = ["submission", "status", "reason", "score", "max_score", "checks_passed", "checks",
                 "isolation", "sha256", "grader"]
RETRIED = {"error"}


def discover(folder: Path, assignment: str | None) -> dict[str, dict]:
    """Submission id -> its files: each .py/.ipynb file directly in `folder` is one submission (id: its
    name), each sub-folder is one (id: the folder's name; the file is chosen as on Gradescope)."""
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix in (".py", ".ipynb"):
            found[entry.name] = {"code": entry, "model": None, "notes": []}
        elif entry.is_dir():
            picked = pick(entry, assignment)
            found[entry.name] = {"code": picked.code, "model": picked.model, "notes": picked.notes}
    return found


def grader_fingerprint(options: JudgeOptions) -> str:
    """What makes a verdict: the kit's code and the options passed to the judge."""
    import autograder
    import solutions

    h = hashlib.sha256()
    for package in (autograder, solutions):
        base = Path(package.__file__).parent
        for path in sorted(base.rglob("*.py")):
            h.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    h.update(json.dumps([options.assignment, options.timeout, options.public, options.require_sandbox]).encode())
    return h.hexdigest()[:16]


def function_columns(assignment: str | None) -> list[str]:
    from autograder.checks import ASSIGNMENTS, FUNCTIONS

    if assignment:
        return list(ASSIGNMENTS[assignment]) + (["capstone"] if assignment == CAPSTONE else [])
    return list(FUNCTIONS)


def grade_one(sub_id: str, files: dict, options: JudgeOptions, judge: ServedJudge | None = None) -> tuple[dict, dict]:
    """One submission's report and timing; never raises. `judge`: the job's long-lived judge (which
    may already be loading this submission); a one-shot judge grades what it cannot."""
    start = time.monotonic()
    try:
        if options.assignment == CAPSTONE and (files["code"] or files["model"]):
            report, _ = judge_capstone(files["code"], files["model"], options)
        elif files["code"]:
            report = judge.answer(files["code"]) if judge else None
            if report is None:
                report, _ = judge_file(files["code"], options)
        else:
            report = error_report(sub_id, "no notebook or .py file in this folder", kind="missing",
                                  assignment=options.assignment)
    except Exception as exc:  # the batch never stops for one submission
        report = error_report(sub_id, f"grading failed: {type(exc).__name__}: {exc}", kind="crash",
                              assignment=options.assignment)
    report["notes"] = list(files.get("notes", [])) + report["notes"]
    return report, {"seconds": round(time.monotonic() - start, 3)}


def row_for(sub_id: str, report: dict, sha: str, grader: str, columns: list[str]) -> dict:
    kind = report.get("kind", "")
    statuses = {"unusable": "unusable", "missing": "missing", "timeout": "timeout", "crash": "error"}
    status = statuses.get(kind, "graded") if report.get("error") else "graded"
    per_function: dict[str, float] = {}
    for r in report["results"]:
        per_function[r["function"]] = per_function.get(r["function"], 0.0) + r["points"]
    row = {
        "submission": sub_id, "status": status,
        "reason": " ".join(report.get("error", "").split())[:500],
        "score": f"{report['score']:g}", "max_score": f"{report['max_score']:g}",
        "checks_passed": sum(r["passed"] for r in report["results"]), "checks": len(report["results"]),
        "isolation": report["isolation"].get("level", ""), "sha256": sha, "grader": grader,
    }
    for fn in columns:
        row[fn] = f"{per_function[fn]:g}" if fn in per_function else ""
    return row


def _read_rows(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    rows = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("submission") and row.get("sha256") and row.get("grader") and row.get("status"):
                rows[row["submission"]] = row
    return rows


def _read_jsonl(path: Path | None) -> dict[str, str]:
    if not path or not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out[json.loads(line)["submission_id"]] = line
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a line cut by an interruption
    return out


def grade_batch(submissions: str | Path, *, out: str | Path = "grades.csv", jobs: int = 2,
                jsonl: str | Path | None = None, force: bool = False, assignment: str | None = None,
                timeout: float | None = None,
                deadline: float = 300.0, require_sandbox: bool = False, python: str | None = None,
                progress: bool = True, served: bool = True) -> int:
    folder, out = Path(submissions), Path(out)
    jsonl = Path(jsonl) if jsonl else None
    if not folder.is_dir():
        print(f"autograder: {folder} is not a folder of submissions", file=sys.stderr)
        return 2
    options = JudgeOptions(assignment=assignment, timeout=timeout, deadline=deadline,
                           require_sandbox=require_sandbox, python=python)
    grader = grader_fingerprint(options)
    columns = function_columns(assignment)
    header = FIXED_COLUMNS + columns
    found = discover(folder, assignment)
    hashes = {sid: submission_hash([p for p in (f["code"], f["model"]) if p]) for sid, f in found.items()}
    previous = {} if force else _read_rows(out)
    previous_lines = {} if force else _read_jsonl(jsonl)
    kept = {sid: row for sid, row in previous.items()
            if sid in found and row["sha256"] == hashes[sid] and row["grader"] == grader
            and row["status"] not in RETRIED}
    todo = [sid for sid in found if sid not in kept]

    rows = dict(kept)
    lines = {sid: previous_lines[sid] for sid in kept if sid in previous_lines}
    lock = threading.Lock()
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_all(out, header, rows, jsonl, lines)  # what is kept, before anything new
    csv_file = open(out, "a", newline="", encoding="utf-8")
    writer = csv.DictWriter(csv_file, fieldnames=header, extrasaction="ignore")
    json_file = open(jsonl, "a", encoding="utf-8") if jsonl else None

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), file=sys.stderr, unit="sub", desc="grading", dynamic_ncols=True)
    start = time.monotonic()

    def record(sid: str, report: dict, timing: dict) -> None:
        row = row_for(sid, report, hashes[sid], grader, columns)
        line = json.dumps({"submission_id": sid, **timing, "row": row, "report": report}, ensure_ascii=False)
        with lock:
            rows[sid], lines[sid] = row, line
            writer.writerow(row)
            csv_file.flush()
            if json_file:
                json_file.write(line + "\n")
                json_file.flush()
            if bar:
                bar.set_postfix_str(f"{sid}: {row['status']} {row['score']}/{row['max_score']}"[:60])
                bar.update(1)

    try:
        run_lanes(todo, found, options, record, jobs=max(1, jobs), served=served and assignment != CAPSTONE)
    finally:
        if bar:
            bar.close()
        csv_file.close()
        if json_file:
            json_file.close()
    _write_all(out, header, rows, jsonl, lines)  # sorted: the same file whatever the order of finishing
    elapsed = time.monotonic() - start
    counts = {}
    for row in rows.values():
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    rate = f", {len(todo) / elapsed * 60:.0f} submissions/min" if todo and elapsed > 0 else ""
    tally = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"graded {len(todo)}, skipped {len(kept)} already graded ({tally})"
          f" in {elapsed:.1f} s{rate}; wrote {out}" + (f" and {jsonl}" if jsonl else ""), file=sys.stderr)
    return 0


def run_lanes(todo: list[str], found: dict[str, dict], options: JudgeOptions, record, *, jobs: int,
              served: bool) -> None:
    """Grade `todo` in `jobs` lanes (threads), each taking the next submission when it is done with
    one; with `served`, a lane keeps one long-lived judge (autograder.judge_service) and asks it for
    its next submission before it waits for the current one, so that one's sandbox loads meanwhile."""
    queue = deque(todo)
    lock = threading.Lock()

    def take() -> str | None:
        with lock:
            return queue.popleft() if queue else None

    def lane() -> None:
        judge = ServedJudge(options) if served else None
        try:
            current = take()
            if judge and current and found[current]["code"]:
                judge.ask(found[current]["code"])
            while current is not None:
                after = take()
                if judge and after and found[after]["code"]:
                    judge.ask(found[after]["code"])
                record(current, *grade_one(current, found[current], options, judge))
                current = after
        finally:
            if judge:
                judge.close()

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(lane) for _ in range(jobs)]:
            future.result()


def _write_all(out: Path, header: list[str], rows: dict, jsonl: Path | None, lines: dict) -> None:
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for sid in sorted(rows):
            writer.writerow(rows[sid])
    os.replace(tmp, out)
    if jsonl:
        tmp = jsonl.with_name(jsonl.name + ".tmp")
        tmp.write_text("".join(lines[sid] + "\n" for sid in sorted(lines)), encoding="utf-8")
        os.replace(tmp, jsonl)
