"""`docker service inspect` (JSON) → what a Swarm service runs with: its image, environment,
mounts and labels, the parts of its spec that a dump job or a database is known by.

The probes read the services' modes, networks, ports and tasks through the Docker API
(probes.cluster); this reads the rest from the CLI's JSON, one object per service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import ParseError

SERVICE_INSPECT_COMMAND = "docker service ls -q | xargs -r docker service inspect"


@dataclass(frozen=True)
class ServiceMount:
    type: str  # bind, volume, tmpfs
    source: str | None  # a host path (bind) or a volume name
    target: str


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    image: str  # as the spec names it, without the pinned digest
    env: dict[str, str]  # NAME → value ("NAME" alone: empty value)
    mounts: tuple[ServiceMount, ...]
    labels: dict[str, str]

    def bind_source(self, target: str) -> str | None:
        """The host path bind-mounted on `target` in the container (None: no such bind mount)."""
        return next((m.source for m in self.mounts if m.type == "bind" and m.target.rstrip("/") == target.rstrip("/")),
                    None)


def parse_service_inspect(text: str) -> tuple[ServiceSpec, ...]:
    if not text.strip():
        return ()  # no service: xargs -r ran nothing
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError("docker service inspect", f"not JSON ({error.msg} at char {error.pos})") from None
    if not isinstance(entries, list):
        raise ParseError("docker service inspect", "expected a JSON list of services")
    return tuple(_spec(entry) for entry in entries)


def _spec(entry: object) -> ServiceSpec:
    try:
        spec = entry["Spec"]
        container = spec["TaskTemplate"]["ContainerSpec"]
        name, image = spec["Name"], container["Image"]
        if not isinstance(name, str) or not isinstance(image, str):
            raise TypeError
        env = {}
        for item in container.get("Env") or []:
            key, _, value = str(item).partition("=")
            env[key] = value
        mounts = tuple(ServiceMount(str(m.get("Type", "volume")), m.get("Source"), str(m["Target"]))
                       for m in container.get("Mounts") or [])
        labels = {str(k): str(v) for k, v in (spec.get("Labels") or {}).items()}
    except (KeyError, TypeError, AttributeError):
        # Not quoted: a service's spec holds its environment, passwords included.
        shown = entry.get("ID") if isinstance(entry, dict) else type(entry).__name__
        raise ParseError("docker service inspect",
                         f"a service without Spec.Name/TaskTemplate.ContainerSpec.Image ({shown!r:.80})") from None
    return ServiceSpec(name, image.split("@", 1)[0], env, mounts, labels)
