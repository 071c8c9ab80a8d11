"""The account page's OAuth 1.0a consumers (RFC 5849): ``GET /account/oauth1`` lists the
consumers holding the user's live token credentials; ``POST /account/oauth1/revoke`` revokes
one (CSRF token and a fresh sign-in, as access.py's "Revoke access"). A token_id not the
user's changes nothing."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keystead.services import oauth1 as service
from keystead.services.common import Actor, NotFound
from keystead.web import render
from keystead.web.account.common import Visit, visit
from keystead.web.account.security import _post
from keystead.web.account.sessions import when

ACCOUNT = Actor("account")


async def oauth1_apps(request: Request) -> Response:
    async def run() -> Response:
        v = await visit(request)
        if isinstance(v, Response):
            return v
        tokens = await service.list_tokens(v.provider, v.user.sub, live=True)
        rows = [
            {
                "token_id": t["token_id"],
                "name": t["client_name"] or t["client_id"],
                "granted": when(t["created_at"]),
            }
            for t in tokens
        ]
        context = {
            "tokens": rows,
            "fresh": v.fresh,
            "reauth_url": v.url("/account/confirm"),
            "done": request.query_params.get("done") == "revoked",
        }
        return v.render("account_oauth1.html", context)

    return await render.guarded(request, run, kind="page", after_post=False)


async def _revoke(v: Visit, form: dict[str, str]) -> Response:
    try:
        await service.revoke(v.provider, form.get("token_id", ""), ACCOUNT, sub=v.user.sub)
    except NotFound:
        pass  # gone already, or never the user's
    return v.finish(render.redirect(v.url("/account/oauth1?done=revoked"), 303))


async def revoke(request: Request) -> Response:
    """``POST /account/oauth1/revoke``: the consumer's token credentials stop working."""
    return await _post(request, _revoke)
