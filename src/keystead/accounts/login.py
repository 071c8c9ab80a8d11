"""Password login with throttling that slows guessing without locking the owner out.

An unknown username costs the same argon2 verification as a wrong password and produces the
same words. Every check below runs before any hashing; a refused (throttled) attempt is not
counted. Counters live in the shared ThrottleStore, so they hold across instances:

* per (account, source address): past ``login_account_threshold`` failures each further
  attempt waits a delay that doubles per failure, up to ``login_max_delay``. An attacker at
  one address locks only that address out of that account.
* per source address (all accounts): the same, past ``login_ip_threshold`` (password spraying).
* per account (all untrusted sources): past ``login_attack_threshold`` the account is under
  attack — one ``login.account_under_attack`` event per attack and a marker the account page
  reads (:func:`last_attack_at`) — and attempts only slow down: the delay is capped at
  ``login_account_max_delay`` seconds, so the owner is never locked out by it.
* a browser holding a valid device cookie for the account (accounts/device.py) skips the three
  above and is throttled by its own counter: after ``login_device_threshold`` failures that
  cookie is no longer trusted for ``login_max_delay`` (a stolen cookie buys a few guesses, not
  unlimited ones) and its attempts count and wait as an unknown source's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystead.accounts import device
from keystead.secrets_util import sha256_hex
from keystead.store.base import ThrottleState, User

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.accounts")

# One login.account_under_attack event per attack: a new one only after this many quiet seconds.
ATTACK_EVENT_WINDOW = 3600


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    retry_after: int = 0  # > 0 when throttled
    device_cookie: str | None = None  # after a success: the device cookie's new value


@dataclass(frozen=True, slots=True)
class _Keys:
    account: str  # all sources: slows only
    source: str  # this account from this address
    ip: str  # this address, all accounts
    device: str | None  # the trusted device cookie's own counter


def _keys(account: str, client_ip: str | None, nonce: str | None) -> _Keys:
    ip = client_ip or "unknown"
    return _Keys(
        account=f"user:{account}",
        # hashed: usernames and IPv6 addresses both may hold any separator
        source=f"src:{sha256_hex(account + chr(0) + ip)}",
        ip=f"ip:{ip}",
        device=f"device:{nonce}" if nonce else None,
    )


def throttle_wait(state: ThrottleState | None, threshold: int, max_delay: int, now: int) -> int:
    if state is None or state.failures < threshold:
        return 0
    delay = min(2 ** min(state.failures - threshold, 62), max_delay)
    return max(0, state.last_failure_at + delay - now)


async def _trusted(provider: Provider, keys: _Keys, now: int) -> bool:
    """The device cookie is valid for the account and not locked by its own failures."""
    if keys.device is None:
        return False
    state = await provider.store.throttle.get(keys.device)
    settings = provider.settings
    return (
        state is None
        or state.failures < settings.login_device_threshold
        or state.last_failure_at + settings.login_max_delay <= now
    )


async def _untrusted_wait(provider: Provider, keys: _Keys, now: int) -> int:
    settings = provider.settings
    throttle = provider.store.throttle
    return max(
        throttle_wait(
            await throttle.get(keys.source),
            settings.login_account_threshold,
            settings.login_max_delay,
            now,
        ),
        throttle_wait(
            await throttle.get(keys.ip), settings.login_ip_threshold, settings.login_max_delay, now
        ),
        throttle_wait(
            await throttle.get(keys.account),
            settings.login_attack_threshold,
            settings.login_account_max_delay,
            now,
        ),
    )


async def authenticate(
    provider: Provider,
    username: str,
    password: str,
    client_ip: str | None,
    device_cookie: str | None = None,
) -> LoginResult:
    throttle = provider.store.throttle
    now = provider.now()
    account = username.casefold()
    keys = _keys(account, client_ip, device.trusted_nonce(provider, device_cookie, account))
    trusted = await _trusted(provider, keys, now)
    wait = 0 if trusted else await _untrusted_wait(provider, keys, now)
    if wait:
        provider.events.emit("login.throttled", ip=client_ip, retry_after=wait)
        return LoginResult(None, retry_after=wait)

    user = await provider.store.users.get_by_username(username)
    if user is None or user.password_hash.startswith("!"):
        # No user, or one without a password (made from an upstream sign-in: "!federated"):
        # the same argon2 work either way, so timing tells neither apart from a wrong password.
        ok = await provider.hasher.verify_dummy(password) and False
    else:
        ok = await provider.hasher.verify(user.password_hash, password)
    if ok and user is not None:
        await throttle.reset(keys.source)
        if trusted and keys.device is not None:
            await throttle.reset(keys.device)
        if provider.hasher.needs_rehash(user.password_hash):
            await _rehash(provider, user, password)
        provider.events.emit("login.succeeded", sub=user.sub, trusted_device=trusted)
        return LoginResult(user, device_cookie=device.remember(provider, device_cookie, account))
    now = provider.now()
    await throttle.record_failure(keys.source, now)
    await throttle.record_failure(keys.ip, now)
    if trusted and keys.device is not None:
        await throttle.record_failure(keys.device, now)
    else:
        state = await throttle.record_failure(keys.account, now)
        if user is not None and state.failures >= provider.settings.login_attack_threshold:
            await _under_attack(provider, user, state.failures, now)
    provider.events.emit(
        "login.failed", ip=client_ip, known_user=user is not None, trusted_device=trusted
    )
    return LoginResult(None)


def _attack_key(sub: str) -> str:
    return f"attack:{sub}"


async def _under_attack(provider: Provider, user: User, failures: int, now: int) -> None:
    """Mark the account (the marker's last_failure_at: the last untrusted failure past the
    threshold) and emit the event once per attack: again only after a quiet window."""
    key = _attack_key(user.sub)
    marker = await provider.store.throttle.get(key)
    await provider.store.throttle.record_failure(key, now)
    if marker is None or marker.last_failure_at + ATTACK_EVENT_WINDOW <= now:
        provider.events.emit("login.account_under_attack", sub=user.sub, failures=failures)


async def last_attack_at(provider: Provider, sub: str) -> int | None:
    """When the account last failed a login from an untrusted source past
    ``login_attack_threshold`` (what the account page's notice will read); None if never, or
    forgotten after a quiet day (housekeeping purges the marker with the other counters)."""
    marker = await provider.store.throttle.get(_attack_key(sub))
    return None if marker is None else marker.last_failure_at


async def _rehash(provider: Provider, user: User, password: str) -> None:
    """The hash was made with older argon2 parameters: store one made with the current ones
    (the only moment the password is at hand). A failure here does not fail the login."""
    try:
        new_hash = await provider.hasher.hash(password)
        await provider.store.users.replace_password_hash(user.sub, user.password_hash, new_hash)
    except Exception:  # noqa: BLE001 - the login itself succeeded
        log.exception("rehashing the password of %s failed", user.sub)
