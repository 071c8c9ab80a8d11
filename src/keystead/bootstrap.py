"""Start-up work, done once: migrate the schema, load the key-encryption key, make sure
signing keys exist. Used by `keystead serve`, `keystead init` and the CLI."""

from __future__ import annotations

from keystead.config import Settings
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import ensure_keys
from keystead.provider import Provider, system_clock
from keystead.store.sql import migrate, open_store


def key_encryptor(settings: Settings) -> KeyEncryptor:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    return KeyEncryptor.from_config(secret, settings.data_dir)


async def open_provider(settings: Settings, *, run_migrations: bool = True) -> Provider:
    url = settings.sqlalchemy_url
    if run_migrations:
        await migrate(url)
    store = await open_store(url)
    kek = key_encryptor(settings)
    provider = Provider(settings=settings, store=store, kek=kek)
    await ensure_keys(store.keys, kek, system_clock())
    return provider
