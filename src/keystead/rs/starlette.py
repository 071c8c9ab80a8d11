"""Starlette / FastAPI glue for the verifier.

``RequireToken(verifier, scopes)`` is an async callable taking the request: use it as a
FastAPI dependency (``Depends(RequireToken(v, ["notes:read"]))``) or call it from a
Starlette endpoint. It raises ``HTTPException`` with RFC 6750's ``WWW-Authenticate``.
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
    def __init__(self, verifier: Verifier, scopes: Iterable[str] = (), realm: str = "api") -> None:
        self.verifier = verifier
        self.scopes = tuple(scopes)
        self.realm = realm

    async def __call__(self, request: Request) -> AccessTokenInfo:
        try:
            info = await self.verifier.verify(bearer_token(request), self.scopes)
        except TokenError as exc:
            raise HTTPException(
                exc.status,
                exc.description,
                headers={"WWW-Authenticate": exc.www_authenticate(self.realm)},
            ) from exc
        request.state.token = info
        return info


def protected(
    verifier: Verifier, scopes: Iterable[str] = (), realm: str = "api"
) -> Callable[[Callable[[Request], Awaitable[Response]]], Callable[[Request], Awaitable[Response]]]:
    """Decorator for Starlette endpoints; the token is on ``request.state.token``."""
    require = RequireToken(verifier, scopes, realm)

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
