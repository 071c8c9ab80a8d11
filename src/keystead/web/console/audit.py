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
from keystead.store.base import EventRecord
from keystead.web.console.common import Visit
from keystead.web.console.pages import console_page, when

SCAN = 2000  # the newest events read per page view (the events table keeps days of them)
SHOWN = 200


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


def _keep(event: EventRecord, f: dict[str, str], since: int | None, until: int | None) -> bool:
    data = event.data
    if f["type"] and not (event.name == f["type"] or event.name.startswith(f["type"] + ".")):
        return False
    if f["client_id"] and f["client_id"] not in (data.get("client_id"), data.get("by_client_id")):
        return False
    if f["sub"] and f["sub"] not in (data.get("sub"), data.get("by_sub")):
        return False
    if since is not None and event.created_at < since:
        return False
    return until is None or event.created_at < until


@console_page
async def events(v: Visit) -> Response:
    """``GET /admin/events``: newest first; ``type`` (a name or its prefix, ``client.``),
    ``client_id``, ``user`` (username or sub), ``since``/``until`` (UTC)."""
    q = v.request.query_params
    f = {name: q.get(name, "").strip()[:200] for name in ("type", "client_id", "user")}
    f["type"] = f["type"].rstrip(".")
    since, until = _time(q.get("since", ""), end=False), _time(q.get("until", ""), end=True)
    f["sub"] = ""
    if f["user"]:
        try:
            f["sub"] = await sub_of(v.provider, f["user"])
        except NotFound:
            f["sub"] = f["user"]  # a sub (of a user deleted since, too)
    await v.provider.recorder.flush()  # this request's and the last second's events too
    store = v.provider.store.events
    found = await (store.about(f["sub"], SCAN) if f["sub"] else store.recent(SCAN))
    if f["sub"]:  # about() reads data.sub; the admin's own actions carry by_sub
        found = sorted(
            {e.event_id: e for e in [*found, *await store.recent(SCAN)]}.values(),
            key=lambda e: e.created_at,
            reverse=True,
        )
    rows = [e for e in found if _keep(e, f, since, until)][:SHOWN]
    names = sorted(EVENTS)
    values = {**f, "since": q.get("since", ""), "until": q.get("until", "")}
    return v.render(
        "console/events.html",
        {"events": rows, "values": values, "names": names, "when": when, "nav": "events"},
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
