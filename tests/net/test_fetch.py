"""The SSRF-guarded fetcher for client jwks_uri documents."""

from __future__ import annotations

import httpx
import pytest

from keystead.net.fetch import FetchError, SafeFetcher, UnsafeTarget, is_public_address

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "224.0.0.1",
        "192.0.2.10",  # documentation
        "240.0.0.1",
        "not-an-ip",
    ],
)
def test_special_use_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


def resolver_of(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"keys": []})


async def test_loopback_literal_is_refused() -> None:
    with pytest.raises(FetchError, match="127.0.0.1"):
        await SafeFetcher().get_json("https://127.0.0.1/jwks")


async def test_every_resolved_address_is_checked() -> None:
    fetcher = SafeFetcher(
        resolver=resolver_of("93.184.215.14", "10.0.0.7"), transport=httpx.MockTransport(ok)
    )
    with pytest.raises(FetchError, match="10.0.0.7"):
        await fetcher.get_json("https://rp.example.com/jwks")


async def test_connects_to_the_checked_address_with_the_name_in_host_and_sni() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"keys": []})

    fetcher = SafeFetcher(
        resolver=resolver_of("93.184.215.14"), transport=httpx.MockTransport(handler)
    )
    assert await fetcher.get_json("https://rp.example.com:8443/jwks?v=1") == {"keys": []}
    assert seen[0].url.host == "93.184.215.14"
    assert seen[0].url.port == 8443
    assert seen[0].url.path == "/jwks"
    assert seen[0].headers["host"] == "rp.example.com:8443"
    assert seen[0].extensions["sni_hostname"] == "rp.example.com"


async def test_http_is_refused_in_production() -> None:
    with pytest.raises(FetchError, match="https"):
        await SafeFetcher(resolver=resolver_of("93.184.215.14")).get_json("http://rp.example/j")


async def test_credentials_in_url_are_refused() -> None:
    with pytest.raises(FetchError, match="credentials"):
        await SafeFetcher().get_json("https://user:pw@rp.example/j")


@pytest.mark.parametrize(
    "url", ["https://[x/jwks", "https://256.1.1.1/jwks", "https://0177.0.0.1/"]
)
async def test_a_url_that_does_not_parse_is_a_fetch_error(url: str) -> None:
    fetcher = SafeFetcher(resolver=resolver_of("93.184.215.14"), transport=httpx.MockTransport(ok))
    with pytest.raises(FetchError, match="not a valid URL|resolves to"):
        await fetcher.get_json(url)


async def test_private_network_allowed_for_development() -> None:
    fetcher = SafeFetcher(allow_private=True, transport=httpx.MockTransport(ok))
    assert await fetcher.get_json("http://127.0.0.1:9000/jwks") == {"keys": []}


async def test_redirects_are_not_followed() -> None:
    fetcher = SafeFetcher(
        allow_private=True,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(302, headers={"location": "http://169.254.169.254/"})
        ),
    )
    with pytest.raises(FetchError, match="HTTP 302"):
        await fetcher.get_json("https://rp.example/jwks")


async def test_size_is_bounded() -> None:
    fetcher = SafeFetcher(
        allow_private=True,
        max_bytes=1000,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"[" + b"1," * 900)),
    )
    with pytest.raises(FetchError, match="larger than 1000"):
        await fetcher.get_json("https://rp.example/jwks")


async def test_not_json() -> None:
    fetcher = SafeFetcher(
        allow_private=True, transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<"))
    )
    with pytest.raises(FetchError, match="JSON"):
        await fetcher.get_json("https://rp.example/jwks")


async def test_slow_server_is_cut_off() -> None:
    import anyio

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await anyio.sleep(5)
            return httpx.Response(200, json={})

    fetcher = SafeFetcher(allow_private=True, timeout=0.05, transport=Slow())
    with pytest.raises(FetchError, match="did not answer"):
        await fetcher.get_json("https://rp.example/jwks")


# --- post_form: the back-channel logout POST, under the same guard ------------------------


async def test_post_form_is_pinned_and_form_encoded() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    fetcher = SafeFetcher(
        resolver=resolver_of("93.184.215.14"), transport=httpx.MockTransport(handler)
    )
    assert (
        await fetcher.post_form("https://rp.example.com/bc?x=1", {"logout_token": "a.b.c"}) == 200
    )
    [request] = seen
    assert request.method == "POST" and request.url.host == "93.184.215.14"
    assert request.url.path == "/bc" and request.url.query == b"x=1"
    assert request.headers["host"] == "rp.example.com"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.content == b"logout_token=a.b.c"


async def test_post_form_refuses_private_addresses_before_connecting() -> None:
    seen: list[httpx.Request] = []
    fetcher = SafeFetcher(
        resolver=resolver_of("10.0.0.7"),
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)),
    )
    with pytest.raises(UnsafeTarget, match="10.0.0.7"):
        await fetcher.post_form("https://rp.example.com/bc", {"logout_token": "t"})
    with pytest.raises(UnsafeTarget, match="https"):
        await fetcher.post_form("http://rp.example.com/bc", {"logout_token": "t"})
    assert seen == []


async def test_post_form_does_not_follow_redirects() -> None:
    fetcher = SafeFetcher(
        allow_private=True,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(307, headers={"location": "http://169.254.169.254/"})
        ),
    )
    assert await fetcher.post_form("https://rp.example/bc", {"logout_token": "t"}) == 307


async def test_post_form_without_an_answer_is_a_fetch_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fetcher = SafeFetcher(allow_private=True, transport=httpx.MockTransport(refuse))
    with pytest.raises(FetchError, match="could not be reached") as info:
        await fetcher.post_form("https://rp.example/bc", {"logout_token": "t"})
    assert not isinstance(info.value, UnsafeTarget)  # retried, unlike a refused target
