"""What a host that accepts TCP but never speaks SSH costs a run, measured on the lab.

    python benchmarks/unreachable_host.py [--layer hosts …] [--runs 2]

Runs `picacheck verify` on the lab's inventory as it is, then with bob's SSH address
pointed at a listener on 127.0.0.1 that accepts connections and never sends a banner (a
hung sshd), each --runs times in turn. Prints each run's wall time and exit status, the
connections the silent host received, and the difference of the medians: the silent host
must cost about one banner timeout (its connect_timeout, set to 3 s here), not one per check.
Lab only; it sends nothing anywhere but to the lab and 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from picacheck.lab import topology  # noqa: E402
from selftests.unit.sshd import SilentListener  # noqa: E402

BANNER_TIMEOUT = 3


def timed_verify(inventory: Path, reports: Path, layers: list[str]) -> tuple[float, int]:
    command = [sys.executable, "-m", "picacheck.cli", "verify", "--inventory", str(inventory),
               "--reports", str(reports), *[f"--layer={layer}" for layer in layers]]
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
    return time.monotonic() - started, result.returncode


def silent_bob(lab: Path, port: int, folder: Path) -> Path:
    data = yaml.safe_load(lab.read_text())
    data["hosts"]["bob"]["ssh"].update(address="127.0.0.1", port=port, connect_timeout=BANNER_TIMEOUT)
    path = folder / "silent-bob.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", action="append", default=None, help="layers to verify (default: hosts)")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    lab = topology.LAB_DIR / "inventory.yml"
    if not lab.exists():
        print("unreachable_host: the lab is not up (picacheck lab up)", file=sys.stderr)
        return 2
    layers = args.layer or ["hosts"]
    listener = SilentListener()
    times: dict[str, list[float]] = {"as it is": [], "bob silent": []}
    try:
        with tempfile.TemporaryDirectory(prefix="picacheck-unreachable-") as folder:
            inventories = {"as it is": lab, "bob silent": silent_bob(lab, listener.port, Path(folder))}
            for run in range(1, args.runs + 1):
                for label, inventory in inventories.items():
                    seconds, status = timed_verify(inventory, Path(folder) / f"{label}-{run}", layers)
                    times[label].append(seconds)
                    print(f"run {run}, {label:10}: {seconds:6.1f} s, exit {status}", flush=True)
    finally:
        listener.close()
    print(f"connections the silent bob received: {len(listener.held)} in {args.runs} run(s)")
    extra = statistics.median(times["bob silent"]) - statistics.median(times["as it is"])
    print(f"median extra time for a silent host: {extra:+.1f} s (its banner timeout: {BANNER_TIMEOUT} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
