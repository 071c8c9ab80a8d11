"""Password login with throttling.

An unknown username costs the same argon2 verification as a wrong password and produces the
same words. Failures are counted per account and per client IP; past a threshold each further
attempt must wait a delay that doubles with every failure (capped), checked before any hashing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystead.store.base import ThrottleState, User

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.accounts")


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    retry_after: int = 0  # > 0 when throttled


def _wait(state: ThrottleState | None, threshold: int, max_delay: int, now: int) -> int:
    if state is None or state.failures < threshold:
        return 0
    delay = min(2 ** (state.failures - threshold), max_delay)
    return max(0, state.last_failure_at + delay - now)


async def authenticate(
    provider: Provider, username: str, password: str, client_ip: str | None
) -> LoginResult:
    settings = provider.settings
    throttle = provider.store.throttle
    now = provider.now()
    account_key = f"user:{username.casefold()}"
    ip_key = f"ip:{client_ip or 'unknown'}"
    wait = max(
        _wait(
            await throttle.get(account_key),
            settings.login_account_threshold,
            settings.login_max_delay,
            now,
        ),
        _wait(
            await throttle.get(ip_key), settings.login_ip_threshold, settings.login_max_delay, now
        ),
    )
    if wait:
        provider.events.emit("login.throttled", ip=client_ip, retry_after=wait)
        return LoginResult(None, retry_after=wait)

    user = await provider.store.users.get_by_username(username)
    if user is None:
        ok = await provider.hasher.verify_dummy(password)
    else:
        ok = await provider.hasher.verify(user.password_hash, password)
    if ok and user is not None:
        await throttle.reset(account_key)
        if provider.hasher.needs_rehash(user.password_hash):
            await _rehash(provider, user, password)
        provider.events.emit("login.succeeded", sub=user.sub)
        return LoginResult(user)
    now = provider.now()
    await throttle.record_failure(account_key, now)
    await throttle.record_failure(ip_key, now)
    provider.events.emit("login.failed", ip=client_ip, known_user=user is not None)
    return LoginResult(None)


async def _rehash(provider: Provider, user: User, password: str) -> None:
    """The hash was made with older argon2 parameters: store one made with the current ones
    (the only moment the password is at hand). A failure here does not fail the login."""
    try:
        new_hash = await provider.hasher.hash(password)
        await provider.store.users.replace_password_hash(user.sub, user.password_hash, new_hash)
    except Exception:  # noqa: BLE001 - the login itself succeeded
        log.exception("rehashing the password of %s failed", user.sub)
