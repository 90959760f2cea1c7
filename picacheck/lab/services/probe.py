"""Small HTTP(S) and certificate probes from the host, for `up`'s waits and `status`.

A request goes to one node's address with the service's name as Host and as TLS SNI (what
`curl --resolve name:443:address` does), verified against the ACME roots file.
"""

from __future__ import annotations

import datetime
import http.client
import socket
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(http.client.HTTPSConnection):
    def __init__(self, address: str, name: str, context: ssl.SSLContext, timeout: float):
        super().__init__(name, 443, context=context, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def context(ca_file: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = True
    return ctx


def request(scheme: str, name: str, address: str, path: str, ca_file: str | None = None,
            timeout: float = 10, limit: int = 4096) -> Answer:
    if scheme == "https":
        connection = _Connection(address, name, context(ca_file), timeout)
    else:
        connection = http.client.HTTPConnection(address, 80, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": name, "User-Agent": "picacheck-lab"})
        response = connection.getresponse()
        body = response.read(limit)
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


@dataclass
class Certificate:
    names: list[str]
    issuer: str
    not_after: datetime.datetime

    def days_left(self) -> float:
        return (self.not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400


def peer_certificate(name: str, address: str, ca_file: str, timeout: float = 10) -> Certificate:
    """The certificate a node presents for `name` (the handshake verifies it against ca_file)."""
    with socket.create_connection((address, 443), timeout) as sock:
        with context(ca_file).wrap_socket(sock, server_hostname=name) as tls:
            der = tls.getpeercert(binary_form=True)
    return describe(x509.load_der_x509_certificate(der))


def describe(cert: x509.Certificate) -> Certificate:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    issuer = ", ".join(a.value for a in cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME))
    return Certificate(list(names), issuer, cert.not_valid_after_utc)


def chain_is_trusted(chain_pem: str, roots_pem: list[str], name: str) -> bool:
    """Whether a PEM chain (leaf first) names `name` and ends at one of the roots."""
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode())
        roots = [x509.load_pem_x509_certificate(root.encode()) for root in roots_pem]
    except ValueError:
        return False
    if not chain or name not in describe(chain[0]).names:
        return False
    for child, parent in zip(chain, chain[1:]):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failure: not trusted
            return False
    for root in roots:
        try:
            chain[-1].verify_directly_issued_by(root)
            return True
        except Exception:  # noqa: BLE001
            continue
    return False
