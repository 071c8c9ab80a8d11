"""The development CIBA notifier's page (protocol/ciba.py ``AccountPageNotifier``): the
account page lists the user's pending backchannel authentication requests — which app asks,
its binding_message, the scopes, the time left — with Approve and Deny.

``POST /account/ciba/answer`` (form: ``request_id``, ``decision`` approve | deny, the CSRF
token). Approving is signing in to the app, so it needs a fresh sign-in (like the security
changes); denying does not. Approval records the session's auth_time, sid, acr and amr,
which the app's ID token will carry. A request_id not the user's, answered already or
expired changes nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts.account_app import sign_in_url
from keystead.protocol import acr, ciba, rar, scopes
from keystead.web import render
from keystead.web.account.common import Visit, check_csrf, reauthenticate, visit
from keystead.web.parse import read_form

DONE = {
    "ciba_approved": "You approved the request; the app is signed in.",
    "ciba_denied": "You denied the request.",
    "ciba_gone": "That request was answered already or has expired.",
}


def _left(seconds: int) -> str:
    minutes, rest = divmod(max(seconds, 0), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


async def context(v: Visit) -> dict[str, Any]:
    """The account page's CIBA section: the pending requests and a word on the last answer."""
    provider = v.provider
    now = provider.now()
    rows = []
    for request in await provider.store.ciba_requests.pending_for(v.user.sub, now):
        client = await provider.get_client(request.client_id)
        details: list[dict[str, str]] = []
        if request.authorization_details:  # RFC 9396, in the consent page's plain words
            registered = rar.types_of((await provider.apis()).by_id.values())
            asked = {rar.PARAMETER: list(request.authorization_details)}
            details = rar.consent_items(asked, registered)
        rows.append(
            {
                "request_id": request.request_id,
                "client_name": client.client_name if client else request.client_id,
                "binding_message": request.binding_message or "",
                "scopes": list(scopes.parse(request.scope)),
                "left": _left(request.expires_at - now),
                "details": details,
            }
        )
    return {"requests": rows, "done": DONE.get(v.request.query_params.get("done", ""), "")}


async def _answer(v: Visit, form: dict[str, str]) -> Response:
    decision = form.get("decision", "")
    if decision not in ("approve", "deny"):
        return v.back()
    approve = decision == "approve"
    if approve and not v.fresh:
        return reauthenticate(v)
    request = await v.provider.store.ciba_requests.get_by_request_id(form.get("request_id", ""))
    if request is None or request.sub != v.user.sub:
        return v.back("ciba_gone")  # another user's request is as unknown as a made-up one
    # CIBA Core §7.1 acr_values: the approving sign-in must reach one of the classes asked
    # for (protocol/acr.py); a weaker session steps up first, then approves on this page.
    asked = tuple(a for a in (request.acr_values or "").split() if a in acr.ACR_VALUES)
    if approve and asked and not acr.met(v.session.amr, asked):
        settings = v.provider.settings
        target = sign_in_url(settings, acr_values=" ".join(asked))
        return v.finish(RedirectResponse(target, status_code=303))
    done = await ciba.answer(v.provider, request, v.session, approve=approve)
    if not done:
        return v.back("ciba_gone")
    return v.back("ciba_approved" if approve else "ciba_denied")


async def answer(request: Request) -> Response:
    async def run() -> Response:
        v = await visit(request)
        if isinstance(v, Response):
            return v
        form = dict(await read_form(request))
        check_csrf(v, form)
        return await _answer(v, form)

    return await render.guarded(request, run, kind="page", after_post=True)
