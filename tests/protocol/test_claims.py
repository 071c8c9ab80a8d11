"""User claims by scope (OIDC Core §5.1, §5.4)."""

from __future__ import annotations

import dataclasses

from keystead.protocol.claims import user_claims
from keystead.store.base import User

ALICE = User(
    sub="u-5d1f0c7e",
    username="alice",
    password_hash="x",
    email="alice@example.com",
    email_verified=True,
    name="Alice Liddell",
    given_name="Alice",
    family_name="Liddell",
    created_at=100,
    updated_at=200,
)


def test_openid_alone_gives_only_sub() -> None:
    assert user_claims(ALICE, ("openid",)) == {"sub": "u-5d1f0c7e"}


def test_sub_is_present_even_without_openid() -> None:
    assert user_claims(ALICE, ()) == {"sub": "u-5d1f0c7e"}


def test_sub_is_never_the_username() -> None:
    claims = user_claims(ALICE, ("openid", "profile", "email"))
    assert claims["sub"] == ALICE.sub != ALICE.username


def test_profile_scope() -> None:
    assert user_claims(ALICE, ("openid", "profile")) == {
        "sub": "u-5d1f0c7e",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "preferred_username": "alice",
        "updated_at": 200,
    }


def test_email_scope() -> None:
    assert user_claims(ALICE, ("openid", "email")) == {
        "sub": "u-5d1f0c7e",
        "email": "alice@example.com",
        "email_verified": True,
    }


def test_claims_without_a_value_are_omitted() -> None:
    # OIDC Core §5.3.2: omit claims that have no value (no nulls).
    bare = dataclasses.replace(ALICE, email=None, name=None, given_name=None, family_name=None)
    claims = user_claims(bare, ("openid", "profile", "email"))
    assert claims == {"sub": "u-5d1f0c7e", "preferred_username": "alice", "updated_at": 200}
    assert None not in claims.values()


def test_unverified_email_says_so() -> None:
    claims = user_claims(dataclasses.replace(ALICE, email_verified=False), ("email",))
    assert claims["email_verified"] is False


def test_updated_at_falls_back_to_created_at() -> None:
    claims = user_claims(dataclasses.replace(ALICE, updated_at=0), ("profile",))
    assert claims["updated_at"] == 100


def test_unknown_and_offline_scopes_add_nothing() -> None:
    assert user_claims(ALICE, ("openid", "offline_access", "read:files")) == {"sub": ALICE.sub}
