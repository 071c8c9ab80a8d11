"""Two real keystead processes on one PostgreSQL behave as one server.

Each test talks to instance A and instance B by their own ports (same issuer, same
key-encryption key, nothing else shared but the database): single-use codes and refresh
rotation hold across them even when requests race, sessions and consents carry over, key
rotation and client deletion done by the CLI reach both within ``cache_ttl``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from joserfc import jws

from tests import postgres
from tests.e2e.cluster import (
    PASSWORD,
    Cluster,
    authorization_url,
    browse_to_code,
    client_credentials,
    introspect,
    redeem,
    refresh,
)

pytestmark = pytest.mark.anyio

API = "https://api.example.test/"
CACHE_TTL = 2  # seconds: how stale a cached client or key may be
SEEN_SECRETS: list[str] = [PASSWORD]  # must never show up in the instances' logs


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with postgres.temporary_database() as url:
        cluster = Cluster(
            tmp_path_factory.mktemp("cluster"),
            url,
            extra_env={
                "KEYSTEAD_REFRESH_GRACE": "0",  # a rotated refresh token is at once a reuse
                "KEYSTEAD_CACHE_TTL": str(CACHE_TTL),
                "KEYSTEAD_JWKS_MAX_AGE": "2",  # a rotated key signs ~5 s after it is published
                "KEYSTEAD_FORWARDED_ALLOW_IPS": "127.0.0.1",  # as behind nginx
            },
        )
        try:
            cluster.start()
            cluster.add_user("alice")
            cluster.add_api(API, "api:read")
            yield cluster
        finally:
            cluster.stop()


def kid_of(token: str) -> str:
    kid: str = jws.extract_compact(token.encode()).protected["kid"]
    return kid


async def test_a_code_issued_by_a_redeems_at_b_exactly_once_when_both_race(
    cluster: Cluster,
) -> None:
    a, b = cluster.instances
    client = cluster.add_client(scope="openid")
    verifier = "v" * 64
    async with httpx.AsyncClient() as http:
        code = await browse_to_code(http, a, authorization_url(client[0], "openid", verifier))
        responses = await asyncio.gather(
            *(redeem(http, instance, client, code, verifier) for instance in [b, a] * 4)
        )
        winners = [r for r in responses if r.status_code == 200]
        assert len(winners) == 1, [r.text for r in responses]
        body = winners[0].json()
        SEEN_SECRETS.extend(
            [str(client[1]), code, verifier, body["access_token"], body["id_token"]]
        )
        losers = [r for r in responses if r.status_code != 200]
        assert {(r.status_code, r.json()["error"]) for r in losers} == {(400, "invalid_grant")}
        # RFC 6749 §4.1.2: the replay revoked what the code had issued, seen by both.
        access_token = winners[0].json()["access_token"]
        for instance in (a, b):
            assert (await introspect(http, instance, client, access_token))["active"] is False


async def test_a_refresh_token_rotated_at_a_is_detected_as_reused_at_b(cluster: Cluster) -> None:
    a, b = cluster.instances
    client = cluster.add_client(scope="openid offline_access", skip_consent=True)
    verifier = "w" * 64
    url = authorization_url(client[0], "openid offline_access", verifier, prompt="consent")
    async with httpx.AsyncClient() as http:
        code = await browse_to_code(http, a, url)
        first = (await redeem(http, a, client, code, verifier)).json()["refresh_token"]
        rotated = await refresh(http, a, client, first)
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()["refresh_token"]
        SEEN_SECRETS.extend([first, second])
        await asyncio.sleep(1.1)  # KEYSTEAD_REFRESH_GRACE=0: from the next second on

        reused = await refresh(http, b, client, first)

        assert reused.status_code == 400, reused.text
        assert reused.json()["error_uri"].endswith("/refresh-reused")
        # RFC 9700 §4.14.2: the whole family is revoked, the newest token too, at A as well.
        after = await refresh(http, a, client, second)
        assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


async def test_a_session_cookie_from_a_works_at_b(cluster: Cluster) -> None:
    a, b = cluster.instances
    client = cluster.add_client(scope="openid")
    async with httpx.AsyncClient() as http:
        await browse_to_code(http, a, authorization_url(client[0], "openid", "x" * 64))
        # prompt=none: B must find the session A created (and the consent given at A) or fail.
        url = authorization_url(client[0], "openid", "y" * 64, prompt="none")
        response = await http.get(b.at(url))
        assert response.status_code in (302, 303), response.text[:300]
        location = response.headers["location"]
        assert "code=" in location and "error=" not in location, location
        # The login throttle is shared too: it lives in the same database.


async def test_a_key_rotated_by_the_cli_is_published_by_b_before_it_signs(
    cluster: Cluster,
) -> None:
    _, b = cluster.instances
    client = cluster.add_client(grant_types=["client_credentials"], scope="api:read")
    async with httpx.AsyncClient() as http:
        rotated = cluster.cli("keys", "rotate", "--alg", "ES256")[0]
        new_kid, activate_at = rotated["kid"], rotated["activate_at"]
        published_at: float | None = None
        signed_at: float | None = None
        while time.time() < activate_at + CACHE_TTL + 3 and signed_at is None:
            kids = {k["kid"] for k in (await http.get(b.base + "/jwks")).json()["keys"]}
            if new_kid in kids and published_at is None:
                published_at = time.time()
            token = await client_credentials(http, b, client, API)
            assert token.status_code == 200, token.text
            if kid_of(token.json()["access_token"]) == new_kid:
                signed_at = time.time()
            await asyncio.sleep(0.2)
    assert published_at is not None and signed_at is not None, (published_at, signed_at)
    assert published_at < signed_at
    assert signed_at >= activate_at  # never before its activation time


async def test_a_client_deleted_by_the_cli_stops_at_both_within_cache_ttl(
    cluster: Cluster,
) -> None:
    instances = cluster.instances
    client = cluster.add_client(grant_types=["client_credentials"], scope="api:read")
    async with httpx.AsyncClient() as http:
        for instance in instances:  # cached at both
            assert (await client_credentials(http, instance, client, API)).status_code == 200

        cluster.cli("client", "delete", client[0])
        deleted_at = time.monotonic()

        stopped: dict[str, float] = {}
        while len(stopped) < len(instances) and time.monotonic() - deleted_at < CACHE_TTL + 5:
            for instance in instances:
                if instance.name not in stopped:
                    response = await client_credentials(http, instance, client, API)
                    if response.status_code == 401:
                        stopped[instance.name] = time.monotonic() - deleted_at
            await asyncio.sleep(0.1)
    assert set(stopped) == {"A", "B"}, stopped
    assert max(stopped.values()) <= CACHE_TTL + 1.5, stopped  # + polling on a busy machine


# --- with Redis: invalidation instead of waiting for cache_ttl -------------------------------

REDIS_URL = os.environ.get("KEYSTEAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:  # fail, never skip: CI and dev machines run Redis
        raise RuntimeError(f"Redis is unreachable at {REDIS_URL}: {exc!r}") from exc
    with postgres.temporary_database() as url:
        cluster = Cluster(
            tmp_path_factory.mktemp("redis-cluster"),
            url,
            # Caches would keep a deleted client for 5 minutes: only Redis can be this fast.
            extra_env={"KEYSTEAD_REDIS_URL": REDIS_URL, "KEYSTEAD_CACHE_TTL": "300"},
        )
        try:
            cluster.start()
            cluster.add_api(API, "api:read")
            yield cluster
        finally:
            cluster.stop()


async def test_with_redis_cli_changes_reach_every_instance_at_once(
    redis_cluster: Cluster,
) -> None:
    instances = redis_cluster.instances
    client = redis_cluster.add_client(grant_types=["client_credentials"], scope="api:read")
    async with httpx.AsyncClient() as http:
        for instance in instances:
            ready = (await http.get(instance.base + "/readyz")).json()
            assert ready["checks"] == {"database": "ok", "redis": "ok"}
            assert (await client_credentials(http, instance, client, API)).status_code == 200
            await http.get(instance.base + "/jwks")  # keys cached too

        redis_cluster.cli("client", "delete", client[0])
        rotated = redis_cluster.cli("keys", "rotate", "--alg", "ES256")[0]
        changed_at = time.monotonic()

        pending = {instance.name for instance in instances}
        while pending and time.monotonic() - changed_at < 3:
            for instance in instances:
                refused = (await client_credentials(http, instance, client, API)).status_code
                kids = {k["kid"] for k in (await http.get(instance.base + "/jwks")).json()["keys"]}
                if refused == 401 and rotated["kid"] in kids:
                    pending.discard(instance.name)
            await asyncio.sleep(0.05)
    assert not pending, f"still serving stale caches after 3 s: {pending}"


# --- serve --workers N -----------------------------------------------------------------------


async def test_workers_share_one_key_set_and_aggregate_metrics(
    tmp_path: Path,
) -> None:
    with postgres.temporary_database() as url:
        cluster = Cluster(tmp_path, url, count=1)
        (server,) = cluster.instances
        try:
            server.start("--workers", "2", wait=90)
            cluster.add_api(API, "api:read")
            client = cluster.add_client(grant_types=["client_credentials"], scope="api:read")
            limits = httpx.Limits(max_keepalive_connections=0)  # a new connection each time
            async with httpx.AsyncClient(limits=limits) as http:
                tokens = []
                for _ in range(10):  # in concurrent bursts, so that both workers answer
                    burst = await asyncio.gather(
                        *(client_credentials(http, server, client, API) for _ in range(10))
                    )
                    tokens += [r.json()["access_token"] for r in burst]
                metrics = (await http.get(server.base + "/metrics")).text
            keys = cluster.cli("keys", "list")
        finally:
            server.stop()
    assert len({kid_of(token) for token in tokens}) == 1  # every worker signs with one key
    assert len(keys) == 4  # created once, before the workers started
    issued = [
        line
        for line in metrics.splitlines()
        if line.startswith('keystead_tokens_issued_total{grant_type="client_credentials"}')
    ]
    # summed over the workers
    assert issued and float(issued[0].split()[-1]) == len(tokens), issued
    pids = {
        json.loads(line)["pid"]
        for line in server.output().splitlines()
        if line.startswith("{") and '"logger":"keystead.access"' in line
    }
    assert len(pids) == 2, pids  # both workers served (and were counted above)


async def test_both_instances_log_json_lines_with_client_ips_and_no_secret(
    cluster: Cluster,
) -> None:
    a, _ = cluster.instances
    async with httpx.AsyncClient() as http:
        # From the trusted proxy (127.0.0.1), X-Forwarded-For names the client.
        await http.get(a.base + "/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    # Log lines are written in batches, at least every 0.5 s (keystead.logs).
    for _ in range(50):
        if '"/healthz"' in a.output():
            break
        await asyncio.sleep(0.1)
    for instance in cluster.instances:
        text = instance.output()
        # stdout: the start-up banner for people; stderr: the log, all JSON.
        banner = ("keystead issuer:", "  discovery:", "  data dir:")
        log = [line for line in text.splitlines() if not line.startswith(banner)]
        lines = [json.loads(line) for line in log]
        requests = [line for line in lines if line["logger"] == "keystead.access"]
        assert requests and all(line["correlation_id"] for line in requests)
        leaked = [secret for secret in SEEN_SECRETS if len(secret) > 8 and secret in text]
        assert leaked == [], f"{instance.name} logged secrets"
    health = [json.loads(line) for line in a.output().splitlines() if '"/healthz"' in line]
    assert health[-1]["client_ip"] == "203.0.113.9"
