"""/errors and /errors/<id>: keystead's own documentation of each error (the error_uri)."""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import Response

from keystead.config import Settings
from keystead.errors import CATALOG
from keystead.web import pages, render


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.provider.settings
    return settings


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def error_index(request: Request) -> Response:
    settings = _settings(request)
    if _wants_json(request):
        return render.json_response({"errors": [asdict(e) for e in CATALOG.values()]})
    return pages.render(
        "error_index.html",
        {
            "entries": list(CATALOG.values()),
            "base": render.errors_base_url(settings),
            "static_url": settings.url("/static"),
        },
        cache_control="public, max-age=3600",
    )


async def error_doc(request: Request) -> Response:
    settings = _settings(request)
    entry = CATALOG.get(request.path_params["catalog_id"])
    if entry is None:
        return render.json_response(
            {"error": "not_found", "error_description": "No such error id."}, status=404
        )
    if _wants_json(request):
        return render.json_response(asdict(entry))
    return pages.render(
        "error_doc.html",
        {
            "entry": entry,
            "index_url": settings.url("/errors"),
            "static_url": settings.url("/static"),
        },
        cache_control="public, max-age=3600",
    )
