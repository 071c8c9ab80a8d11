"""Contract tests of the trusted issuers (RFC 7523 / RFC 8693 ``jwt``) on every Store
implementation: unique by id and by issuer URL, JSON members kept, listed in creation order."""

from __future__ import annotations

import pytest

from keystead.store.base import DuplicateError, Store
from keystead.store.trusted_issuers import TrustedIssuer

pytestmark = pytest.mark.anyio

JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1"}]}


def issuer(n: str, created_at: int = 10, **kw: object) -> TrustedIssuer:
    return TrustedIssuer(f"id-{n}", f"https://idp-{n}.example", created_at, **kw)  # type: ignore[arg-type]


async def test_add_get_list_delete(store: Store) -> None:
    a = issuer(
        "a",
        jwks=JWKS,
        subject_mapping="email",
        subject_claim="email",
        allowed_client_ids=("c1", "c2"),
        verifies_email=True,
    )
    b = issuer("b", created_at=5, jwks_uri="https://idp-b.example/jwks")
    await store.trusted_issuers.add(a)
    await store.trusted_issuers.add(b)
    assert await store.trusted_issuers.get("id-a") == a
    assert await store.trusted_issuers.get_by_issuer("https://idp-b.example") == b
    assert await store.trusted_issuers.get("nope") is None
    assert await store.trusted_issuers.get_by_issuer("https://nope.example") is None
    assert [i.issuer_id for i in await store.trusted_issuers.list()] == ["id-b", "id-a"]
    assert await store.trusted_issuers.delete("id-a")
    assert not await store.trusted_issuers.delete("id-a")
    assert await store.trusted_issuers.list() == [b]


async def test_duplicates(store: Store) -> None:
    await store.trusted_issuers.add(issuer("a"))
    with pytest.raises(DuplicateError):
        await store.trusted_issuers.add(issuer("a"))
    same_url = TrustedIssuer("other", "https://idp-a.example", 11)
    with pytest.raises(DuplicateError):
        await store.trusted_issuers.add(same_url)
