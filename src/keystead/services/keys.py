"""Signing key rotation: publish the next key first, sign with it once every JWKS cache has
seen it, keep the old public key published until tokens signed with it have expired."""

from __future__ import annotations

from typing import Any

from keystead.config import Settings
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import SUPPORTED_ALGS, rotate
from keystead.store.base import Store, StoredKey


async def rotate_keys(
    store: Store, kek: KeyEncryptor, settings: Settings, now: int, algs: list[str] | None = None
) -> list[StoredKey]:
    publish_ahead = settings.jwks_max_age + int(settings.cache_ttl) + 1
    retire_after = max(settings.id_token_ttl, settings.access_token_ttl)
    created = []
    for alg in algs or list(SUPPORTED_ALGS):
        created.append(
            await rotate(
                store.keys,
                kek,
                alg,
                now=now,
                publish_ahead=publish_ahead,
                retire_after=retire_after,
            )
        )
    return created


def key_view(key: StoredKey, now: int) -> dict[str, Any]:
    if key.retire_at is not None and key.retire_at <= now:
        status = "retired"
    elif key.activate_at > now:
        status = "next"
    elif key.retire_at is not None:
        status = "retiring"
    else:
        status = "active"
    return {
        "kid": key.kid,
        "alg": key.alg,
        "status": status,
        "created_at": key.created_at,
        "activate_at": key.activate_at,
        "retire_at": key.retire_at,
    }
