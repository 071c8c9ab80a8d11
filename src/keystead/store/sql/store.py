"""The SQL store: one small class per concern of ``store/base.py``, sharing one ``Database``.

One module per concern (``clients.py``, ``users.py``, ``grants.py``, ``sessions.py``,
``consents.py``, ``keys.py``, ``throttle.py``, ``apis.py``, ``markers.py``, ``events.py``,
``factors.py``, ``outbox.py``, ``device_codes.py``, ``ciba_requests.py``, ``connections.py``,
``oauth1.py``),
each class built on ``concern.Concern``; the Core tables and the statements they share are in
``tables.py``. Each method is one short transaction: a plain function of a SQLAlchemy Core
``Connection`` that the ``Database`` runs (database.py: inline on the event loop for SQLite,
on its thread when busy or long; asyncpg for PostgreSQL). Single-use operations cannot
succeed twice, even when several processes share the database (grants.py says how). Rows are
converted to the frozen dataclasses of ``base.py`` before leaving the store; callers never see
ORM objects.
"""

from __future__ import annotations

from keystead.store.base import (
    ApiStore,
    ClientStore,
    ConsentStore,
    EventStore,
    GrantStore,
    KeyStore,
    MarkerStore,
    SessionStore,
    ThrottleStore,
    UserStore,
)
from keystead.store.ciba_requests import CibaRequestStore
from keystead.store.connections import ConnectionStore, FederatedIdentityStore
from keystead.store.device_codes import DeviceCodeStore
from keystead.store.factors import FactorStore
from keystead.store.oauth1 import OAuth1Store
from keystead.store.outbox import ActionTokenStore, JobStore
from keystead.store.pushed_requests import PushedRequestStore
from keystead.store.sql.apis import SqlApiStore
from keystead.store.sql.ciba_requests import SqlCibaRequestStore
from keystead.store.sql.clients import SqlClientStore
from keystead.store.sql.connections import SqlConnectionStore, SqlFederatedIdentityStore
from keystead.store.sql.consents import SqlConsentStore
from keystead.store.sql.database import Database
from keystead.store.sql.device_codes import SqlDeviceCodeStore
from keystead.store.sql.events import SqlEventStore
from keystead.store.sql.factors import SqlFactorStore
from keystead.store.sql.grants import SqlGrantStore
from keystead.store.sql.keys import SqlKeyStore
from keystead.store.sql.markers import SqlMarkerStore
from keystead.store.sql.oauth1 import SqlOAuth1Store
from keystead.store.sql.outbox import SqlActionTokenStore, SqlJobStore
from keystead.store.sql.pushed_requests import SqlPushedRequestStore
from keystead.store.sql.sessions import SqlSessionStore
from keystead.store.sql.throttle import SqlThrottleStore
from keystead.store.sql.trusted_issuers import SqlTrustedIssuerStore
from keystead.store.sql.users import SqlUserStore
from keystead.store.trusted_issuers import TrustedIssuerStore


class SqlStore:
    """The ``Store`` on a ``Database`` (database.py). Create it with ``open_store()``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clients: ClientStore = SqlClientStore(db)
        self.users: UserStore = SqlUserStore(db)
        self.grants: GrantStore = SqlGrantStore(db)
        self.sessions: SessionStore = SqlSessionStore(db)
        self.consents: ConsentStore = SqlConsentStore(db)
        self.keys: KeyStore = SqlKeyStore(db)
        self.throttle: ThrottleStore = SqlThrottleStore(db)
        self.events: EventStore = SqlEventStore(db)
        self.apis: ApiStore = SqlApiStore(db)
        self.markers: MarkerStore = SqlMarkerStore(db)
        self.factors: FactorStore = SqlFactorStore(db)
        self.jobs: JobStore = SqlJobStore(db)
        self.action_tokens: ActionTokenStore = SqlActionTokenStore(db)
        self.device_codes: DeviceCodeStore = SqlDeviceCodeStore(db)
        self.ciba_requests: CibaRequestStore = SqlCibaRequestStore(db)
        self.pushed_requests: PushedRequestStore = SqlPushedRequestStore(db)
        self.trusted_issuers: TrustedIssuerStore = SqlTrustedIssuerStore(db)
        self.connections: ConnectionStore = SqlConnectionStore(db)
        self.federated_identities: FederatedIdentityStore = SqlFederatedIdentityStore(db)
        self.oauth1: OAuth1Store = SqlOAuth1Store(db)

    async def ping(self) -> None:
        await self.db.ping()

    async def close(self) -> None:
        await self.db.close()
