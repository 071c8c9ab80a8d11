"""Where a request's client certificate comes from (web/mtls.py): the ASGI TLS extension, or
a header forwarded by a trusted proxy in any of its common forms — never from anyone else."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from keystead.config import Settings
from keystead.web.mtls import PEER, client_cert, decode_header
from tests.mtls.pki import issue, make_ca

CA = make_ca()
LEAF = issue(CA, "client.example.com", dns=("client.example.com",))
PEM = LEAF.pem.decode()


@pytest.mark.parametrize(
    "value",
    [
        PEM,
        quote(PEM),  # nginx $ssl_client_escaped_cert
        PEM.replace("\n", " "),  # newlines folded by a proxy
        PEM.replace("\n", "\t"),
        base64.b64encode(LEAF.der).decode(),  # base64 DER
        base64.urlsafe_b64encode(LEAF.der).decode().rstrip("="),
        f'By=spiffe://example.org/keystead;Hash=abc;Cert="{quote(PEM)}";Subject="CN=x"',  # Envoy
    ],
)
def test_header_forms(value: str) -> None:
    assert decode_header(value) == (LEAF.der,)


def test_a_chain_in_pem_keeps_its_order() -> None:
    assert decode_header(PEM + CA.pem.decode()) == (LEAF.der, CA.der)


@pytest.mark.parametrize("value", ["", "  ", "(null)", "-----BEGIN CERTIFICATE-----x", "x" * 20000])
def test_unreadable_or_empty_is_no_certificate(value: str) -> None:
    assert decode_header(value) is None


def scope(peer: str, header: str | None = None, **extra: object) -> dict[str, object]:
    headers = [] if header is None else [(b"x-ssl-client-cert", header.encode())]
    return {"type": "http", "client": (peer, 1), "headers": headers, **extra}


def settings(tmp_path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)


def test_the_tls_extension(tmp_path) -> None:
    tls = {"extensions": {"tls": {"client_cert_chain": [PEM]}}}
    assert client_cert(scope("203.0.113.7", **tls), settings(tmp_path)) == (LEAF.der,)
    assert client_cert(scope("203.0.113.7"), settings(tmp_path)) is None


def test_the_header_only_from_a_trusted_peer(tmp_path) -> None:
    s = settings(tmp_path, mtls_cert_header="X-SSL-Client-Cert", forwarded_allow_ips="10.0.0.0/8")
    assert client_cert(scope("10.1.2.3", quote(PEM)), s) == (LEAF.der,)
    assert client_cert(scope("203.0.113.7", quote(PEM)), s) is None
    # The direct peer counts, not the address X-Forwarded-For made of it.
    rewritten = scope("10.1.2.3", quote(PEM), **{PEER: ("203.0.113.7", 1)})
    assert client_cert(rewritten, s) is None
    # Without KEYSTEAD_FORWARDED_ALLOW_IPS nobody is trusted.
    alone = settings(tmp_path, mtls_cert_header="X-SSL-Client-Cert")
    assert client_cert(scope("10.1.2.3", quote(PEM)), alone) is None
    # Without KEYSTEAD_MTLS_CERT_HEADER the header means nothing.
    plain = settings(tmp_path, forwarded_allow_ips="*")
    assert client_cert(scope("10.1.2.3", quote(PEM)), plain) is None


def test_serve_options(tmp_path) -> None:
    import ssl

    from keystead.cli.serve import _issuer_for
    from keystead.serving import tls_options as _tls_options

    plain = Settings(data_dir=tmp_path)
    assert _tls_options(plain) == {}
    assert _issuer_for(plain, "127.0.0.1", 8443).issuer == "http://127.0.0.1:8443"
    tls = Settings(
        data_dir=tmp_path,
        tls_cert_file=tmp_path / "s.crt",
        tls_key_file=tmp_path / "s.key",
        tls_client_ca_file=tmp_path / "ca.pem",
    )
    options = _tls_options(tls)
    assert options["ssl_cert_reqs"] == ssl.CERT_OPTIONAL  # clients without one still connect
    assert options["ssl_ca_certs"] == str(tmp_path / "ca.pem")
    assert options["http"] == "keystead.web.tls_wire:ClientCertProtocol"
    assert _issuer_for(tls, "127.0.0.1", 8443).issuer == "https://127.0.0.1:8443"
