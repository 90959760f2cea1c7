"""kill-service-node: crash one Swarm VM (pica02 by default; `--option victim=pica01` for the
leader) and watch what the other one does: does every domain keep answering through it (X1),
are the failed node's tasks moved to it (X2), does /DATA stay readable and writable there
(X3), do `docker service` commands still work on it (C13)?"""

from __future__ import annotations

from picacheck.chaos import observe
from picacheck.chaos.runner import ClaimVerdict, Experiment, Observation, Verdict, unavailable_seconds
from picacheck.probes import cluster

NAME = "kill-service-node"
CLAIMS = ["X1", "X2", "X3", "C13"]
SETTLED = 15.0  # the claims are judged on the last seconds of the fault, once failover had its chance


def build(ctx: observe.ChaosContext, victim: str = "pica02", duration: str = "75") -> Experiment:
    inventory = ctx.inventory
    nodes = list(inventory.swarm.managers + inventory.swarm.workers)
    survivor = next(node for node in nodes if node != victim)
    volume_mount = inventory.gluster.volumes[0].mount.path if inventory.gluster else None
    moved: list[str] = []

    def record_victims_services() -> None:
        """Replicated services with a task on the victim: those Swarm should move."""
        for service in cluster.swarm_services(ctx.hosts[survivor]):
            if service.mode == "replicated" and any(t.node == victim and t.state == "running" for t in service.tasks):
                moved.append(service.name)

    def inject() -> None:
        record_victims_services()
        ctx.vms.kill_vm(victim)

    observers = {}
    for service in inventory.services:
        for node in nodes:
            observers[f"{service.domain} via {node}"] = observe.http_through(inventory, service.domain, service.health_path, node)
    observers[f"docker service ls on {survivor}"] = observe.swarm_command(ctx.hosts, survivor)
    if volume_mount:
        observers[f"{volume_mount} writable on {survivor}"] = observe.data_writable(ctx.hosts, survivor, volume_mount)
    observers[f"victim's tasks running on {survivor}"] = lambda: observe.tasks_running_on(ctx.hosts, survivor, survivor, moved)()

    steady = {f"{s.domain} via {n}": observe.http_through(inventory, s.domain, s.health_path, n)
              for s in inventory.services for n in nodes}
    steady[f"docker service ls on {survivor}"] = observe.swarm_command(ctx.hosts, survivor)

    def measure(timeline: list[Observation]):
        end = max(o.t for o in timeline)
        settled = [o for o in timeline if o.t >= end - SETTLED]

        def held(probe: str) -> bool:
            samples = [o for o in settled if o.probe == probe]
            return bool(samples) and all(o.ok for o in samples)

        figures = {"victim": victim, "survivor": survivor, "fault_seconds": round(end, 1),
                   "unavailable_seconds": {p: unavailable_seconds(timeline, p) for p in observers},
                   "services_to_move": moved}
        verdicts = []
        domains = [f"{s.domain} via {survivor}" for s in inventory.services]
        down = [d for d in domains if not held(d)]
        verdicts.append(ClaimVerdict("X1", Verdict.broken if down or not domains else Verdict.holds,
            f"{victim} killed; through {survivor}: " + "; ".join(
                f"{d.split(' via ')[0]} unavailable {figures['unavailable_seconds'][d]} s" for d in domains)
            + (f"; still down at the end: {down}" if down else "") if domains else "no service documented"))
        probe = f"victim's tasks running on {survivor}"
        verdicts.append(ClaimVerdict("X2", Verdict.holds if held(probe) else Verdict.broken,
            f"services with a task on {victim}: {moved or 'none'}; at the end: "
            + next((o.detail for o in reversed(timeline) if o.probe == probe), "no sample")))
        if volume_mount:
            probe = f"{volume_mount} writable on {survivor}"
            verdicts.append(ClaimVerdict("X3", Verdict.holds if held(probe) else Verdict.broken,
                f"{volume_mount} on {survivor}: unavailable {figures['unavailable_seconds'][probe]} s during the fault"))
        probe = f"docker service ls on {survivor}"
        verdicts.append(ClaimVerdict("C13", Verdict.holds if held(probe) else Verdict.broken,
            f"`docker service ls` on {survivor} failed {figures['unavailable_seconds'][probe]} s; last: "
            + next((o.detail for o in reversed(timeline) if o.probe == probe), "no sample")))
        return figures, verdicts

    return Experiment(
        name=NAME,
        claims=CLAIMS,
        description=f"crash the VM {victim} (no clean shutdown); start it again afterwards",
        steady_state=steady,
        inject=inject,
        rollback=lambda: ctx.vms.start_vm(victim),
        observers=observers,
        fault_duration=float(duration),
        measure=measure,
        steady_state_timeout=420,
    )

