"""Password reset by mail: asked for by username or email, answered the same whether or not
an account exists (the work happens after the answer, so timing says nothing either), a
single-use link valid ``password_reset_ttl`` seconds, then a new password — which ends the
user's sessions and revokes their grants (refresh and access tokens). Requests are throttled
per address (the page says so) and per account (silently: no enumeration)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from keystead.accounts import password_policy
from keystead.accounts.links import RESET, link_state, send_link, token_hash
from keystead.accounts.login import throttle_wait
from keystead.protocol import backchannel
from keystead.services import oauth1 as oauth1_tokens
from keystead.store.base import User

if TYPE_CHECKING:
    from keystead.provider import Provider

ACCOUNT_REQUESTS = 3  # links per account before each further one waits (doubling)
IP_REQUESTS = 20


async def wait_for_address(provider: Provider, client_ip: str | None) -> int:
    """Seconds this address must wait before asking again (0: it may ask now)."""
    state = await provider.store.throttle.get(f"reset-ip:{client_ip or 'unknown'}")
    return throttle_wait(state, IP_REQUESTS, provider.settings.login_max_delay, provider.now())


async def _find(provider: Provider, identifier: str) -> list[User]:
    identifier = identifier.strip()
    if not identifier:
        return []
    user = await provider.store.users.get_by_username(identifier)
    if user is not None:
        return [user]
    return await provider.store.users.get_by_email(identifier) if "@" in identifier else []


async def request_reset(
    provider: Provider, identifier: str, client_ip: str | None, continue_query: str
) -> None:
    """Send a reset link to the account(s) named, if any has an email address. Run after the
    page was answered; nothing it does shows in the answer."""
    throttle = provider.store.throttle
    now = provider.now()
    await throttle.record_failure(f"reset-ip:{client_ip or 'unknown'}", now)
    settings = provider.settings
    for user in await _find(provider, identifier):
        if not user.email:
            continue
        key = f"reset:{user.sub}"
        wait = throttle_wait(
            await throttle.get(key), ACCOUNT_REQUESTS, settings.login_max_delay, now
        )
        if wait:
            provider.events.emit("link.throttled", sub=user.sub, purpose=RESET)
            continue
        await throttle.record_failure(key, now)
        await send_link(
            provider,
            user,
            purpose=RESET,
            to=user.email,
            template="password_reset",
            path="/password/reset",
            ttl=settings.password_reset_ttl,
            context={
                "username": user.username,
                "expires_minutes": settings.password_reset_ttl // 60,
            },
            data={"continue": continue_query},
        )


def policy_problem(provider: Provider, user: User, password: str) -> str | None:
    return password_policy.check(
        password,
        username=user.username,
        email=user.email,
        min_length=provider.settings.password_min_length,
    )


async def complete_password_link(
    provider: Provider, purpose: str, token: str, password: str, confirm: str
) -> tuple[str, dict[str, str], str | None]:
    """A password set from a reset (``RESET``) or invitation (``INVITE``) link: ("" or what
    is wrong with the link, field errors, the sign-in to continue). On success the password
    is set and the link used up; a reset also ends every session and grant of the user, an
    invitation marks the address verified (the invitee opened mail sent to it)."""
    record, problem = await link_state(provider, token, purpose)
    if problem or record is None:
        return problem or "This link is not valid.", {}, None
    user = await provider.store.users.get(record.sub)
    if user is None:
        return "This link is not valid: the account no longer exists.", {}, None
    wrong = policy_problem(provider, user, password)
    if wrong:
        return "", {"new_password": wrong}, None
    if password != confirm:
        return "", {"confirm_password": "The two passwords differ."}, None
    now = provider.now()
    if await provider.store.action_tokens.use(token_hash(token), purpose, now) is None:
        return "This link was already used.", {}, None
    password_hash = await provider.hasher.hash(password)
    await provider.store.users.set_password(user.sub, password_hash, now)
    if purpose == RESET:
        await backchannel.notify(provider, sub=user.sub, sids=None)  # every session ends
        ended = await provider.store.users.sign_out_everywhere(user.sub, now)
        await oauth1_tokens.revoke_all(provider, user.sub, now)  # OAuth 1.0a consumers too
        await provider.store.throttle.reset(f"reset:{user.sub}")
        provider.events.emit("user.password_reset", sub=user.sub, sessions_ended=ended)
    else:
        if user.email and not user.email_verified:
            verified = dataclasses.replace(
                user, password_hash=password_hash, email_verified=True, updated_at=now
            )
            await provider.store.users.update(verified)
        provider.events.emit("user.invitation_accepted", sub=user.sub)
    return "", {}, str(record.data.get("continue") or "") or None
