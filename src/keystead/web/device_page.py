"""``/device``: the verification URI of the device flow (RFC 8628 §3.3). A signed-in user
(the SSO session cookie; otherwise the account sign-in first) enters the user code, sees
which client asks, and approves or denies. CSRF: the account pages' double submit."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol import device_verification as verification
from keystead.protocol import rar
from keystead.protocol.device_authorization import VERIFICATION_PATH
from keystead.web import render
from keystead.web.account.common import Visit, check_csrf, visit
from keystead.web.parse import read_form


async def _details(v: Visit, details: tuple[dict[str, Any], ...] | None) -> list[dict[str, str]]:
    """RFC 9396: what the device asks for, in the consent page's plain words."""
    if not details:
        return []
    registered = rar.types_of((await v.provider.apis()).by_id.values())
    return rar.consent_items({rar.PARAMETER: list(details)}, registered)


def _entry(v: Visit, user_code: str, error: str = "", status: int = 200) -> Response:
    context = {"action": v.url(VERIFICATION_PATH), "user_code": user_code, "error": error}
    return v.render("device.html", {**context, "client_name": ""}, status=status)


async def _post(v: Visit, request: Request) -> Response:
    form = dict(await read_form(request))
    check_csrf(v, form)
    ip = request.client.host if request.client else None
    wait = await verification.wait_for(v.provider, ip)
    if wait:
        error = f"Too many wrong codes from your network. Try again in {wait} seconds."
        return _entry(v, "", error, status=429)
    entered = form.get("user_code", "")
    code = await verification.find(v.provider, entered, ip)
    if code is None:
        return _entry(v, entered, "That code is not valid or has expired.", status=400)
    decision = form.get("decision")
    if decision not in ("approve", "deny"):  # the code is right: show who asks
        client = await v.provider.store.clients.get(code.client_id)
        context = {
            "action": v.url(VERIFICATION_PATH),
            "user_code": entered.strip().upper(),
            "client_name": (client.client_name if client else None) or code.client_id,
            "scope": code.scope,
            "details": await _details(v, code.authorization_details),
            "error": "",
        }
        return v.render("device.html", context)
    approve = decision == "approve"
    if not await verification.answer(v.provider, code, v.session, approve):
        return _entry(v, "", "That code was already answered or has expired.", status=400)
    message = (
        "Your device is connected; you can return to it."
        if approve
        else "The device's request was denied."
    )
    title = "Device connected" if approve else "Request denied"
    return v.render("message.html", {"title": title, "message": message})


async def device_page(request: Request) -> Response:
    async def run() -> Response:
        code = request.query_params.get("user_code", "")[:16]
        v = await visit(request, then=f"device:{code}" if code else "device")
        if isinstance(v, Response):
            return v
        if request.method == "GET":
            return _entry(v, request.query_params.get("user_code", "")[:32])
        return await _post(v, request)

    return await render.guarded(request, run, kind="page", after_post=request.method == "POST")
