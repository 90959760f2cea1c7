"""up / status / down of the lab's services (DNS, ACME CA, Traefik, databases, applications).

    up()      on a running lab (`picacheck lab up` first): images built and pushed where
              their recipe changed, DNS and ACME CA on admin, secrets, files on /DATA, the
              Swarm services, certificates from the ACME CA, then waits until every
              application answers through every node. Idempotent: a second `up` changes
              nothing. Returns the names of the steps that changed something.
    status()  prints and returns the state: DNS, CA, images, services, certificates, health.
    down()    removes the services, their secrets, their data on /DATA, the DNS and CA
              containers and this part's files (images stay as a build cache unless
              images=True; the host download cache stays unless purge=True).
    is_up()   the ACME CA's roots were recorded (so the services were brought up)

Traefik and the ACME CA: both Traefik tasks (one per node) share /DATA/WEB/traefik/certs
/acme.json, as in the report. An http-01 challenge is known only to the Traefik that
ordered the certificate, and pebble validates (three times) at the first address it
resolves. So pebble, which asks the lab DNS from admin's address, gets a view of the zone
where the service names lead to plan.ACME_ISSUER (pica01); the certificates are obtained
with Traefik on that node only; then Traefik goes global and both tasks serve them from
the shared acme.json. Certificates already there and chained to a recorded pebble root are
kept (pebble makes a new root at each start; plan.ACME_ROOTS_FILE keeps every root seen).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time

from picacheck.errors import UserError
from picacheck.lab import engine, locks
from picacheck.lab import topology as T
from picacheck.lab.services import build, plan, stand_ins, swarm
from picacheck.lab.services.certificates import chain_is_trusted
from picacheck.lab.ssh import Node, RemoteError
from picacheck.lab.steps import Steps
from picacheck.probes import web
from picacheck.progress import say, step

RETRY_ACME_AFTER = 90  # seconds without every certificate before Traefik asks again


def _locked():
    return locks.locked("services", "`up` or `down` of the lab's services")


# --- up ------------------------------------------------------------------------------------


def prepare() -> list[str]:
    """The host downloads and every service image in the lab's engine (built or from the
    image cache): nothing of the other parts is needed but the lab's engine."""
    engine.require_lab("services")
    steps = Steps("services")
    with _locked(), steps.one_line_errors():
        steps.run("images", build.build_all)
    return steps.changed


def up(timeout: float = 600) -> list[str]:
    """Bring the services up. Returns the names of the steps that changed something."""
    engine.require_lab("services")
    started = time.monotonic()
    steps = Steps("services")
    with _locked(), steps.one_line_errors():
        plan.SERVICES_DIR.mkdir(parents=True, exist_ok=True)
        plan.SERVICES_DIR.chmod(0o755)  # the ACME roots file is for every user of the suite
        steps.run("secrets", swarm.ensure_secret_files)
        steps.run("images", build.build_all)
        with step("Images: in the registry (pushed by admin), on both Swarm nodes (pulled through alice)"):
            steps.run("registry and pulls", build.distribute_all)
        steps.run("dns", stand_ins.ensure_dns)
        steps.run("acme", stand_ins.ensure_acme)
        steps.run("acme roots", stand_ins.record_roots)
        manager = swarm.manager()
        try:
            steps.run("volume options", swarm.ensure_volume_options, manager)
            steps.run("files on /DATA", swarm.ensure_data_files, manager)
            steps.run("swarm secrets", swarm.ensure_swarm_secrets, manager)
            wanted = swarm.wanted_args()
            backends = [name for name in wanted if name != plan.TRAEFIK_SERVICE]
            for name in backends:
                steps.run(f"service {name}", swarm.ensure_service, manager, name, wanted[name])
            with step("Waiting for the databases and applications to run"):
                steps.run("databases and applications running", swarm.wait_running, manager, backends,
                          timeout=timeout)
            steps.run("certificates", ensure_certificates, manager, timeout=timeout)
            steps.run(f"service {plan.TRAEFIK_SERVICE}", swarm.ensure_service, manager, plan.TRAEFIK_SERVICE,
                      wanted[plan.TRAEFIK_SERVICE])
            with step("Waiting for Traefik on every node"):
                steps.run("traefik running", swarm.wait_running, manager, [plan.TRAEFIK_SERVICE], timeout=timeout)
            steps.run("stale swarm secrets", swarm.prune_swarm_secrets, manager)
        finally:
            manager.close()
        with step("Waiting until every application answers through every node"):
            steps.run("health", lambda: wait_healthy(timeout=timeout) and False)
        steps.run("state", _write_state)
    took = time.monotonic() - started
    changed = steps.changed
    say(f"lab services up in {took:.0f}s; " + (f"changed: {', '.join(changed)}" if changed else "nothing to change"))
    return changed


def ensure_certificates(manager: Node, timeout: float = 600) -> bool:
    """acme.json holds a certificate for every routed name, chained to a recorded root."""
    roots = stand_ins.read_roots()
    certificates = swarm.stored_certificates(swarm.acme_store(manager))
    missing = [d for d in plan.ROUTED_DOMAINS if d not in certificates]
    untrusted = [d for d, pem in certificates.items()
                 if d in plan.ROUTED_DOMAINS and not chain_is_trusted(pem, roots, d)]
    if not missing and not untrusted:
        return False
    issuer_node = plan.ACME_ISSUER
    with step(f"Certificates from the ACME CA for {', '.join(plan.ROUTED_DOMAINS)} (Traefik on {issuer_node} only)"):
        if untrusted:
            say(f"certificates in acme.json not issued by a recorded root ({', '.join(untrusted)}): asking again")
        deadline = time.monotonic() + timeout
        while True:
            # Traefik asks for a failed name again only when its configuration changes, and
            # pebble forgets every account when it restarts: each attempt starts a new
            # Traefik (on the issuer node only) with a new account and the good certificates.
            swarm.remove_service(manager, plan.TRAEFIK_SERVICE)
            keep = {d: pem for d, pem in certificates.items()
                    if d in plan.ROUTED_DOMAINS and chain_is_trusted(pem, roots, d)}
            swarm.write_acme_store(manager, swarm.acme_store(manager), keep=set(keep))
            swarm.ensure_service(manager, plan.TRAEFIK_SERVICE, swarm.traefik_args(only_on=issuer_node))
            swarm.wait_running(manager, [plan.TRAEFIK_SERVICE], timeout=timeout, only_on=issuer_node)
            attempt_ends = time.monotonic() + RETRY_ACME_AFTER
            while time.monotonic() < min(attempt_ends, deadline):
                certificates = swarm.stored_certificates(swarm.acme_store(manager))
                missing = [d for d in plan.ROUTED_DOMAINS if d not in certificates]
                if not missing:
                    break
                time.sleep(3)
            if not missing:
                break
            if time.monotonic() >= deadline:
                raise UserError(f"lab services: no certificate from the ACME CA for {', '.join(missing)} "
                                f"after {timeout:.0f}s", hint=f"see `docker service logs {plan.TRAEFIK_SERVICE}` "
                                                              f"on {issuer_node}")
            say(f"still no certificate for {', '.join(missing)} after {RETRY_ACME_AFTER}s: asking again")
            stand_ins.record_roots()
            roots = stand_ins.read_roots()
        stand_ins.record_roots()  # pebble may have restarted (a new root) since `up` began
        roots = stand_ins.read_roots()
        bad = [d for d in plan.ROUTED_DOMAINS if not chain_is_trusted(certificates[d], roots, d)]
        if bad:
            raise UserError(f"lab services: the certificates of {', '.join(bad)} do not chain to pebble's root "
                            f"in {plan.ACME_ROOTS_FILE}")
    return True


def health_targets() -> list[tuple[str, str, str]]:
    """(service name, domain, path) of every routed application and the dashboard."""
    apps = [*plan.APPS.values(), plan.DASHBOARD]
    return [(app.name, app.domain, path) for app in apps for path in dict.fromkeys((app.health_path, app.deep_path))]


def check_health(timeout: float = 5) -> dict[str, dict[str, str]]:
    """'<domain><path>' → node → 'ok' or what went wrong, over HTTPS; plus the redirects."""
    results: dict[str, dict[str, str]] = {}
    ca_file = str(plan.ACME_ROOTS_FILE)
    for _, domain, path in health_targets():
        row = results.setdefault(f"https://{domain}{path}", {})
        for node in T.SWARM_NODES:
            address = T.HOSTS[node].address
            try:
                answer = web.request("https", domain, address, path, ca_file=ca_file, timeout=timeout, via=node)
                row[node] = "ok" if answer.status == 200 else f"HTTP {answer.status}"
            except AssertionError as error:
                row[node] = f"{type(error).__name__}: {error}"[:120]
    for _, domain, _ in health_targets():
        row = results.setdefault(f"http://{domain}/", {})
        for node in T.SWARM_NODES:
            try:
                answer = web.request("http", domain, T.HOSTS[node].address, "/", timeout=timeout, via=node)
                location = answer.headers.get("location", "")
                row[node] = "ok" if answer.status in (301, 308) and location == f"https://{domain}/" else \
                    f"HTTP {answer.status} → {location or 'no Location'}"
            except AssertionError as error:
                row[node] = f"{type(error).__name__}: {error}"[:120]
    return results


def wait_healthy(timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        results = check_health()
        failing = {target: row for target, row in results.items() if any(v != "ok" for v in row.values())}
        if not failing:
            return results
        if time.monotonic() > deadline:
            detail = "; ".join(f"{target} via " + ", ".join(f"{n}: {v}" for n, v in row.items() if v != "ok")
                               for target, row in list(failing.items())[:4])
            raise UserError(f"lab services: not answering after {timeout:.0f}s: {detail}")
        time.sleep(3)


def _write_state() -> bool:
    data = {
        "images": {name: build.ref(image) for name, image in plan.IMAGES.items()},
        "acme_roots_file": str(plan.ACME_ROOTS_FILE),
        "dns": plan.DNS_ADDRESS,
    }
    text = json.dumps(data, indent=2) + "\n"
    if plan.STATE_FILE.exists() and plan.STATE_FILE.read_text() == text:
        return False
    plan.STATE_FILE.write_text(text)
    return True


def is_up() -> bool:
    """The services were brought up: the ACME CA's roots, the suite's trust anchor, are recorded."""
    return plan.ACME_ROOTS_FILE.exists()


# --- status --------------------------------------------------------------------------------


def status(out=None) -> dict:
    """Print (to `out`, default stdout) and return the services' state."""
    out = sys.stdout if out is None else out
    report: dict = {"ok": False, "dns": None, "acme": None, "images": {}, "services": {}, "certificates": {},
                    "health": {}}
    if not engine.running():
        print("services: the lab is down", file=out)
        return report
    ok = True
    # DNS
    try:
        resolved = {domain: stand_ins.dns_query(domain) for domain in plan.ROUTED_DOMAINS}
        dns_ok = all(v == sorted(plan.ROUND_ROBIN) for v in resolved.values())
        report["dns"] = {"ok": dns_ok, "server": plan.DNS_ADDRESS, "resolved": resolved}
    except Exception as error:  # noqa: BLE001 - any failure is the status
        dns_ok = False
        report["dns"] = {"ok": False, "server": plan.DNS_ADDRESS, "error": str(error) or type(error).__name__}
    print(f"dns: {plan.DNS_ADDRESS}:53 " + ("round robin ok" if dns_ok else f"FAILED {report['dns']}"), file=out)
    ok &= dns_ok
    # ACME CA
    try:
        acme_ok = stand_ins.pebble_get("/dir").status_code == 200
    except Exception:  # noqa: BLE001
        acme_ok = False
    report["acme"] = {"ok": acme_ok and plan.ACME_ROOTS_FILE.exists(), "directory": plan.ACME_DIRECTORY,
                      "roots_file": str(plan.ACME_ROOTS_FILE), "roots": len(stand_ins.read_roots())}
    print(f"acme: {plan.ACME_DIRECTORY} {'answers' if acme_ok else 'DOWN'}, roots in {plan.ACME_ROOTS_FILE} "
          f"({report['acme']['roots']})", file=out)
    ok &= report["acme"]["ok"]
    # images: the Swarm's in the registry (the DNS's and the CA's run in the lab's engine)
    for name, image in plan.IMAGES.items():
        if not image.swarm:
            continue
        try:
            present = build.in_registry(name, build.recipe(image))
        except UserError:
            present = False
        report["images"][name] = present
    ok &= all(report["images"].values())
    print("images: " + ", ".join(f"{n}{'' if p else ' MISSING'}" for n, p in report["images"].items()), file=out)
    # services
    try:
        manager = swarm.manager()
        try:
            summary = swarm.service_summary(manager)
        finally:
            manager.close()
    except (UserError, RemoteError) as error:
        summary = {}
        print(f"swarm: {error}", file=out)
    for name in plan.SWARM_SERVICES:
        entry = summary.get(name)
        running = sorted(t["node"] for t in (entry or {}).get("tasks", []) if t["state"] == "running")
        wanted = swarm.expected_tasks(name)
        service_ok = entry is not None and len(running) >= wanted
        report["services"][name] = {"ok": service_ok, "running_on": running, **(entry or {})}
        ok &= service_ok
        print(f"  {name:9} {(entry or {}).get('mode') or 'absent':11} running on {', '.join(running) or 'none'}",
              file=out)
    # certificates and health through each node
    if plan.ACME_ROOTS_FILE.exists():
        for domain in plan.ROUTED_DOMAINS:
            row = {}
            for node in T.SWARM_NODES:
                try:
                    cert = web.peer_certificate(domain, T.HOSTS[node].address, ca_file=str(plan.ACME_ROOTS_FILE),
                                                via=node)
                    row[node] = f"ok, {cert.issuer}, {cert.days_left():.0f} days"
                except AssertionError as error:
                    row[node] = f"FAILED {type(error).__name__}: {error}"[:100]
                    ok = False
            report["certificates"][domain] = row
            print(f"  cert {domain}: " + "; ".join(f"{n} {v}" for n, v in row.items()), file=out)
        report["health"] = check_health()
        for target, row in report["health"].items():
            ok &= all(v == "ok" for v in row.values())
            print(f"  {target}: " + ", ".join(f"{n} {v}" for n, v in row.items()), file=out)
    else:
        ok = False
    report["ok"] = bool(ok)
    print(f"services: {'up' if ok else 'DEGRADED'}", file=out)
    return report


# --- down ----------------------------------------------------------------------------------


def down(images: bool = False, purge: bool = False) -> bool:
    """Remove what this part made. Returns whether there was anything to remove."""
    engine.require_root()
    changed = plan.SERVICES_DIR.exists() and any(plan.SERVICES_DIR.iterdir())
    with _locked():
        if engine.running():
            try:
                manager = swarm.manager()
            except UserError as error:
                say(f"services: {error}; nothing removed in the Swarm")
                manager = None
            if manager is not None:
                try:
                    changed |= swarm.remove_all(manager)
                    changed |= swarm.remove_data(manager)
                    if images:
                        changed |= _remove_images([manager.name, *[h for h in T.SWARM_NODES if h != manager.name]])
                finally:
                    manager.close()
            changed |= stand_ins.remove_containers()
            if images:
                changed |= _remove_images([T.REGISTRY_HOST], registry=True)
        for name in plan.SECRETS:
            path = plan.secret_file(name)
            if path.exists():
                path.unlink()
                changed = True
        if purge:
            changed |= build.remove_downloads()
            with contextlib.suppress(OSError):
                plan.DOWNLOADS_DIR.parent.rmdir()  # the cache directory, when nothing else is in it
    shutil.rmtree(plan.SERVICES_DIR, ignore_errors=True)
    say("lab services down: " + ("removed" if changed else "nothing was there"))
    return changed


def _remove_images(hosts: list[str], registry: bool = False) -> bool:
    changed = False
    for host in hosts:
        node = Node(host, connect_timeout=5)
        try:
            result = node.run(f"docker images --filter label={T.LABEL}=services -q | sort -u", check=False, timeout=60)
            ids = result.stdout.split()
            if ids:
                node.run(f"docker rmi -f {' '.join(ids)}", check=False, timeout=300)
                changed = True
        except RemoteError:
            continue
        finally:
            node.close()
    if registry:
        changed |= build.remove_from_registry()
    return changed
