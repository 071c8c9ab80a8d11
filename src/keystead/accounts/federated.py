"""Local users of upstream identities (issue 22): which connections a client offers, who an
upstream identity is here, just-in-time users, linking without takeover, unlinking.

The rules, in the order ``resolve`` applies them:
1. an identity linked before (connection, upstream ``sub``) signs in as its user;
2. an identity whose email matches a local account never gets a second account: it is linked
   at once only when the connection trusts its verified emails (``--link-by-verified-email``),
   the upstream says the address is verified and the local account verified it too; otherwise
   the local account's owner must prove it (its password) before the link is made — an
   upstream's unverified email never links silently;
3. otherwise a new local user is made just in time when the connection allows it.

keystead's own ``sub`` is what clients see; the upstream's is recorded with the link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystead.accounts.links import link_state, mail_ready, send_link, token_hash
from keystead.federation import UpstreamIdentity
from keystead.protocol import acr
from keystead.secrets_util import random_id
from keystead.services import client_policy
from keystead.services.users import check_profile
from keystead.store.base import Client, DuplicateError, User
from keystead.store.connections import Connection, FederatedIdentity
from keystead.store.factors import PASSKEY

if TYPE_CHECKING:
    from keystead.provider import Provider

AMR_FEDERATED = acr.AMR_FEDERATED  # the session's amr after an upstream sign-in
# The password of a user made just in time: no argon2 hash, so nothing ever verifies against
# it (accounts/passwords.py answers False for a hash it cannot read); a reset sets a real one.
NO_PASSWORD = "!federated"

KNOWN, LINK_NOW, PROOF_NEEDED, CREATE, NO_ACCOUNT = (
    "known",
    "link_now",
    "proof_needed",
    "create",
    "no_account",
)


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: str  # one of the names above
    user: User | None = None  # known / link_now / proof_needed: the local account


async def offered(provider: Provider, client: Client) -> list[Connection]:
    """The enabled connections the client's login page shows (its ``connections`` policy, or
    every enabled one)."""
    allowed = client_policy.get(client, "connections")
    found = [c for c in await provider.connections() if c.enabled]  # cached: every login page
    if allowed is None:
        return found
    return [c for c in found if c.name in allowed]


def password_login(client: Client) -> bool:
    """Whether the client's login page has the password form (``--no-password-login``)."""
    return bool(client_policy.get(client, "password_login"))


def has_password(user: User) -> bool:
    return not user.password_hash.startswith("!")


async def resolve(provider: Provider, connection: Connection, who: UpstreamIdentity) -> Resolution:
    store = provider.store
    linked = await store.federated_identities.find(connection.connection_id, who.upstream_sub)
    if linked is not None:
        user = await store.users.get(linked.sub)
        if user is not None:
            await store.federated_identities.touch(
                connection.connection_id, who.upstream_sub, provider.now()
            )
            return Resolution(KNOWN, user)
    if who.email:
        matches = await store.users.get_by_email(who.email)
        if matches:
            user = matches[0]
            trusted = connection.link_by_verified_email and who.email_verified
            if trusted and user.email_verified:
                return Resolution(LINK_NOW, user)
            return Resolution(PROOF_NEEDED, user)
    return Resolution(CREATE if connection.jit else NO_ACCOUNT)


async def link(
    provider: Provider, connection: Connection, who: UpstreamIdentity, user: User
) -> bool:
    """Record that the upstream identity signs in as ``user``; False if it is linked to
    someone already (a race, or another account linked it meanwhile)."""
    now = provider.now()
    identity = FederatedIdentity(
        connection.connection_id, who.upstream_sub, user.sub, who.email, now, now
    )
    try:
        await provider.store.federated_identities.link(identity)
    except DuplicateError:
        return False
    provider.events.emit(
        "federation.linked", sub=user.sub, connection=connection.name, upstream_sub=who.upstream_sub
    )
    return True


_NOT_USERNAME = re.compile(r"[^A-Za-z0-9._@-]+")


def _username_base(who: UpstreamIdentity) -> str:
    for candidate in (who.claims.get("preferred_username"), who.email):
        if isinstance(candidate, str) and candidate.strip():
            cleaned = _NOT_USERNAME.sub("-", candidate.strip())[:60].strip("-.")
            if cleaned:
                return cleaned
    return "user"


async def create_user(
    provider: Provider, connection: Connection, who: UpstreamIdentity
) -> User | None:
    """A new local user for the identity (just in time) and its link; None if the identity
    was linked by someone else meanwhile."""
    store = provider.store
    base = _username_base(who)
    names = [base, *(f"{base}-{random_id()[:6]}" for _ in range(4))]
    profile = check_profile(
        {k: v for k, v in who.claims.items() if k in ("picture", "locale", "zoneinfo", "website")}
    )
    now = provider.now()

    def text(name: str) -> str | None:
        value = who.claims.get(name)
        return value.strip()[:200] if isinstance(value, str) and value.strip() else None

    for username in names:
        user = User(
            sub=random_id(),
            username=username,
            password_hash=NO_PASSWORD,
            email=who.email,
            email_verified=who.email_verified,
            name=text("name"),
            given_name=text("given_name"),
            family_name=text("family_name"),
            created_at=now,
            updated_at=now,
            profile=profile,
        )
        try:
            await store.users.add(user)
        except DuplicateError:
            continue  # the username is taken: the next candidate
        if not await link(provider, connection, who, user):
            await store.users.delete(user.sub, now)
            return None
        provider.events.emit("federation.user_created", sub=user.sub, connection=connection.name)
        return user
    return None


async def ways_to_sign_in(provider: Provider, user: User) -> int:
    """Password, passkeys able to sign in alone, linked identities."""
    passkeys = [f for f in await provider.store.factors.list(user.sub) if f.kind == PASSKEY]
    identities = await provider.store.federated_identities.for_user(user.sub)
    return int(has_password(user)) + len(passkeys) + len(identities)


async def unlink(provider: Provider, user: User, connection_id: str) -> str | None:
    """Remove the link; an error message instead when it is the last way to sign in."""
    if await ways_to_sign_in(provider, user) <= 1:
        return (
            "This is the only way you can sign in: set a password or add a passkey first, "
            "then remove it."
        )
    if not await provider.store.federated_identities.unlink(user.sub, connection_id):
        return "That sign-in is not linked to your account."
    provider.events.emit("federation.unlinked", sub=user.sub, connection_id=connection_id)
    return None


# --- proving the account by a link mailed to its verified address ---

LINK_IDENTITY = "link_identity"


def can_mail_link(provider: Provider, user: User) -> bool:
    """The account's own verified address can receive the proof (and the server has mail)."""
    return bool(user.email and user.email_verified and mail_ready(provider.settings))


async def mail_link(
    provider: Provider,
    connection: Connection,
    who: UpstreamIdentity,
    user: User,
    continue_query: str,
) -> None:
    """Mail the account's verified address a single-use link that links the upstream identity
    when opened (the identity travels in the link's stored data, never in the URL)."""
    assert user.email is not None
    ttl = provider.settings.email_verification_ttl
    await send_link(
        provider,
        user,
        purpose=LINK_IDENTITY,
        to=user.email,
        template="link_identity",
        path="/federation/link/confirm",
        ttl=ttl,
        context={
            "username": user.username,
            "provider": connection.display_name,
            "expires_minutes": ttl // 60,
        },
        data={
            "connection_id": connection.connection_id,
            "upstream_sub": who.upstream_sub,
            "email": who.email,
            "continue": continue_query,
        },
    )
    provider.events.emit("federation.link_mailed", sub=user.sub, connection=connection.name)


async def confirm_mail_link(provider: Provider, token: str) -> tuple[str, str, str]:
    """("" or what is wrong, the connection's display name, the sign-in to continue)."""
    record, problem = await link_state(provider, token, LINK_IDENTITY)
    if problem or record is None:
        return problem or "This link is not valid.", "", ""
    data = record.data
    connection = await provider.store.connections.get(str(data.get("connection_id", "")))
    user = await provider.store.users.get(record.sub)
    if connection is None or not connection.enabled or user is None:
        return "This link is no longer valid: the provider or the account is gone.", "", ""
    now = provider.now()
    if await provider.store.action_tokens.use(token_hash(token), LINK_IDENTITY, now) is None:
        return "This link was already used.", "", ""
    who = UpstreamIdentity(
        connection.connection_id,
        str(data["upstream_sub"]),
        data.get("email"),
        False,  # what the upstream said of it no longer matters: the owner proved the account
    )
    if not await link(provider, connection, who, user):
        return "That sign-in was linked to another account meanwhile.", "", ""
    return "", connection.display_name, str(data.get("continue") or "")
