"""The certificates Traefik keeps in acme.json: whose names they bear, whether their chain
ends at one of the ACME CA's roots (requests and the certificates nodes present go through
picacheck.probes.web)."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtensionOID


def names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        return []
    return list(san.get_values_for_type(x509.DNSName))


def chain_is_trusted(chain_pem: str, roots_pem: list[str], name: str) -> bool:
    """Whether a PEM chain (leaf first) names `name` and ends at one of the roots."""
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode())
        roots = [x509.load_pem_x509_certificate(root.encode()) for root in roots_pem]
    except ValueError:
        return False
    if not chain or name not in names(chain[0]):
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
