"""SafeFetcher.exchange (federation's calls to an upstream): the same SSRF guard as get_json,
extra headers sent, a form POSTed, and every answer's status and JSON read (an OAuth error is
a JSON 400), bounded in size, redirects not followed."""

from __future__ import annotations

import httpx
import pytest

from keystead.net.fetch import FetchError, SafeFetcher, UnsafeTarget

pytestmark = pytest.mark.anyio


def resolver_of(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_refuses_private_addresses_before_connecting() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    fetcher = SafeFetcher(resolver=resolver_of("10.0.0.7"), transport=httpx.MockTransport(handler))
    with pytest.raises(UnsafeTarget, match="10.0.0.7"):
        await fetcher.exchange("POST", "https://idp.example/token", form={"code": "c"})
    with pytest.raises(UnsafeTarget, match="https"):
        await fetcher.exchange("GET", "http://idp.example/userinfo")
    assert sent == []


async def test_posts_the_form_with_headers_pinned_to_the_checked_address() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(400, json={"error": "invalid_grant"})

    fetcher = SafeFetcher(
        resolver=resolver_of("93.184.215.14"), transport=httpx.MockTransport(handler)
    )
    status, body = await fetcher.exchange(
        "POST",
        "https://idp.example/token",
        headers={"Authorization": "Basic eDp5"},
        form={"grant_type": "authorization_code", "code": "a b"},
    )
    assert (status, body) == (400, {"error": "invalid_grant"})
    [request] = seen
    assert request.url.host == "93.184.215.14" and request.headers["host"] == "idp.example"
    assert request.headers["authorization"] == "Basic eDp5"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.content == b"grant_type=authorization_code&code=a+b"
    assert request.headers["accept"] == "application/json"


async def test_not_json_is_none_and_redirects_are_answers() -> None:
    fetcher = SafeFetcher(
        allow_private=True, transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<"))
    )
    assert await fetcher.exchange("GET", "http://127.0.0.1/x") == (200, None)
    moved = SafeFetcher(
        allow_private=True,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(302, headers={"location": "http://169.254.169.254/"})
        ),
    )
    assert await moved.exchange("GET", "http://127.0.0.1/x") == (302, None)


async def test_size_is_bounded() -> None:
    big = httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 2000))
    fetcher = SafeFetcher(allow_private=True, max_bytes=1000, transport=big)
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        await fetcher.exchange("GET", "http://127.0.0.1/x")


async def test_no_answer_is_a_fetch_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fetcher = SafeFetcher(allow_private=True, transport=httpx.MockTransport(refuse))
    with pytest.raises(FetchError, match="could not be reached: ConnectError"):
        await fetcher.exchange("POST", "http://127.0.0.1/token", form={})
