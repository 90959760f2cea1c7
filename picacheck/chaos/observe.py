"""Observers for experiments: small samples taken every second while a fault lasts.

Each returns an `Observer`: a function giving (ok, what was seen). They reuse the
verification suite's probes, with short timeouts so that one sample never hangs for long.
"""

from __future__ import annotations

import time

from picacheck.chaos.experiment import Observer
from picacheck.inventory import Inventory
from picacheck.probes import cluster, system, web
from picacheck.probes.docker_remote import docker_client
from picacheck.probes.remote import HostPool


def http_through(inventory: Inventory, domain: str, path: str, node: str) -> Observer:
    address = inventory.round_robin_addresses()[node]

    def sample() -> tuple[bool, str]:
        response = web.request("https", domain, address, path, ca_file=inventory.tls.ca_file, timeout=3)
        return response.status < 500, f"HTTP {response.status}"

    return sample


def application_answers(inventory: Inventory, service, node: str) -> Observer:
    """The application's health path through `node`, judged as the suite judges it: 200
    (or a login answer where the inventory says it requires one). A 404 from Traefik (no
    backend) or a 5xx is not an answer."""
    address = inventory.round_robin_addresses()[node]
    accepted = (200, 302, 401, 403) if service.requires_login else (200,)

    def sample() -> tuple[bool, str]:
        response = web.request("https", service.domain, address, service.health_path, ca_file=inventory.tls.ca_file,
                               timeout=3)
        return response.status in accepted, f"HTTP {response.status}"

    return sample


def swarm_command(hosts: HostPool, node: str) -> Observer:
    """`docker service ls` through the node's Docker API: do Swarm commands work there?"""

    def sample() -> tuple[bool, str]:
        with docker_client(hosts[node], timeout=4) as client:
            services = client.services.list()
        return True, f"{len(services)} services listed"

    return sample


def tasks_running_on(hosts: HostPool, manager: str, node: str, services: list[str]) -> Observer:
    """Do the given services have running tasks on `node` (as `manager` sees them)?"""

    def sample() -> tuple[bool, str]:
        missing = []
        for name in services:
            service = cluster.swarm_service(hosts[manager], name)
            if service is None or not any(t.node == node and t.state == "running" for t in service.tasks):
                missing.append(name)
        return not missing, f"not running on {node}: {missing}" if missing else f"all on {node}"

    return sample


def data_writable(hosts: HostPool, node: str, path: str, file_name: str | None = None) -> Observer:
    """Write the node's name and the time in a file of the shared volume (its own file unless
    `file_name` names one that others write too) and read it back, within 5 s."""

    def sample() -> tuple[bool, str]:
        stamp = f"{node} {time.time():.3f}"
        target = f"{path}/{file_name or f'.picacheck-chaos-{node}'}"
        # Killed on the host too: a write hung on the volume would otherwise hold its SSH
        # session, and a few dozen of those exhaust sshd's sessions (MaxSessions).
        result = hosts[node].run(f"timeout -s KILL 5 sh -c \"echo '{stamp}' > {target} && cat {target}\"", timeout=6)
        ok = result.rc == 0 and result.stdout.strip() == stamp
        return ok, "read back" if ok else (result.stderr.strip() or f"exit {result.rc}")[:200]

    return sample


def quorum(hosts: HostPool, node: str, expected_votes: int | None = None) -> Observer:
    def sample() -> tuple[bool, str]:
        status = cluster.quorum_status(hosts[node])
        detail = f"quorate={status.quorate} votes {status.total_votes}/{status.expected_votes} flags {' '.join(status.flags)}"
        ok = status.quorate and (expected_votes is None or status.total_votes == expected_votes)
        return ok, detail

    return sample


def md_array(hosts: HostPool, node: str, array: str) -> Observer:
    """Is the array healthy ([UU], no faulty member)? The detail keeps what mdstat shows."""

    def sample() -> tuple[bool, str]:
        state = system.read_mdstat(hosts[node]).array(array)
        if state is None:
            return False, f"no {array}"
        detail = f"[{state.raid_disks}/{state.active_disks}] [{state.status}]"
        if state.sync:
            detail += f" {state.sync.action} {state.sync.percent}%"
        if state.healthy is None:  # mdstat does not show whether it is degraded: not healthy as far as we know
            return False, detail + " (degraded or not: not shown)"
        return state.healthy, detail

    return sample


def writes_served(hosts: HostPool, node: str, directory: str) -> Observer:
    """Write 1 MiB with O_DSYNC under `directory` and read it back: the storage serves I/O."""

    def sample() -> tuple[bool, str]:
        target = f"{directory}/.picacheck-chaos-io"
        result = hosts[node].run(
            f"dd if=/dev/urandom of={target} bs=64k count=16 oflag=dsync status=none && "
            f"md5sum {target} | cut -c1-8 && rm -f {target}", timeout=10)
        return result.rc == 0, result.stdout.strip() or result.stderr.strip()[:200]

    return sample


def services_backed_by(inventory: Inventory, database: str) -> list:
    """The services of the inventory backed by this database (their Swarm services carry the same names)."""
    return [service for service in inventory.services if service.database == database]


def applications_answer(inventory: Inventory, services: list) -> dict[str, Observer]:
    """Each service's health path (which reads its database) through each round-robin node."""
    return {f"{service.domain}{service.health_path} via {node}": application_answers(inventory, service, node)
            for service in services for node in inventory.round_robin_addresses()}


def gluster_peers_connected(hosts: HostPool, node: str) -> Observer:
    def sample() -> tuple[bool, str]:
        status = cluster.peer_status(hosts[node], timeout=5)
        down = [p.hostname for p in status.disconnected]
        return not down and bool(status.peers), f"disconnected: {down}" if down else "all connected"

    return sample


def swarm_whole(hosts: HostPool, node: str, expected: int) -> Observer:
    """This node's manager answers, with every node Ready and one leader."""

    def sample() -> tuple[bool, str]:
        members = cluster.swarm_members(hosts[node], timeout=4)
        ready = [m.hostname for m in members if m.state == "ready"]
        leaders = [m.hostname for m in members if m.leader]
        return len(ready) == expected and len(leaders) == 1, f"ready {ready}, leader {leaders}"

    return sample


def volume_clean(hosts: HostPool, node: str, volume: str) -> Observer:
    def sample() -> tuple[bool, str]:
        heal = cluster.heal_info(hosts[node], volume, timeout=29)
        ok = heal.pending_entries == 0 and heal.split_brain_entries == 0 and not heal.unreachable_bricks
        return ok, f"{heal.pending_entries} pending, {heal.split_brain_entries} in split-brain"

    return sample
