"""How often a wrong answer gets a hint, with the relational diagnosis off and on.

Each catalogued bug is judged as if it were a NEW mistake: the catalog is searched without it
(leave-one-out), so its hint can only come from another catalogued bug that happens to reproduce
the same answer, or from the relational diagnosis. Prints one line per bug and the totals:

    python scripts/measure_diagnosis.py [--functions softmax,he_init] [--out hints.tsv]
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

from autograder import catalog, diagnose
from autograder.checks.base import REFERENCE
from autograder.judge import judge


def judged(bug, on: bool):
    os.environ[diagnose.ENV] = "1" if on else "0"
    saved = list(catalog._BUGS)
    catalog._BUGS[:] = [b for b in saved if b is not bug]
    try:
        return [r for r in judge({**REFERENCE, **bug.overrides}, [bug.function]) if not r.passed]
    finally:
        catalog._BUGS[:] = saved


def kind(failed) -> str:
    hints = [r.hint for r in failed if r.hint]
    if not failed:
        return "missed"
    if any(diagnose.is_relational(h) for h in hints):
        return "relation"
    if any(h and not diagnose.is_by_hand(h) for h in hints):
        return "other hint"
    return "no hint"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", default="")
    parser.add_argument("--out", default="")
    a = parser.parse_args(argv)
    wanted = set(filter(None, a.functions.split(",")))
    bugs = [b for b in catalog.bugs() if not wanted or b.function in wanted]
    totals = {False: Counter(), True: Counter()}
    rows = []
    for bug in bugs:
        line = [bug.id]
        for on in (False, True):
            failed = judged(bug, on)
            k = kind(failed)
            totals[on][k] += 1
            line.append(k)
            if on:
                rel = next((r.hint for r in failed if diagnose.is_relational(r.hint)), "")
                line.append(rel)
        rows.append(line)
        print("\t".join(line), flush=True)
    for on in (False, True):
        t = totals[on]
        caught = len(bugs) - t["missed"]
        hinted = t["relation"] + t["other hint"]
        print(f"diagnosis {'on ' if on else 'off'}: caught {caught}/{len(bugs)}, hinted {hinted}/{caught} "
              f"(by a relation {t['relation']}, by another catalogued bug or the check {t['other hint']})",
              file=sys.stderr)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write("\n".join("\t".join(r) for r in rows) + "\n")


if __name__ == "__main__":
    main()
