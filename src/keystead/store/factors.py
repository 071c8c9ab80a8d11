"""Second factors of a user: TOTP authenticators, passkeys (WebAuthn credentials) and
recovery codes — the records and the store interface (the SQL and memory implementations are
``store/sql/factors.py`` and ``store/memory/factors.py``).

Every use is one atomic conditional write, so a code or an assertion counts once even when
several instances receive it at the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

TOTP = "totp"
PASSKEY = "passkey"


@dataclass(frozen=True, slots=True)
class Factor:
    factor_id: str
    sub: str
    kind: str  # TOTP | PASSKEY
    name: str  # the user's label ("Phone", "YubiKey")
    created_at: int
    last_used_at: int | None = None
    # TOTP: the base32 secret encrypted under the key-encryption key (jose/kek.py), and the
    # newest time step accepted: a code of that step or an older one is refused (RFC 6238 §5.2).
    secret_enc: str | None = None
    last_step: int = 0
    # Passkeys: the credential id and COSE public key (base64url), the signature counter and
    # the backup flags (WebAuthn L3 §6.1: BE, BS) of the last use.
    credential_id: str | None = None
    public_key: str | None = None
    sign_count: int = 0
    backup_eligible: bool = False
    backup_state: bool = False
    transports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecoveryCodes:
    left: int  # unused codes
    generated_at: int | None  # None: the user has none
    last_used_at: int | None  # the latest use (the account page tells the user)


class FactorStore(Protocol):
    async def add(self, factor: Factor) -> None:
        """DuplicateError on a taken factor_id or credential_id; LookupError: no such user."""
        ...

    async def get(self, factor_id: str) -> Factor | None: ...
    async def get_by_credential(self, credential_id: str) -> Factor | None: ...
    async def list(self, sub: str) -> list[Factor]: ...  # by created_at, factor_id
    async def has_any(self, sub: str) -> bool: ...  # a second factor due at sign-in?

    async def delete(self, sub: str, factor_id: str) -> bool: ...  # only the user's own

    async def reset(self, sub: str) -> int:
        """Delete every factor and recovery code of the user (an operator's "lost device");
        how many factors went."""
        ...

    async def use_totp(self, factor_id: str, step: int, now: int) -> bool:
        """Record a code of time step ``step`` as used, only if no code of that step or a
        later one was: True for the one caller that did (replays lose, across processes)."""
        ...

    async def use_passkey(
        self, factor_id: str, old_count: int, new_count: int, backup_state: bool, now: int
    ) -> bool:
        """Store the new signature counter, only if it is still ``old_count`` (two uses of
        one assertion, or of a cloned authenticator, cannot both win)."""
        ...

    async def set_recovery_codes(self, sub: str, code_hashes: Sequence[str], now: int) -> None:
        """Replace the user's recovery codes with these (hashes only)."""
        ...

    async def use_recovery_code(self, sub: str, code_hash: str, now: int) -> bool:
        """Mark the code used, only if it is the user's and unused: True once."""
        ...

    async def recovery_codes(self, sub: str) -> RecoveryCodes: ...
