"""kill-service-node: crash one Swarm VM (the last Swarm node by default; `--option
victim=pica01` for the leader) and watch the other one: does every domain keep answering
through it (X1), are the failed node's tasks moved to it (X2), does /DATA stay readable and
writable there (X3), do `docker service` commands still work on it (C13)?"""

from __future__ import annotations

from dataclasses import dataclass, field

from picacheck.chaos import observe, options
from picacheck.chaos.context import ChaosContext
from picacheck.chaos.experiment import Experiment, Fault, Rollback, Window, judged_alike
from picacheck.chaos.journal import ClaimVerdict, Observation, held_at_the_end, last_detail, unavailable_seconds
from picacheck.claims import Verdict
from picacheck.probes import cluster

NAME = "kill-service-node"
CLAIMS = ["X1", "X2", "X3", "C13", "X8"]  # X8 needs the users' view: --with-load SERVICE,…
SETTLED = 15.0  # the claims are judged on the last seconds of the fault, once failover had its chance
FAILOVER = 45.0  # seconds Swarm gets to notice the node down and reschedule, before stopping early
OPTIONS = (options.host("victim", "swarm", options.last_with_role("swarm"), "the Swarm node that crashes"),
           options.seconds("duration", 75, "the longest observation of the fault", maximum=600))
RUNS = ({"victim": options.each_with_role("swarm")},)


def needs(inventory) -> str | None:
    """Why this environment cannot run the experiment (None: it can)."""
    nodes = options.hosts_with_role(inventory, "swarm")
    return None if len(nodes) >= 2 else "fewer than two Swarm nodes"


@dataclass
class State:
    victim: str
    survivor: str
    moved: list[str] = field(default_factory=list)  # replicated services that had a task on the victim


def build(ctx: ChaosContext, victim: str, duration: float) -> Experiment:
    inventory = ctx.inventory
    nodes = options.hosts_with_role(inventory, "swarm")
    state = State(victim, next(node for node in nodes if node != victim))
    survivor = state.survivor
    volume_mount = inventory.gluster.volumes[0].mount.path if inventory.gluster and inventory.gluster.volumes[0].mount \
        else None

    def inject() -> None:
        for service in cluster.swarm_services(ctx.hosts[survivor]):
            if service.mode == "replicated" and any(t.node == victim and t.state == "running" for t in service.tasks):
                state.moved.append(service.name)
        ctx.vms.kill_vm(victim)

    observers = {f"{s.domain} via {n}": observe.http_through(inventory, s.domain, s.health_path, n)
                 for s in inventory.services for n in nodes}
    observers[f"docker service ls on {survivor}"] = observe.swarm_command(ctx.hosts, survivor)
    if volume_mount:
        observers[f"{volume_mount} writable on {survivor}"] = observe.data_writable(ctx.hosts, survivor, volume_mount)
    observers[f"victim's tasks running on {survivor}"] = lambda: observe.tasks_running_on(
        ctx.hosts, survivor, survivor, state.moved)()
    steady = {f"{s.domain} via {n}": observe.http_through(inventory, s.domain, s.health_path, n)
              for s in inventory.services for n in nodes}
    steady[f"docker service ls on {survivor}"] = observe.swarm_command(ctx.hosts, survivor)
    return Experiment(
        name=NAME, claims=CLAIMS,
        fault=Fault(f"crash the VM {victim} (no clean shutdown)", inject,
                    manual=f"stop the VM {victim} at once (qm stop, or pull its hypervisor's plug)",
                    repair=f"start {victim} again"),
        steady_state=steady,
        observers=observers,
        rollbacks=[Rollback(f"start {victim} again", lambda: ctx.vms.start_vm(victim))],
        measure=lambda timeline: _measure(timeline, state, inventory, list(observers), volume_mount),
        # The claims are judged on the last SETTLED seconds: once that judgement is the same
        # as on the SETTLED seconds before, after Swarm's failover time, observing longer
        # changes nothing.
        window=Window(maximum=duration, minimum=min(duration, FAILOVER),
                      settled=judged_alike(list(observers), SETTLED)),
        # The services behind both nodes and Swarm's answer: after a drill that rebooted a
        # node, its tasks take a few minutes to come back, which this waits for.
        steady_state_before_timeout=180, steady_state_after_timeout=420,
    )


def _measure(timeline: list[Observation], state: State, inventory, observers: list[str], volume_mount: str | None):
    victim, survivor = state.victim, state.survivor
    unavailable = {p: unavailable_seconds(timeline, p) for p in observers}
    figures = {"victim": victim, "survivor": survivor, "fault_seconds": round(max(o.t for o in timeline), 1),
               "unavailable_seconds": unavailable, "services_to_move": state.moved}
    domains = [f"{s.domain} via {survivor}" for s in inventory.services]
    down = [d for d in domains if not held_at_the_end(timeline, d, SETTLED)]
    verdicts = [ClaimVerdict("X1", Verdict.broken if down or not domains else Verdict.holds,
                             f"{victim} killed; through {survivor}: " + "; ".join(
                                 f"{d.split(' via ')[0]} unavailable {unavailable[d]} s" for d in domains)
                             + (f"; still down at the end: {down}" if down else "") if domains
                             else "no service documented")]
    tasks = f"victim's tasks running on {survivor}"
    verdicts.append(ClaimVerdict("X2", _held(timeline, tasks),
                                 f"services with a task on {victim}: {state.moved or 'none'}; at the end: "
                                 + last_detail(timeline, tasks)))
    if volume_mount:
        writable = f"{volume_mount} writable on {survivor}"
        verdicts.append(ClaimVerdict("X3", _held(timeline, writable),
                                     f"{volume_mount} on {survivor}: unavailable {unavailable[writable]} s during the fault"))
    swarm = f"docker service ls on {survivor}"
    verdicts.append(ClaimVerdict("C13", _held(timeline, swarm),
                                 f"`docker service ls` on {survivor} failed {unavailable[swarm]} s; last: "
                                 + last_detail(timeline, swarm)))
    verdicts.append(ClaimVerdict("X8", Verdict.not_checked, "the users' view was not measured: run the experiment "
                                 "with --with-load SERVICE,… (the users' view replaces this verdict)"))
    return figures, verdicts


def _held(timeline: list[Observation], probe: str) -> Verdict:
    return Verdict.holds if held_at_the_end(timeline, probe, SETTLED) else Verdict.broken
