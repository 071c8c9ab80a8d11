"""Contract tests of the device codes (RFC 8628) on every Store implementation: a code is
approved or denied once while pending and unexpired, consumed once when approved, and a poll
records its time and returns the previous one."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from keystead.store.base import DuplicateError, Store
from keystead.store.device_codes import APPROVED, DENIED, PENDING, DeviceCode

pytestmark = pytest.mark.anyio


def code(n: str = "1", expires_at: int = 610) -> DeviceCode:
    return DeviceCode(n * 64, n.upper() * 63 + "u", "client-a", "openid", 10, expires_at, 5)


async def test_add_get_and_duplicates(store: Store) -> None:
    first = code("a")
    await store.device_codes.add(first)
    assert await store.device_codes.get_by_user_code(first.user_code_hash) == first
    assert await store.device_codes.get_by_user_code("f" * 64) is None
    with pytest.raises(DuplicateError):
        await store.device_codes.add(first)
    with pytest.raises(DuplicateError):  # the user code hash is unique on its own
        await store.device_codes.add(dataclasses.replace(code("b"), user_code_hash="A" * 63 + "u"))


async def test_poll_records_the_time_and_returns_the_previous(store: Store) -> None:
    await store.device_codes.add(code())
    assert await store.device_codes.poll("9" * 64, 20) is None
    first = await store.device_codes.poll("1" * 64, 20)
    assert first is not None and first.last_polled_at is None and first.status == PENDING
    second = await store.device_codes.poll("1" * 64, 26)
    assert second is not None and second.last_polled_at == 20
    await store.device_codes.slow_down("1" * 64, 10)
    third = await store.device_codes.poll("1" * 64, 40)
    assert third is not None and (third.last_polled_at, third.interval) == (26, 10)


async def test_approve_once_then_consume_once(store: Store) -> None:
    c = code()
    await store.device_codes.add(c)
    assert not await store.device_codes.consume(c.device_code_hash, 20)  # still pending
    approved = await store.device_codes.approve(
        c.user_code_hash, "sub-1", "sid-1", 15, 20, acr="2", amr=("pwd", "otp", "mfa")
    )
    assert approved
    assert not await store.device_codes.approve(c.user_code_hash, "sub-2", None, None, 21)
    assert not await store.device_codes.deny(c.user_code_hash, "sub-2", 21)
    got = await store.device_codes.get_by_user_code(c.user_code_hash)
    assert got is not None
    assert (got.status, got.sub, got.sid, got.auth_time) == (APPROVED, "sub-1", "sid-1", 15)
    assert (got.acr, got.amr) == ("2", ("pwd", "otp", "mfa"))
    results = await asyncio.gather(
        *(store.device_codes.consume(c.device_code_hash, 30) for _ in range(5))
    )
    assert sorted(results) == [False] * 4 + [True]  # RFC 6749 §4.1.2: single use
    got = await store.device_codes.get_by_user_code(c.user_code_hash)
    assert got is not None and got.consumed_at == 30


async def test_deny_and_expiry(store: Store) -> None:
    denied, expired = code("1"), code("2", expires_at=100)
    await store.device_codes.add(denied)
    await store.device_codes.add(expired)
    assert await store.device_codes.deny(denied.user_code_hash, "sub-1", 20)
    got = await store.device_codes.get_by_user_code(denied.user_code_hash)
    assert got is not None and (got.status, got.sub) == (DENIED, "sub-1")
    assert not await store.device_codes.consume(denied.device_code_hash, 30)
    assert not await store.device_codes.approve(expired.user_code_hash, "s", None, None, 100)
    assert not await store.device_codes.deny(expired.user_code_hash, "s", 100)
    assert await store.device_codes.purge(101) == 1
    assert await store.device_codes.get_by_user_code(expired.user_code_hash) is None
    assert await store.device_codes.get_by_user_code(denied.user_code_hash) is not None
