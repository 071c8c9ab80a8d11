"""``TrustedIssuerStore`` on SQL."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, delete, select

from keystead.store.sql.concern import Concern
from keystead.store.sql.models_more import TrustedIssuerRow
from keystead.store.trusted_issuers import TrustedIssuer

TRUSTED_ISSUERS = cast(Table, TrustedIssuerRow.__table__)


class SqlTrustedIssuerStore(Concern):
    async def add(self, issuer: TrustedIssuer) -> None:
        await self._add(TRUSTED_ISSUERS, issuer, "trusted issuer")

    async def get(self, issuer_id: str) -> TrustedIssuer | None:
        query = select(TRUSTED_ISSUERS).where(TrustedIssuerRow.issuer_id == issuer_id)
        return await self._first(query, TrustedIssuer)

    async def get_by_issuer(self, issuer: str) -> TrustedIssuer | None:
        query = select(TRUSTED_ISSUERS).where(TrustedIssuerRow.issuer == issuer)
        return await self._first(query, TrustedIssuer)

    async def list(self) -> list[TrustedIssuer]:
        query = select(TRUSTED_ISSUERS).order_by(
            TrustedIssuerRow.created_at, TrustedIssuerRow.issuer_id
        )
        return await self._all(query, TrustedIssuer)

    async def delete(self, issuer_id: str) -> bool:
        query = delete(TrustedIssuerRow).where(TrustedIssuerRow.issuer_id == issuer_id)
        return bool(await self._rowcount(query))
