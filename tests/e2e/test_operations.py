"""Operations: /healthz, /readyz, /metrics (from events, not responses), the JSON request log
(one line per request, with its correlation id, never a secret), and the periodic purge."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from keystead.housekeeping import PURGE_MARGIN, purge_expired
from keystead.logs import JsonFormatter
from keystead.secrets_util import sha256_hex
from keystead.web.fastlane import Keystead
from tests.e2e.conftest import PASSWORD, Browser, Env
from tests.e2e.test_authorize_errors import auth_url
from tests.e2e.test_token import get_code, redeem

pytestmark = pytest.mark.anyio


def sample(metrics: str, metric: str, **labels: str) -> float:
    """The value of one sample in the Prometheus text format (0 when absent)."""
    rendered = ",".join(f'{k}="{v}"' for k, v in labels.items())
    wanted = f"{metric}{{{rendered}}}" if labels else metric
    for line in metrics.splitlines():
        key, _, value = line.rpartition(" ")
        if key == wanted:
            return float(value)
    return 0.0


async def test_healthz_does_no_io_and_readyz_checks_the_database(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with env.client() as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}

        async def down() -> None:
            raise OSError("connection refused")

        monkeypatch.setattr(env.provider.store, "ping", down)
        assert (await http.get("/healthz")).status_code == 200  # alive, just not ready
        not_ready = await http.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"] == {"database": "unavailable"}


async def test_metrics_count_requests_tokens_logins_and_errors(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    code, verifier = await get_code(env, client_id)
    await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    await redeem(env, code, client_id, secret, expect=400, verifier=verifier)  # replayed
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id, code_challenge="c" * 43))
        await browser.login(page, password="wrong password")
        metrics = (await http.get("/metrics")).text

    assert sample(metrics, "keystead_tokens_issued_total", grant_type="authorization_code") == 1
    assert sample(metrics, "keystead_login_failures_total") == 1
    assert sample(metrics, "keystead_errors_total", catalog_id="code-replayed") == 1
    assert sample(metrics, "keystead_events_total", name="code.replayed") == 1
    token_requests = {"endpoint": "/token", "method": "POST"}
    assert sample(metrics, "keystead_http_requests_total", **token_requests, status="200") == 1
    assert sample(metrics, "keystead_http_requests_total", **token_requests, status="400") == 1
    assert sample(metrics, "keystead_http_request_duration_seconds_count", endpoint="/token") == 2
    async with env.client() as http:
        await http.get("/no/such/page/1")
        await http.get("/no/such/page/2")
        metrics = (await http.get("/metrics")).text
    assert sample(
        metrics, "keystead_http_requests_total", endpoint="unmatched", method="GET", status="404"
    ) == 2  # fmt: skip


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything keystead logs, formatted as KEYSTEAD_LOG_FORMAT=json formats it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("keystead")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


async def test_json_log_has_one_line_per_request_with_its_correlation_id_and_no_secret(
    env: Env, json_log: io.StringIO
) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    assert secret is not None
    code, verifier = await get_code(env, client_id)
    tokens = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    await redeem(env, code, client_id, secret, expect=400, verifier=verifier)
    async with env.client() as http:
        refused = await http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": "not-a-real-token"},
            auth=(client_id, secret),
        )
        await http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]  # all JSON
    requests = [line for line in lines if line["logger"] == "keystead.access"]
    assert [r["path"] for r in requests if r["path"] == "/token"] == ["/token"] * 3
    assert all(r["correlation_id"] and r["duration_ms"] >= 0 for r in requests)
    refused_cid = refused.headers["x-correlation-id"]
    (line,) = [r for r in requests if r["correlation_id"] == refused_cid]
    assert (line["status"], line["endpoint"], line["method"]) == (400, "/token", "POST")
    assert any(e.get("correlation_id") == refused_cid for e in lines if "event" in e)
    text = json_log.getvalue()
    secrets = [secret, PASSWORD, code, verifier, tokens["access_token"], tokens["id_token"]]
    secrets += [tokens.get("refresh_token") or secret, "not-a-real-token", sha256_hex(code)]
    assert [s for s in secrets if s in text] == []


async def test_purge_deletes_what_expired_and_keeps_what_is_valid(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    code, verifier = await get_code(env, client_id)
    tokens = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    expired_code, _ = await get_code(env, client_id)  # never redeemed
    store = env.provider.store
    await store.throttle.record_failure("user:nobody", env.clock())

    assert (await purge_expired(env.provider))["grants"] == 0  # nothing expired yet
    assert await store.grants.get_code(sha256_hex(expired_code)) is not None

    # Past the code's lifetime and the margin kept for late replays: the code goes, its
    # grant (nothing else left under it) too; the redeemed grant keeps its tokens.
    env.clock.now += env.settings.code_ttl + PURGE_MARGIN + 1
    counts = await purge_expired(env.provider)
    assert counts["grants"] >= 3  # two codes, one empty grant
    assert await store.grants.get_code(sha256_hex(expired_code)) is None
    assert await store.grants.get_access_token(sha256_hex(tokens["access_token"])) is not None

    # A day later the access token expired, its session idled out, the throttle counter aged.
    env.clock.now += 86400 + 1
    counts = await purge_expired(env.provider)
    assert counts["sessions"] == 2 and counts["throttle"] == 1  # one login per get_code
    assert await store.grants.get_access_token(sha256_hex(tokens["access_token"])) is None
    if "refresh_token" in tokens:  # its family lives on
        assert await store.grants.get_refresh_token(sha256_hex(tokens["refresh_token"]))


async def test_the_fast_lane_serves_the_hot_endpoints_and_everything_else_is_routed(
    env: Env,
) -> None:
    app = env.app
    assert isinstance(app, Keystead)
    assert ("POST", "/token") in app.lanes and ("GET", "/jwks") in app.lanes
    async with env.client() as http:
        jwks = await http.get("/jwks")
        assert jwks.status_code == 200 and jwks.headers["access-control-allow-origin"] == "*"
        # A method the lane does not take still gets Starlette's 405 with the catalog error.
        wrong = await http.get("/token")
        assert wrong.status_code == 405 and wrong.json()["error"] == "invalid_request"
        # HEAD and preflights take the ordinary route.
        assert (await http.head("/jwks")).status_code == 200
        preflight = await http.options("/jwks", headers={"Origin": "https://spa.example"})
        assert preflight.status_code == 204
        metrics = (await http.get("/metrics")).text
    jwks_200 = {"endpoint": "/jwks", "method": "GET", "status": "200"}
    assert sample(metrics, "keystead_http_requests_total", **jwks_200) == 1


async def test_an_exception_escaping_a_fast_lane_endpoint_is_a_500_with_a_correlation_id(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request_or_app: object) -> Any:  # an endpoint, or a static document
        raise RuntimeError("boom: secret-looking detail")

    label, _, kind = env.app.lanes[("GET", "/jwks")]
    monkeypatch.setitem(env.app.lanes, ("GET", "/jwks"), (label, broken, kind))
    monkeypatch.setitem(env.app.static, ("GET", "/jwks"), broken)
    async with env.client() as http:
        # With Origin: the fast lane's endpoint; without: the static document's direct lane.
        response = await http.get("/jwks", headers={"Origin": "https://spa.example"})
        static = await http.get("/jwks")
        metrics = (await http.get("/metrics")).text
    assert static.status_code == 500 and static.json()["error"] == "server_error"
    assert "boom" not in static.text
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "server_error" and "boom" not in response.text
    assert response.headers["x-correlation-id"] in body["error_description"]
    jwks_500 = {"endpoint": "/jwks", "method": "GET", "status": "500"}
    assert sample(metrics, "keystead_http_requests_total", **jwks_500) == 2


async def test_an_exception_escaping_the_authorize_lane_is_an_html_page(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("boom")

    label, _, kind = env.app.lanes[("GET", "/authorize")]
    assert kind == "page"
    monkeypatch.setitem(env.app.lanes, ("GET", "/authorize"), (label, broken, kind))
    async with env.client() as http:
        response = await http.get("/authorize")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html") and "boom" not in response.text
