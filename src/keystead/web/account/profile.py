"""The account page's profile: name, email (a change takes effect once the link mailed to the
new address is used), a new verification mail, "download my data", "delete my account"."""

from __future__ import annotations

import dataclasses
import json

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import email_change
from keystead.accounts.links import mail_ready
from keystead.services import users as user_service
from keystead.services.common import Actor
from keystead.services.users import user_view
from keystead.web import pages, render
from keystead.web.account.common import Visit, visit
from keystead.web.account.overview import overview_page
from keystead.web.account.security import _post
from keystead.web.authorize import session_cookie_name

SELF = Actor("account")  # the user, on their own account page
MAX_NAME = 200


async def _profile(v: Visit, form: dict[str, str]) -> Response:
    provider, user = v.provider, v.user
    name = " ".join(form.get("name", "").split())[:MAX_NAME] or None
    email = form.get("email", "").strip()
    if name != user.name:
        now = provider.now()
        await provider.store.users.update(dataclasses.replace(user, name=name, updated_at=now))
    if email and email.lower() != (user.email or "").lower():
        problem = email_change.email_problem(email)
        if problem is None and not mail_ready(provider.settings):
            problem = "This server cannot send mail, so an address cannot be verified."
        if problem:
            return await overview_page(v, errors={"email": problem}, status=400)
        await email_change.send_verification(provider, user, email)
        return v.back("email")
    return v.back("profile")


async def profile(request: Request) -> Response:
    return await _post(request, _profile, sensitive=False)


async def _resend(v: Visit, form: dict[str, str]) -> Response:
    if v.user.email and not v.user.email_verified and mail_ready(v.provider.settings):
        await email_change.send_verification(v.provider, v.user, v.user.email)
    return v.back("email")


async def resend_verification(request: Request) -> Response:
    return await _post(request, _resend, sensitive=False)


async def _delete(v: Visit, form: dict[str, str]) -> Response:
    if form.get("confirm", "").strip() != v.user.username:
        errors = {"confirm": f"Type {v.user.username} to confirm."}
        return await overview_page(v, errors=errors, status=400)
    # Everything goes: sessions, consents, factors, links; grants are revoked. The audit
    # event keeps only the opaque sub, no personal data.
    await user_service.delete(v.provider, v.user.sub, SELF)
    page = pages.render(
        "message.html",
        {
            "title": "Your account was deleted",
            "message": "Your account and everything keystead kept about it are gone.",
            "static_url": v.provider.settings.url("/static"),
        },
    )
    page.delete_cookie(session_cookie_name(v.provider), path="/")
    return page


async def delete_account(request: Request) -> Response:
    return await _post(request, _delete)


async def data_export(request: Request) -> Response:
    """``GET /account/data``: what keystead keeps about the user, as JSON (GDPR Art. 15/20):
    the profile, consents, sessions, second factors (never their secrets or keys) and the
    events about them."""

    async def run() -> Response:
        v = await visit(request)
        if isinstance(v, Response):
            return v
        store, sub = v.provider.store, v.user.sub
        document = {
            "profile": {**user_view(v.user), "profile": dict(v.user.profile)},
            "consents": [
                {"client_id": c.client_id, "scope": c.scope, "updated_at": c.updated_at}
                for c in await store.consents.list_for(sub)
            ],
            "sessions": [
                {
                    "sid": s.sid,
                    "auth_time": s.auth_time,
                    "amr": list(s.amr),
                    "created_at": s.created_at,
                    "last_active_at": s.last_active_at,
                    "user_agent": s.user_agent,
                    "ip": s.ip,
                }
                for s in await store.sessions.list_for(sub)
            ],
            "factors": [
                {
                    "kind": f.kind,
                    "name": f.name,
                    "created_at": f.created_at,
                    "last_used_at": f.last_used_at,
                }
                for f in await store.factors.list(sub)
            ],
            "oauth1_tokens": [  # OAuth 1.0a consumers' token credentials (never the secrets)
                {
                    "token_id": t.token_id,
                    "client_id": t.client_id,
                    "scope": t.scope,
                    "created_at": t.created_at,
                    "revoked_at": t.revoked_at,
                }
                for t in await store.oauth1.tokens_of(sub)
            ],
            "events": [
                {"name": e.name, "created_at": e.created_at, "data": e.data}
                for e in await store.events.about(sub, 1000)
            ],
        }
        body = json.dumps(document, indent=2, sort_keys=True).encode()
        headers = pages.page_headers()
        headers["Content-Disposition"] = 'attachment; filename="keystead-account.json"'
        return v.finish(Response(body, media_type="application/json", headers=headers))

    return await render.guarded(request, run, kind="page", after_post=False)
