"""Starlette / FastAPI glue for the verifier.

``RequireToken(verifier, scopes)`` is an async callable taking the request: use it as a
FastAPI dependency (``Depends(RequireToken(v, ["notes:read"]))``) or call it from a
Starlette endpoint. It raises ``HTTPException`` with RFC 6750's ``WWW-Authenticate``.
Bearer tokens and DPoP-bound tokens (``Authorization: DPoP`` with a ``DPoP`` proof, RFC
9449 §7) are both accepted; a bound token sent as Bearer is refused.

``RequireOAuth1(oauth1_verifier)`` is the same for OAuth 1.0a-signed requests (RFC 5849),
verified by keystead (rs/oauth1.py); ``oauth1_protected`` decorates a Starlette endpoint and
answers a refusal as keystead does: §3.2's status, a form-encoded ``oauth_problem`` body and,
on a 401, ``WWW-Authenticate: OAuth realm=…``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from keystead.rs.mtls import tls_client_cert
from keystead.rs.oauth1 import FORM, OAuth1Error, OAuth1Info, OAuth1Verifier
from keystead.rs.verifier import AccessTokenInfo, TokenError, Verifier


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


class RequireToken:
    def __init__(
        self,
        verifier: Verifier,
        scopes: Iterable[str] = (),
        realm: str = "api",
        *,
        public_url: str | None = None,
        client_cert: Callable[[Request], bytes | str | None] | None = None,
    ) -> None:
        self.verifier = verifier
        # The request's client certificate for certificate-bound tokens (RFC 8705 §3): by
        # default from the ASGI TLS extension; behind a TLS-terminating proxy, a function
        # reading the proxy's header (only when the request came from that proxy).
        self.client_cert = client_cert or (lambda request: tls_client_cert(request.scope))
        self.scopes = tuple(scopes)
        self.realm = realm
        # The API's own public base URL, for the DPoP proofs' htu (RFC 9449 §4.3); without it,
        # the request's URL as Starlette sees it (behind a proxy: check Host handling).
        self.public_url = public_url.rstrip("/") if public_url else None

    def _url(self, request: Request) -> str:
        if self.public_url is not None:
            return self.public_url + request.url.path
        return str(request.url)

    async def __call__(self, request: Request) -> AccessTokenInfo:
        try:
            info = await self.verifier.verify_request(
                request.headers.get("authorization"),
                ",".join(request.headers.getlist("dpop")) or None,  # several: refused
                request.method,
                self._url(request),
                self.scopes,
                client_cert=self.client_cert(request),
            )
        except TokenError as exc:
            raise HTTPException(
                exc.status,
                exc.description,
                headers={"WWW-Authenticate": exc.www_authenticate(self.realm)},
            ) from exc
        request.state.token = info
        return info


def protected(
    verifier: Verifier,
    scopes: Iterable[str] = (),
    realm: str = "api",
    *,
    public_url: str | None = None,
) -> Callable[[Callable[[Request], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """Decorator for Starlette endpoints; the token is on ``request.state.token``."""
    require = RequireToken(verifier, scopes, realm, public_url=public_url)

    def wrap(
        endpoint: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            try:
                await require(request)
            except HTTPException as exc:
                return JSONResponse(
                    {"error": _error_of(exc), "error_description": exc.detail},
                    status_code=exc.status_code,
                    headers=exc.headers,
                )
            return await endpoint(request)

        return guarded

    return wrap


def _error_of(exc: HTTPException) -> str:
    header = (exc.headers or {}).get("WWW-Authenticate", "")
    marker = 'error="'
    if marker not in header:
        return "invalid_request"
    return header.split(marker, 1)[1].split('"', 1)[0]


class RequireOAuth1:
    """Accept a request signed with OAuth 1.0a token credentials; the verified consumer and
    user are on ``request.state.oauth1`` (an ``OAuth1Info``)."""

    def __init__(self, verifier: OAuth1Verifier, realm: str = "api") -> None:
        self.verifier = verifier
        self.realm = realm

    async def __call__(self, request: Request) -> OAuth1Info:
        try:
            info = await self.check(request)
        except OAuth1Error as exc:
            headers = {"WWW-Authenticate": exc.www_authenticate(self.realm)}
            raise HTTPException(
                exc.status, exc.advice, headers=headers if exc.status == 401 else None
            ) from exc
        return info

    async def check(self, request: Request) -> OAuth1Info:
        scope = request.scope
        # RFC 5849 §3.4.1.2: the path as sent (raw, escapes kept), under the API's public
        # base URL: never the Host header.
        raw_path = scope.get("raw_path")
        # (some servers put the query in raw_path: it starts at the first "?")
        path = raw_path.split(b"?")[0].decode("latin-1") if raw_path else quote(scope["path"])
        url = self.verifier.url_of(path, scope.get("query_string", b"").decode("latin-1"))
        body = ""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == FORM:  # RFC 5849 §3.4.1.3.1: only a form body is signed
            body = (await request.body()).decode("utf-8", "replace")
        info = await self.verifier.verify(
            request.method, url, request.headers.get("authorization"), body
        )
        request.state.oauth1 = info
        return info


def oauth1_protected(
    verifier: OAuth1Verifier, realm: str = "api"
) -> Callable[[Callable[[Request], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """Decorator for Starlette endpoints; the request's ``OAuth1Info`` is on
    ``request.state.oauth1``."""
    require = RequireOAuth1(verifier, realm)

    def wrap(
        endpoint: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            try:
                await require.check(request)
            except OAuth1Error as exc:
                headers = {"Cache-Control": "no-store"}
                if exc.status == 401:  # RFC 5849 §3.2 with RFC 2617 §1.2: the challenge
                    headers["WWW-Authenticate"] = exc.www_authenticate(realm)
                return Response(urlencode(exc.body()), exc.status, headers=headers, media_type=FORM)
            return await endpoint(request)

        return guarded

    return wrap
