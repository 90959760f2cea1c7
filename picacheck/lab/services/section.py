"""The services' section of the lab inventory, in the inventory model's shape (traefik,
dns, tls, databases, services with the lab's load objectives, registry.expected_images)."""

from __future__ import annotations

from picacheck.lab import topology as T
from picacheck.lab.services import plan
from picacheck.load.slo import PROPOSED_LAB_SLOS

NOT_APPLICABLE = {
    "S8": "Kanboard is not in the lab (no offline package); the lab's applications are open",
    "S11": "the lab has no monitoring VM (metricbeat/Elasticsearch/Kibana are not installable offline)",
}


def inventory_section() -> dict:
    apps = [*plan.APPS.values(), plan.DASHBOARD]
    databases = list(plan.DATABASES.values())
    inventory = {
        "traefik": {
            "service": plan.TRAEFIK_SERVICE,
            "mode": "global",
            "network": T.SWARM_OVERLAY,
            "ports": list(plan.TRAEFIK_PORTS),
            "dashboard_port": plan.DASHBOARD_PORT,
            "dashboard_public_ok": False,  # reachable from the host: the suite reports it
            "redirect_status": [301, 308],
            "cert_warning_days": 14,
        },
        "dns": {
            "servers": [plan.DNS_ADDRESS],
            "round_robin_hosts": list(T.SWARM_NODES),
        },
        "tls": {
            "ca_file": str(plan.ACME_ROOTS_FILE),
            "acme_ca_name": plan.ACME_CA_NAME,
        },
        "databases": [
            {"name": db.name, "engine": db.engine, "host": db.service, "port": db.port,
             "user": db.admin_user, "password_file": str(plan.secret_file(db.admin_password_secret)),
             "database": db.database}
            for db in databases
        ],
        "services": [
            {"name": app.name, "kind": app.kind, "domain": app.domain, "database": app.database,
             "health_path": app.deep_path, "requires_login": app.requires_login}
            for app in apps
        ],
        "registry": {"expected_images": [name for name, image in plan.IMAGES.items() if image.swarm]},
        "not_applicable": dict(NOT_APPLICABLE),
    }
    for service in inventory["services"]:  # the lab's load objectives (measured on 2 shared cores)
        if service["name"] in PROPOSED_LAB_SLOS:
            service["slo"] = PROPOSED_LAB_SLOS[service["name"]]
    return inventory
