"""Upstream identity providers keystead signs users in with (issue 22: keystead as a relying
party), and the upstream identities linked to local users.

A ``Connection`` is one upstream (a generic OpenID Provider found by discovery, or GitHub's
OAuth 2.0 API); its client secret is kept sealed under the key-encryption key (aad: the
connection_id). A ``FederatedIdentity`` records that the upstream's ``sub`` at a connection is
a local user: (connection_id, upstream_sub) is unique, and it goes with its user or connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

OIDC = "oidc"
GITHUB = "github"
KINDS = (OIDC, GITHUB)
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True, slots=True)
class Connection:
    connection_id: str
    name: str  # ^[a-z0-9][a-z0-9-]{0,39}$, unique; in URLs and idp_hint=NAME
    display_name: str  # "Continue with {display_name}"
    kind: str  # "oidc" | "github"
    issuer: str  # oidc: the upstream's issuer; github: its web base URL
    client_id: str
    client_secret_enc: str  # sealed with provider.kek, aad = connection_id
    scope: str = "openid email profile"
    auth_method: str = "client_secret_basic"  # or client_secret_post
    jit: bool = True  # an unknown upstream identity becomes a new local user
    link_by_verified_email: bool = False
    enabled: bool = True
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class FederatedIdentity:
    connection_id: str
    upstream_sub: str
    sub: str  # the local user's sub
    email: str | None = None
    created_at: int = 0
    last_login_at: int = 0


class ConnectionStore(Protocol):
    async def add(self, connection: Connection) -> None:
        """DuplicateError if the connection_id or the name is taken."""
        ...

    async def get(self, connection_id: str) -> Connection | None: ...
    async def get_by_name(self, name: str) -> Connection | None: ...

    async def list(self) -> list[Connection]:
        """Every connection, by name."""
        ...

    async def update(self, connection: Connection) -> bool:
        """Replace the connection with this connection_id; False if there is none.
        DuplicateError if the new name is another connection's."""
        ...

    async def delete(self, connection_id: str) -> bool:
        """Delete the connection and every identity linked through it."""
        ...


class FederatedIdentityStore(Protocol):
    async def find(self, connection_id: str, upstream_sub: str) -> FederatedIdentity | None: ...

    async def link(self, identity: FederatedIdentity) -> None:
        """DuplicateError if (connection_id, upstream_sub) is linked already; LookupError if
        the user or the connection does not exist."""
        ...

    async def for_user(self, sub: str) -> list[FederatedIdentity]:
        """The user's identities, oldest first."""
        ...

    async def unlink(self, sub: str, connection_id: str) -> bool: ...
    async def touch(self, connection_id: str, upstream_sub: str, now: int) -> None: ...
