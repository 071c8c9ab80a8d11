"""``ConsentStore`` in memory."""

from __future__ import annotations

from keystead.store.base import Client, Consent


class MemoryConsentStore:
    def __init__(self, clients: dict[str, Client]) -> None:
        self._clients = clients  # read only, for the foreign key check
        self._consents: dict[tuple[str, str], Consent] = {}

    async def get(self, sub: str, client_id: str) -> Consent | None:
        return self._consents.get((sub, client_id))

    async def put(self, consent: Consent) -> None:
        if consent.client_id not in self._clients:
            raise LookupError(f"client_id {consent.client_id!r} does not exist")
        self._consents[(consent.sub, consent.client_id)] = consent

    async def list_for(self, sub: str) -> list[Consent]:
        return sorted(
            (c for c in self._consents.values() if c.sub == sub), key=lambda c: c.client_id
        )

    async def delete(self, sub: str, client_id: str) -> bool:
        return self._consents.pop((sub, client_id), None) is not None

    def delete_client(self, client_id: str) -> None:
        self._consents = {k: c for k, c in self._consents.items() if c.client_id != client_id}

    def delete_sub(self, sub: str, now: int) -> None:
        self._consents = {k: c for k, c in self._consents.items() if c.sub != sub}
