"""Start-up work, done once: migrate the schema, load the key-encryption key, make sure
signing keys exist. Used by `keystead serve`, `keystead init` and the CLI."""

from __future__ import annotations

from typing import cast

from keystead import invalidation
from keystead.accounts.passwords import PasswordHasher
from keystead.config import Settings
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import ensure_keys
from keystead.provider import Provider, system_clock
from keystead.services.apis import ensure_admin_api
from keystead.store.base import Store
from keystead.store.sql import migrate, open_store, startup_lock


def key_encryptor(settings: Settings) -> KeyEncryptor:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    return KeyEncryptor.from_config(secret, settings.data_dir)


async def open_provider(settings: Settings, *, run_migrations: bool = True) -> Provider:
    """Open the store and the provider. Unless ``run_migrations`` is False, first migrate and
    create missing signing keys — once at a time across processes (``startup_lock``), so
    workers and instances starting together end up with one set of keys."""
    url = settings.sqlalchemy_url
    kek = key_encryptor(settings)
    store: Store = await open_store(url)
    try:
        if run_migrations:
            async with startup_lock(url):
                await migrate(url)
                await ensure_keys(store.keys, kek, system_clock())
                # The reserved API whose client_credentials tokens guard /admin/api.
                await ensure_admin_api(store, settings.issuer, system_clock())
    except BaseException:
        await store.close()
        raise
    if settings.redis_url:
        # Writes of clients, APIs and keys tell every instance to drop its cached copy.
        redis = invalidation.connect(settings.redis_url)
        store = cast(Store, invalidation.PublishingStore(store, redis))
    hasher = PasswordHasher(
        settings.password_threads,
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )
    return Provider(settings=settings, store=store, kek=kek, hasher=hasher)
