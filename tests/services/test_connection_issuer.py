"""Which upstream issuers a connection may have (issue 22): https; no query, fragment or
credentials; http only with KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true and only on a loopback
or private address."""

from __future__ import annotations

from pathlib import Path

import pytest

from keystead.config import Settings
from keystead.services.common import ServiceError
from keystead.services.connections import check_issuer

pytestmark = pytest.mark.anyio


def settings(tmp_path: Path, allow_private: bool) -> Settings:
    return Settings(
        issuer="https://id.example", data_dir=tmp_path, allow_private_network_fetch=allow_private
    )


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize(
    "issuer",
    ["https://login.example.com", "https://login.example.com/realms/staff/", "https://a.b:8443"],
)
async def test_https_issuers(tmp_path: Path, issuer: str, allow_private: bool) -> None:
    assert await check_issuer(settings(tmp_path, allow_private), issuer) == issuer


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:9000", "http://localhost:8080/realms/dev", "http://10.1.2.3"]
)
async def test_http_on_private_addresses_only_for_development(tmp_path: Path, issuer: str) -> None:
    assert await check_issuer(settings(tmp_path, True), issuer) == issuer
    with pytest.raises(ServiceError) as caught:
        await check_issuer(settings(tmp_path, False), issuer)
    assert caught.value.field == "issuer"
    assert "KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH" in caught.value.message


@pytest.mark.parametrize(
    "issuer, words",
    [
        ("http://93.184.215.14", "loopback or private"),  # public, even in development
        ("https://idp.example/?tenant=1", "query"),
        ("https://idp.example/#x", "fragment"),
        ("https://user:pw@idp.example", "credentials"),
        ("ftp://idp.example", "not an https URL"),
        ("idp.example", "not an https URL"),
        ("https://[::1", "not a URL"),
        ("https://idp.example:99999", "not a URL"),
    ],
)
async def test_refused_issuers(tmp_path: Path, issuer: str, words: str) -> None:
    with pytest.raises(ServiceError) as caught:
        await check_issuer(settings(tmp_path, True), issuer)
    assert caught.value.field == "issuer"
    assert words in caught.value.message
