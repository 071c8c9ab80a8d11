"""Fetch a small JSON document from a URL a client gave us, POST a form (back-channel logout)
or JSON (CIBA ping) to one, or talk JSON with an upstream identity provider (``exchange``:
federation/), without becoming an SSRF proxy.

A client's ``jwks_uri`` is attacker-controlled input: fetching it must not reach keystead's
own loopback, the private network it runs in, or cloud metadata endpoints (RFC 9700 §4.15 /
OWASP SSRF). So, unless ``KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true`` (development, tests):

- only ``https`` URLs on the default or an explicit port;
- the host is resolved here and EVERY address it resolves to must be globally routable
  (not loopback, private, link-local, shared, multicast, reserved or any other
  special-use range; IPv4-mapped/compatible IPv6 addresses are judged by their IPv4 part);
- the connection goes to the address that was checked (the URL's host is kept for the
  ``Host`` header and TLS SNI/certificate checks), so a second DNS answer cannot swap in
  a private address (DNS rebinding);
- no redirects, no proxies from the environment, bounded time and response size.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

if TYPE_CHECKING:  # imported where a fetch happens: ~4 MB a serving process rarely needs
    import httpx

MAX_BYTES = 64 * 1024
TIMEOUT = 5.0  # seconds, for each of connect / read / write / pool

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The document could not be fetched; the message is safe to show the client's owner."""


class UnsafeTarget(FetchError):
    """The URL is refused before any connection: not https, credentials, or an address that
    is not public (a setting, not time, changes that)."""


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip))
    return None


def is_public_address(address: str) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared (100.64/10),
    multicast, unspecified, reserved, documentation or another special-use range."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    embedded = _embedded_ipv4(ip)
    if embedded is not None and not is_public_address(str(embedded)):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


@dataclass
class SafeFetcher:
    allow_private: bool = False
    timeout: float = TIMEOUT
    max_bytes: int = MAX_BYTES
    transport: httpx.AsyncBaseTransport | None = None  # tests: httpx.MockTransport / ASGI
    resolver: Resolver = resolve

    async def get_json(self, url: str) -> Any:
        """The JSON document at ``url``. Raises FetchError with a reason."""
        headers = {
            "Accept": "application/jwk-set+json, application/json",
            "Accept-Encoding": "identity",  # the size limit counts what we parse
        }
        _, body = await self._send("GET", url, headers, read=True, expect=200, failed="fetched")
        try:
            return json.loads(body)
        except ValueError:
            raise FetchError(f"{url} did not return JSON.") from None

    async def get_bytes(self, url: str, accept: str) -> bytes:
        """The body at ``url`` (at most ``max_bytes``), under the same guard as ``get_json``:
        a request object by reference (RFC 9101 §5.2). Raises UnsafeTarget or FetchError."""
        headers = {"Accept": accept, "Accept-Encoding": "identity"}
        _, body = await self._send("GET", url, headers, read=True, expect=200, failed="fetched")
        return body

    async def _target(self, url: str, headers: dict[str, str]) -> tuple[httpx.URL, dict[str, Any]]:
        """The URL to connect to (pinned to the checked address) and the request extensions;
        ``headers`` gets the ``Host``. Raises UnsafeTarget, or FetchError (DNS)."""
        import httpx

        try:
            parts = urlsplit(url)
            host = parts.hostname
            request_url = httpx.URL(url)  # httpx's own parse, which the request will use
        except (ValueError, httpx.InvalidURL):  # e.g. "https://[x", "https://256.1.1.1/"
            raise UnsafeTarget(f"{url[:200]} is not a valid URL.") from None
        allowed_schemes = ("https", "http") if self.allow_private else ("https",)
        if parts.scheme not in allowed_schemes or not host:
            raise UnsafeTarget(f"{url} is not an https URL.")
        if parts.username or parts.password:
            raise UnsafeTarget(f"{url} must not contain credentials.")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UnsafeTarget(f"{url} has an invalid port.") from None
        extensions: dict[str, Any] = {}
        if not self.allow_private:
            addresses = await self.resolver(host, port)
            refused = [a for a in addresses if not is_public_address(a)]
            if not addresses or refused:
                raise UnsafeTarget(
                    f"{host} resolves to a loopback, private or special-use address "
                    f"({', '.join(refused) or 'none'}); keystead only fetches from public "
                    "addresses (set KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true for development)."
                )
            # Connect to the address just checked; Host and TLS SNI keep the name.
            request_url = request_url.copy_with(host=addresses[0].split("%", 1)[0])
            headers["Host"] = parts.netloc.rpartition("@")[2]
            extensions["sni_hostname"] = host
        return request_url, extensions

    async def post_form(self, url: str, form: dict[str, str]) -> int:
        """POST ``form`` (application/x-www-form-urlencoded) to ``url`` under the same guard
        as ``get_json``; the response's status code (a redirect is not followed: its 3xx is
        the answer). Raises UnsafeTarget (never sent) or FetchError (no answer)."""
        return await self._post(url, {}, data=form)

    async def post_json(self, url: str, body: Any, *, bearer: str | None = None) -> int:
        """POST ``body`` as application/json to ``url`` (with ``Authorization: Bearer``
        when given: a CIBA ping, CIBA §10.2) under the same guard; the status code, as
        ``post_form``."""
        headers = {"Content-Type": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        return await self._post(url, headers, content=json.dumps(body).encode())

    async def _post(self, url: str, extra_headers: dict[str, str], **body: Any) -> int:
        headers = {"Accept-Encoding": "identity", "Cache-Control": "no-store", **extra_headers}
        status, _ = await self._send("POST", url, headers, read=False, **body)
        return status  # the body is not read: only the status counts

    async def exchange(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send a GET (or a POST of ``form``, application/x-www-form-urlencoded) with extra
        ``headers`` under the same guard as ``get_json`` and read the answer whatever its
        status (an OAuth error response is JSON with a 400): ``(status, JSON or None when the
        body is not JSON)``. Raises UnsafeTarget (never sent) or FetchError (no answer, a
        body past ``max_bytes``)."""

        sent = {
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            "Cache-Control": "no-store",
            **(headers or {}),
        }
        status, body = await self._send(method, url, sent, read=True, data=form)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, None

    async def _read(self, response: httpx.Response, url: str) -> bytes:
        """The body of ``response``, at most ``max_bytes``, uncompressed."""
        if response.headers.get("content-encoding", "identity") != "identity":
            raise FetchError(f"{url} answered with a compressed body.")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"{url} is larger than {self.max_bytes} bytes.")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchError(f"{url} is larger than {self.max_bytes} bytes.")
        return bytes(body)

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        read: bool,
        expect: int | None = None,
        failed: str = "reached",
        **body: Any,
    ) -> tuple[int, bytes]:
        """Send one request under the guard (``_target``: the checked, pinned address) and
        answer ``(status, body)``; the body (at most ``max_bytes``) only when ``read``, and
        only after the status is ``expect`` when given. Raises UnsafeTarget (never sent) or
        FetchError (another status than ``expect``, no answer in time, a transport error)."""
        import httpx

        request_url, extensions = await self._target(url, headers)
        # A fresh client per call: no connection reuse across hosts pinned to one address.
        client = httpx.AsyncClient(
            transport=self.transport,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,  # a redirect's 3xx is the answer
            trust_env=False,  # never through a proxy from the environment
        )
        try:
            with anyio.fail_after(self.timeout * 2):  # a slow drip is cut off too
                request = client.build_request(method, request_url, headers=headers, **body)
                request.extensions.update(extensions)
                response = await client.send(request, stream=True)
                try:
                    if expect is not None and response.status_code != expect:
                        raise FetchError(f"{url} answered HTTP {response.status_code}.")
                    return response.status_code, (await self._read(response, url) if read else b"")
                finally:
                    await response.aclose()
        except TimeoutError:
            raise FetchError(f"{url} did not answer within {self.timeout * 2:.0f} s.") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url} could not be {failed}: {type(exc).__name__}.") from None
        finally:
            await client.aclose()
