"""The Internet's stand-ins: the lab DNS (bind9) and the ACME CA (pebble, Let's Encrypt's
test server), as containers of the lab's own engine on the public lab network, at
plan.DNS_ADDRESS:53 and plan.ACME_ADDRESS:14000/15000 (`restart: unless-stopped`). Their
configuration lives in plan.STAND_INS_DIR on the host, mounted read-only. A container is
replaced only when what it is made from (image, arguments, files) changed: its spec hash is
a label. (Production has neither: its DNS is public and its CA is Let's Encrypt.)

The DNS is authoritative for the lab domain only and does no recursion: every other name
is refused at once, so nothing asked inside the lab ever leaves it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import docker.errors
import requests
from cryptography import x509

from picacheck.errors import UserError
from picacheck.lab import engine, keys
from picacheck.lab import topology as T
from picacheck.lab.services import build, plan
from picacheck.progress import say, step

PEBBLE_CERT = plan.SERVICES_DIR / "pebble" / "cert.pem"  # pebble's HTTPS certificate, from the lab CA
PEBBLE_KEY = plan.SERVICES_DIR / "pebble" / "key.pem"  # (keys.issue makes its directory 0700)


# --- DNS -----------------------------------------------------------------------------------


def named_conf() -> str:
    issuer = T.HOSTS[plan.ACME_ISSUER].address
    return f"""// The lab DNS: authoritative for {T.DOMAIN}, no recursion (other names: REFUSED).
// Two views of the zone: the ACME CA (pebble, which asks from its own address) sees the
// service names on {plan.ACME_ISSUER} ({issuer}), whose Traefik obtains the certificates
// (pebble validates http-01 at the first address only, and only the Traefik that ordered
// knows the challenge); every other client gets the round robin over both nodes.
acl acme_ca {{ {plan.ACME_ADDRESS}; }};
options {{
    directory "/var/cache/bind";
    pid-file "/run/named/named.pid";
    listen-on port {plan.DNS_PORT} {{ {plan.DNS_ADDRESS}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    allow-query {{ any; }};
    allow-transfer {{ none; }};
    dnssec-validation no;
    rrset-order {{ order cyclic; }};
    minimal-responses yes;
}};
controls {{ }};
view "acme-ca" {{
    match-clients {{ acme_ca; }};
    zone "{T.DOMAIN}" {{
        type primary;
        file "/etc/bind/lab/db.{T.DOMAIN}.acme-ca";
    }};
}};
view "lab" {{
    match-clients {{ any; }};
    zone "{T.DOMAIN}" {{
        type primary;
        file "/etc/bind/lab/db.{T.DOMAIN}";
    }};
}};
"""


def zone_records(acme_view: bool = False) -> list[tuple[str, str]]:
    """(name, address) of every A record: hosts once, routed service names round-robin
    (in the CA's view: the certificate issuer node only)."""
    records = [(name, address) for name, address in sorted(plan.HOST_RECORDS.items())]
    targets = (T.HOSTS[plan.ACME_ISSUER].address,) if acme_view else plan.ROUND_ROBIN
    for domain in plan.ROUTED_DOMAINS:
        label = domain[: -len(T.DOMAIN) - 1]
        records += [(label, address) for address in targets]
    return records


def zone_file(acme_view: bool = False) -> str:
    body = "".join(f"{name:<12} IN A     {address}\n" for name, address in zone_records(acme_view))
    serial = int(hashlib.sha256(body.encode()).hexdigest()[:7], 16)
    what = (f"the ACME CA's view: service names lead to {plan.ACME_ISSUER}, whose Traefik asks for the certificates"
            if acme_view else "every service name resolves to both Swarm nodes (round robin)")
    return (f"; The lab zone {T.DOMAIN}: {what}.\n"
            f"$TTL 60\n"
            f"@            IN SOA   ns.{T.DOMAIN}. hostmaster.{T.DOMAIN}. ({serial} 3600 600 86400 60)\n"
            f"@            IN NS    ns.{T.DOMAIN}.\n" + body)


def dns_query(name: str, server: str = plan.DNS_ADDRESS, timeout: float = 2) -> list[str]:
    """The A records of `name` from the lab DNS ([] when it has none)."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    answer = dns.query.udp(query, server, port=plan.DNS_PORT, timeout=timeout)
    return sorted(item.address for rrset in answer.answer if rrset.rdtype == dns.rdatatype.A for item in rrset)


# --- ACME CA -------------------------------------------------------------------------------


def pebble_config() -> str:
    return json.dumps({"pebble": {
        "listenAddress": f"0.0.0.0:{plan.ACME_PORT}",
        "managementListenAddress": f"0.0.0.0:{plan.ACME_MANAGEMENT_PORT}",
        "certificate": "/etc/pebble/cert.pem",
        "privateKey": "/etc/pebble/key.pem",
        "httpPort": 80,  # http-01 against the nodes' Traefik
        "tlsPort": 443,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": False,
        "certificateValidityPeriod": plan.ACME_CERT_DAYS * 86400,
    }}, indent=2) + "\n"


def ensure_pebble_keypair() -> bool:
    """pebble's HTTPS key pair, from the current lab CA (made again when the CA changed)."""
    if PEBBLE_CERT.exists():
        try:
            leaf = x509.load_pem_x509_certificates(PEBBLE_CERT.read_bytes())[0]
            leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(keys.CA_CERT.read_bytes()))
        except Exception:  # noqa: BLE001 - unreadable or from another CA: make it again
            PEBBLE_CERT.unlink()
    return keys.issue(PEBBLE_CERT, PEBBLE_KEY, plan.ACME_HOSTNAME, [plan.ACME_HOSTNAME], [plan.ACME_ADDRESS])


def acme_url(path: str, management: bool = False) -> str:
    port = plan.ACME_MANAGEMENT_PORT if management else plan.ACME_PORT
    return f"https://{plan.ACME_ADDRESS}:{port}{path}"  # its certificate also names this address


def pebble_get(path: str, management: bool = False, timeout: float = 5) -> requests.Response:
    return requests.get(acme_url(path, management), verify=str(keys.CA_CERT), timeout=timeout)


def pebble_roots() -> list[str]:
    """The PEM of pebble's current root (it makes a new one at every start)."""
    roots = []
    for index in range(4):  # PEBBLE_ALTERNATE_ROOTS is not set: one root, but read what is there
        response = pebble_get(f"/roots/{index}", management=True)
        if response.status_code != 200:
            break
        roots.append(response.text.strip() + "\n")
    return roots


# --- the containers -----------------------------------------------------------------------


def _spec(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _write_files(files: dict[str, tuple[bytes, int]]) -> None:
    for name, (data, mode) in files.items():
        path = plan.STAND_INS_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        os.chmod(path, mode)


def ensure_container(name: str, image: plan.Image, address: str, files: dict[str, tuple[bytes, int]],
                     mounts: dict[str, str], command: list[str], title: str) -> bool:
    """A container of the lab's engine at `address` on the lab network, current and running.
    `files` (relative to plan.STAND_INS_DIR) are written first; `mounts`: host → container
    (read-only). Returns whether it changed."""
    reference = build.ref(image)
    _write_files(files)
    spec = _spec(reference, address, *command, *(f"{a}:{b}" for a, b in sorted(mounts.items())),
                 *(p.encode() + d for p, (d, _) in sorted(files.items())))
    with engine.lab_client() as client:
        try:
            container = client.containers.get(name)
        except docker.errors.NotFound:
            container = None
        if container is not None and container.labels.get(plan.SPEC_LABEL) == spec and container.status == "running":
            return False
        with step(title):
            if container is not None:
                container.remove(force=True)
            created = client.api.create_container(
                reference, name=name, command=command or None, detach=True,
                labels={plan.LABEL: "services", plan.SPEC_LABEL: spec},
                host_config=client.api.create_host_config(
                    binds={source: {"bind": target, "mode": "ro"} for source, target in mounts.items()},
                    restart_policy={"Name": "unless-stopped"}, network_mode=T.NETWORK_NAME),
                networking_config=client.api.create_networking_config(
                    {T.NETWORK_NAME: client.api.create_endpoint_config(ipv4_address=address)}))
            client.api.start(created["Id"])
    return True


def ensure_dns() -> bool:
    files = {
        "dns/named.conf": (named_conf().encode(), 0o644),
        f"dns/db.{T.DOMAIN}": (zone_file().encode(), 0o644),
        f"dns/db.{T.DOMAIN}.acme-ca": (zone_file(acme_view=True).encode(), 0o644),
    }
    changed = ensure_container(plan.DNS_CONTAINER, plan.IMAGES["tx-bind"], plan.DNS_ADDRESS, files,
                               {str(plan.STAND_INS_DIR / "dns"): "/etc/bind/lab"}, [],
                               f"lab DNS (bind9) on {plan.DNS_ADDRESS}:{plan.DNS_PORT}")
    wait_dns()
    return changed


def wait_dns(timeout: float = 60) -> None:
    probe = plan.ROUTED_DOMAINS[0]
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            if dns_query(probe) == sorted(plan.ROUND_ROBIN):
                return
            last = f"{probe} resolved to {dns_query(probe)}"
        except (dns.exception.DNSException, OSError) as error:
            last = str(error) or type(error).__name__
        time.sleep(0.5)
    raise UserError(f"lab services: the lab DNS on {plan.DNS_ADDRESS} does not answer for {probe} ({last})",
                    hint=f"see `docker logs {plan.DNS_CONTAINER}` (the lab's engine)")


def ensure_acme() -> bool:
    ensure_pebble_keypair()
    files = {
        "pebble/pebble-config.json": (pebble_config().encode(), 0o644),
        "pebble/cert.pem": (PEBBLE_CERT.read_bytes(), 0o644),
        "pebble/key.pem": (PEBBLE_KEY.read_bytes(), 0o600),
    }
    command = ["/usr/bin/pebble", "-config", "/etc/pebble/pebble-config.json", "-strict=false",
               "-dnsserver", f"{plan.DNS_ADDRESS}:{plan.DNS_PORT}"]
    changed = ensure_container(plan.ACME_CONTAINER, plan.IMAGES["tx-pebble"], plan.ACME_ADDRESS, files,
                               {str(plan.STAND_INS_DIR / "pebble"): "/etc/pebble"}, command,
                               f"ACME CA (pebble) on {plan.ACME_DIRECTORY}")
    wait_acme()
    return changed


def wait_acme(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = pebble_get("/dir")
            if response.status_code == 200 and "newOrder" in response.text:
                return
            last = f"HTTP {response.status_code}"
        except requests.RequestException as error:
            last = type(error).__name__
        time.sleep(0.5)
    raise UserError(f"lab services: the ACME CA does not answer on {plan.ACME_DIRECTORY} ({last})",
                    hint=f"see `docker logs {plan.ACME_CONTAINER}` (the lab's engine)")


def record_roots() -> bool:
    """Add pebble's current root to plan.ACME_ROOTS_FILE (kept: certificates issued before a
    pebble restart chain to the roots it had then). Returns whether the file changed."""
    roots = pebble_roots()
    if not roots:
        raise UserError("lab services: pebble's management endpoint gave no root certificate")
    known = read_roots()
    new = [root for root in roots if root not in known]
    if not new:
        return False
    plan.SERVICES_DIR.mkdir(parents=True, exist_ok=True)
    text = "".join(new + known)
    partial = plan.ACME_ROOTS_FILE.with_suffix(".partial")
    partial.write_text(text)
    partial.chmod(0o644)
    partial.rename(plan.ACME_ROOTS_FILE)
    say(f"recorded pebble's root in {plan.ACME_ROOTS_FILE} ({len(new + known)} root(s))")
    return True


def read_roots() -> list[str]:
    try:
        text = plan.ACME_ROOTS_FILE.read_text()
    except OSError:
        return []
    marker = "-----END CERTIFICATE-----"
    return [part.strip() + "\n" + marker + "\n" for part in text.split(marker) if part.strip()]


def remove_containers() -> bool:
    """The DNS and the CA containers, and their configuration."""
    removed = False
    with engine.lab_client() as client:
        for container in client.containers.list(all=True, filters={"label": f"{plan.LABEL}=services"}):
            with step(f"Removing {container.name}"):
                container.remove(force=True)
            removed = True
    if plan.STAND_INS_DIR.exists():
        shutil.rmtree(plan.STAND_INS_DIR)
    return removed
