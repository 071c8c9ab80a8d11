"""Contract tests of RFC 9396 authorization_details kept outside the grant (0023_rar_details)
on every Store implementation: an access token's own array (narrowed at the token endpoint),
written alone or with a code's consumption or a refresh token's rotation, read back with the
token and in its status; and the arrays of device codes and CIBA requests."""

from __future__ import annotations

import dataclasses

import pytest

from keystead.store.base import RefreshToken, Store
from tests.store.test_ciba_requests_contract import request
from tests.store.test_contract import h, make_code, make_token, with_grant
from tests.store.test_device_codes_contract import code as device_code

pytestmark = pytest.mark.anyio
DETAILS = (
    {"type": "payment_initiation", "actions": ["status"], "amount": {"currency": "EUR"}},
    {"type": "account_information", "locations": ["https://bank.example"]},
)


async def test_an_access_token_keeps_its_own_details(store: Store) -> None:
    await with_grant(store)
    plain, own = (
        make_token("plain"),
        dataclasses.replace(make_token("own"), authorization_details=DETAILS),
    )
    await store.grants.add_access_token(plain)
    await store.grants.add_access_token(own)
    found = await store.grants.get_access_token(own.token_hash)
    assert found is not None and found[0] == own
    status = await store.grants.get_access_token_status(own.token_hash)
    assert status is not None and status.authorization_details == DETAILS
    status = await store.grants.get_access_token_status(plain.token_hash)
    assert status is not None and status.authorization_details is None  # the grant's


async def test_written_with_the_code_and_the_rotation(store: Store) -> None:
    await with_grant(store)
    await store.grants.add_code(make_code())
    token = dataclasses.replace(make_token("t1"), authorization_details=DETAILS[:1])
    assert await store.grants.consume_code(make_code().code_hash, 20, access_tokens=[token])
    status = await store.grants.get_access_token_status(token.token_hash)
    assert status is not None and status.authorization_details == DETAILS[:1]

    first = RefreshToken(h("r1"), "grant-1", "client-1", "sub-1", "openid", 10, 9999, 999)
    await store.grants.add_refresh_token(first)
    successor = first._replace(token_hash=h("r2"))
    rotated = dataclasses.replace(make_token("t2"), authorization_details=DETAILS[1:])
    grants = store.grants
    assert await grants.rotate_refresh_token(first.token_hash, successor, "enc", 30, [rotated])
    status = await store.grants.get_access_token_status(rotated.token_hash)
    assert status is not None and status.authorization_details == DETAILS[1:]


async def test_device_codes_and_ciba_requests_keep_theirs(store: Store) -> None:
    asked = dataclasses.replace(device_code("d"), authorization_details=DETAILS)
    await store.device_codes.add(asked)
    assert await store.device_codes.get_by_user_code(asked.user_code_hash) == asked
    assert await store.device_codes.approve(asked.user_code_hash, "sub-1", None, 5, 20)
    approved = await store.device_codes.get_by_user_code(asked.user_code_hash)
    assert approved is not None and approved.authorization_details == DETAILS

    ciba = dataclasses.replace(request("c"), authorization_details=DETAILS)
    await store.ciba_requests.add(ciba)
    assert await store.ciba_requests.get(ciba.auth_req_id_hash) == ciba
    plain = request("p")
    await store.ciba_requests.add(plain)
    got = await store.ciba_requests.get(plain.auth_req_id_hash)
    assert got is not None and got.authorization_details is None
