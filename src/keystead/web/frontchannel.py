"""Front-Channel Logout 1.0: at logout, a page frames each participating client's
``frontchannel_logout_uri`` (with ``iss`` and ``sid`` when the client asks for them, §2),
under a CSP whose frame-src names only those origins, then continues (§4)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from starlette.responses import Response

from keystead.store.base import Session
from keystead.web import pages

if TYPE_CHECKING:
    from keystead.provider import Provider


def _with_params(uri: str, params: dict[str, str]) -> str:
    glue = "&" if urlsplit(uri).query else "?"
    return uri + glue + urlencode(params)


async def frames(provider: Provider, session: Session) -> list[str]:
    """The front-channel logout URLs of the clients that took part in ``session``."""
    urls = []
    for client_id, _ in await provider.store.grants.participants(session.sub, [session.sid]):
        client = await provider.get_client(client_id)
        uri = client.extra.get("frontchannel_logout_uri") if client is not None else None
        if not isinstance(uri, str):
            continue
        if client is not None and client.extra.get("frontchannel_logout_session_required"):
            uri = _with_params(uri, {"iss": provider.settings.issuer, "sid": session.sid})
        if uri not in urls:
            urls.append(uri)
    return urls


def frames_page(provider: Provider, urls: list[str], location: str | None) -> Response:
    nonce = pages.new_nonce()
    origins = tuple(dict.fromkeys(pages.origin_of(u) for u in urls))
    return pages.render(
        "logout_frames.html",
        {
            "frames": urls,
            "location": location,
            "nonce": nonce,
            "static_url": provider.settings.url("/static"),
        },
        script_nonce=nonce,
        frame_src=origins,
    )
