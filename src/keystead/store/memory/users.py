"""``UserStore`` in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from keystead.store.base import DuplicateError, Position, User


class MemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._by_username: dict[str, str] = {}  # username -> sub
        # What else goes with a user: sessions, consents, and their grants are revoked.
        self.on_delete: Sequence[Callable[[str, int], None]] = ()
        # Ends the user's sessions but one, revokes their grants (wired by MemoryStore).
        self.on_sign_out: Callable[[str, int, str | None], int] = lambda sub, now, keep: 0

    async def add(self, user: User) -> None:
        if user.sub in self._users:
            raise DuplicateError(f"sub {user.sub!r} already exists")
        if user.username in self._by_username:
            raise DuplicateError(f"user {user.username!r} already exists")
        self._users[user.sub] = user
        self._by_username[user.username] = user.sub

    def has(self, sub: str) -> bool:
        return sub in self._users

    async def get(self, sub: str) -> User | None:
        return self._users.get(sub)

    async def get_by_username(self, username: str) -> User | None:
        sub = self._by_username.get(username)
        return None if sub is None else self._users[sub]

    async def list(self, after: Position | None = None, limit: int | None = None) -> list[User]:
        ordered = sorted(self._users.values(), key=lambda u: (u.created_at, u.sub))
        if after is not None:
            ordered = [u for u in ordered if (u.created_at, u.sub) > after]
        return ordered[:limit]

    async def replace_password_hash(self, sub: str, old_hash: str, new_hash: str) -> bool:
        user = self._users.get(sub)
        if user is None or user.password_hash != old_hash:
            return False
        self._users[sub] = dataclasses.replace(user, password_hash=new_hash)
        return True

    async def get_by_email(self, email: str) -> list[User]:
        wanted = email.lower()
        found = [u for u in self._users.values() if u.email and u.email.lower() == wanted]
        return sorted(found, key=lambda u: u.created_at)[:10]

    async def sign_out_everywhere(self, sub: str, now: int, keep: str | None = None) -> int:
        return self.on_sign_out(sub, now, keep)

    async def set_password(self, sub: str, password_hash: str, now: int) -> bool:
        user = self._users.get(sub)
        if user is None:
            return False
        self._users[sub] = dataclasses.replace(user, password_hash=password_hash, updated_at=now)
        return True

    async def update(self, user: User) -> bool:
        old = self._users.get(user.sub)
        if old is None:
            return False
        owner = self._by_username.get(user.username)
        if owner is not None and owner != user.sub:
            raise DuplicateError(f"user {user.username!r} already exists")
        del self._by_username[old.username]
        self._by_username[user.username] = user.sub
        self._users[user.sub] = dataclasses.replace(user, created_at=old.created_at)
        return True

    async def delete(self, sub: str, now: int) -> bool:
        user = self._users.pop(sub, None)
        if user is None:
            return False
        del self._by_username[user.username]
        for cascade in self.on_delete:
            cascade(sub, now)
        return True
