"""What the users see: DNS answers, HTTP(S) through a chosen node, certificates.

Requests go to one node's address while naming the service's domain (Host header and TLS
SNI), so each node can be checked on its own, as DNS round robin would send a user to either.
Certificates are always verified, against the CA the inventory names: nothing here turns
verification off.
"""

from __future__ import annotations

import datetime
import socket
import ssl
from dataclasses import dataclass

import dns.resolver
import urllib3
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from picacheck.secrets import Secret, basic_auth_pair

TIMEOUT = urllib3.Timeout(connect=5, read=15)


def resolve(domain: str, servers: tuple[str, ...] = (), timeout: float = 5) -> list[str]:
    """A records of `domain`, through the inventory's DNS servers (or the system's)."""
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = list(servers)
    resolver.lifetime = timeout
    try:
        answer = resolver.resolve(domain, "A")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return sorted(record.address for record in answer)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request(
    url_scheme: str,
    domain: str,
    address: str,
    path: str = "/",
    *,
    port: int | None = None,
    ca_file: str | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float | None = None,
    via: str | None = None,
    auth: tuple[str, Secret] | None = None,
) -> Response:
    """One request to `address` (`via`: the node's name, for messages) for `domain`, without
    following redirects. A failed connection raises an AssertionError naming the node.
    `auth` (user, Secret): HTTP basic authentication; the header is made here, so that the
    password is never an argument that a traceback could show."""
    headers = {"Host": domain if port in (None, 80, 443) else f"{domain}:{port}", **(headers or {})}
    if auth is not None:
        headers.update(urllib3.make_headers(basic_auth=":".join(basic_auth_pair(*auth))))
    limits = urllib3.Timeout(connect=timeout, read=timeout) if timeout else TIMEOUT
    if url_scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port=port or 443, server_hostname=domain, assert_hostname=domain,
            cert_reqs="CERT_REQUIRED", ca_certs=ca_file, timeout=limits, retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port=port or 80, timeout=limits, retries=False)
    try:
        with pool:
            response = pool.request(method, path, headers=headers, body=body, redirect=False)
            return Response(response.status, {k.lower(): v for k, v in response.headers.items()}, response.data)
    except urllib3.exceptions.HTTPError as error:
        # Name the node and the URL: "connection refused" alone does not say which node broke.
        raise AssertionError(f"{url_scheme}://{domain}{path} via {via or address}: {_reason(error)}") from None


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason).split(": ", 1)[-1][:300]


@dataclass(frozen=True)
class Certificate:
    subject_cn: str | None
    names: tuple[str, ...]  # subjectAltName DNS names
    issuer: str
    not_after: datetime.datetime

    def days_left(self, now: datetime.datetime | None = None) -> float:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return (self.not_after - now).total_seconds() / 86400


def peer_certificate(domain: str, address: str, port: int = 443, ca_file: str | None = None,
                     via: str | None = None) -> Certificate:
    """The certificate `address` presents for `domain`, after full verification.

    Raises an AssertionError (with the reason) when it does not chain to the CA, does not
    match the name, or the node does not answer.
    """
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with socket.create_connection((address, port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=domain) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as error:  # SSLCertVerificationError included: the reason says why
        raise AssertionError(f"TLS to {domain} via {via or address}:{port}: {error}") from None
    certificate = x509.load_der_x509_certificate(der)
    try:
        names = tuple(certificate.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = ()
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return Certificate(
        subject_cn=str(common_names[0].value) if common_names else None,
        names=names,
        issuer=certificate.issuer.rfc4514_string(),
        not_after=certificate.not_valid_after_utc,
    )


def port_open(address: str, port: int, timeout: float = 3) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False
