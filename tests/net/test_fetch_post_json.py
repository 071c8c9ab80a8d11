"""SafeFetcher.post_json (the CIBA ping, CIBA Core 1.0 §10.2): JSON with a bearer token,
pinned to the checked address, under the same SSRF guard as post_form; no redirects."""

from __future__ import annotations

import json

import httpx
import pytest

from keystead.net.fetch import SafeFetcher, UnsafeTarget
from tests.net.test_fetch import resolver_of

pytestmark = pytest.mark.anyio


async def test_post_json_is_pinned_with_the_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    fetcher = SafeFetcher(
        resolver=resolver_of("93.184.215.14"), transport=httpx.MockTransport(handler)
    )
    status = await fetcher.post_json(
        "https://client.example.com/ping", {"auth_req_id": "abc"}, bearer="tok-1"
    )
    assert status == 204
    [request] = seen
    assert request.method == "POST" and request.url.host == "93.184.215.14"
    assert request.headers["host"] == "client.example.com"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer tok-1"
    assert json.loads(request.content) == {"auth_req_id": "abc"}


async def test_post_json_refuses_private_addresses_and_redirects() -> None:
    seen: list[httpx.Request] = []
    fetcher = SafeFetcher(
        resolver=resolver_of("127.0.0.1"),
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204)),
    )
    with pytest.raises(UnsafeTarget, match="127.0.0.1"):
        await fetcher.post_json("https://client.example.com/ping", {"auth_req_id": "a"})
    assert seen == []
    redirecting = SafeFetcher(
        allow_private=True,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(307, headers={"Location": "http://169.254.169.254/"})
        ),
    )
    assert await redirecting.post_json("http://127.0.0.1:9/ping", {}, bearer="t") == 307
