"""What a load run aims at, from the inventory: the service's name, the nodes to connect
to, the CA, the scenario (locustfile) for its kind, and the files holding its secrets.

Secrets (Etherpad's API key, the chat's registration shared secret) are files; the
inventory does not name them (yet), so they are looked up, in this order:

    1. PICACHECK_ETHERPAD_APIKEY_FILE / PICACHECK_CHAT_REGISTRATION_SECRET_FILE
    2. $PICACHECK_SECRETS_DIR/<name>
    3. <the inventory file's folder>/secrets/<name>   (the embedded lab keeps them there)

with <name> etherpad_apikey and synapse_registration_secret. Only their paths travel (in
locust's options); their contents are read by the locustfiles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from picacheck import guard
from picacheck import secrets as scrubber
from picacheck.errors import UserError
from picacheck.inventory.model import Inventory, Service

LOCUSTFILES = Path(__file__).resolve().parent / "locustfiles"
STEP_SHAPE = LOCUSTFILES / "stepload.py"

# The scenario (locustfiles/<name>.py) for each kind of service.
SCENARIOS = {"etherpad": "etherpad", "chat": "chat", "wiki": "wiki", "static": "static", "kanban": "static",
             "other": "static"}


@dataclass(frozen=True)
class SecretSpec:
    option: str  # the locustfile's option
    env: str  # environment variable naming the file
    name: str  # file name in a secrets folder


SECRETS = {
    "etherpad": SecretSpec("--apikey-file", "PICACHECK_ETHERPAD_APIKEY_FILE", "etherpad_apikey"),
    "chat": SecretSpec("--registration-secret-file", "PICACHECK_CHAT_REGISTRATION_SECRET_FILE",
                       "synapse_registration_secret"),
}


class NoScenario(UserError):
    """The service's kind has no load scenario (the check is then not made)."""


@dataclass(frozen=True)
class Target:
    service: str
    kind: str
    domain: str
    scenario: str
    addresses: tuple[str, ...]
    ca_file: str | None = None
    dns_servers: tuple[str, ...] = ()
    secret_files: dict[str, str] = field(default_factory=dict)  # locust option -> path
    paths: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"https://{self.domain}"

    @property
    def locustfile(self) -> Path:
        return LOCUSTFILES / f"{self.scenario}.py"

    def locust_options(self) -> list[str]:
        """The options that aim a picacheck locustfile at this target (no secret values)."""
        options = ["--host", self.url]
        if self.ca_file:
            options += ["--ca-file", self.ca_file]
        if self.addresses:
            options += ["--node-address", ",".join(self.addresses)]
        elif self.dns_servers:
            options += ["--dns-server", ",".join(self.dns_servers)]
        for option, path in sorted(self.secret_files.items()):
            options += [option, path]
        if self.paths:
            options += ["--paths", ",".join(self.paths)]
        return options


def find_service(inventory: Inventory, name: str) -> Service:
    for service in inventory.services:
        if service.name == name or service.domain == name:
            return service
    known = ", ".join(s.name for s in inventory.services) or "none"
    raise UserError(f"no service {name!r} in the inventory (services: {known})")


def scenario_of(service: Service) -> str:
    scenario = SCENARIOS.get(service.kind)
    if scenario is None:
        raise NoScenario(f"no load scenario for {service.name} (kind {service.kind})")
    if scenario == "chat" and not service.health_path.startswith("/_matrix"):
        raise NoScenario(f"{service.name}: the chat scenario speaks the Matrix client API (the lab's Synapse); "
                         "there is no Mattermost scenario yet")
    return scenario


def secret_file(spec: SecretSpec, inventory_path: str | Path | None, environ=os.environ) -> Path:
    candidates = []
    if environ.get(spec.env):
        candidates.append(Path(environ[spec.env]))
    else:
        if environ.get("PICACHECK_SECRETS_DIR"):
            candidates.append(Path(environ["PICACHECK_SECRETS_DIR"]) / spec.name)
        if inventory_path:
            candidates.append(Path(inventory_path).resolve().parent / "secrets" / spec.name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates) or "nowhere"
    raise UserError(f"the {spec.name} file was not found (tried {tried}): set {spec.env} to its path")


def target_for(inventory: Inventory, service: Service, inventory_path: str | Path | None = None,
               environ=os.environ, grant: guard.Grant | None = None) -> Target:
    """The load target of one service of the inventory (the nodes of its DNS round robin).
    Loading production needs a grant to change it (see picacheck/guard.py)."""
    guard.require(inventory, grant, guard.Access.change, f"the load test of {service.name}")
    scenario = scenario_of(service)
    addresses = tuple(inventory.round_robin_addresses().values())
    secret_files = {}
    if service.kind in SECRETS:
        spec = SECRETS[service.kind]
        path = secret_file(spec, inventory_path, environ)
        secret_files[spec.option] = str(path)
        _remember(path)  # locust reads it itself: the scrubber must know it too
    paths = (service.health_path,) if scenario == "static" else ()
    return Target(service=service.name, kind=service.kind, domain=service.domain, scenario=scenario,
                  addresses=addresses, ca_file=inventory.tls.ca_file, dns_servers=tuple(inventory.dns.servers),
                  secret_files=secret_files, paths=paths)


def _remember(path: Path) -> None:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return  # the locustfile says why it cannot read it
    scrubber.remember(value)
