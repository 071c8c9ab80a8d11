"""The outbox across real `keystead serve` processes (issue 21): two instances on one
PostgreSQL send each mail exactly once; an instance killed (SIGKILL) while a mail waits for
its retry loses nothing — after the restart it arrives. The SMTP server is aiosmtpd."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keystead.provider import Provider
from keystead.services.common import CLI
from keystead.services.invitations import invite
from tests import postgres
from tests.e2e.cluster import Cluster
from tests.mail.smtp_sink import SmtpSink

pytestmark = pytest.mark.timeout(180)

INVITES = 12


def invite_many(cluster: Cluster, count: int, prefix: str) -> None:
    """Invitations written as an operator's CLI would (its process knows the mail setting)."""
    smtp_url = cluster.env["KEYSTEAD_SMTP_URL"]

    async def work(provider: Provider) -> None:
        provider.settings = provider.settings.model_copy(update={"smtp_url": smtp_url})
        for i in range(count):
            await invite(provider, f"{prefix}{i}@example.com", CLI)

    cluster.admin(work)


def jobs_state(cluster: Cluster) -> list[tuple[Any, ...]]:
    async def work(provider: Provider) -> list[tuple[Any, ...]]:
        jobs = await provider.store.jobs.recent(1000)
        return [(j.attempts, j.sent_at, j.failed_at, j.last_error) for j in jobs]

    result: list[tuple[Any, ...]] = cluster.admin(work)
    return result


def wait_for(sink: SmtpSink, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


def test_two_instances_on_postgresql_send_each_mail_once(tmp_path: Path, sink: SmtpSink) -> None:
    with postgres.temporary_database() as url:
        cluster = Cluster(tmp_path, url, extra_env={"KEYSTEAD_SMTP_URL": sink.url})
        try:
            cluster.start()
            invite_many(cluster, INVITES, "guest")
            wait_for(sink, INVITES, within=30)
            time.sleep(3)  # any second delivery would have happened by now
            recipients = sorted(m["To"] for m in sink.messages)
            assert recipients == sorted(f"guest{i}@example.com" for i in range(INVITES))
            logs = "".join(i.output() for i in cluster.instances)
            assert "Traceback" not in logs
        finally:
            cluster.stop()


def test_a_mail_waiting_for_its_retry_survives_a_kill(tmp_path: Path) -> None:
    sink = SmtpSink()  # not listening yet: the first attempt is refused (a temporary error)
    started = False
    cluster = Cluster(
        tmp_path,
        None,
        count=1,
        extra_env={"KEYSTEAD_SMTP_URL": sink.url, "KEYSTEAD_OUTBOX_RETRY_BASE": "1"},
    )
    [instance] = cluster.instances
    try:
        cluster.start()
        invite_many(cluster, 1, "survivor")
        deadline = time.monotonic() + 20
        while not any(attempts for attempts, *_ in jobs_state(cluster)):
            assert time.monotonic() < deadline, "the instance never tried to send"
            time.sleep(0.2)
        instance.kill()  # SIGKILL with the mail queued for its retry
        [(attempts, sent_at, failed_at, error)] = jobs_state(cluster)
        assert attempts >= 1 and sent_at is None and failed_at is None and error
        sink.start()
        started = True
        instance.start()
        wait_for(sink, 1, within=30)
        assert [m["To"] for m in sink.messages] == ["survivor0@example.com"]
    finally:
        cluster.stop()
        if started:
            sink.stop()
