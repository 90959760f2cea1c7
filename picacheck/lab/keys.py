"""The lab's generated secrets: SSH key, CA and registry certificate, registry password.

All of it lives under LAB_DIR (mode 0600 for private parts) and is made once: `up` again
reuses what is there.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from picacheck.lab import topology as T

CA_CERT = T.CA_DIR / "ca.crt"
CA_KEY = T.CA_DIR / "ca.key"
REGISTRY_CERT = T.CA_DIR / "registry.crt"
REGISTRY_KEY = T.CA_DIR / "registry.key"
SSH_PUBLIC = T.SSH_KEY.with_name(T.SSH_KEY.name + ".pub")


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(partial, mode)
    partial.rename(path)


def ensure_ssh_key() -> bool:
    if T.SSH_KEY.exists() and SSH_PUBLIC.exists():
        return False
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    _write(T.SSH_KEY, private, 0o600)
    _write(SSH_PUBLIC, public + b" picacheck-lab\n", 0o644)
    return True


HOST_KEYS_DIR = T.LAB_DIR / "hostkeys"  # each node's SSH host key, made here: stable across re-creation


def host_key_paths(host: str) -> tuple[Path, Path]:
    private = HOST_KEYS_DIR / host / "ssh_host_ed25519_key"
    return private, private.with_name(private.name + ".pub")


def ensure_host_key(host: str) -> bool:
    """The node's SSH host key (ed25519), made once on the host and given to the node
    before it boots: known_hosts stays right when a node is made again."""
    private, public = host_key_paths(host)
    if private.exists() and public.exists():
        return False
    key = ed25519.Ed25519PrivateKey.generate()
    _write(private, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                      serialization.NoEncryption()), 0o600)
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    _write(public, line + f" root@{host}\n".encode(), 0o644)
    return True


def known_hosts_lines() -> list[str]:
    lines = []
    for host in T.CONTAINER_HOSTS:
        _, public = host_key_paths(host)
        kind, data = public.read_text().split()[:2]
        lines.append(f"{host},{host}.{T.DOMAIN},{T.HOSTS[host].address} {kind} {data}")
    return lines


def ssh_public_key() -> str:
    return SSH_PUBLIC.read_text().strip()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def ensure_ca() -> bool:
    if CA_CERT.exists() and CA_KEY.exists():
        return False
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Picasoft lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Picasoft lab CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(CA_KEY, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()), 0o600)
    _write(CA_CERT, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    # A new CA invalidates any certificate signed by an older one.
    REGISTRY_CERT.unlink(missing_ok=True)
    return True


def issue(cert_path: Path, key_path: Path, common_name: str, dns_names: list[str], ips: list[str],
          days: int = 825) -> bool:
    """A server certificate from the lab CA (made once, again when the names it must carry
    change: a lab made by an older picacheck, where the registry had another address)."""
    san = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if key_path.exists() and _carries(cert_path, san):
        return False
    ca_key = serialization.load_pem_private_key(CA_KEY.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(CA_CERT.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()), 0o600)
    # The registry serves the chain: its certificate, then the CA's.
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM) + CA_CERT.read_bytes(), 0o644)
    return True


def _carries(cert_path: Path, san: list) -> bool:
    if not cert_path.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())  # the first of the chain: the server's
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(names) == set(san)


def ensure_registry_cert() -> bool:
    """admin's registry certificate: its names, its own address and alice's (which forwards 5000)."""
    admin = T.HOSTS[T.REGISTRY_HOST]
    return issue(REGISTRY_CERT, REGISTRY_KEY, T.REGISTRY_HOSTNAME,
                 [T.REGISTRY_HOSTNAME, admin.name, f"{admin.name}.{T.DOMAIN}"], [admin.address, T.REGISTRY_ADDRESS])


def ensure_registry_secret() -> bool:
    if T.REGISTRY_USER_FILE.exists() and T.REGISTRY_PASSWORD_FILE.exists():
        return False
    _write(T.REGISTRY_USER_FILE, (T.REGISTRY_USER + "\n").encode(), 0o600)
    _write(T.REGISTRY_PASSWORD_FILE, (secrets.token_urlsafe(18) + "\n").encode(), 0o600)
    return True


def registry_credentials() -> tuple[str, str]:
    return T.REGISTRY_USER_FILE.read_text().strip(), T.REGISTRY_PASSWORD_FILE.read_text().strip()


def ensure_all() -> bool:
    changed = ensure_ssh_key()
    changed |= ensure_ca()
    changed |= ensure_registry_cert()
    changed |= ensure_registry_secret()
    for host in T.CONTAINER_HOSTS:
        changed |= ensure_host_key(host)
    return changed
