"""Remembered consents: per user and client, the union of every scope the user approved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.protocol import scopes
from keystead.store.base import Consent

if TYPE_CHECKING:
    from keystead.provider import Provider


async def remember(provider: Provider, sub: str, client_id: str, approved: tuple[str, ...]) -> None:
    previous = await provider.store.consents.get(sub, client_id)
    merged = scopes.parse(" ".join((previous.scope if previous else "", *approved)))
    await provider.store.consents.put(
        Consent(sub=sub, client_id=client_id, scope=scopes.join(merged), updated_at=provider.now())
    )
