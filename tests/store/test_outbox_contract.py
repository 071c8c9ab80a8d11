"""Contract tests of the outbox and action tokens (every Store implementation): a job is
claimed by one sender at a time, retried, given up; a token is used once, the newest only."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from keystead.store.base import Store, User
from keystead.store.outbox import MAIL, ActionToken, Job

pytestmark = pytest.mark.anyio

ALICE = User("sub-alice", "alice", "x")


def job(job_id: str, due: int = 10) -> Job:
    return Job(job_id, MAIL, "v1.enc", 5, due)


async def test_claims_are_exclusive_and_leased(store: Store) -> None:
    for i in range(6):
        await store.jobs.add(job(f"j{i}", due=10 + i))
    await store.jobs.add(job("later", due=100))
    batches = await asyncio.gather(*(store.jobs.claim(f"w{i}", 20, 60, 2) for i in range(4)))
    claimed = [j.job_id for batch in batches for j in batch]
    assert sorted(claimed) == [f"j{i}" for i in range(6)]  # each once, none twice
    assert await store.jobs.claim("w9", 50, 60, 10) == []  # leases still running
    again = await store.jobs.claim("w9", 81, 60, 10)  # leases over (20 + 60 < 81)
    assert sorted(j.job_id for j in again) == [f"j{i}" for i in range(6)]
    assert all(j.claimed_by == "w9" and j.claimed_until == 141 for j in again)


async def test_sent_retry_give_up_only_by_the_claimer(store: Store) -> None:
    await store.jobs.add(job("a"))
    await store.jobs.add(job("b"))
    await store.jobs.add(job("c"))
    await store.jobs.claim("w1", 20, 60, 10)
    assert not await store.jobs.sent("a", "w2", 21)  # not w2's
    assert await store.jobs.sent("a", "w1", 21)
    assert not await store.jobs.sent("a", "w1", 22)  # once
    assert await store.jobs.retry("b", "w1", 300, "421 try later")
    assert await store.jobs.give_up("c", "w1", 23, "550 no such user")
    b, c = await store.jobs.get("b"), await store.jobs.get("c")
    assert b == dataclasses.replace(
        job("b"), attempts=1, next_attempt_at=300, last_error="421 try later"
    )
    assert c is not None and (c.failed_at, c.attempts) == (23, 1)
    assert await store.jobs.claim("w1", 299, 60, 10) == []  # b is not due yet; a, c are done
    assert [j.job_id for j in await store.jobs.claim("w1", 300, 60, 10)] == ["b"]
    assert [j.job_id for j in await store.jobs.recent(2)] == ["a", "b"]  # same time: by id
    assert await store.jobs.purge(25) == 2  # a (sent 21), c (failed 23)


async def test_action_tokens_single_use_newest_only_with_their_mail(store: Store) -> None:
    await store.users.add(ALICE)
    first = ActionToken("1" * 64, "reset", ALICE.sub, 10, 100)
    await store.action_tokens.add(first, [job("mail-1")])
    assert (await store.jobs.get("mail-1")) == job("mail-1")  # written with the token
    second = ActionToken("2" * 64, "reset", ALICE.sub, 20, 200, data={"next": "x"})
    await store.action_tokens.add(second, [job("mail-2")])
    assert await store.action_tokens.use("1" * 64, "reset", 30) is None  # superseded
    assert await store.action_tokens.use("2" * 64, "verify_email", 30) is None  # other purpose
    results = await asyncio.gather(
        *(store.action_tokens.use("2" * 64, "reset", 30) for _ in range(4))
    )
    winners = [r for r in results if r is not None]
    assert winners == [dataclasses.replace(second, used_at=30)]
    expired = ActionToken("3" * 64, "verify_email", ALICE.sub, 40, 50, email="a@x.example")
    await store.action_tokens.add(expired)
    assert await store.action_tokens.use("3" * 64, "verify_email", 50) is None
    with pytest.raises(LookupError):
        await store.action_tokens.add(ActionToken("4" * 64, "reset", "nobody", 1, 2))
    assert await store.action_tokens.purge(60) == 2  # 1 (cut to 20) and 3 (50); 2 lives to 200


async def test_a_failed_token_write_writes_no_mail(store: Store) -> None:
    await store.users.add(ALICE)
    await store.jobs.add(job("taken"))
    with pytest.raises(Exception):  # noqa: B017, PT011 - the duplicate job id aborts both
        await store.action_tokens.add(
            ActionToken("5" * 64, "reset", ALICE.sub, 1, 99), [job("new"), job("taken")]
        )
    assert await store.action_tokens.get("5" * 64) is None
    assert await store.jobs.get("new") is None


async def test_what_a_user_can_download_about_themselves(store: Store) -> None:
    from keystead.store.base import Consent, EventRecord, Session
    from tests.store.test_contract import make_client

    await store.users.add(ALICE)
    await store.clients.add(make_client())
    await store.consents.put(Consent(ALICE.sub, "client-1", "openid", 5))
    await store.sessions.add(Session("a" * 64, "sid-a", ALICE.sub, 1, 1, 1, 10**10))
    await store.sessions.add(Session("b" * 64, "sid-b", ALICE.sub, 2, 2, 2, 10**10))
    await store.sessions.add(Session("c" * 64, "sid-c", "someone-else", 3, 3, 3, 10**10))
    await store.events.add_many(
        [
            EventRecord("e1", "login.succeeded", 10, data={"sub": ALICE.sub}),
            EventRecord("e2", "login.succeeded", 11, data={"sub": "someone-else"}),
            EventRecord("e3", "mfa.enrolled", 12, data={"sub": ALICE.sub, "kind": "totp"}),
        ]
    )
    assert [c.client_id for c in await store.consents.list_for(ALICE.sub)] == ["client-1"]
    assert [s.sid for s in await store.sessions.list_for(ALICE.sub)] == ["sid-b", "sid-a"]
    assert [e.event_id for e in await store.events.about(ALICE.sub, 10)] == ["e3", "e1"]
    assert [e.event_id for e in await store.events.about(ALICE.sub, 1)] == ["e3"]
