"""Email addresses that keystead vouches for: a new or changed address takes effect only when
the link mailed to it is used (``email_verified`` in ID tokens and UserInfo follows); the old
address is told of the change. Sign-up uses the same link, marking the account usable."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from keystead.accounts.links import VERIFY_EMAIL, link_state, send_link, token_hash
from keystead.outbox import new_job
from keystead.store.outbox import MAIL

if TYPE_CHECKING:
    from keystead.provider import Provider
    from keystead.store.base import User

MAX_EMAIL = 254


def email_problem(email: str) -> str | None:
    local, _, domain = email.partition("@")
    if not local or "." not in domain.strip(".") or len(email) > MAX_EMAIL:
        return "Enter an email address such as name@example.com."
    if any(c.isspace() or ord(c) < 32 for c in email):
        return "An email address has no spaces."
    return None


async def send_verification(
    provider: Provider, user: User, email: str, data: dict[str, Any] | None = None
) -> None:
    """A link to ``email``; using it makes ``email`` the user's verified address."""
    settings = provider.settings
    await send_link(
        provider,
        user,
        purpose=VERIFY_EMAIL,
        to=email,
        template="verify_email",
        path="/email/verify",
        ttl=settings.email_verification_ttl,
        context={
            "username": user.username,
            "email": email,
            "expires_minutes": settings.email_verification_ttl // 60,
        },
        email=email,
        data=data,
    )


async def verify(provider: Provider, token: str) -> tuple[str, User | None, dict[str, Any]]:
    """("" or what is wrong with the link, the user now verified, the link's data)."""
    record, problem = await link_state(provider, token, VERIFY_EMAIL)
    if problem or record is None or record.email is None:
        return problem or "This link is not valid.", None, {}
    user = await provider.store.users.get(record.sub)
    if user is None:
        return "This link is not valid: the account no longer exists.", None, {}
    now = provider.now()
    if await provider.store.action_tokens.use(token_hash(token), VERIFY_EMAIL, now) is None:
        return "This link was already used.", None, {}
    updated = dataclasses.replace(user, email=record.email, email_verified=True, updated_at=now)
    await provider.store.users.update(updated)
    await provider.store.markers.take(unverified_marker(user.sub), now)
    if user.email and user.email.lower() != record.email.lower():
        notice = new_job(
            provider,
            MAIL,
            {
                "to": user.email,
                "template": "email_changed_notice",
                "context": {"username": user.username, "new_email": record.email},
            },
        )
        await provider.store.jobs.add(notice)
        provider.wake_outbox()
    provider.events.emit("user.email_verified", sub=user.sub, changed=user.email != record.email)
    return "", updated, dict(record.data)


def unverified_marker(sub: str) -> str:
    """Marks an account made by sign-up whose address is not verified yet: it cannot sign
    in until it is (``signup_requires_verified_email``)."""
    return f"signup-unverified:{sub}"
