"""A throw-away PKI for mutual TLS tests: a CA, server and client certificates, self-signed
client certificates (RFC 8705 §2.2), made with ``cryptography``."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

START = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
END = datetime.datetime(2040, 1, 1, tzinfo=datetime.UTC)


@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
        cert_path.write_bytes(self.pem)
        key_path.write_bytes(self.key_pem())
        return cert_path, key_path


def _name(cn: str, org: str | None = "Example") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    parts.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"))
    return x509.Name(list(reversed(parts)))  # C=SE, O=..., CN=... (RFC 4514: CN first)


def make_ca(cn: str = "Test CA") -> Issued:
    return issue_ca(None, cn)


def issue_ca(parent: Issued | None, cn: str) -> Issued:
    """A CA certificate: a root (``parent`` None) or an intermediate issued by ``parent``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(cn)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(parent.cert.subject if parent else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(END)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(parent.key if parent else key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue(
    ca: Issued | None,
    cn: str,
    *,
    dns: tuple[str, ...] = (),
    uris: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    server: bool = False,
    org: str | None = "Example",
) -> Issued:
    """A certificate issued by ``ca``, or self-signed without one."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(cn, org)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans += [x509.UniformResourceIdentifier(u) for u in uris]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    sans += [x509.RFC822Name(e) for e in emails]
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject if ca else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(END)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if ca is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
    return Issued(builder.sign(ca.key if ca else key, hashes.SHA256()), key)


def jwk_of(issued: Issued) -> dict[str, object]:
    """The certificate's public key as a JWK with x5c (self_signed_tls_client_auth)."""
    import base64

    from joserfc.jwk import ECKey

    jwk = ECKey.import_key(issued.key.public_key()).as_dict(private=False)
    return {**jwk, "x5c": [base64.b64encode(issued.der).decode()], "use": "sig"}
