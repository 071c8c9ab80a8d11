"""``DeviceCodeStore`` in memory."""

from __future__ import annotations

import dataclasses

from keystead.store.base import DuplicateError
from keystead.store.device_codes import APPROVED, DENIED, PENDING, DeviceCode


class MemoryDeviceCodeStore:
    def __init__(self) -> None:
        self._codes: dict[str, DeviceCode] = {}
        self._by_user_code: dict[str, str] = {}

    async def add(self, code: DeviceCode) -> None:
        if code.device_code_hash in self._codes or code.user_code_hash in self._by_user_code:
            raise DuplicateError("device code already exists")
        self._codes[code.device_code_hash] = code
        self._by_user_code[code.user_code_hash] = code.device_code_hash

    async def get_by_user_code(self, user_code_hash: str) -> DeviceCode | None:
        key = self._by_user_code.get(user_code_hash)
        return None if key is None else self._codes.get(key)

    async def poll(self, device_code_hash: str, now: int) -> DeviceCode | None:
        code = self._codes.get(device_code_hash)
        if code is not None:
            self._codes[device_code_hash] = dataclasses.replace(code, last_polled_at=now)
        return code

    async def slow_down(self, device_code_hash: str, interval: int) -> None:
        code = self._codes.get(device_code_hash)
        if code is not None:
            self._codes[device_code_hash] = dataclasses.replace(code, interval=interval)

    def _decide(self, user_code_hash: str, now: int, **changes: object) -> bool:
        key = self._by_user_code.get(user_code_hash)
        code = None if key is None else self._codes.get(key)
        if code is None or code.status != PENDING or code.expires_at <= now:
            return False
        self._codes[code.device_code_hash] = dataclasses.replace(code, **changes)  # type: ignore[arg-type]
        return True

    async def approve(
        self,
        user_code_hash: str,
        sub: str,
        sid: str | None,
        auth_time: int | None,
        now: int,
        *,
        acr: str | None = None,
        amr: tuple[str, ...] = (),
    ) -> bool:
        return self._decide(
            user_code_hash,
            now,
            status=APPROVED,
            sub=sub,
            sid=sid,
            auth_time=auth_time,
            acr=acr,
            amr=tuple(amr),
        )

    async def deny(self, user_code_hash: str, sub: str, now: int) -> bool:
        return self._decide(user_code_hash, now, status=DENIED, sub=sub)

    async def consume(self, device_code_hash: str, now: int) -> bool:
        code = self._codes.get(device_code_hash)
        if (
            code is None
            or code.status != APPROVED
            or code.consumed_at is not None
            or code.expires_at <= now
        ):
            return False
        self._codes[device_code_hash] = dataclasses.replace(code, consumed_at=now)
        return True

    async def purge(self, before: int) -> int:
        doomed = [c for c in self._codes.values() if c.expires_at < before]
        for code in doomed:
            del self._codes[code.device_code_hash]
            del self._by_user_code[code.user_code_hash]
        return len(doomed)
