"""Connection operations (issue 22): create, update, delete, show the upstream identity
providers keystead signs users in with. The CLI and the admin API call these; each change is
audited (connection.created / updated / deleted) and drops what ``provider.upstreams`` cached.

The client secret keystead holds at the upstream is sealed under the key-encryption key
(federation/upstream.py) and never shown again: ``view`` has no secret.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.config import Settings
from keystead.federation import github
from keystead.federation.upstream import UpstreamError, seal_secret, unseal_secret
from keystead.net.fetch import FetchError, is_public_address, resolve
from keystead.secrets_util import random_id
from keystead.services.common import Actor, Conflict, NotFound, ServiceError, audit
from keystead.store.base import DuplicateError
from keystead.store.connections import AUTH_METHODS, GITHUB, KINDS, OIDC, Connection

if TYPE_CHECKING:
    from keystead.provider import Provider

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §3.3
DEFAULT_SCOPE = {OIDC: "openid email profile", GITHUB: github.DEFAULT_SCOPE}
DEFAULT_AUTH_METHOD = {OIDC: "client_secret_basic", GITHUB: "client_secret_post"}
MAX_TEXT = 200
# What ``update`` changes; ``client_secret`` is sealed, the others are Connection fields.
CHANGEABLE = (
    "name",
    "display_name",
    "issuer",
    "client_id",
    "client_secret",
    "scope",
    "auth_method",
    "jit",
    "link_by_verified_email",
    "enabled",
)


@dataclass
class ConnectionSpec:
    name: str
    client_id: str
    issuer: str | None = None  # github: https://github.com unless given (Enterprise Server)
    kind: str = OIDC  # "github" with --preset github
    display_name: str | None = None  # default: the name, or "GitHub"
    scope: str | None = None  # default: DEFAULT_SCOPE of the kind
    auth_method: str | None = None  # default: DEFAULT_AUTH_METHOD of the kind
    jit: bool = True
    link_by_verified_email: bool = False
    enabled: bool = True


def redirect_uri(settings: Settings, connection: Connection) -> str:
    """The URL to register at the upstream as keystead's redirect URI."""
    return settings.url(f"/federation/{connection.name}/callback")


def view(provider: Provider, connection: Connection) -> dict[str, Any]:
    """The connection as the CLI and the admin API show it: never its secret."""
    return {
        "id": connection.connection_id,
        "name": connection.name,
        "display_name": connection.display_name,
        "kind": connection.kind,
        "issuer": connection.issuer,
        "client_id": connection.client_id,
        "scope": connection.scope,
        "auth_method": connection.auth_method,
        "jit": connection.jit,
        "link_by_verified_email": connection.link_by_verified_email,
        "enabled": connection.enabled,
        "redirect_uri": redirect_uri(provider.settings, connection),
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
    }


def client_secret(provider: Provider, connection: Connection) -> str:
    """The connection's client secret in clear (for the upstream's token endpoint)."""
    return unseal_secret(provider.kek, connection)


# --- validation ---


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise ServiceError(
            "name",
            f"{str(name)[:50]!r} is not a connection name: 1 to 40 lower-case letters, digits "
            "and '-', starting with a letter or digit (it appears in URLs and idp_hint=NAME).",
        )


def _check_text(field: str, value: str, what: str) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > MAX_TEXT:
        raise ServiceError(field, f"{what} must be 1 to {MAX_TEXT} characters.")
    return value


def _check_scope(kind: str, scope: str) -> str:
    tokens = scope.split() if isinstance(scope, str) else []
    if not tokens or not all(SCOPE_TOKEN.match(t) for t in tokens):
        raise ServiceError(
            "scope", "the scope must be space-separated scope names (RFC 6749 §3.3)."
        )
    if kind == OIDC and "openid" not in tokens:
        # OIDC Core §3.1.2.1: without openid the upstream runs plain OAuth, no ID token.
        raise ServiceError("scope", "the scope of an OpenID Connect connection must hold openid.")
    return " ".join(dict.fromkeys(tokens))


async def _is_private_host(host: str, port: int) -> bool:
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolve(host, port)
        except FetchError:
            return False
    return bool(addresses) and not any(is_public_address(a) for a in addresses)


async def check_issuer(settings: Settings, issuer: str) -> str:
    """The issuer URL if keystead may use it: https, no query, fragment or credentials; with
    KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true also http on a loopback or private address."""
    try:
        parts = urlsplit(issuer)
        port = parts.port
    except (ValueError, TypeError):
        raise ServiceError("issuer", f"{str(issuer)[:100]!r} is not a URL.") from None
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ServiceError("issuer", f"{issuer[:100]!r} is not an https URL.")
    # OIDC Discovery §2 / OIDC Core §1.2: an issuer has no query or fragment.
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ServiceError("issuer", "the issuer must not have a query, fragment or credentials.")
    if parts.scheme == "http":
        default_port = port or 80
        if not settings.allow_private_network_fetch:
            raise ServiceError(
                "issuer",
                "the issuer must be https (an http issuer on a loopback or private address "
                "needs KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true, for development).",
            )
        if not await _is_private_host(parts.hostname, default_port):
            raise ServiceError(
                "issuer", "an http issuer must be on a loopback or private address; use https."
            )
    return issuer


async def _check_upstream(provider: Provider, connection: Connection) -> None:
    """An OpenID Provider must answer discovery with a usable document now."""
    if connection.kind != OIDC:
        return
    try:
        await provider.upstreams.discover(connection.issuer, refresh=True)
    except UpstreamError as exc:
        raise ServiceError("issuer", f"{exc.detail}") from None


async def _checked(provider: Provider, connection: Connection) -> Connection:
    _check_name(connection.name)
    if connection.kind not in KINDS:
        raise ServiceError("kind", f"the kind must be one of {', '.join(KINDS)}.")
    if connection.auth_method not in AUTH_METHODS:
        raise ServiceError(
            "auth_method", f"the auth method must be one of {', '.join(AUTH_METHODS)}."
        )
    issuer = await check_issuer(provider.settings, connection.issuer)
    if connection.kind == GITHUB:
        issuer = issuer.rstrip("/")
    return dataclasses.replace(
        connection,
        issuer=issuer,
        display_name=_check_text("display_name", connection.display_name, "The display name"),
        client_id=_check_text("client_id", connection.client_id, "The client_id"),
        scope=_check_scope(connection.kind, connection.scope),
    )


def _secret(value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 2000:
        raise ServiceError("client_secret", "the client secret must be 1 to 2000 characters.")
    return value


# --- operations ---


async def get(provider: Provider, name: str) -> Connection:
    connection = await provider.store.connections.get_by_name(name)
    if connection is None:
        raise NotFound("name", f"no connection is named {name[:50]!r}.")
    return connection


async def list_all(provider: Provider) -> list[Connection]:
    return await provider.store.connections.list()


async def create(
    provider: Provider, spec: ConnectionSpec, client_secret: str, actor: Actor
) -> Connection:
    """Store a new connection (its secret sealed); an OpenID Provider's discovery document is
    fetched and checked first, so a wrong issuer is refused here rather than at sign-in."""
    connection_id = random_id()
    now = provider.now()
    kind = spec.kind
    if kind not in KINDS:
        raise ServiceError("kind", f"the kind must be one of {', '.join(KINDS)}.")
    issuer = spec.issuer or (github.DEFAULT_BASE if kind == GITHUB else None)
    if not issuer:
        raise ServiceError("issuer", "an OpenID Connect connection needs the upstream's issuer.")
    connection = await _checked(
        provider,
        Connection(
            connection_id=connection_id,
            name=spec.name,
            display_name=spec.display_name or ("GitHub" if kind == GITHUB else spec.name),
            kind=kind,
            issuer=issuer,
            client_id=spec.client_id,
            client_secret_enc=seal_secret(provider.kek, connection_id, _secret(client_secret)),
            scope=spec.scope or DEFAULT_SCOPE[kind],
            auth_method=spec.auth_method or DEFAULT_AUTH_METHOD[kind],
            jit=spec.jit,
            link_by_verified_email=spec.link_by_verified_email,
            enabled=spec.enabled,
            created_at=now,
            updated_at=now,
        ),
    )
    if await provider.store.connections.get_by_name(connection.name) is not None:
        raise Conflict("name", f"a connection named {connection.name} exists already.")
    await _check_upstream(provider, connection)
    try:
        await provider.store.connections.add(connection)
        provider.forget_connections()
    except DuplicateError:
        raise Conflict("name", f"a connection named {connection.name} exists already.") from None
    audit(
        provider,
        actor,
        "connection.created",
        connection_id=connection_id,
        connection=connection.name,
    )
    return connection


async def update(
    provider: Provider, name: str, changes: Mapping[str, Any], actor: Actor
) -> Connection:
    """Change the fields in ``changes`` (names of CHANGEABLE; ``client_secret`` in clear is
    sealed anew). A changed issuer of an OpenID Provider is discovered again."""
    current = await get(provider, name)
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ServiceError(unknown[0], f"{unknown[0]} cannot be changed.")
    fields = {k: v for k, v in changes.items() if k != "client_secret" and v is not None}
    if changes.get("client_secret") is not None:
        sealed = seal_secret(provider.kek, current.connection_id, _secret(changes["client_secret"]))
        fields["client_secret_enc"] = sealed
    for flag in ("jit", "link_by_verified_email", "enabled"):
        if flag in fields and not isinstance(fields[flag], bool):
            raise ServiceError(flag, f"{flag} must be true or false.")
    connection = await _checked(
        provider, dataclasses.replace(current, **fields, updated_at=provider.now())
    )
    if connection.issuer != current.issuer:
        await _check_upstream(provider, connection)
    try:
        await provider.store.connections.update(connection)
        provider.forget_connections()
    except DuplicateError:
        raise Conflict("name", f"a connection named {connection.name} exists already.") from None
    provider.upstreams.forget(current)
    audit(
        provider,
        actor,
        "connection.updated",
        connection_id=connection.connection_id,
        connection=connection.name,
        changed=sorted(changes),
    )
    return connection


async def delete(provider: Provider, name: str, actor: Actor) -> None:
    """Delete the connection and every upstream identity linked through it."""
    connection = await get(provider, name)
    await provider.store.connections.delete(connection.connection_id)
    provider.forget_connections()
    provider.upstreams.forget(connection)
    audit(
        provider,
        actor,
        "connection.deleted",
        connection_id=connection.connection_id,
        connection=connection.name,
    )
