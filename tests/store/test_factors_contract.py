"""Contract tests of the FactorStore (every Store implementation): each use counts once."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from keystead.store.base import DuplicateError, Store, User
from keystead.store.factors import PASSKEY, TOTP, Factor

pytestmark = pytest.mark.anyio

ALICE = User("sub-alice", "alice", "x")
BOB = User("sub-bob", "bob", "x")


def totp(factor_id: str = "f-totp", sub: str = ALICE.sub, created_at: int = 10) -> Factor:
    return Factor(factor_id, sub, TOTP, "Phone", created_at, secret_enc="enc", last_step=5)


def passkey(factor_id: str = "f-key", credential_id: str = "cred-1") -> Factor:
    return Factor(
        factor_id, ALICE.sub, PASSKEY, "Laptop", 20, credential_id=credential_id,
        public_key="pk", sign_count=3, backup_eligible=True, transports=("internal", "hybrid"),
    )  # fmt: skip


async def users(store: Store) -> None:
    await store.users.add(ALICE)
    await store.users.add(BOB)


async def test_add_get_list_delete(store: Store) -> None:
    await users(store)
    await store.factors.add(passkey())
    await store.factors.add(totp())
    assert await store.factors.get("f-totp") == totp()
    assert await store.factors.get_by_credential("cred-1") == passkey()
    assert await store.factors.get_by_credential("cred-2") is None
    assert [f.factor_id for f in await store.factors.list(ALICE.sub)] == ["f-totp", "f-key"]
    assert await store.factors.list(BOB.sub) == []
    assert await store.factors.has_any(ALICE.sub) and not await store.factors.has_any(BOB.sub)
    assert not await store.factors.delete(BOB.sub, "f-totp")  # not Bob's
    assert await store.factors.delete(ALICE.sub, "f-totp")
    assert await store.factors.get("f-totp") is None


async def test_duplicates_and_unknown_users_are_refused(store: Store) -> None:
    await users(store)
    await store.factors.add(passkey())
    with pytest.raises(DuplicateError):
        await store.factors.add(passkey("f-other", "cred-1"))  # one credential, one factor
    with pytest.raises(DuplicateError):
        await store.factors.add(totp("f-key"))
    with pytest.raises(LookupError):
        await store.factors.add(totp("f-ghost", sub="nobody"))


async def test_a_totp_step_counts_once_even_concurrently(store: Store) -> None:
    await users(store)
    await store.factors.add(totp())
    assert not await store.factors.use_totp("f-totp", 5, 100)  # the step of the enrolment
    results = await asyncio.gather(*(store.factors.use_totp("f-totp", 7, 100) for _ in range(5)))
    assert results.count(True) == 1
    assert not await store.factors.use_totp("f-totp", 6, 101)  # older than the last accepted
    assert await store.factors.use_totp("f-totp", 8, 130)
    stored = await store.factors.get("f-totp")
    assert stored is not None and (stored.last_step, stored.last_used_at) == (8, 130)


async def test_a_passkey_counter_moves_once(store: Store) -> None:
    await users(store)
    await store.factors.add(passkey())
    assert await store.factors.use_passkey("f-key", 3, 4, True, 50)
    assert not await store.factors.use_passkey("f-key", 3, 4, True, 51)  # a second use of 3
    stored = await store.factors.get("f-key")
    assert stored == dataclasses.replace(
        passkey(), sign_count=4, backup_state=True, last_used_at=50
    )


async def test_recovery_codes_are_single_use_and_replaced(store: Store) -> None:
    await users(store)
    assert (await store.factors.recovery_codes(ALICE.sub)).generated_at is None
    await store.factors.set_recovery_codes(ALICE.sub, ["a" * 64, "b" * 64], 10)
    assert not await store.factors.use_recovery_code(BOB.sub, "a" * 64, 11)  # not Bob's
    assert await store.factors.use_recovery_code(ALICE.sub, "a" * 64, 12)
    assert not await store.factors.use_recovery_code(ALICE.sub, "a" * 64, 13)
    codes = await store.factors.recovery_codes(ALICE.sub)
    assert (codes.left, codes.generated_at, codes.last_used_at) == (1, 10, 12)
    await store.factors.set_recovery_codes(ALICE.sub, ["c" * 64], 20)
    assert not await store.factors.use_recovery_code(ALICE.sub, "b" * 64, 21)  # replaced
    codes = await store.factors.recovery_codes(ALICE.sub)
    assert (codes.left, codes.generated_at, codes.last_used_at) == (1, 20, None)


async def test_reset_and_user_deletion_remove_everything(store: Store) -> None:
    await users(store)
    await store.factors.add(totp())
    await store.factors.add(passkey())
    await store.factors.set_recovery_codes(ALICE.sub, ["a" * 64], 10)
    assert await store.factors.reset(ALICE.sub) == 2
    assert await store.factors.list(ALICE.sub) == []
    assert not await store.factors.has_any(ALICE.sub)
    assert (await store.factors.recovery_codes(ALICE.sub)).left == 0
    await store.factors.add(totp())
    await store.factors.set_recovery_codes(ALICE.sub, ["a" * 64], 10)
    assert await store.users.delete(ALICE.sub, 30)
    assert await store.factors.get("f-totp") is None
    assert (await store.factors.recovery_codes(ALICE.sub)).generated_at is None


async def test_a_step_up_changes_the_session(store: Store) -> None:
    from keystead.store.base import Session

    await users(store)
    session = Session("h" * 64, "sid", ALICE.sub, 10, 10, 10, 1000)
    await store.sessions.add(session)
    assert await store.sessions.add_factors("h" * 64, ("pwd", "otp", "mfa"), 20)
    stored = await store.sessions.get("h" * 64)
    assert stored == dataclasses.replace(session, amr=("pwd", "otp", "mfa"), auth_time=20)
    assert not await store.sessions.add_factors("x" * 64, ("pwd",), 20)


async def test_users_by_email_and_signed_out_everywhere(store: Store) -> None:
    from keystead.store.base import Grant, RefreshToken, Session
    from tests.store.test_contract import make_client

    await store.users.add(dataclasses.replace(ALICE, email="Alice@Example.com", created_at=1))
    await store.users.add(dataclasses.replace(BOB, email="bob@example.com"))
    assert [u.sub for u in await store.users.get_by_email("alice@EXAMPLE.com")] == [ALICE.sub]
    assert await store.users.get_by_email("nobody@example.com") == []
    client = make_client()
    await store.clients.add(client)
    await store.grants.add_grant(Grant("g1", client.client_id, ALICE.sub, "openid", 1))
    await store.grants.add_refresh_token(
        RefreshToken("r" * 64, "g1", client.client_id, ALICE.sub, "openid", 1, 10**10, 10**10)
    )
    for key in ("a" * 64, "b" * 64):
        await store.sessions.add(Session(key, "sid-" + key[0], ALICE.sub, 1, 1, 1, 10**10))
    assert await store.users.sign_out_everywhere(ALICE.sub, 50, keep="b" * 64) == 1
    assert await store.sessions.get("a" * 64) is None
    assert await store.sessions.get("b" * 64) is not None  # the one kept
    found = await store.grants.get_refresh_token("r" * 64)
    assert found is not None and found[1].revoked_at == 50  # its grant: revoked
