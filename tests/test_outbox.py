"""The outbox sender (outbox.py) on the memory store with a fake clock: delivered once,
retried with backoff, given up on a permanent error or after MAX_ATTEMPTS, payloads sealed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keystead import outbox
from keystead.accounts.passwords import PasswordHasher
from keystead.config import Settings
from keystead.events import Event, Events
from keystead.jose.kek import KeyEncryptor
from keystead.outbox import DeliveryError, Sender, new_job
from keystead.provider import Provider
from keystead.store.memory import MemoryStore

pytestmark = pytest.mark.anyio


class Clock:
    now = 1_700_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def provider(tmp_path: Path, events: list[Event]) -> Provider:
    return Provider(
        settings=Settings(issuer="https://id.example.com", data_dir=tmp_path),
        store=MemoryStore(),
        kek=KeyEncryptor(b"k" * 32),
        clock=Clock(),
        hasher=PasswordHasher(limit=1),
        events=Events([events.append]),
    )


class Remote:
    """The far side: takes deliveries, failing the first ``failures`` of them."""

    def __init__(self, failures: int = 0, *, permanent: bool = False) -> None:
        self.failures, self.permanent = failures, permanent
        self.received: list[dict[str, Any]] = []

    async def __call__(self, provider: Provider, payload: dict[str, Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise DeliveryError("421 busy", permanent=self.permanent)
        self.received.append(payload)


async def test_a_job_is_delivered_once_and_its_payload_is_sealed(
    provider: Provider, events: list[Event]
) -> None:
    remote = Remote()
    job = new_job(provider, "mail", {"to": "a@example.com", "link": "https://x/reset#SECRET"})
    assert "SECRET" not in job.payload_enc
    await provider.store.jobs.add(job)
    sender = Sender(provider, {"mail": remote})
    assert await sender.run_once() == 1
    assert await sender.run_once() == 0
    assert remote.received == [{"to": "a@example.com", "link": "https://x/reset#SECRET"}]
    assert [e.name for e in events] == ["outbox.sent"]


async def test_two_senders_never_deliver_one_job_twice(provider: Provider) -> None:
    remote = Remote()
    for i in range(10):
        await provider.store.jobs.add(new_job(provider, "mail", {"n": i}))
    first, second = Sender(provider, {"mail": remote}), Sender(provider, {"mail": remote})
    await first.run_once(limit=4)
    await second.run_once(limit=10)
    assert sorted(p["n"] for p in remote.received) == list(range(10))


async def test_temporary_failures_back_off_then_succeed(provider: Provider) -> None:
    clock = provider.clock
    assert isinstance(clock, Clock)
    remote = Remote(failures=2)
    job = new_job(provider, "mail", {"n": 1})
    await provider.store.jobs.add(job)
    sender = Sender(provider, {"mail": remote})
    await sender.run_once()
    stored = await provider.store.jobs.get(job.job_id)
    assert stored is not None and stored.attempts == 1 and stored.last_error == "421 busy"
    assert 27 <= stored.next_attempt_at - clock.now <= 33  # 30 s ± 10 %
    assert await sender.run_once() == 0  # not due yet
    clock.now = stored.next_attempt_at
    await sender.run_once()
    stored = await provider.store.jobs.get(job.job_id)
    assert stored is not None and 54 <= stored.next_attempt_at - clock.now <= 66  # doubled
    clock.now = stored.next_attempt_at
    await sender.run_once()
    assert remote.received == [{"n": 1}]


async def test_permanent_failures_and_too_many_attempts_give_up(
    provider: Provider, events: list[Event]
) -> None:
    clock = provider.clock
    assert isinstance(clock, Clock)
    refused = new_job(provider, "mail", {"n": 1})
    await provider.store.jobs.add(refused)
    await Sender(provider, {"mail": Remote(1, permanent=True)}).run_once()
    stored = await provider.store.jobs.get(refused.job_id)
    assert stored is not None and stored.failed_at == clock.now
    flaky = new_job(provider, "mail", {"n": 2})
    await provider.store.jobs.add(flaky)
    sender = Sender(provider, {"mail": Remote(failures=100)})
    for _ in range(outbox.MAX_ATTEMPTS):
        clock.now += 4000
        await sender.run_once()
    stored = await provider.store.jobs.get(flaky.job_id)
    assert stored is not None and stored.failed_at is not None
    assert stored.attempts == outbox.MAX_ATTEMPTS
    assert [e.name for e in events].count("outbox.failed") == 2


async def test_a_job_of_no_known_kind_is_given_up(provider: Provider) -> None:
    job = new_job(provider, "carrier-pigeon", {})
    await provider.store.jobs.add(job)
    await Sender(provider, {}).run_once()
    stored = await provider.store.jobs.get(job.job_id)
    assert stored is not None and "no handler" in (stored.last_error or "")
