"""Create and manage end-user accounts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from keystead.accounts.passwords import PasswordHasher
from keystead.secrets_util import random_token
from keystead.store.base import Store, User

MIN_PASSWORD = 8  # NIST SP 800-63B §5.1.1.2
MAX_PASSWORD = 1024


class UserSpecError(ValueError):
    """Invalid user data; the message says what to change."""


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserSpecError(f"The password must have at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise UserSpecError(f"The password must have at most {MAX_PASSWORD} characters.")


def check_username(username: str) -> None:
    if not username or len(username) > 128 or any(c.isspace() for c in username):
        raise UserSpecError("The username must be 1 to 128 characters without spaces.")


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
) -> User:
    check_username(username)
    check_password(password)
    user = User(
        sub=random_token(16),  # stable and opaque: never the username or email
        username=username,
        password_hash=await hasher.hash(password),
        email=email,
        email_verified=email_verified,
        name=name,
        given_name=given_name,
        family_name=family_name,
        created_at=now,
        updated_at=now,
    )
    await store.users.add(user)
    return user


async def set_password(
    store: Store, hasher: PasswordHasher, username: str, password: str, *, now: int
) -> User:
    check_password(password)
    user = await store.users.get_by_username(username)
    if user is None:
        raise UserSpecError(f"No user named {username}.")
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
    }
