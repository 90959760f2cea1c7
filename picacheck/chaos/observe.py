"""Observations for experiments: small probes sampled every second while a fault lasts.

Each returns a `Probe`: a function giving (ok, detail). They reuse the verification
suite's probes, with short timeouts so that one sample never blocks the clock for long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from picacheck.chaos.runner import Probe
from picacheck.inventory import Inventory
from picacheck.probes import cluster, system, web
from picacheck.probes.docker_remote import docker_client
from picacheck.probes.remote import HostPool


@dataclass
class ChaosContext:
    """What an experiment works with: the documented state, the hosts, the machines' control."""

    inventory: Inventory
    hosts: HostPool
    vms: object  # picacheck.chaos.vms.VmControl


def http_through(inventory: Inventory, domain: str, path: str, node: str) -> Probe:
    address = inventory.round_robin_addresses()[node]

    def probe() -> tuple[bool, str]:
        response = web.request("https", domain, address, path, ca_file=inventory.tls.ca_file, timeout=3)
        return response.status < 500, f"HTTP {response.status}"

    return probe


def application_answers(inventory: Inventory, service, node: str) -> Probe:
    """The application's health path through `node`, judged as the suite judges it: 200
    (or a login answer where the inventory says it requires one). A 404 from Traefik (no
    backend) or a 5xx is not an answer."""
    address = inventory.round_robin_addresses()[node]
    accepted = (200, 302, 401, 403) if service.requires_login else (200,)

    def probe() -> tuple[bool, str]:
        response = web.request("https", service.domain, address, service.health_path, ca_file=inventory.tls.ca_file,
                               timeout=3)
        return response.status in accepted, f"HTTP {response.status}"

    return probe


def swarm_command(hosts: HostPool, node: str) -> Probe:
    """`docker service ls` through the node's Docker API: do Swarm commands work there?"""

    def probe() -> tuple[bool, str]:
        with docker_client(hosts[node], timeout=4) as client:
            services = client.services.list()
        return True, f"{len(services)} services listed"

    return probe


def tasks_running_on(hosts: HostPool, manager: str, node: str, services: list[str]) -> Probe:
    """Do the given services have running tasks on `node` (as `manager` sees them)?"""

    def probe() -> tuple[bool, str]:
        missing = []
        for name in services:
            service = cluster.swarm_service(hosts[manager], name)
            if service is None or not any(t.node == node and t.state == "running" for t in service.tasks):
                missing.append(name)
        return not missing, f"not running on {node}: {missing}" if missing else f"all on {node}"

    return probe


def data_writable(hosts: HostPool, node: str, path: str, file_name: str | None = None) -> Probe:
    """Write the node's name and the time in a file of the shared volume (its own file unless
    `file_name` names one that others write too) and read it back, within 5 s."""

    def probe() -> tuple[bool, str]:
        stamp = f"{node} {time.time():.3f}"
        target = f"{path}/{file_name or f'.picacheck-chaos-{node}'}"
        # Killed on the host too: a write hung on the volume would otherwise hold its SSH
        # session, and a few dozen of those exhaust sshd's sessions (MaxSessions).
        result = hosts[node].run(f"timeout -s KILL 5 sh -c \"echo '{stamp}' > {target} && cat {target}\"", timeout=6)
        ok = result.rc == 0 and result.stdout.strip() == stamp
        return ok, "read back" if ok else (result.stderr.strip() or f"exit {result.rc}")[:200]

    return probe


def quorum(hosts: HostPool, node: str, expected_votes: int | None = None) -> Probe:
    def probe() -> tuple[bool, str]:
        status = cluster.quorum_status(hosts[node])
        detail = f"quorate={status.quorate} votes {status.total_votes}/{status.expected_votes} flags {' '.join(status.flags)}"
        ok = status.quorate and (expected_votes is None or status.total_votes == expected_votes)
        return ok, detail

    return probe


def md_array(hosts: HostPool, node: str, array: str) -> Probe:
    """Is the array healthy ([UU], no faulty member)? The detail keeps what mdstat shows."""

    def probe() -> tuple[bool, str]:
        state = system.read_mdstat(hosts[node]).array(array)
        if state is None:
            return False, f"no {array}"
        detail = f"[{state.raid_disks}/{state.active_disks}] [{state.status}]"
        if state.sync:
            detail += f" {state.sync.action} {state.sync.percent}%"
        if state.healthy is None:  # mdstat does not show whether it is degraded: not healthy as far as we know
            return False, detail + " (degraded or not: not shown)"
        return state.healthy, detail

    return probe


def writes_served(hosts: HostPool, node: str, directory: str) -> Probe:
    """Write 1 MiB with O_DSYNC under `directory` and read it back: the storage serves I/O."""

    def probe() -> tuple[bool, str]:
        target = f"{directory}/.picacheck-chaos-io"
        result = hosts[node].run(
            f"dd if=/dev/urandom of={target} bs=64k count=16 oflag=dsync status=none && "
            f"md5sum {target} | cut -c1-8 && rm -f {target}", timeout=10)
        return result.rc == 0, result.stdout.strip() or result.stderr.strip()[:200]

    return probe
