"""The user's side of the device flow (RFC 8628 §3.3): the user, signed in, enters the user
code shown on the device and approves or denies its request. Wrong codes are throttled per
client address (§5.1: the user code's low entropy must be protected from brute force)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.accounts.login import throttle_wait
from keystead.protocol import acr
from keystead.protocol.device_authorization import normalize_user_code, user_code_hash
from keystead.store.base import Session
from keystead.store.device_codes import PENDING, DeviceCode

if TYPE_CHECKING:
    from keystead.provider import Provider

FREE_MISSES = 5  # wrong codes per address before each next try waits (doubling)


def _key(client_ip: str | None) -> str:
    return f"device-ip:{client_ip or 'unknown'}"


async def wait_for(provider: Provider, client_ip: str | None) -> int:
    """Seconds this address must wait before entering another code (0: it may now)."""
    state = await provider.store.throttle.get(_key(client_ip))
    return throttle_wait(state, FREE_MISSES, provider.settings.login_max_delay, provider.now())


async def find(provider: Provider, entered: str, client_ip: str | None) -> DeviceCode | None:
    """The pending, unexpired device code the user typed (any case, dash or not); None, and
    a miss counted against the address, otherwise."""
    user_code = normalize_user_code(entered)
    code = None
    if user_code is not None:
        code = await provider.store.device_codes.get_by_user_code(user_code_hash(user_code))
    if code is None or code.status != PENDING or code.expires_at <= provider.now():
        await provider.store.throttle.record_failure(_key(client_ip), provider.now())
        return None
    return code


async def answer(provider: Provider, code: DeviceCode, session: Session, approve: bool) -> bool:
    """Record the user's answer: True for the one answer that counted (a code is answered
    once, while pending and unexpired)."""
    codes = provider.store.device_codes
    now = provider.now()
    if approve:
        done = await codes.approve(
            code.user_code_hash,
            session.sub,
            session.sid,
            session.auth_time,
            now,
            acr=acr.acr_of(session.amr),
            amr=session.amr,
        )
    else:
        done = await codes.deny(code.user_code_hash, session.sub, now)
    if done:
        provider.events.emit(
            ("device.approved" if approve else "device.denied"),
            client_id=code.client_id,
            sub=session.sub,
        )
    return done
