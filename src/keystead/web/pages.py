"""HTML pages: Jinja2 templates with autoescaping, and the headers every page carries."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)

STATIC_DIR = Path(__file__).parent / "static"
_static_files: list[StaticFiles] = []  # made at the first request: no I/O at import


async def static_file(request: Request) -> Response:
    """A file of web/static/ (stylesheets): Starlette's StaticFiles, its ETag and
    Last-Modified handling, path checks and 404 included."""
    if not _static_files:
        _static_files.append(StaticFiles(directory=STATIC_DIR))
    return await _static_files[0].get_response(request.path_params["path"], request.scope)


# CSP Level 3 §2.3.1 source expressions, rebuilt from a parsed URI's parts: a scheme, a
# host (a DNS name or a bracketed IPv6 literal) and a port — nothing else of the URI (user
# information, a ';' or a space) can reach the policy.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
_HOST = re.compile(r"(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])\Z")


def origin_of(uri: str) -> str:
    """The CSP source for a redirect target: its origin (scheme, host, port), or for a
    native app's private-use scheme (RFC 8252 §7.1) a scheme-source such as
    ``com.example.app:``; ``'none'`` (which adds nothing to a source list) for anything
    that is not a plain URI."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return "'none'"
    scheme = parts.scheme.lower()
    if not _SCHEME.match(scheme):
        return "'none'"
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if not _HOST.match(host):
        return "'none'"
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def page_headers(
    *,
    form_action: tuple[str, ...] = ("'self'",),
    script_nonce: str = "",
    frame_src: tuple[str, ...] = (),
) -> dict[str, str]:
    """Anti-framing, no sniffing, no referrer leaks, and a strict CSP: pages load nothing
    from any other origin (``frame_src``: the origins a page may frame — the front-channel
    logout page's clients, nothing else)."""
    script = f"script-src 'nonce-{script_nonce}'" if script_nonce else "script-src 'none'"
    directives = [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        script,
        f"form-action {' '.join(form_action)}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
    if frame_src:
        directives.append(f"frame-src {' '.join(frame_src)}")
    csp = "; ".join(directives)
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


def render(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    form_action: tuple[str, ...] = ("'self'",),
    script_nonce: str = "",
    headers: dict[str, str] | None = None,
    cache_control: str = "no-store",
    frame_src: tuple[str, ...] = (),
) -> HTMLResponse:
    html = _TEMPLATES.get_template(template).render(**context)
    all_headers = page_headers(
        form_action=form_action, script_nonce=script_nonce, frame_src=frame_src
    )
    all_headers["Cache-Control"] = cache_control
    if cache_control != "no-store":
        del all_headers["Pragma"]
    if headers:
        all_headers.update(headers)
    return HTMLResponse(html, status_code=status, headers=all_headers)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
