"""Signing key rotation: publish the next key first, sign with it once every JWKS cache has
seen it, keep the old public key published until tokens signed with it have expired."""

from __future__ import annotations

import dataclasses
from typing import Any

from keystead.config import Settings
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import SUPPORTED_ALGS, rotate
from keystead.store.base import Store, StoredKey


async def rotate_keys(
    store: Store, kek: KeyEncryptor, settings: Settings, now: int, algs: list[str] | None = None
) -> list[StoredKey]:
    publish_ahead = settings.jwks_max_age + int(settings.cache_ttl) + 1
    # The old key stays published until every token it signed has expired: ID tokens,
    # UserInfo access tokens, and each API's access tokens (their lifetimes are per API).
    api_ttls = [api.access_token_ttl for api in await store.apis.list()]
    retire_after = max(settings.id_token_ttl, settings.access_token_ttl, *api_ttls)
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


class KeySpecError(ValueError):
    """A key operation that would break signing or names no key."""


async def retire_key(store: Store, kid: str, now: int) -> StoredKey:
    """Stop publishing (and signing with) a key now — for a compromised key. Tokens it signed
    stop verifying. Refused for the only key that can sign its alg now."""
    keys = await store.keys.list()
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise LookupError(f"no key {kid}")
    if key.retire_at is not None and key.retire_at <= now:
        return key  # already retired
    others = [
        k
        for k in keys
        if k.alg == key.alg
        and k.kid != kid
        and k.activate_at <= now
        and (k.retire_at is None or k.retire_at > now)
    ]
    if not others:
        raise KeySpecError(
            f"{kid} is the only active {key.alg} key; rotate first (POST /admin/api/keys/rotate "
            "or `keystead keys rotate`), then retire it once the new key signs."
        )
    await store.keys.set_retire_at(kid, now)
    return dataclasses.replace(key, retire_at=now)
