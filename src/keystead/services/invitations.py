"""Invitations (issue 21): an operator names an email address; keystead creates the account
(no usable password yet) and mails a single-use link, valid ``invitation_ttl`` seconds, where
the invitee chooses a password — which also verifies the address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.accounts.links import INVITE, mail_ready, send_link
from keystead.secrets_util import random_token
from keystead.services.common import Actor, Conflict, ServiceError, audit
from keystead.services.users import create_user
from keystead.store.base import User

if TYPE_CHECKING:
    from keystead.provider import Provider


def _check_email(email: str) -> str:
    email = email.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in email) or len(email) > 254:
        raise ServiceError("email", f"{email!r} is not an email address (name@example.com).")
    return email


async def invite(
    provider: Provider,
    email: str,
    actor: Actor,
    *,
    name: str | None = None,
    username: str | None = None,
) -> User:
    """The new user, whose invitation mail is in the outbox (sent by the running server)."""
    if not mail_ready(provider.settings):
        raise ServiceError(
            "email",
            "Invitations are sent by mail and this server has none: set KEYSTEAD_SMTP_URL "
            "(docs/mail.md).",
        )
    email = _check_email(email)
    if await provider.store.users.get_by_email(email):
        raise Conflict("email", f"An account with the address {email} exists already.")
    user = await create_user(
        provider.store,
        provider.hasher,
        username or email,
        random_token(32),  # unusable until the invitee chooses one
        now=provider.now(),
        email=email,
        name=name,
    )
    settings = provider.settings
    await send_link(
        provider,
        user,
        purpose=INVITE,
        to=email,
        template="invitation",
        path="/invitation",
        ttl=settings.invitation_ttl,
        context={"name": name, "expires_days": settings.invitation_ttl // 86400},
    )
    audit(provider, actor, "user.invited", sub=user.sub)
    return user
