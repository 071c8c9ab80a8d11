"""The ``Store`` in memory: its concerns wired together, with what goes along with a deleted
client or user (as SQL's ON DELETE CASCADE and the user deletion's transaction)."""

from __future__ import annotations

from keystead.store.base import (
    ApiStore,
    Client,
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
from keystead.store.memory.apis import MemoryApiStore
from keystead.store.memory.ciba_requests import MemoryCibaRequestStore
from keystead.store.memory.clients import MemoryClientStore
from keystead.store.memory.connections import MemoryConnectionStore, MemoryFederatedIdentityStore
from keystead.store.memory.consents import MemoryConsentStore
from keystead.store.memory.device_codes import MemoryDeviceCodeStore
from keystead.store.memory.events import MemoryEventStore
from keystead.store.memory.factors import MemoryFactorStore
from keystead.store.memory.grants import MemoryGrantStore
from keystead.store.memory.keys import MemoryKeyStore
from keystead.store.memory.markers import MemoryMarkerStore
from keystead.store.memory.oauth1 import MemoryOAuth1Store
from keystead.store.memory.outbox import MemoryActionTokenStore, MemoryJobStore
from keystead.store.memory.pushed_requests import MemoryPushedRequestStore
from keystead.store.memory.sessions import MemorySessionStore
from keystead.store.memory.throttle import MemoryThrottleStore
from keystead.store.memory.trusted_issuers import MemoryTrustedIssuerStore
from keystead.store.memory.users import MemoryUserStore
from keystead.store.oauth1 import OAuth1Store
from keystead.store.outbox import ActionTokenStore, JobStore
from keystead.store.pushed_requests import PushedRequestStore
from keystead.store.trusted_issuers import TrustedIssuerStore


class MemoryStore:
    """The ``Store`` in plain dicts. State lives as long as the object."""

    def __init__(self) -> None:
        clients: dict[str, Client] = {}
        grants = MemoryGrantStore(clients)
        consents = MemoryConsentStore(clients)
        on_delete = (grants.delete_client, consents.delete_client)
        self.clients: ClientStore = MemoryClientStore(clients, on_delete)
        sessions = MemorySessionStore()
        users = MemoryUserStore()
        factors = MemoryFactorStore(users.has)
        jobs = MemoryJobStore()
        action_tokens = MemoryActionTokenStore(jobs, users.has)
        identities = MemoryFederatedIdentityStore(users.has, lambda c: connections.has(c))
        connections = MemoryConnectionStore(identities.delete_connection)
        users.on_delete = (
            sessions.delete_sub,
            consents.delete_sub,
            grants.revoke_sub,
            factors.delete_sub,
            action_tokens.delete_sub,
            identities.delete_sub,
        )

        def sign_out(sub: str, now: int, keep: str | None) -> int:
            grants.revoke_sub(sub, now)
            return sessions.end_for(sub, keep)

        users.on_sign_out = sign_out
        self.factors: FactorStore = factors
        self.jobs: JobStore = jobs
        self.action_tokens: ActionTokenStore = action_tokens
        self.users: UserStore = users
        self.grants: GrantStore = grants
        self.sessions: SessionStore = sessions
        self.consents: ConsentStore = consents
        self.keys: KeyStore = MemoryKeyStore()
        self.throttle: ThrottleStore = MemoryThrottleStore()
        self.events: EventStore = MemoryEventStore()
        self.apis: ApiStore = MemoryApiStore()
        self.markers: MarkerStore = MemoryMarkerStore()
        self.device_codes: DeviceCodeStore = MemoryDeviceCodeStore()
        self.ciba_requests: CibaRequestStore = MemoryCibaRequestStore(jobs)
        self.pushed_requests: PushedRequestStore = MemoryPushedRequestStore()
        self.trusted_issuers: TrustedIssuerStore = MemoryTrustedIssuerStore()
        self.connections: ConnectionStore = connections
        self.federated_identities: FederatedIdentityStore = identities
        self.oauth1: OAuth1Store = MemoryOAuth1Store()

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
