"""The console's overview, APIs, connections and signing keys (the rotation timeline:
next, active, retiring; rotate now)."""

from __future__ import annotations

from starlette.responses import Response

from keystead.protocol.acr import ACR_MFA, ACR_PHISHING_RESISTANT
from keystead.services import apis, clients, connections, keys, users
from keystead.services.common import ServiceError
from keystead.web.console.common import Visit
from keystead.web.console.pages import console_page, when

ACR_WORDS = {
    ACR_MFA: "signed in with two factors",
    ACR_PHISHING_RESISTANT: "signed in with a passkey",
}
KEY_ORDER = {"next": 0, "active": 1, "retiring": 2, "retired": 3}


@console_page
async def home(v: Visit) -> Response:
    """``GET /admin``."""
    listed_keys = await keys.list_all(v.provider)
    counts = {
        "clients": len(await clients.list_all(v.provider, None, 1000)),
        "apis": len(await apis.list_all(v.provider)),
        "users": len(await users.list_all(v.provider, None, 1000)),
        "connections": len(await connections.list_all(v.provider)),
        "keys": len(listed_keys),
    }
    counts = {k: (f"{n}+" if n >= 1000 else str(n)) for k, n in counts.items()}
    words = ACR_WORDS.get(v.session.acr, "signed in with a password")
    return v.render("console/home.html", {"counts": counts, "acr_words": words, "nav": ""})


async def _keys_page(v: Visit, done: str, error: str) -> Response:
    now = v.provider.now()
    rows = [keys.key_view(k, now) for k in await keys.list_all(v.provider)]
    rows.sort(key=lambda r: (KEY_ORDER[r["status"]], r["alg"], -r["activate_at"]))
    return v.render(
        "console/keys.html",
        {"keys": rows, "when": when, "done": done, "error": error, "nav": "keys"},
        status=409 if error else 200,
    )


@console_page
async def key_list(v: Visit) -> Response:
    """``GET /admin/keys``: the rotation timeline."""
    return await _keys_page(v, v.request.query_params.get("done", ""), "")


@console_page
async def rotate_keys(v: Visit) -> Response:
    """``POST /admin/keys/rotate``: a new key per alg, published ahead of signing."""
    await v.form()
    try:
        await keys.rotate(v.provider, v.actor)
    except ServiceError as exc:
        return await _keys_page(v, "", exc.message)
    return v.redirect("/admin/keys", done="rotated")
