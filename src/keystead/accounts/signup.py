"""Self-service sign-up (``KEYSTEAD_SIGNUP=true``; OpenID Connect Prompt Create 1.0).

A new account's address is verified before it can sign in, unless
``KEYSTEAD_SIGNUP_REQUIRES_VERIFIED_EMAIL=false``: until then a marker keeps the password
from working (accounts/email_change.py removes it). An address that belongs to an account
already gets the same answer as a new one — and its owner a password reset link — so the
form never tells which addresses have accounts. Throttled per source address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.accounts import email_change
from keystead.accounts.login import throttle_wait
from keystead.accounts.reset import request_reset
from keystead.services.common import Conflict, ServiceError
from keystead.services.users import check_username, create_user

if TYPE_CHECKING:
    from keystead.provider import Provider
    from keystead.store.base import User

IP_SIGNUPS = 10  # accounts from one address before each further one waits (doubling)
FOREVER = 100 * 365 * 86400


async def wait_for_address(provider: Provider, client_ip: str | None) -> int:
    state = await provider.store.throttle.get(f"signup-ip:{client_ip or 'unknown'}")
    return throttle_wait(state, IP_SIGNUPS, provider.settings.login_max_delay, provider.now())


async def sign_up(
    provider: Provider,
    *,
    username: str,
    email: str,
    password: str,
    confirm: str,
    name: str | None,
    client_ip: str | None,
    continue_query: str,
) -> tuple[User | None, dict[str, str]]:
    """(the new user, or None when a mail went out instead; field errors)."""
    settings = provider.settings
    errors: dict[str, str] = {}
    try:
        check_username(username)
    except ServiceError as exc:
        errors["username"] = str(exc)
    problem = email_change.email_problem(email)
    if problem:
        errors["email"] = problem
    if not errors and password != confirm:
        errors["confirm_password"] = "The two passwords differ."
    if errors:
        return None, errors
    await provider.store.throttle.record_failure(
        f"signup-ip:{client_ip or 'unknown'}", provider.now()
    )
    if await provider.store.users.get_by_email(email):
        # The address has an account: its owner gets a reset link, the form the usual answer.
        await request_reset(provider, email, client_ip, continue_query)
        return None, {}
    try:
        user = await create_user(
            provider.store,
            provider.hasher,
            username,
            password,
            now=provider.now(),
            email=email,
            name=name,
            min_length=settings.password_min_length,
        )
    except Conflict as exc:
        return None, {"username": str(exc)}
    except ServiceError as exc:
        return None, {"new_password" if exc.field == "password" else exc.field: str(exc)}
    provider.events.emit("user.signed_up", sub=user.sub)
    if settings.signup_requires_verified_email:
        now = provider.now()
        await provider.store.markers.add(
            email_change.unverified_marker(user.sub), now + FOREVER, now
        )
        await email_change.send_verification(
            provider, user, email, data={"continue": continue_query}
        )
        return None, {}
    return user, {}


async def unverified(provider: Provider, user: User) -> bool:
    """A signed-up account whose address is not verified yet (it cannot sign in)."""
    if user.email_verified:  # verified since (or by an operator): no marker to look for
        return False
    marker = email_change.unverified_marker(user.sub)
    return await provider.store.markers.get(marker, provider.now()) is not None


async def resend(provider: Provider, user: User, continue_query: str = "") -> None:
    """Another verification link (at most a few an hour), e.g. after a refused sign-in; it
    continues to ``continue_query``'s sign-in (the older links stop working)."""
    key, now = f"verify:{user.sub}", provider.now()
    if throttle_wait(
        await provider.store.throttle.get(key), 3, provider.settings.login_max_delay, now
    ):
        return
    await provider.store.throttle.record_failure(key, now)
    if user.email:
        data = {"continue": continue_query} if continue_query else None
        await email_change.send_verification(provider, user, user.email, data=data)
