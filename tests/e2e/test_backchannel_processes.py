"""Back-channel logout across real `keystead serve` processes (the outbox's guarantees, as in
test_outbox_processes.py): two instances on one PostgreSQL deliver each client's logout token
once; an instance killed (SIGKILL) while a token waits for its retry delivers it after the
restart. The relying parties are one in-test HTTP receiver (logout_receiver.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from keystead.protocol.backchannel import notify
from keystead.provider import Provider
from keystead.services.clients import ClientSpec, create_client
from keystead.store.base import Grant
from tests import postgres
from tests.e2e.cluster import ISSUER, REDIRECT_URI, Cluster, free_port
from tests.e2e.logout_receiver import Receiver, check_logout_token, jwks_of

pytestmark = pytest.mark.timeout(180)

CLIENTS = 12
SID = "sid-of-the-session"
DEV = {"KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH": "true"}


def session_with_clients(cluster: Cluster, receiver: Receiver, count: int) -> str:
    """A user signed in to ``count`` clients in one session (its grants, as the authorize
    endpoint writes them), which then ends: the jobs are queued as a logout would queue them.
    Returns the user's sub."""
    sub = cluster.add_user("alice")

    async def work(provider: Provider) -> int:
        for i in range(count):
            spec = ClientSpec(
                client_name=f"RP {i}", client_id=f"rp-{i}", redirect_uris=[REDIRECT_URI]
            )
            extra = {"backchannel_logout_uri": receiver.uri(f"rp-{i}")}
            await create_client(provider.store, spec, provider.now(), kek=provider.kek, extra=extra)
            grant = Grant(f"g-{i}", f"rp-{i}", sub, "openid", provider.now(), sid=SID)
            await provider.store.grants.add_grant(grant)
        return await notify(provider, sub=sub, sids=[SID])

    assert cluster.admin(work) == count
    return sub


def jobs_state(cluster: Cluster) -> list[tuple[Any, ...]]:
    async def work(provider: Provider) -> list[tuple[Any, ...]]:
        jobs = await provider.store.jobs.recent(1000)
        return [(j.attempts, j.sent_at, j.failed_at, j.last_error) for j in jobs]

    result: list[tuple[Any, ...]] = cluster.admin(work)
    return result


def wait_for(receiver: Receiver, count: int, within: float) -> None:
    deadline = time.monotonic() + within
    while len(receiver.tokens()) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_two_instances_on_postgresql_deliver_each_token_once(tmp_path: Path) -> None:
    with postgres.temporary_database() as url, Receiver() as receiver:
        cluster = Cluster(tmp_path, url, extra_env=DEV)
        try:
            cluster.start()
            sub = session_with_clients(cluster, receiver, CLIENTS)
            wait_for(receiver, CLIENTS, within=30)
            time.sleep(3)  # any second delivery would have happened by now
            keys = jwks_of(cluster.instances[0].base)
            claims = [
                check_logout_token(r.token, keys, issuer=ISSUER, client_id=f"rp-{r.name[3:]}")
                for r in receiver.received
            ]
            assert sorted(c["aud"] for c in claims) == sorted(f"rp-{i}" for i in range(CLIENTS))
            assert len({c["jti"] for c in claims}) == CLIENTS  # no token twice
            assert all(c["sid"] == SID and c["sub"] == sub for c in claims)
            assert all(sent_at is not None for _, sent_at, *_ in jobs_state(cluster))
            logs = "".join(i.output() for i in cluster.instances)
            assert "Traceback" not in logs
        finally:
            cluster.stop()


def test_a_token_waiting_for_its_retry_survives_a_kill(tmp_path: Path) -> None:
    receiver = Receiver(port=free_port())  # not listening yet: the first POST is refused
    cluster = Cluster(tmp_path, None, count=1, extra_env={**DEV, "KEYSTEAD_OUTBOX_RETRY_BASE": "1"})
    [instance] = cluster.instances
    try:
        cluster.start()
        session_with_clients(cluster, receiver, 1)
        deadline = time.monotonic() + 20
        while not any(attempts for attempts, *_ in jobs_state(cluster)):
            assert time.monotonic() < deadline, "the instance never tried to send"
            time.sleep(0.2)
        instance.kill()  # SIGKILL with the token queued for its retry
        [(attempts, sent_at, failed_at, error)] = jobs_state(cluster)
        assert attempts >= 1 and sent_at is None and failed_at is None
        assert "could not be reached" in error
        receiver.start()
        instance.start()
        wait_for(receiver, 1, within=30)
        [token] = receiver.tokens("rp-0")
        claims = check_logout_token(token, jwks_of(instance.base), issuer=ISSUER, client_id="rp-0")
        assert claims["sid"] == SID
    finally:
        cluster.stop()
        receiver.stop()
