"""Starlette / FastAPI glue for the verifier.

``RequireToken(verifier, scopes)`` is an async callable taking the request: use it as a
FastAPI dependency (``Depends(RequireToken(v, ["notes:read"]))``) or call it from a
Starlette endpoint. It raises ``HTTPException`` with RFC 6750's ``WWW-Authenticate``.
Bearer tokens and DPoP-bound tokens (``Authorization: DPoP`` with a ``DPoP`` proof, RFC
9449 §7) are both accepted; a bound token sent as Bearer is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
    ) -> None:
        self.verifier = verifier
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
