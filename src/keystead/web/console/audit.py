"""The audit log in the console: the events table filtered by type, client, user and
time; a correlation id opens what ``keystead explain`` prints for it (each event's meaning,
its data, the catalog entry of a refusal)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.responses import Response

from keystead.errors import CATALOG
from keystead.errors_doc import entry_text
from keystead.event_catalog import EVENTS
from keystead.services.common import NotFound
from keystead.services.factors import sub_of
from keystead.services.pagination import CursorError, decode_cursor, encode_cursor
from keystead.store.event_filter import EventFilter
from keystead.web.console.common import Visit
from keystead.web.console.pages import console_page, when

PAGE_SIZE = 100


def _time(value: str, *, end: bool) -> int | None:
    """A date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM) in UTC."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    if end and len(value) == 10:  # a whole day
        parsed += dt.timedelta(days=1)
    return int(parsed.timestamp())


@console_page
async def events(v: Visit) -> Response:
    """``GET /admin/events``: newest first, a page at a time, filtered by the database:
    ``type`` (a name or its prefix, ``client``), ``client_id``, ``user`` (username or sub),
    ``since``/``until`` (UTC); ``before``: the cursor of the page before."""
    q = v.request.query_params
    values = {
        n: q.get(n, "").strip()[:200] for n in ("type", "client_id", "user", "since", "until")
    }
    sub = None
    if values["user"]:
        try:
            sub = await sub_of(v.provider, values["user"])
        except NotFound:
            sub = values["user"]  # a sub (of a user deleted since, too)
    try:
        before = decode_cursor(q["before"]) if q.get("before") else None
    except CursorError:
        before = None
    f = EventFilter(
        name=values["type"].rstrip(".") or None,
        client_id=values["client_id"] or None,
        sub=sub,
        since=_time(values["since"], end=False),
        until=_time(values["until"], end=True),
        before=before,
    )
    await v.provider.recorder.flush()  # this request's and the last second's events too
    found = await v.provider.store.events.search(f, PAGE_SIZE + 1)
    rows = found[:PAGE_SIZE]
    older = None
    if len(found) > PAGE_SIZE:
        last = rows[-1]
        older = v.url(
            "/admin/events", **values, before=encode_cursor((last.created_at, last.event_id))
        )
    return v.render(
        "console/events.html",
        {
            "events": rows,
            "values": values,
            "names": sorted(EVENTS),
            "older": older,
            "when": when,
            "nav": "events",
        },
    )


@console_page
async def explain(v: Visit) -> Response:
    """``GET /admin/events/{correlation_id}``: what happened in that request."""
    cid = v.request.path_params["correlation_id"]
    await v.provider.recorder.flush()
    found = await v.provider.store.events.by_correlation_id(cid)
    items: list[dict[str, Any]] = []
    for event in found:
        catalog_id = event.data.get("catalog_id")
        items.append(
            {
                "event": event,
                "meaning": EVENTS.get(event.name, ""),
                "data": {k: val for k, val in sorted(event.data.items()) if val is not None},
                "entry": entry_text(CATALOG[catalog_id]) if catalog_id in CATALOG else "",
            }
        )
    return v.render(
        "console/explain.html",
        {"cid": cid, "items": items, "when": when, "nav": "events"},
        status=200 if items else 404,
    )
