"""Single-use links sent by mail — password reset, email verification, invitations — and
the mail that carries each, written to the outbox in the same transaction as the link's
token (store/outbox.py). Only the token's SHA-256 is stored.

Mail needs ``KEYSTEAD_SMTP_URL``; without it a development server (an ``http://`` issuer on a
loopback host) logs each message with its link instead, and any other server refuses the
flows that need mail (``mail_ready``), saying why.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.outbox import new_job
from keystead.secrets_util import random_token, sha256_hex
from keystead.store.outbox import MAIL, ActionToken

if TYPE_CHECKING:
    from keystead.config import Settings
    from keystead.provider import Provider
    from keystead.store.base import User

RESET = "reset"
VERIFY_EMAIL = "verify_email"
INVITE = "invite"


def development(settings: Settings) -> bool:
    """An ``http://`` issuer on a loopback host: a developer's machine (the quickstart)."""
    parts = urlsplit(settings.issuer)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http":
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mail_ready(settings: Settings) -> bool:
    return settings.smtp_url is not None or development(settings)


def token_hash(token: str) -> str:
    return sha256_hex(token)


async def send_link(
    provider: Provider,
    user: User,
    *,
    purpose: str,
    to: str,
    template: str,
    path: str,
    ttl: int,
    context: dict[str, Any],
    email: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """A new link for ``purpose`` (older unused ones of the user stop working) and its mail
    to ``to``, both written at once; the sender is woken."""
    token = random_token(32)
    now = provider.now()
    link = provider.settings.url(f"{path}?token={token}")
    job = new_job(
        provider,
        MAIL,
        {"to": to, "template": template, "context": {**context, "link": link}},
    )
    record = ActionToken(
        token_hash(token), purpose, user.sub, now, now + ttl, email=email, data=data or {}
    )
    await provider.store.action_tokens.add(record, [job])
    provider.wake_outbox()
    provider.events.emit("link.sent", sub=user.sub, purpose=purpose, job_id=job.job_id)


async def link_state(
    provider: Provider, token: str, purpose: str
) -> tuple[ActionToken | None, str]:
    """The token of a link, and what is wrong with it in words for the page ("" when fine):
    unknown (mistyped or altered), used, or expired."""
    record = await provider.store.action_tokens.get(token_hash(token)) if token else None
    if record is None or record.purpose != purpose:
        return None, "This link is not valid: it may be incomplete or altered."
    if record.used_at is not None:
        return record, "This link was already used."
    if record.expires_at <= provider.now():
        return record, "This link has expired, or a newer one was sent."
    return record, ""
