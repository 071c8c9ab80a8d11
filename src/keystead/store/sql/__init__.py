"""SQLAlchemy 2 async store: SQLite by default (WAL), PostgreSQL later.

Start-up order: ``await migrate(url)`` once (under a lock, safe from several processes), then
``store = await open_store(url)`` in each process, and ``await store.close()`` on shutdown.
"""

from keystead.store.sql.engine import default_sqlite_url, make_engine, open_store
from keystead.store.sql.migrate import alembic_config, migrate, startup_lock
from keystead.store.sql.store import SqlStore

__all__ = [
    "SqlStore",
    "alembic_config",
    "default_sqlite_url",
    "make_engine",
    "migrate",
    "open_store",
    "startup_lock",
]
