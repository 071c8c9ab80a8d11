"""End-user account operations: create, update, set the password, delete.

``create``, ``update``, ``set_password_of`` and ``delete`` emit one audit event each, whichever
channel (CLI, admin API, demo) asked; ``create_user`` is the store step beneath ``create`` (and
seeds a store no server reads yet: tests, the benchmark).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from keystead.accounts import password_policy
from keystead.accounts.passwords import PasswordHasher
from keystead.protocol import backchannel
from keystead.protocol.claims import STANDARD_CLAIMS
from keystead.secrets_util import random_id
from keystead.services import oauth1 as oauth1_tokens
from keystead.services.common import Actor, Conflict, NotFound, ServiceError, audit
from keystead.store.base import DuplicateError, Position, Store, User

if TYPE_CHECKING:
    from keystead.provider import Provider

MIN_PASSWORD = 8  # NIST SP 800-63B §5.1.1.2
MAX_PASSWORD = 1024


class UserSpecError(ServiceError):
    """Invalid user data: ``field`` names it, the message says what to change."""


def check_password(
    password: str,
    *,
    username: str | None = None,
    email: str | None = None,
    min_length: int = MIN_PASSWORD,
) -> None:
    """The password policy (accounts/password_policy.py, NIST SP 800-63B): length, not on
    the list of common passwords, not the username or email."""
    problem = password_policy.check(password, username=username, email=email, min_length=min_length)
    if problem:
        raise UserSpecError("password", problem)


PROFILE_CLAIMS = frozenset(STANDARD_CLAIMS) - {
    "sub",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "updated_at",
    "email",
    "email_verified",
}


def check_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """Other OIDC Core §5.1 standard claims; address is an object (§5.1.1)."""
    for name, value in profile.items():
        if name not in PROFILE_CLAIMS:
            raise UserSpecError(
                "profile",
                f"{name} is not a standard claim keystead stores; use one of "
                f"{', '.join(sorted(PROFILE_CLAIMS))}.",
            )
        if name == "address" and not isinstance(value, dict):
            raise UserSpecError("profile", 'address must be a JSON object, e.g. {"country": "DE"}.')
        if name == "phone_number_verified" and not isinstance(value, bool):
            raise UserSpecError("profile", "phone_number_verified must be true or false.")
    return dict(profile)


def check_username(username: str) -> None:
    if not username or len(username) > 128 or any(c.isspace() for c in username):
        raise UserSpecError("username", "The username must be 1 to 128 characters without spaces.")


async def create_user(
    store: Store,
    hasher: PasswordHasher,
    username: str,
    password: str,
    *,
    now: int,
    email: str | None = None,
    email_verified: bool = False,
    name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    profile: dict[str, Any] | None = None,
    min_length: int = MIN_PASSWORD,
    admin: bool = False,
) -> User:
    check_username(username)
    check_password(password, username=username, email=email, min_length=min_length)
    profile = check_profile(profile or {})
    user = User(
        sub=random_id(),  # stable and opaque: never the username or email
        username=username,
        password_hash=await hasher.hash(password),
        email=email,
        email_verified=email_verified,
        name=name,
        given_name=given_name,
        family_name=family_name,
        created_at=now,
        updated_at=now,
        profile=profile,
        admin=admin,
    )
    try:
        await store.users.add(user)
    except DuplicateError:
        raise Conflict("username", f"A user named {username} already exists.") from None
    return user


async def set_password(
    store: Store,
    hasher: PasswordHasher,
    username: str,
    password: str,
    *,
    now: int,
    min_length: int = MIN_PASSWORD,
) -> User:
    user = await store.users.get_by_username(username)
    if user is None:
        raise NotFound("username", f"No user named {username}.")
    check_password(password, username=username, email=user.email, min_length=min_length)
    password_hash = await hasher.hash(password)
    await store.users.set_password(user.sub, password_hash, now)
    return replace(user, password_hash=password_hash, updated_at=now)


def user_view(user: User) -> dict[str, Any]:
    return {
        "sub": user.sub,
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "created_at": user.created_at,
        "admin": user.admin,
        "disabled": user.disabled_at is not None,
    }


UPDATABLE = ("username", "email", "email_verified", "name", "given_name", "family_name", "profile")


async def update_user(
    store: Store,
    hasher: PasswordHasher,
    user: User,
    changes: dict[str, Any],
    *,
    now: int,
    min_length: int = MIN_PASSWORD,
) -> User:
    """Apply ``changes`` (fields of UPDATABLE, and ``password``) in one write; the sub stays.
    Conflict if the new username is taken."""
    unknown = set(changes) - {*UPDATABLE, "password"}
    if unknown:
        name = sorted(unknown)[0]
        raise UserSpecError(name, f"{', '.join(sorted(unknown))} cannot be changed.")
    fields = {k: v for k, v in changes.items() if k in UPDATABLE}
    if "username" in fields:
        check_username(fields["username"])
    if "profile" in fields:
        fields["profile"] = check_profile(fields["profile"] or {})
    if changes.get("password") is not None:
        check_password(
            changes["password"],
            username=fields.get("username", user.username),
            email=fields.get("email", user.email),
            min_length=min_length,
        )
        fields["password_hash"] = await hasher.hash(changes["password"])
    updated = replace(user, **fields, updated_at=now)
    try:
        found = await store.users.update(updated)
    except DuplicateError:
        raise Conflict("username", f"A user named {fields['username']} already exists.") from None
    if not found:
        raise NotFound("sub", f"No user {user.sub}.")
    return updated


async def delete_user(store: Store, sub: str, *, now: int) -> bool:
    """The user goes with their sessions and consents; their grants (and so their codes and
    tokens) are revoked."""
    return await store.users.delete(sub, now)


# --- the operations ---


async def get(provider: Provider, sub: str) -> User:
    user = await provider.store.users.get(sub)
    if user is None:
        raise NotFound("sub", f"No user {sub}.")
    return user


async def list_all(
    provider: Provider, after: Position | None = None, limit: int | None = None
) -> list[User]:
    """Users in (created_at, sub) order; a page of them with ``after``/``limit``."""
    return await provider.store.users.list(after, limit)


async def create(
    provider: Provider, username: str, password: str, actor: Actor, **fields: Any
) -> User:
    """A new user; ``fields`` are create_user's keyword arguments (email, name, profile ...)."""
    fields.setdefault("min_length", provider.settings.password_min_length)
    user = await create_user(
        provider.store, provider.hasher, username, password, now=provider.now(), **fields
    )
    audit(provider, actor, "user.created", sub=user.sub, admin=user.admin)
    return user


async def set_admin(provider: Provider, username: str, admin: bool, actor: Actor) -> User:
    """Grant (``admin``) or revoke the admin role: who may enter the console at /admin."""
    user = await provider.store.users.get_by_username(username)
    if user is None:
        raise NotFound("username", f"No user named {username}.")
    if user.admin == admin:
        return user
    updated = replace(user, admin=admin)
    if not await provider.store.users.update(updated):
        raise NotFound("username", f"No user named {username}.")
    if admin:
        audit(provider, actor, "user.admin_granted", sub=user.sub)
    else:
        audit(provider, actor, "user.admin_revoked", sub=user.sub)
    return updated


async def get_by_username(provider: Provider, username: str) -> User:
    user = await provider.store.users.get_by_username(username)
    if user is None:
        raise NotFound("username", f"No user named {username}.")
    return user


async def set_disabled(provider: Provider, user: User, disabled: bool, actor: Actor) -> User:
    """Disable an account (no sign-in by any method until enabled again; its sessions end,
    its clients get back-channel logout tokens, its grants and OAuth 1.0a tokens are revoked)
    or enable it again. Doing what is already so changes nothing."""
    if (user.disabled_at is not None) == disabled:
        return user
    now = provider.now()
    updated = replace(user, disabled_at=now if disabled else None)
    if not await provider.store.users.update(updated):
        raise NotFound("sub", f"No user {user.sub}.")
    if disabled:
        await backchannel.notify(provider, sub=user.sub, sids=None)  # every session ends
        ended = await provider.store.users.sign_out_everywhere(user.sub, now)
        await oauth1_tokens.revoke_all(provider, user.sub, now)
        audit(provider, actor, "user.disabled", sub=user.sub, sessions_ended=ended)
    else:
        audit(provider, actor, "user.enabled", sub=user.sub)
    return updated


async def update(provider: Provider, user: User, changes: dict[str, Any], actor: Actor) -> User:
    updated = await update_user(
        provider.store,
        provider.hasher,
        user,
        changes,
        now=provider.now(),
        min_length=provider.settings.password_min_length,
    )
    audit(provider, actor, "user.updated", sub=user.sub, fields=sorted(changes))
    return updated


async def set_password_of(provider: Provider, username: str, password: str, actor: Actor) -> User:
    user = await set_password(
        provider.store,
        provider.hasher,
        username,
        password,
        now=provider.now(),
        min_length=provider.settings.password_min_length,
    )
    audit(provider, actor, "user.password_set", sub=user.sub)
    return user


async def delete(provider: Provider, sub: str, actor: Actor) -> None:
    await get(provider, sub)  # NotFound before anything is queued
    # Back-channel logout while the grants still name the sessions' clients.
    await backchannel.notify(provider, sub=sub, sids=None)
    if not await delete_user(provider.store, sub, now=provider.now()):
        raise NotFound("sub", f"No user {sub}.")
    audit(provider, actor, "user.deleted", sub=sub)
