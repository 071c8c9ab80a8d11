"""``FactorStore`` in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from keystead.store.base import DuplicateError
from keystead.store.factors import Factor, RecoveryCodes


@dataclasses.dataclass(slots=True)
class _Code:
    sub: str
    created_at: int
    used_at: int | None = None


class MemoryFactorStore:
    def __init__(self, user_exists: Callable[[str], bool]) -> None:
        self._factors: dict[str, Factor] = {}
        self._codes: dict[str, _Code] = {}
        self._user_exists = user_exists  # the SQL foreign key's part

    async def add(self, factor: Factor) -> None:
        if factor.factor_id in self._factors:
            raise DuplicateError("factor already exists")
        if factor.credential_id is not None and any(
            f.credential_id == factor.credential_id for f in self._factors.values()
        ):
            raise DuplicateError("credential already registered")
        if not self._user_exists(factor.sub):
            raise LookupError("factor: referenced row does not exist")
        self._factors[factor.factor_id] = factor

    async def get(self, factor_id: str) -> Factor | None:
        return self._factors.get(factor_id)

    async def get_by_credential(self, credential_id: str) -> Factor | None:
        return next((f for f in self._factors.values() if f.credential_id == credential_id), None)

    async def list(self, sub: str) -> list[Factor]:
        mine = [f for f in self._factors.values() if f.sub == sub]
        return sorted(mine, key=lambda f: (f.created_at, f.factor_id))

    async def has_any(self, sub: str) -> bool:
        return any(f.sub == sub for f in self._factors.values())

    async def delete(self, sub: str, factor_id: str) -> bool:
        factor = self._factors.get(factor_id)
        if factor is None or factor.sub != sub:
            return False
        del self._factors[factor_id]
        return True

    async def reset(self, sub: str) -> int:
        before = len(self._factors)
        self.delete_sub(sub, 0)
        return before - len(self._factors)

    def delete_sub(self, sub: str, now: int) -> None:
        """Every factor and recovery code of the user goes (SQL: ON DELETE CASCADE)."""
        self._codes = {k: c for k, c in self._codes.items() if c.sub != sub}
        self._factors = {k: f for k, f in self._factors.items() if f.sub != sub}

    async def use_totp(self, factor_id: str, step: int, now: int) -> bool:
        factor = self._factors.get(factor_id)
        if factor is None or factor.last_step >= step:
            return False
        self._factors[factor_id] = dataclasses.replace(factor, last_step=step, last_used_at=now)
        return True

    async def use_passkey(
        self, factor_id: str, old_count: int, new_count: int, backup_state: bool, now: int
    ) -> bool:
        factor = self._factors.get(factor_id)
        if factor is None or factor.sign_count != old_count:
            return False
        self._factors[factor_id] = dataclasses.replace(
            factor, sign_count=new_count, backup_state=backup_state, last_used_at=now
        )
        return True

    async def set_recovery_codes(self, sub: str, code_hashes: Sequence[str], now: int) -> None:
        self._codes = {k: c for k, c in self._codes.items() if c.sub != sub}
        for code_hash in code_hashes:
            self._codes[code_hash] = _Code(sub, now)

    async def use_recovery_code(self, sub: str, code_hash: str, now: int) -> bool:
        code = self._codes.get(code_hash)
        if code is None or code.sub != sub or code.used_at is not None:
            return False
        code.used_at = now
        return True

    async def recovery_codes(self, sub: str) -> RecoveryCodes:
        mine = [c for c in self._codes.values() if c.sub == sub]
        used = [c.used_at for c in mine if c.used_at is not None]
        return RecoveryCodes(
            sum(1 for c in mine if c.used_at is None),
            min((c.created_at for c in mine), default=None),
            max(used, default=None),
        )
