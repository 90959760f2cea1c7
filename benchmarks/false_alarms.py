"""False alarms, counted: the whole verification N times in a row on a healthy lab.

    python benchmarks/false_alarms.py [--runs 10] [--layer hosts …] [--chaos-first]

Each run is `picacheck verify` as a user runs it (a subprocess, its own run folder). For
each run it prints the wall time and the claims that broke, with why. A claim broken in a
run is a **false alarm** unless the lab documents it as refuted by design (below, with the
reason: those are the documentation's falsehoods, found by the suite, and must stay
broken); a claim of that list that holds is printed too, as a missed finding.

--chaos-first runs the experiments once (`verify --chaos`), then the N verifications: after
the drills the lab must be as healthy as before. Exit 0 when no false alarm and no missed
finding was seen, 1 otherwise. Lab only: it never runs against another inventory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PICACHECK = [sys.executable, "-m", "picacheck.cli"]

# What the lab refutes on purpose: the hand-over report is wrong there (see CLAIMS.md).
REFUTED_ON_THE_LAB = {
    "B9": "the report's PostgreSQL restore.sh feeds a plain-SQL dump to pg_restore, which refuses it",
}
REFUTED_BY_THE_DRILLS = {
    "C13": "two Swarm managers lose their raft quorum with one of them down: no `docker service` on the other",
    "X1": "the services whose only task was on the killed node stop answering",
    "X2": "with no raft quorum, Swarm moves no task",
    "C9": "a partition of the replica-2 volume leaves a split-brain that gluster does not heal by itself",
}


def verify(reports: Path, layers: list[str], chaos: bool) -> tuple[dict, float, int]:
    """One `picacheck verify`; its summary, wall time and exit status."""
    command = [*PICACHECK, "verify", "--reports", str(reports), *sum((["--layer", layer] for layer in layers), [])]
    if chaos:
        command.append("--chaos")
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    summary_file = reports / "latest" / "summary.json"
    if not summary_file.exists():
        raise SystemExit(f"false_alarms: the run wrote no summary (exit {result.returncode}): "
                         f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}")
    return json.loads(summary_file.read_text()), seconds, result.returncode


def judge(summary: dict, expected: dict[str, str]) -> tuple[list[dict], list[str]]:
    """(claims broken without being expected: false alarms, expected refutations that held)."""
    checked = {row["id"]: row for row in summary["claims"]}
    alarms = [row for row in summary["claims"] if row["verdict"] == "broken" and row["id"] not in expected]
    missed = [claim for claim in expected if checked.get(claim, {}).get("verdict") == "holds"]
    return alarms, missed


def why(row: dict) -> str:
    lines = [line for line in row["evidence"] if line.strip()]
    return (lines[-1] if lines else "no evidence").splitlines()[0][:300]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--layer", action="append", default=[], help="only these layers (default: all)")
    parser.add_argument("--chaos-first", action="store_true", help="run the experiments once before the N runs")
    args = parser.parse_args()
    reports = Path(tempfile.mkdtemp(prefix="picacheck-false-alarms-"))
    bad = 0
    if args.chaos_first:
        summary, seconds, status = verify(reports, args.layer, chaos=True)
        alarms, missed = judge(summary, {**REFUTED_ON_THE_LAB, **REFUTED_BY_THE_DRILLS})
        bad += report_run("chaos", summary, seconds, status, alarms, missed)
    for run in range(1, args.runs + 1):
        summary, seconds, status = verify(reports, args.layer, chaos=False)
        alarms, missed = judge(summary, REFUTED_ON_THE_LAB if not args.layer or "backup" in args.layer else {})
        bad += report_run(str(run), summary, seconds, status, alarms, missed)
    print(f"false_alarms: {bad} run(s) with a false alarm or a missed finding; run folders in {reports}")
    return 1 if bad else 0


def report_run(label: str, summary: dict, seconds: float, status: int, alarms: list[dict], missed: list[str]) -> int:
    counts = ", ".join(f"{n} {status_}" for status_, n in summary["counts"].items() if n)
    expected = sorted(row["id"] for row in summary["claims"] if row["verdict"] == "broken"
                      and row not in alarms)
    print(f"run {label}: {seconds:.0f} s, exit {status}: {counts}; refuted as documented: {', '.join(expected) or '-'}",
          flush=True)
    for row in alarms:
        print(f"  FALSE ALARM {row['id']}: {why(row)}", flush=True)
    for claim in missed:
        print(f"  MISSED {claim}: held, but the lab refutes it ({REFUTED_ON_THE_LAB.get(claim) or REFUTED_BY_THE_DRILLS[claim]})",
              flush=True)
    return 1 if alarms or missed else 0


if __name__ == "__main__":
    sys.exit(main())
