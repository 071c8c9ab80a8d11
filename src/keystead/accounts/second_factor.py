"""The second step of a sign-in: a code from an authenticator app (RFC 6238) or a recovery
code, checked against the user's factors and throttled like passwords (accounts/login.py):
past ``login_account_threshold`` wrong codes for an account, or ``login_ip_threshold`` from
an address, each further attempt waits a doubling delay, in the shared ThrottleStore.

Recovery codes: 10 per user, 80 random bits each (shown as ``xxxx-xxxx-xxxx-xxxx``), stored as
SHA-256 hashes, single use (one conditional write).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystead.accounts import totp
from keystead.accounts.login import throttle_wait
from keystead.protocol.acr import AMR_OTP
from keystead.secrets_util import sha256_hex
from keystead.store.factors import TOTP

if TYPE_CHECKING:
    from keystead.provider import Provider

RECOVERY_CODES = 10


@dataclass(frozen=True, slots=True)
class CodeResult:
    methods: tuple[str, ...] = ()  # what the session gains (empty: refused)
    error: str = ""  # words for the page
    retry_after: int = 0
    recovery_code_used: bool = False


def _keys(sub: str, client_ip: str | None) -> tuple[str, str]:
    return f"mfa:{sub}", f"mfa-ip:{client_ip or 'unknown'}"


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()  # 16 chars
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_hash(code: str) -> str:
    return sha256_hex("".join(ch for ch in code.lower() if ch.isalnum()))


async def set_recovery_codes(provider: Provider, sub: str) -> list[str]:
    """New codes for the user (the old ones stop working); the clear codes are shown once."""
    codes = new_recovery_codes()
    await provider.store.factors.set_recovery_codes(
        sub, [recovery_hash(c) for c in codes], provider.now()
    )
    provider.events.emit("mfa.recovery_codes_generated", sub=sub)
    return codes


async def check_code(provider: Provider, sub: str, code: str, client_ip: str | None) -> CodeResult:
    settings = provider.settings
    throttle = provider.store.throttle
    account_key, ip_key = _keys(sub, client_ip)
    now = provider.now()
    wait = max(
        throttle_wait(
            await throttle.get(account_key),
            settings.login_account_threshold,
            settings.login_max_delay,
            now,
        ),
        throttle_wait(
            await throttle.get(ip_key), settings.login_ip_threshold, settings.login_max_delay, now
        ),
    )
    if wait:
        provider.events.emit("mfa.throttled", sub=sub, ip=client_ip, retry_after=wait)
        return CodeResult(
            error=f"Too many wrong codes. Try again in {wait} seconds.", retry_after=wait
        )
    result = await _match(provider, sub, code, now)
    if result.methods:
        await throttle.reset(account_key)
        provider.events.emit(
            "mfa.recovery_code_used" if result.recovery_code_used else "mfa.succeeded",
            sub=sub,
            method="recovery_code" if result.recovery_code_used else "totp",
        )
        return result
    await throttle.record_failure(account_key, now)
    await throttle.record_failure(ip_key, now)
    provider.events.emit("mfa.failed", sub=sub, ip=client_ip, reason=result.error)
    return result


async def _match(provider: Provider, sub: str, code: str, now: int) -> CodeResult:
    typed = totp.clean_code(code)
    if len(typed) == totp.DIGITS and typed.isascii() and typed.isdigit():
        for factor in await provider.store.factors.list(sub):
            if factor.kind != TOTP or factor.secret_enc is None:
                continue
            secret = totp.unseal(provider.kek, sub, factor.secret_enc)
            step = totp.matching_step(secret, typed, now)
            if step is None:
                continue
            # RFC 6238 §5.2: each code is accepted once, even by two instances at once.
            if await provider.store.factors.use_totp(factor.factor_id, step, now):
                return CodeResult(methods=(AMR_OTP,))
            return CodeResult(error="This code was already used. Wait for the next one.")
        return CodeResult(error="That code is not right. Check your authenticator app's clock.")
    if await provider.store.factors.use_recovery_code(sub, recovery_hash(code), now):
        return CodeResult(methods=(AMR_OTP,), recovery_code_used=True)
    return CodeResult(
        error="Enter the 6-digit code from your authenticator app, or an unused recovery code."
    )
