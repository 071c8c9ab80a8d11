"""``ConsentStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError

from keystead.store.base import Consent
from keystead.store.sql.concern import Concern, is_foreign_key_violation
from keystead.store.sql.models import ConsentRow
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import CONSENTS

_CONSENT = Prepared(
    select(CONSENTS).where(
        CONSENTS.c.sub == bindparam("sub"), CONSENTS.c.client_id == bindparam("client_id")
    )
)


class SqlConsentStore(Concern):
    async def get(self, sub: str, client_id: str) -> Consent | None:
        return await self._first(_CONSENT, Consent, {"sub": sub, "client_id": client_id})

    async def list_for(self, sub: str) -> list[Consent]:
        query = select(CONSENTS).where(ConsentRow.sub == sub).order_by(ConsentRow.client_id)
        return await self._all(query, Consent)

    async def delete(self, sub: str, client_id: str) -> bool:
        query = delete(ConsentRow).where(ConsentRow.sub == sub, ConsentRow.client_id == client_id)
        return bool(await self._rowcount(query))

    async def put(self, consent: Consent) -> None:
        query = (
            self._insert(ConsentRow)
            .values(
                sub=consent.sub,
                client_id=consent.client_id,
                scope=consent.scope,
                updated_at=consent.updated_at,
            )
            .on_conflict_do_update(
                index_elements=[ConsentRow.sub, ConsentRow.client_id],
                set_={"scope": consent.scope, "updated_at": consent.updated_at},
            )
        )
        try:
            await self._rowcount(query)
        except IntegrityError as exc:
            if is_foreign_key_violation(exc):
                raise LookupError(f"client_id {consent.client_id!r} does not exist") from exc
            raise
