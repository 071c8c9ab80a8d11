"""What every admin API endpoint shares: the guard (authorize the caller, turn every failure
into one rendered error), body parsing, listings and JSON responses.

The admin API words a service's ``ServiceError`` for its channel: a 422 whose ``errors`` list
names the JSON field (the service's ``field``, the metadata name), a 409 for a ``Conflict``, a
404 for a ``NotFound``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from keystead.errors import OAuthError
from keystead.protocol.admin_auth import authorize_admin
from keystead.protocol.tokens import ActiveToken
from keystead.services.common import Actor, Conflict, NotFound, ServiceError
from keystead.services.pagination import DEFAULT_LIMIT, CursorError, Fetch, Page, page_of, paginate
from keystead.web import render
from keystead.web.parse import BodyError, read_json
from keystead.web.registration import bearer_request

if TYPE_CHECKING:
    from keystead.provider import Provider

CHANNEL = "admin_api"


class FieldErrors(Exception):
    """Bad input, one message per field: rendered as a 422 with ``errors: [{field, message}]``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.fields = errors


def field_error(field: str, message: str) -> FieldErrors:
    return FieldErrors([{"field": field, "message": message}])


def actor(caller: ActiveToken) -> Actor:
    """The admin API's caller, for the audit trail: the client its token was issued to."""
    return Actor(CHANNEL, caller.client_id)


def json_body(body: Any, status: int = 200, location: str | None = None) -> Response:
    headers = dict(render.NO_STORE)  # bodies may carry secrets shown once
    if location is not None:
        headers["Location"] = location
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def no_content() -> Response:
    return Response(status_code=204, headers=render.NO_STORE)


M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate(await read_json(request))
    except BodyError as exc:
        raise field_error("body", str(exc)) from None
    except ValidationError as exc:
        raise FieldErrors(
            [
                {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                for e in exc.errors()
            ]
        ) from None


def _page_params(request: Request) -> tuple[int, str | None]:
    raw = request.query_params.get("limit")
    try:
        limit = DEFAULT_LIMIT if raw is None else int(raw)
    except ValueError:
        raise field_error("limit", "must be an integer") from None
    return limit, request.query_params.get("cursor")


T = TypeVar("T")


def listing(
    request: Request,
    items: list[T],
    key: Callable[[T], tuple[Any, ...]],
    view: Callable[[T], dict[str, Any]],
) -> Response:
    """One page of ``items`` in ``key`` order, each shown through ``view``, and the cursor."""
    try:
        page = paginate(items, key, *_page_params(request))
    except CursorError as exc:
        raise _cursor_error(exc) from None
    return _page(page, view)


async def page_listing(
    request: Request,
    fetch: Fetch[T],
    key: Callable[[T], tuple[int, str]],
    view: Callable[[T], dict[str, Any]],
) -> Response:
    """``listing`` for a store that pages itself (``fetch``: its ``list(after, limit)``)."""
    try:
        page = await page_of(fetch, key, *_page_params(request))
    except CursorError as exc:
        raise _cursor_error(exc) from None
    return _page(page, view)


def _cursor_error(exc: CursorError) -> FieldErrors:
    return field_error("limit" if str(exc).startswith("limit") else "cursor", str(exc))


def _page(page: Page[T], view: Callable[[T], dict[str, Any]]) -> Response:
    return json_body(
        {"items": [view(item) for item in page.items], "next_cursor": page.next_cursor}
    )


def _unprocessable(
    request: Request, provider: Provider, cid: str, fields: list[dict[str, str]]
) -> Response:
    """The 422 through the one renderer, its body built once (the ``errors`` list inside, the
    Content-Length of the body sent)."""
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    err = OAuthError("admin-body-invalid", f"Invalid request: {summary}")
    return render.render_error(
        err,
        provider,
        kind="json",
        cid=cid,
        context=render.request_context(request),
        extra={"errors": fields},
    )


Handler = Callable[[Request, "Provider", ActiveToken], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def admin_endpoint(handler: Handler) -> Endpoint:
    """``handler`` as an endpoint: authorize the caller (keystead:admin), run, and turn every
    failure into one rendered error."""

    async def endpoint(request: Request) -> Response:
        provider: Provider = request.app.state.provider
        cid = render.correlation_id()
        try:
            caller = await authorize_admin(bearer_request(request), provider)
            return await handler(request, provider, caller)
        except OAuthError as exc:
            err = exc
        except FieldErrors as exc:
            return _unprocessable(request, provider, cid, exc.fields)
        except NotFound as exc:
            err = OAuthError("admin-not-found", exc.message)
        except Conflict as exc:
            err = OAuthError("admin-conflict", exc.message)
        except ServiceError as exc:
            return _unprocessable(
                request, provider, cid, [{"field": exc.field, "message": exc.message}]
            )
        except Exception as exc:  # noqa: BLE001 - never a stack trace to the caller
            return render.internal_error(exc, provider, kind="json", cid=cid)
        return render.render_error(
            err, provider, kind="json", cid=cid, context=render.request_context(request)
        )

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    endpoint.__module__ = handler.__module__
    endpoint.__doc__ = handler.__doc__
    return endpoint
