"""``TrustedIssuerStore`` in memory."""

from __future__ import annotations

from keystead.store.base import DuplicateError
from keystead.store.trusted_issuers import TrustedIssuer


class MemoryTrustedIssuerStore:
    def __init__(self) -> None:
        self._issuers: dict[str, TrustedIssuer] = {}

    async def add(self, issuer: TrustedIssuer) -> None:
        if issuer.issuer_id in self._issuers or any(
            i.issuer == issuer.issuer for i in self._issuers.values()
        ):
            raise DuplicateError("trusted issuer already exists")
        self._issuers[issuer.issuer_id] = issuer

    async def get(self, issuer_id: str) -> TrustedIssuer | None:
        return self._issuers.get(issuer_id)

    async def get_by_issuer(self, issuer: str) -> TrustedIssuer | None:
        return next((i for i in self._issuers.values() if i.issuer == issuer), None)

    async def list(self) -> list[TrustedIssuer]:
        return sorted(self._issuers.values(), key=lambda i: (i.created_at, i.issuer_id))

    async def delete(self, issuer_id: str) -> bool:
        return self._issuers.pop(issuer_id, None) is not None
