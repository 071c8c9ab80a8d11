"""API, user and key operations: one event each with the channel, the provider's caches
dropped, refusals as ServiceError / Conflict / NotFound naming the field."""

from __future__ import annotations

import pytest

from keystead.events import Event
from keystead.services import apis, keys, users
from keystead.services.apis import ApiSpec, ensure_admin_api
from keystead.services.common import CLI, Actor, Conflict, NotFound, ServiceError

pytestmark = pytest.mark.anyio

ADMIN = Actor("admin_api", "admin-bot")


def names(events: list[Event], prefix: str) -> list[str]:
    return [e.name for e in events if e.name.startswith(prefix)]


async def test_api_operations(make_provider, events: list[Event]) -> None:
    provider = await make_provider()
    provider.settings = provider.settings.model_copy(update={"cache_ttl": 60})
    assert (await provider.apis()).by_identifier.get("https://notes.example") is None  # cached
    spec = ApiSpec("https://notes.example", "Notes", [("notes:read", "Read")], with_secret=True)
    api, secret = await apis.create(provider, spec, ADMIN)
    assert secret and (await provider.apis()).by_identifier.get("https://notes.example") is not None
    with pytest.raises(Conflict) as dup:
        await apis.create(provider, ApiSpec("https://notes.example"), ADMIN)
    assert dup.value.field == "identifier"
    other = ApiSpec("https://other.example", scopes=[("notes:read", "Mine")])
    with pytest.raises(ServiceError) as taken:
        await apis.create(provider, other, ADMIN)
    assert taken.value.field == "scopes"
    updated, rotated = await apis.update(provider, api, ADMIN, name="Notes 2", rotate_secret=True)
    assert updated.name == "Notes 2" and rotated and rotated != secret
    with pytest.raises(ServiceError) as ttl:
        await apis.update(provider, api, ADMIN, access_token_ttl=5)
    assert ttl.value.field == "access_token_ttl"
    await apis.delete(provider, updated, ADMIN)
    assert (await provider.apis()).by_identifier.get("https://notes.example") is None
    with pytest.raises(NotFound):
        await apis.get(provider, api.api_id)
    assert names(events, "api.") == ["api.created", "api.updated", "api.deleted"]
    assert {e.data["channel"] for e in events if e.name.startswith("api.")} == {"admin_api"}


async def test_the_reserved_admin_api_is_a_conflict(provider) -> None:
    reserved = await ensure_admin_api(provider.store, provider.settings.issuer, provider.now())
    with pytest.raises(Conflict):
        await apis.update(provider, reserved, CLI, name="mine")
    with pytest.raises(Conflict):
        await apis.delete(provider, reserved, CLI)


async def test_user_operations(provider, events: list[Event]) -> None:
    user = await users.create(provider, "carol", "long enough pw", CLI, email="c@example.com")
    with pytest.raises(Conflict) as dup:
        await users.create(provider, "carol", "another long pw", CLI)
    assert dup.value.field == "username" and "already exists" in dup.value.message
    with pytest.raises(ServiceError) as short:
        await users.create(provider, "dave", "short", CLI)
    assert short.value.field == "password"
    with pytest.raises(ServiceError) as claim:
        await users.update(provider, user, {"profile": {"shoe_size": 44}}, CLI)
    assert claim.value.field == "profile"
    await users.update(provider, user, {"email_verified": True}, CLI)
    await users.set_password_of(provider, "carol", "a new long password", CLI)
    await users.delete(provider, user.sub, CLI)
    with pytest.raises(NotFound):
        await users.delete(provider, user.sub, CLI)
    assert names(events, "user.") == [
        "user.created",
        "user.updated",
        "user.password_set",
        "user.deleted",
    ]
    assert not any("password" in str(e.data.values()) for e in events if e.name == "user.updated")


async def test_key_operations(make_provider, events: list[Event]) -> None:
    provider = await make_provider()
    ring = await provider.keyring()
    with pytest.raises(ServiceError) as bad:
        await keys.rotate(provider, CLI, ["HS256"])
    assert bad.value.field == "algs"
    (new,) = await keys.rotate(provider, CLI, ["ES256"])
    assert await provider.keyring() is not ring  # the ring was dropped and re-read
    active = next(k for k in await keys.list_all(provider) if k.alg == "ES256" and k.kid != new.kid)
    with pytest.raises(Conflict) as only:  # the new key does not sign yet
        await keys.retire(provider, active.kid, CLI)
    assert only.value.field == "kid"
    retired = await keys.retire(provider, new.kid, CLI)
    assert retired.retire_at == provider.now()
    with pytest.raises(NotFound):
        await keys.retire(provider, "nope", CLI)
    assert names(events, "key") == ["keys.rotated", "key.retired"]
