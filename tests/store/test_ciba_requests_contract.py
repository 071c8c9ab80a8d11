"""Contract tests of CIBA backchannel authentication requests on every Store implementation:
a request is approved or denied once, only by its user, while pending and unexpired; an
approved one is consumed once; a poll records its time and returns the previous one."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from keystead.store.base import DuplicateError, Store
from keystead.store.ciba_requests import APPROVED, DENIED, PENDING, PING, POLL, CibaRequest
from keystead.store.outbox import Job

pytestmark = pytest.mark.anyio


def request(n: str = "1", sub: str = "sub-1", expires_at: int = 610) -> CibaRequest:
    return CibaRequest(
        n * 64, f"req-{n}", "client-a", sub, "openid", 10, expires_at, 5, POLL, binding_message="hi"
    )


async def test_add_get_and_duplicates(store: Store) -> None:
    first = dataclasses.replace(request("a"), delivery_mode=PING, ping_enc="sealed")
    await store.ciba_requests.add(first)
    assert await store.ciba_requests.get(first.auth_req_id_hash) == first
    assert await store.ciba_requests.get_by_request_id("req-a") == first
    assert await store.ciba_requests.get("f" * 64) is None
    with pytest.raises(DuplicateError):
        await store.ciba_requests.add(first)
    with pytest.raises(DuplicateError):  # the request_id is unique on its own
        await store.ciba_requests.add(dataclasses.replace(request("b"), request_id="req-a"))


async def test_pending_for_lists_the_users_live_requests(store: Store) -> None:
    await store.ciba_requests.add(request("1"))
    await store.ciba_requests.add(dataclasses.replace(request("2"), created_at=5))
    await store.ciba_requests.add(request("3", sub="sub-2"))
    await store.ciba_requests.add(request("4", expires_at=100))
    pending = await store.ciba_requests.pending_for("sub-1", 200)
    assert [r.request_id for r in pending] == ["req-2", "req-1"]
    assert await store.ciba_requests.deny("req-1", "sub-1", 201)
    assert [r.request_id for r in await store.ciba_requests.pending_for("sub-1", 202)] == ["req-2"]


async def test_poll_records_the_time_and_returns_the_previous(store: Store) -> None:
    await store.ciba_requests.add(request())
    assert await store.ciba_requests.poll("9" * 64, 20) is None
    first = await store.ciba_requests.poll("1" * 64, 20)
    assert first is not None and first.last_polled_at is None and first.status == PENDING
    second = await store.ciba_requests.poll("1" * 64, 26)
    assert second is not None and second.last_polled_at == 20
    await store.ciba_requests.slow_down("1" * 64, 10)
    third = await store.ciba_requests.poll("1" * 64, 40)
    assert third is not None and (third.last_polled_at, third.interval) == (26, 10)


async def test_approve_once_by_its_user_then_consume_once(store: Store) -> None:
    r = request()
    ciba = store.ciba_requests
    await ciba.add(r)
    assert not await ciba.consume(r.auth_req_id_hash, 20)  # still pending
    # Another user cannot answer someone else's request.
    assert not await ciba.approve("req-1", "sub-2", 20, sid="x", auth_time=1, acr="1", amr=())
    assert not await ciba.deny("req-1", "sub-2", 20)
    assert await ciba.approve(
        "req-1", "sub-1", 20, sid="sid-1", auth_time=15, acr="2", amr=("pwd", "otp", "mfa")
    )
    assert not await ciba.approve("req-1", "sub-1", 21, sid=None, auth_time=None, acr=None, amr=())
    assert not await ciba.deny("req-1", "sub-1", 21)
    got = await ciba.get(r.auth_req_id_hash)
    assert got is not None
    assert (got.status, got.sid, got.auth_time, got.acr, got.amr, got.decided_at) == (
        APPROVED,
        "sid-1",
        15,
        "2",
        ("pwd", "otp", "mfa"),
        20,
    )
    results = await asyncio.gather(*(ciba.consume(r.auth_req_id_hash, 30) for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]  # CIBA §10.1: single use
    got = await ciba.get(r.auth_req_id_hash)
    assert got is not None and got.consumed_at == 30


async def test_deny_expiry_and_purge(store: Store) -> None:
    ciba = store.ciba_requests
    denied, expired = request("1"), request("2", expires_at=100)
    await ciba.add(denied)
    await ciba.add(expired)
    assert await ciba.deny("req-1", "sub-1", 20)
    got = await ciba.get(denied.auth_req_id_hash)
    assert got is not None and got.status == DENIED
    assert not await ciba.consume(denied.auth_req_id_hash, 30)
    assert not await ciba.approve("req-2", "sub-1", 100, sid=None, auth_time=None, acr=None, amr=())
    assert not await ciba.deny("req-2", "sub-1", 100)
    assert await ciba.purge(101) == 1
    assert await ciba.get(expired.auth_req_id_hash) is None
    assert await ciba.get_by_request_id("req-2") is None
    assert await ciba.get(denied.auth_req_id_hash) is not None


async def test_the_ping_job_is_written_with_the_answer_only(store: Store) -> None:
    ciba = store.ciba_requests
    await ciba.add(request("1"))
    await ciba.add(request("2"))

    def job(n: str) -> Job:
        return Job(f"job-{n}", "ciba_ping", "sealed", 20, 20)

    assert await ciba.approve(
        "req-1", "sub-1", 20, sid=None, auth_time=None, acr=None, amr=(), jobs=[job("a")]
    )
    # A second answer does not count, and its job is not written.
    assert not await ciba.deny("req-1", "sub-1", 21, jobs=[job("b")])
    assert await ciba.deny("req-2", "sub-1", 22, jobs=[job("c")])
    assert await store.jobs.get("job-a") is not None
    assert await store.jobs.get("job-b") is None
    assert await store.jobs.get("job-c") is not None
