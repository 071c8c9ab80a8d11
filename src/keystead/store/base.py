"""Storage interfaces, one small Protocol per concern, and the plain dataclasses they return.

Protocol code depends only on this module. Implementations: ``store/memory/`` (unit tests)
and ``store/sql/`` (SQLAlchemy 2: SQLite by default, PostgreSQL). Every secret-bearing value
(codes, tokens, session cookies, client secrets) is stored only as a SHA-256 hash: the
``*_hash`` fields below never hold the clear value. All timestamps are integer UNIX seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from keystead.store.ciba_requests import CibaRequestStore
from keystead.store.connections import ConnectionStore, FederatedIdentityStore
from keystead.store.device_codes import DeviceCodeStore
from keystead.store.factors import FactorStore
from keystead.store.oauth1 import OAuth1Store
from keystead.store.outbox import ActionTokenStore, JobStore
from keystead.store.pushed_requests import PushedRequestStore
from keystead.store.records import EventRecord as EventRecord
from keystead.store.records import EventStore as EventStore
from keystead.store.records import MarkerStore as MarkerStore
from keystead.store.records import ThrottleState as ThrottleState
from keystead.store.records import ThrottleStore as ThrottleStore
from keystead.store.sessions import Session as Session
from keystead.store.sessions import SessionStore
from keystead.store.trusted_issuers import TrustedIssuerStore


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    scope: str  # space-separated scopes the client may be granted
    token_endpoint_auth_method: str  # client_secret_basic | client_secret_post | none | ...
    client_secret_hash: str | None = None  # SHA-256 hex of the secret; None for public clients
    require_pkce: bool = True
    skip_consent: bool = False  # first-party client: consent is implied
    id_token_signed_response_alg: str = "RS256"  # OIDC Registration §2 default
    application_type: str = "web"
    created_at: int = 0
    # Any other RFC 7591 metadata, kept verbatim for later features.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


@dataclass(frozen=True, slots=True)
class User:
    sub: str  # stable opaque identifier, never the username or email
    username: str
    password_hash: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    created_at: int = 0
    updated_at: int = 0
    # Other OIDC Core §5.1 standard claims: phone_number, phone_number_verified, address,
    # locale, zoneinfo, birthdate, picture, website, nickname, middle_name, gender ...
    profile: dict[str, Any] = field(default_factory=dict)
    admin: bool = False  # may enter the admin console (/admin); 0020_admin_role
    disabled_at: int | None = None  # an operator disabled the account: no sign-in at all


@dataclass(frozen=True, slots=True)
class Grant:
    """What a user granted a client in one authorization; codes and tokens belong to one grant.

    Revoking the grant revokes every token issued under it (code replay, RFC 6749 §4.1.2).
    """

    grant_id: str
    client_id: str
    sub: str
    scope: str
    created_at: int
    revoked_at: int | None = None
    auth_time: int | None = None  # when the user logged in (ID tokens from refresh)
    sid: str | None = None
    resources: tuple[str, ...] = ()  # RFC 8707 resource indicators of the authorization
    expires_at: int | None = None  # absolute end of the grant's refresh token family
    claims: dict[str, Any] = field(default_factory=dict)  # OIDC Core §5.5 claims request
    acr: str | None = None  # the session's at the authorization (ID tokens from refresh)
    amr: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    code_hash: str
    grant_id: str
    client_id: str
    sub: str
    redirect_uri: str
    scope: str
    expires_at: int
    created_at: int
    auth_time: int
    sid: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    consumed_at: int | None = None
    resources: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)  # OIDC Core §5.5 claims request
    acr: str | None = None
    amr: tuple[str, ...] = ()
    dpop_jkt: str | None = None  # RFC 9449 §10: the DPoP key the code is bound to


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An issued access token: opaque ones by hash of the value, JWTs by hash of their jti."""

    token_hash: str
    grant_id: str
    client_id: str
    sub: str
    scope: str
    expires_at: int
    created_at: int
    aud: tuple[str, ...] = ()
    jti: str | None = None  # set for JWT access tokens
    revoked_at: int | None = None
    jkt: str | None = None  # RFC 9449 §6: bound to this DPoP key
    x5t_s256: str | None = None  # RFC 8705 §3: bound to this client certificate
    # RFC 9396 §6: the authorization_details of this token when narrower than its grant's
    # (or a client_credentials token's own); None: the grant's (0023_rar_details).
    authorization_details: tuple[dict[str, Any], ...] | None = None


class AccessTokenStatus(NamedTuple):
    """What deciding on a presented access token needs from its record and its grant, read
    in one narrow statement: who and what it is for, until when, whether it or its grant was
    revoked, and the grant's claims request (UserInfo). A named tuple: built on every
    introspection, for a fraction of a frozen dataclass's field-by-field ``__init__``."""

    client_id: str
    sub: str
    scope: str
    aud: tuple[str, ...]
    expires_at: int
    created_at: int
    revoked_at: int | None
    grant_id: str
    grant_revoked_at: int | None
    claims: dict[str, Any]
    jkt: str | None = None  # RFC 9449 §6
    x5t_s256: str | None = None  # RFC 8705 §3
    authorization_details: tuple[dict[str, Any], ...] | None = None  # RFC 9396 §6


class JwtStatus(NamedTuple):
    """What deciding on a JWT access token of a grant needs beyond its signed claims: the
    grant's state (and local sub and claims request) and whether the token itself was
    revoked (a revocation is the only row a JWT access token ever has)."""

    sub: str
    grant_revoked_at: int | None
    claims: dict[str, Any]
    revoked_at: int | None


class RefreshToken(NamedTuple):
    """A refresh token of a grant family. Rotation (RFC 9700 §4.14) marks it rotated and
    records its successor's hash. The successor's value is derived from this token's
    (protocol/refresh.successor_value), so a repeated request in the short grace window gets
    the same successor back; ``successor_enc`` (its value encrypted) is only in rows rotated
    before that, and is cleared once their window is over."""

    token_hash: str
    grant_id: str
    client_id: str
    sub: str
    scope: str
    created_at: int
    expires_at: int  # absolute lifetime end (carried over to successors)
    idle_expires_at: int  # unused for longer than the idle lifetime: dead
    rotated_at: int | None = None
    successor_hash: str | None = None
    successor_enc: str | None = None
    jkt: str | None = None  # RFC 9449 §5: a public client's token is bound to its DPoP key
    x5t_s256: str | None = None  # RFC 8705 §4: ... or to its client certificate


@dataclass(frozen=True, slots=True)
class Api:
    """A resource server (RFC 8707 resource, RFC 9068 audience) and the scopes it owns."""

    api_id: str
    identifier: str  # the audience URI
    name: str
    scopes: tuple[tuple[str, str], ...]  # (scope name, description shown on consent)
    token_format: str  # "jwt" (RFC 9068) | "opaque"
    access_token_ttl: int
    created_at: int
    secret_hash: str | None = None  # its own credentials for introspection
    # Of ``scopes``, those a client registering itself (RFC 7591/7592) may ask for; the
    # operator's policy (issue 18 #4), none by default.
    self_registration_scopes: tuple[str, ...] = ()
    authorization_details_types: tuple[str, ...] = ()  # RFC 9396 types it accepts (0019_rar)

    @property
    def scope_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.scopes)


@dataclass(frozen=True, slots=True)
class Consent:
    sub: str
    client_id: str
    scope: str  # every scope the user has approved for this client
    updated_at: int


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A signing key; ``private_jwk_enc`` is the private JWK encrypted with the KEK."""

    kid: str
    alg: str
    public_jwk: dict[str, Any]
    private_jwk_enc: str
    created_at: int
    activate_at: int  # signs from this time on (published before, so caches learn it first)
    retire_at: int | None = None  # stops being published at this time


class DuplicateError(ValueError):
    """Raised by ``add`` when the unique key (client_id, username, kid ...) already exists."""


# (created_at, id): the order of admin listings; a page starts after such a position.
Position = tuple[int, str]


class ClientStore(Protocol):
    async def add(self, client: Client) -> None: ...  # DuplicateError if the client_id exists
    async def get(self, client_id: str) -> Client | None: ...
    async def list(
        self, after: Position | None = None, limit: int | None = None, search: str | None = None
    ) -> list[Client]:
        """In (created_at, client_id) order; with ``after``/``limit``, one page (keyset);
        ``search``: those whose client_id or name contains it, case-insensitively."""
        ...

    async def delete(self, client_id: str) -> bool: ...
    async def update(self, client: Client) -> bool:
        """Replace the stored client with the same client_id (created_at is kept); False if
        there is none. One statement: readers see the old or the new client, never a mix."""
        ...


class UserStore(Protocol):
    async def add(self, user: User) -> None: ...  # DuplicateError if the username is taken
    async def get(self, sub: str) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...
    async def list(self, after: Position | None = None, limit: int | None = None) -> list[User]:
        """In (created_at, sub) order; with ``after``/``limit``, one page (keyset)."""
        ...

    async def get_by_email(self, email: str) -> list[User]:
        """Users with this email address, compared case-insensitively (at most 10)."""
        ...

    async def set_password(self, sub: str, password_hash: str, now: int) -> bool: ...
    async def sign_out_everywhere(self, sub: str, now: int, keep: str | None = None) -> int:
        """End the user's sessions (but the one whose hash is ``keep``) and revoke their grants
        (refresh and access tokens stop working), in one transaction; sessions ended."""
        ...

    async def replace_password_hash(self, sub: str, old_hash: str, new_hash: str) -> bool:
        """Swap the stored hash for one of the same password made with newer parameters, only
        if it is still ``old_hash`` (a password changed meanwhile wins); ``updated_at`` stays.
        """
        ...

    async def update(self, user: User) -> bool:
        """Replace the user with the same sub (created_at is kept); DuplicateError if the new
        username is taken; False if there is no such user."""
        ...

    async def delete(self, sub: str, now: int) -> bool:
        """Delete the user with their sessions and consents, and revoke their grants (so
        their codes and tokens stop working), in one transaction. False if unknown."""
        ...


class GrantStore(Protocol):
    async def add_grant(self, grant: Grant, code: AuthorizationCode | None = None) -> None:
        """Store a grant, and with it (in the same transaction) its first code if given."""
        ...

    async def revoke_grant(self, grant_id: str, now: int) -> None: ...
    async def participants(
        self, sub: str, sids: Sequence[str] | None = None
    ) -> list[tuple[str, str | None]]:
        """The distinct ``(client_id, sid)`` of ``sub``'s grants, revoked or not — within the
        sessions ``sids`` when given (None: every session, and grants without one) — ordered
        by client_id, sid: who took part in those sessions (Back-Channel Logout §2.7)."""
        ...

    async def list_for(self, sub: str) -> list[Grant]:
        """The user's grants not revoked (expired ones included), newest first."""
        ...

    async def add_code(self, code: AuthorizationCode) -> None: ...
    async def consume_code(
        self,
        code_hash: str,
        now: int,
        *,
        access_tokens: Sequence[AccessToken] = (),
        refresh_tokens: Sequence[RefreshToken] = (),
    ) -> AuthorizationCode | None:
        """Mark the code consumed and return it — only for the one caller that consumed it —
        and insert the tokens issued for it in the same transaction: for any other caller
        nothing is written (None), and a failed insert leaves the code unconsumed.

        RFC 6749 §4.1.2: single use. Atomic even across processes.
        """
        ...

    async def get_code(self, code_hash: str) -> AuthorizationCode | None: ...
    async def add_access_token(self, token: AccessToken) -> None: ...
    async def get_access_token(self, token_hash: str) -> tuple[AccessToken, Grant] | None:
        """The token and its grant (one round-trip); None if unknown."""
        ...

    async def get_access_token_status(self, token_hash: str) -> AccessTokenStatus | None:
        """The token's status with its grant's (one narrow read: the hot path of
        introspection, UserInfo and revocation); None if unknown."""
        ...

    async def revoke_access_token(self, token_hash: str, now: int) -> None: ...
    async def get_jwt_status(self, grant_id: str, token_hash: str) -> JwtStatus | None:
        """A JWT access token's grant state and its revocation (one read); None when the
        grant is gone."""
        ...

    async def add_refresh_token(self, token: RefreshToken) -> None: ...
    async def get_refresh_token(self, token_hash: str) -> tuple[RefreshToken, Grant] | None:
        """The refresh token and its grant (one round-trip); None if unknown."""
        ...

    async def rotate_refresh_token(
        self,
        token_hash: str,
        successor: RefreshToken,
        successor_enc: str | None,
        now: int,
        access_tokens: Sequence[AccessToken] = (),
    ) -> bool:
        """Atomically: if ``token_hash`` is not yet rotated, mark it rotated at ``now`` with
        ``successor.token_hash`` and ``successor_enc``, and insert ``successor`` and the
        ``access_tokens`` issued with it. True for the one caller that rotated it; False (and
        nothing written) otherwise — even across processes."""
        ...

    async def clear_successors(self, rotated_before: int) -> int:
        """Forget ``successor_enc`` of tokens rotated before the time (grace window over)."""
        ...

    async def purge_expired(self, before: int) -> int:
        """Delete what can no longer be used; return the number of rows deleted:

        - codes and access tokens that expired before ``before``;
        - refresh tokens past their absolute end, or never rotated and idle-expired, before;
        - grants revoked or expired before ``before`` (with everything issued under them), and
          grants created before it with no code or token left.

        A consumed code is kept until then, so a late replay still revokes its grant.
        """
        ...


class ConsentStore(Protocol):
    async def get(self, sub: str, client_id: str) -> Consent | None: ...
    async def put(self, consent: Consent) -> None: ...  # insert or replace
    async def list_for(self, sub: str) -> list[Consent]: ...  # the user's, by client_id
    async def delete(self, sub: str, client_id: str) -> bool: ...  # forget it; False if none


class KeyStore(Protocol):
    async def list(self) -> list[StoredKey]: ...
    async def add(self, key: StoredKey) -> None: ...
    async def set_retire_at(self, kid: str, retire_at: int | None) -> None: ...


class ApiStore(Protocol):
    async def add(self, api: Api) -> None: ...  # DuplicateError on api_id or identifier
    async def get(self, api_id: str) -> Api | None: ...
    async def get_by_identifier(self, identifier: str) -> Api | None: ...
    async def list(self) -> list[Api]: ...  # ordered by created_at, api_id
    async def delete(self, api_id: str) -> bool: ...
    async def update(self, api: Api) -> bool: ...  # by api_id; DuplicateError on identifier


class Store(Protocol):
    clients: ClientStore
    users: UserStore
    grants: GrantStore
    sessions: SessionStore
    consents: ConsentStore
    keys: KeyStore
    throttle: ThrottleStore
    events: EventStore
    apis: ApiStore
    markers: MarkerStore
    factors: FactorStore
    jobs: JobStore
    action_tokens: ActionTokenStore
    device_codes: DeviceCodeStore
    ciba_requests: CibaRequestStore
    pushed_requests: PushedRequestStore
    trusted_issuers: TrustedIssuerStore
    connections: ConnectionStore
    federated_identities: FederatedIdentityStore
    oauth1: OAuth1Store

    async def ping(self) -> None: ...  # raises when the database cannot be reached
    async def close(self) -> None: ...
