#!/usr/bin/env python3
"""How many requests per second per core the suite's load generator (locust, FastHttpUser,
one process, certificate verified, pinned to a node) makes, beside wrk on the same
endpoint in the same run: a trivial lab endpoint served by Traefik itself over HTTPS
(https://traefik.picasoft.test/api/version through pica01 by default).

    .venv/bin/python benchmarks/load_generator.py [--seconds 10] [--connections 20] [--json]

Both run in turn for --seconds (bounded), with the same number of connections (locust
users without think time, wrk connections on one thread), keep-alive. Per core = requests
completed / CPU seconds the generator used, measured over the steady part of the run
(locust: between two samples of /proc/PID/stat, so its start-up imports do not count;
wrk: its whole run). Wall throughput is printed too, but on the lab's two cores the
generator, Traefik and the rest of the lab share the CPU, so per core is the figure to
compare. wrk sends the service's name as SNI when this runs as root (a private mount
namespace gives wrk an /etc/hosts entry; nothing on the machine changes), else it connects
to the address with the name as Host header; wrk never verifies certificates, locust does.
Traffic goes only to the lab node's address.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from picacheck.inventory import load_inventory  # noqa: E402
from picacheck.load import runner  # noqa: E402
from picacheck.load.results import RunFiles, aggregated  # noqa: E402
from picacheck.load.target import LOCUSTFILES, Target, refuse_production  # noqa: E402
from picacheck.inventory.default import default_inventory_path  # noqa: E402

LAB_NETWORK = "172.30.42."
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def run_locust(target: Target, path: str, seconds: int, connections: int, out_dir: Path) -> dict:
    out = RunFiles(out_dir)
    command = runner.locust_command([LOCUSTFILES / "static.py"], target, out,
                                    extra=["-u", str(connections), "-r", str(connections), "-t", f"{seconds + 3}s",
                                           "--think-time", "0,0", "--paths", path])
    with open(out_dir / "locust.out", "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=out_dir,
                                   start_new_session=True)
        try:
            time.sleep(3)  # imports, start-up, users spawned
            t0, cpu0 = time.time(), cpu_seconds(process.pid)
            time.sleep(seconds)
            t1, cpu1 = time.time(), cpu_seconds(process.pid)
            process.wait(timeout=seconds + 60)
        finally:
            runner._stop(process)  # noqa: SLF001 - same stopping rule as the suite's runs
    history = out.read_history()
    inside = [s for s in history if t0 <= s.timestamp <= t1]
    if len(inside) < 2:
        raise SystemExit(f"locust wrote too little history (see {out_dir})")
    requests = inside[-1].total_requests - inside[0].total_requests
    window = inside[-1].timestamp - inside[0].timestamp
    cpu = (cpu1 - cpu0) * window / (t1 - t0)  # CPU over the same window as the requests
    totals = aggregated(out.read_stats())
    return {"requests": requests, "window_s": window, "rps": requests / window, "cpu_s": round(cpu, 2),
            "cpu_share": round(cpu / window, 2), "rps_per_core": requests / cpu if cpu else None,
            "p50_ms": totals.p50_ms, "p95_ms": totals.p95_ms, "failures": totals.failures,
            "all_requests": totals.requests}


def run_wrk(domain: str, address: str, path: str, seconds: int, connections: int, out_dir: Path) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed (Debian's wrk; scripts/bootstrap installs it)")
    base = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if os.geteuid() == 0 and shutil.which("unshare"):
        hosts = out_dir / "hosts"
        hosts.write_text(f"127.0.0.1 localhost\n{address} {domain}\n")
        command = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts), *base, f"https://{domain}{path}"]
        sni = domain
    else:
        command = [*base, "-H", f"Host: {domain}", f"https://{address}{path}"]
        sni = address
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    (out_dir / "wrk.out").write_text(result.stdout + result.stderr)
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", result.stdout)
    if result.returncode != 0 or not match:
        raise SystemExit(f"wrk failed: {result.stderr.strip() or result.stdout.strip()}")
    requests = int(match.group(1))
    elapsed = float(match.group(2)) / (1000 if match.group(3) == "ms" else 1)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", result.stdout)
    p50_ms = None
    if p50:
        p50_ms = float(p50.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p50.group(2)]
    return {"requests": requests, "window_s": elapsed, "rps": requests / elapsed, "cpu_s": round(cpu, 2),
            "cpu_share": round(cpu / elapsed, 2), "rps_per_core": requests / cpu if cpu else None,
            "p50_ms": p50_ms, "non_2xx": int(errors.group(1)) if errors else 0, "sni": sni}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default=None, help="inventory (default: the lab's)")
    parser.add_argument("--service", default="traefik", help="service of the inventory whose domain to use")
    parser.add_argument("--path", default="/api/version", help="the trivial endpoint (default: Traefik's /api/version)")
    parser.add_argument("--node", default=None, help="node address (default: the first of the round robin)")
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per generator (default 10, max 60)")
    parser.add_argument("--connections", type=int, default=20, help="locust users / wrk connections (default 20)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds = max(3, min(args.seconds, 60))
    inventory = load_inventory(args.inventory or default_inventory_path())
    refuse_production(inventory)
    service = next((s for s in inventory.services if s.name == args.service), None)
    if service is None:
        raise SystemExit(f"no service {args.service!r} in the inventory")
    address = args.node or next(iter(inventory.round_robin_addresses().values()))
    if inventory.environment.kind.value == "lab" and not address.startswith(LAB_NETWORK):
        raise SystemExit(f"{address} is not a lab address")
    target = Target(service=service.name, kind="static", domain=service.domain, scenario="static",
                    addresses=(address,), ca_file=inventory.tls.ca_file)
    work = Path(tempfile.mkdtemp(prefix="picacheck-loadgen-"))
    locust = run_locust(target, args.path, seconds, args.connections, work)
    wrk = run_wrk(service.domain, address, args.path, seconds, args.connections, work)
    ratio = locust["rps_per_core"] / wrk["rps_per_core"] if locust["rps_per_core"] and wrk["rps_per_core"] else None
    figures = {"endpoint": f"https://{service.domain}{args.path}", "node": address, "cpus": os.cpu_count(),
               "connections": args.connections, "seconds": seconds, "locust": locust, "wrk": wrk,
               "ratio_per_core": round(ratio, 3) if ratio else None,
               "ratio_wall": round(locust["rps"] / wrk["rps"], 3) if wrk["rps"] else None, "files": str(work)}
    print(f"endpoint: {figures['endpoint']} via {address}, {args.connections} connections, {seconds} s each, "
          f"{os.cpu_count()} cores shared with the lab")
    print(f"locust (FastHttpUser, 1 process, cert verified): {locust['rps']:.0f} req/s wall, "
          f"CPU {locust['cpu_share']:.2f} core → {locust['rps_per_core']:.0f} req/s per core "
          f"(p50 {locust['p50_ms']} ms, {locust['failures']} failures)")
    print(f"wrk (1 thread, SNI {wrk['sni']}): {wrk['rps']:.0f} req/s wall, CPU {wrk['cpu_share']:.2f} core → "
          f"{wrk['rps_per_core']:.0f} req/s per core (p50 {wrk['p50_ms']} ms, {wrk['non_2xx']} non-2xx)")
    print(f"locust / wrk: {figures['ratio_per_core']} per core, {figures['ratio_wall']} wall")
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
