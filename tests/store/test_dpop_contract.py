"""Contract tests for the DPoP key bindings (RFC 9449): a code's dpop_jkt, an access token's
and a refresh token's jkt survive every write and read path, on every store."""

from __future__ import annotations

import dataclasses

import pytest

from keystead.store.base import Store
from tests.store.test_refresh_and_apis_contract import (
    h,
    make_access_token,
    make_code,
    make_refresh_token,
    refresh_token,
    with_grant,
)

pytestmark = pytest.mark.anyio

JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


async def test_code_dpop_jkt_round_trip(store: Store) -> None:
    await with_grant(store)
    code = dataclasses.replace(make_code(), dpop_jkt=JKT)
    await store.grants.add_code(code)
    assert await store.grants.get_code(code.code_hash) == code
    consumed = await store.grants.consume_code(code.code_hash, now=20)
    assert consumed is not None and consumed.dpop_jkt == JKT
    plain = make_code("code-2")
    await store.grants.add_code(plain)
    assert (await store.grants.get_code(plain.code_hash)).dpop_jkt is None  # type: ignore[union-attr]


async def test_token_jkt_through_code_redemption_and_status(store: Store) -> None:
    await with_grant(store)
    code = make_code()
    await store.grants.add_code(code)
    access = dataclasses.replace(make_access_token("at-1"), jkt=JKT)
    refresh = make_refresh_token("rt-1")._replace(jkt=JKT)
    await store.grants.consume_code(
        code.code_hash, now=20, access_tokens=[access], refresh_tokens=[refresh]
    )
    found = await store.grants.get_access_token(access.token_hash)
    assert found is not None and found[0].jkt == JKT
    status = await store.grants.get_access_token_status(access.token_hash)
    assert status is not None and status.jkt == JKT
    stored = await refresh_token(store, "rt-1")
    assert stored is not None and stored.jkt == JKT
    # An unbound token reads back unbound.
    plain = make_access_token("at-2")
    await store.grants.add_access_token(plain)
    status = await store.grants.get_access_token_status(h("at-2"))
    assert status is not None and status.jkt is None


async def test_rotation_keeps_the_successors_jkt(store: Store) -> None:
    await with_grant(store)
    old = make_refresh_token("rt-1")._replace(jkt=JKT)
    code = make_code()
    await store.grants.add_code(code)
    await store.grants.consume_code(code.code_hash, now=15, refresh_tokens=[old])
    successor = make_refresh_token("rt-2")._replace(jkt=JKT)
    access = dataclasses.replace(make_access_token("at-3"), jkt=JKT)
    assert await store.grants.rotate_refresh_token(
        old.token_hash, successor, "enc-2", now=20, access_tokens=[access]
    )
    stored = await refresh_token(store, "rt-2")
    assert stored is not None and stored.jkt == JKT
    status = await store.grants.get_access_token_status(access.token_hash)
    assert status is not None and status.jkt == JKT
