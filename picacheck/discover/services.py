"""The Swarm's services as the inventory documents them: Traefik (S1, S4), the services it
routes with their domains (S1, S6–S8), the databases (the database services), and the
registry the services pull from (S9, S10). `describe_*` are pure; `read_services` asks a manager.
"""

from __future__ import annotations

from dataclasses import dataclass

from picacheck.discover import probes as more
from picacheck.discover.tree import Noted, Unknown
from picacheck.facts.docker_services import ServiceSpec
from picacheck.facts.traefik import TraefikStatic, parse_traefik_static
from picacheck.facts.traefik_rules import label_domains
from picacheck.probes import cluster, system
from picacheck.facts.swarm import SwarmService
from picacheck.probes.remote import RemoteHost

# What an application is, from the words of its image (the report's tx-etherpad, …).
KIND_OF_IMAGE = (("etherpad", "etherpad"), ("mattermost", "chat"), ("synapse", "chat"), ("rocketchat", "chat"),
                 ("dokuwiki", "wiki"), ("mediawiki", "wiki"), ("kanboard", "kanban"), ("wekan", "kanban"),
                 ("traefik", "other"))
ENGINE_OF_IMAGE = (("mariadb", "mysql"), ("mysql", "mysql"), ("postgres", "postgresql"))
DEFAULT_PORT = {"mysql": 3306, "postgresql": 5432}
# A dump job is known by the report's variables (tutum's mysql-backup and its PostgreSQL twin).
DUMP_JOB_VARIABLES = ("CRON_TIME", "MAX_BACKUPS")
ENV_PREFIX = {"mysql": "MYSQL", "postgresql": "POSTGRES"}
TRAEFIK_CONFIG_SUFFIXES = {".toml": "toml", ".yml": "yaml", ".yaml": "yaml"}


def repository(image: str) -> str:
    """registry.picasoft.net:5000/tx-etherpad:1.8 → tx-etherpad (the last path part, no tag)."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def registry_of(image: str) -> str | None:
    """registry.picasoft.net:5000/tx-etherpad → registry.picasoft.net:5000 (None: Docker Hub)."""
    first, sep, _ = image.partition("/")
    return first if sep and ("." in first or ":" in first or first == "localhost") else None


def is_dump_job(spec: ServiceSpec) -> bool:
    return any(variable in spec.env for variable in DUMP_JOB_VARIABLES)


def engine_of(spec: ServiceSpec) -> str | None:
    name = repository(spec.image)
    return next((engine for word, engine in ENGINE_OF_IMAGE if word in name), None)


# --- Traefik and the services it routes -------------------------------------------------------


def describe_traefik(service: SwarmService, static: TraefikStatic | None, networks: list[str]) -> dict:
    on = [n for n in service.networks if n in networks] or list(service.networks)
    found: dict = {"service": service.name, "mode": service.mode}
    if on:
        found["network"] = on[0] if len(on) == 1 else Noted(on[0], f"also on {', '.join(on[1:])}")
    dashboard = None
    if static is not None and static.dashboard.enabled and static.dashboard.address:
        port = static.dashboard.address.rsplit(":", 1)[-1]
        dashboard = int(port) if port.isdigit() and int(port) in service.published_ports else None
    elif static is None and 8080 in service.published_ports:
        dashboard = Noted(8080, "Traefik's dashboard port: its static configuration could not be read")
    found["ports"] = sorted(p for p in service.published_ports if p != (dashboard.value if isinstance(dashboard, Noted)
                                                                          else dashboard))
    found["dashboard_port"] = dashboard
    return found


def describe_services(services: list[SwarmService], specs: dict[str, ServiceSpec]) -> list[dict]:
    """Every service with a Traefik router for a domain (the dashboard's own too)."""
    found = []
    for service in services:
        domains = label_domains(service.labels)
        if not domains:
            continue
        image = repository(specs[service.name].image) if service.name in specs else ""
        kind = next((kind for word, kind in KIND_OF_IMAGE if word in image), None)
        entry: dict = {"name": service.name}
        entry["kind"] = (Noted(kind, f"from the image {image}") if kind
                         else Noted("other", f"not recognised from the image {image or '?'}: say which", known=False))
        entry["domain"] = domains[0] if len(domains) == 1 else Noted(domains[0], f"also routes {', '.join(domains[1:])}")
        found.append(entry)
    return sorted(found, key=lambda entry: entry["name"])


# --- databases and their dump jobs ---------------------------------------------------------------


def dump_job_target(job: ServiceSpec, engine: str) -> str | None:
    return job.env.get(f"{ENV_PREFIX[engine]}_HOST")


def database_names(specs: list[ServiceSpec]) -> dict[str, str]:
    """Database service → its inventory name: the engine's, unless two services share an engine."""
    engines = {spec.name: engine_of(spec) for spec in specs if not is_dump_job(spec) and engine_of(spec)}
    counts = {engine: list(engines.values()).count(engine) for engine in engines.values()}
    return {service: engine if counts[engine] == 1 else service for service, engine in engines.items()}


def describe_databases(specs: list[ServiceSpec]) -> list[dict]:
    names = database_names(specs)
    by_name = {spec.name: spec for spec in specs}
    found = []
    for service, name in names.items():
        engine = engine_of(by_name[service])
        job = next((s for s in specs if is_dump_job(s) and dump_job_target(s, engine) == service), None)
        entry: dict = {"name": name, "engine": engine, "host": service}
        prefix = ENV_PREFIX[engine]
        port = job.env.get(f"{prefix}_PORT", "") if job else ""
        entry["port"] = int(port) if port.isdigit() else Noted(DEFAULT_PORT[engine], "the engine's default port")
        if job and job.env.get(f"{prefix}_USER"):
            entry["user"] = Noted(job.env[f"{prefix}_USER"], f"the user its dump job {job.name} connects as")
        else:
            entry["user"] = _unknown("no dump job says which user to connect as")
        database = job.env.get(f"{prefix}_DB", "") if job else ""
        if database and not database.startswith("-"):  # tutum's default is --all-databases
            entry["database"] = database
        else:
            entry["database"] = _unknown("its dump job dumps every database: which one the application uses is "
                                         "in the application's configuration")
        found.append(entry)
    return sorted(found, key=lambda entry: entry["name"])


def _unknown(reason: str) -> Unknown:
    return Unknown(f"not discovered: {reason}")


# --- the registry ------------------------------------------------------------------------------


def describe_registry(host: str, specs: list[ServiceSpec], forwarded_by: str | None) -> dict | None:
    """The registry the Swarm's images come from; None when they all come from elsewhere."""
    registries = [registry_of(spec.image) for spec in specs if registry_of(spec.image)]
    if not registries:
        return None
    address = max(set(registries), key=registries.count)
    images = sorted({repository(spec.image) for spec in specs if registry_of(spec.image) == address})
    return {"host": host, "url": f"https://{address}",
            "expected_images": Noted(images, "the images the Swarm's services run from it (its catalog needs "
                                             "the password)"),
            "forwarded_by": forwarded_by}


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwarmServices:
    services: list[SwarmService]
    specs: dict[str, ServiceSpec]
    traefik_static: TraefikStatic | None


def traefik_service(found: SwarmServices) -> SwarmService | None:
    return next((s for s in found.services
                 if s.name == "traefik" or (s.name in found.specs and "traefik" in repository(found.specs[s.name].image))),
                None)


def read_services(manager: RemoteHost) -> SwarmServices:
    services = cluster.swarm_services(manager)
    specs = {spec.name: spec for spec in more.service_specs(manager)}
    static = None
    found = SwarmServices(services, specs, None)
    traefik = traefik_service(found)
    if traefik is not None:
        for mount in specs[traefik.name].mounts:
            fmt = next((f for suffix, f in TRAEFIK_CONFIG_SUFFIXES.items() if mount.target.endswith("traefik" + suffix)),
                       None)
            text = system.file_text(manager, mount.source) if fmt and mount.type == "bind" and mount.source else None
            if text is not None:
                static = parse_traefik_static(text, fmt)
                break
    return SwarmServices(services, specs, static)
