"""Password login with throttling per (account, address), per address, per account (slows
only) and per device cookie (accounts/login.py, accounts/device.py).

Every attempt that is not throttled costs one argon2 verification (~40 ms), so most
throttling states are seeded directly in the throttle store.
"""

from __future__ import annotations

import pytest

from keystead.accounts.login import _keys, authenticate

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000
PASSWORD = "correct horse battery staple"
IP = "203.0.113.7"


@pytest.fixture
def provider(make_provider):
    return make_provider(
        login_account_threshold=2,
        login_ip_threshold=3,
        login_max_delay=8,
        login_attack_threshold=4,
        login_account_max_delay=2,
        login_device_threshold=2,
    )


def src(account: str = "alice", ip: str | None = IP) -> str:
    """The counter of one account's failures from one address."""
    return _keys(account, ip, None).source


async def seed(provider, key: str, failures: int, at: int = NOW) -> None:
    for _ in range(failures):
        await provider.store.throttle.record_failure(key, at)


async def failures(provider, key: str) -> int:
    state = await provider.store.throttle.get(key)
    return 0 if state is None else state.failures


def names(events) -> list[str]:
    return [e.name for e in events]


async def test_success_returns_the_user(provider, add_user, events) -> None:
    user = await add_user(provider)
    result = await authenticate(provider, "alice", PASSWORD, IP)
    assert result.user == user
    assert result.retry_after == 0
    assert names(events) == ["login.succeeded"]


async def test_success_resets_the_account_counter_only(provider, add_user) -> None:
    await add_user(provider)
    await seed(provider, src(), 1)
    await seed(provider, "user:alice", 1)
    await seed(provider, f"ip:{IP}", 1)
    assert (await authenticate(provider, "alice", PASSWORD, IP)).user is not None
    assert await failures(provider, src()) == 0
    # The account-wide count of untrusted failures is the attack signal: the owner's success
    # from one address does not erase what was tried from others.
    assert await failures(provider, "user:alice") == 1
    # Logging in to one's own account must not clear the failures an IP made elsewhere.
    assert await failures(provider, f"ip:{IP}") == 1


async def test_wrong_password_counts_against_account_and_ip(provider, add_user, events) -> None:
    await add_user(provider)
    result = await authenticate(provider, "alice", "wrong password", IP)
    assert result.user is None
    assert result.retry_after == 0
    assert await failures(provider, src()) == 1
    assert await failures(provider, "user:alice") == 1
    assert await failures(provider, f"ip:{IP}") == 1
    assert events[-1].name == "login.failed"
    assert events[-1].data["known_user"] is True
    assert "wrong password" not in repr(events[-1].data)


async def test_unknown_user_also_records_failures(provider, events) -> None:
    result = await authenticate(provider, "mallory", PASSWORD, IP)
    assert result.user is None
    assert result.retry_after == 0
    assert await failures(provider, src("mallory")) == 1
    assert await failures(provider, "user:mallory") == 1
    assert await failures(provider, f"ip:{IP}") == 1
    assert events[-1].name == "login.failed"
    assert events[-1].data["known_user"] is False


async def test_throttling_starts_at_the_threshold(provider, clock, add_user, events) -> None:
    await add_user(provider)
    for _ in range(2):  # login_account_threshold
        assert (await authenticate(provider, "alice", "wrong", IP)).retry_after == 0
    result = await authenticate(provider, "alice", PASSWORD, IP)
    assert result.user is None  # even the right password waits
    assert result.retry_after == 1
    assert events[-1].name == "login.throttled"
    assert await failures(provider, src()) == 2  # a throttled attempt is not counted


@pytest.mark.parametrize(("count", "delay"), [(2, 1), (3, 2), (4, 4), (5, 8), (9, 8)])
async def test_delay_doubles_with_each_failure_up_to_the_cap(provider, count, delay) -> None:
    await seed(provider, src(), count)
    result = await authenticate(provider, "alice", PASSWORD, IP)
    assert result.retry_after == delay


async def test_below_the_threshold_there_is_no_delay(provider, add_user) -> None:
    await add_user(provider)
    await seed(provider, src(), 1)
    result = await authenticate(provider, "alice", PASSWORD, IP)
    assert result.user is not None


async def test_retry_after_counts_down_then_login_works(provider, clock, add_user) -> None:
    await add_user(provider)
    await seed(provider, src(), 4)  # delay 4 s from NOW
    clock.advance(3)
    assert (await authenticate(provider, "alice", PASSWORD, IP)).retry_after == 1
    clock.advance(1)
    result = await authenticate(provider, "alice", PASSWORD, IP)
    assert result.user is not None
    assert result.retry_after == 0


async def test_a_failure_after_the_wait_doubles_the_delay(provider, clock, add_user) -> None:
    await add_user(provider)
    await seed(provider, src(), 2)  # delay 1 s
    clock.advance(1)
    assert (await authenticate(provider, "alice", "wrong", IP)).retry_after == 0
    assert (await authenticate(provider, "alice", PASSWORD, IP)).retry_after == 2


async def test_account_key_ignores_username_case(provider) -> None:
    await seed(provider, src(), 2)
    assert (await authenticate(provider, "ALICE", PASSWORD, IP)).retry_after == 1


async def test_one_address_locks_only_itself_out_of_an_account(provider, add_user) -> None:
    # issue 18 #8: failures from one address used to throttle the account from every address.
    await add_user(provider)
    await seed(provider, src(), 5)
    assert (await authenticate(provider, "alice", PASSWORD, IP)).retry_after == 8
    assert (await authenticate(provider, "alice", PASSWORD, "198.51.100.1")).user is not None


@pytest.mark.parametrize(("count", "delay"), [(3, 0), (4, 1), (5, 2), (40, 2)])
async def test_the_account_wide_counter_only_slows(provider, count, delay) -> None:
    await seed(provider, "user:alice", count)  # login_attack_threshold 4, capped at 2 s
    assert (await authenticate(provider, "alice", PASSWORD, "198.51.100.1")).retry_after == delay


async def test_ip_threshold_works_across_usernames(provider, add_user) -> None:
    await add_user(provider)
    for name in ("bob", "carol", "dave"):  # one failure each: no account reaches its threshold
        assert (await authenticate(provider, name, "guess", IP)).retry_after == 0
    result = await authenticate(provider, "alice", PASSWORD, IP)
    assert result.user is None
    assert result.retry_after == 1
    # The account itself is not throttled: alice can still log in from elsewhere.
    assert (await authenticate(provider, "alice", PASSWORD, "198.51.100.1")).user is not None


async def test_ip_below_its_threshold_is_not_throttled(provider, add_user) -> None:
    await add_user(provider)
    await seed(provider, f"ip:{IP}", 2)
    assert (await authenticate(provider, "alice", PASSWORD, IP)).user is not None


async def test_unknown_ip_shares_one_bucket(provider) -> None:
    await seed(provider, "ip:unknown", 3)
    assert (await authenticate(provider, "alice", PASSWORD, None)).retry_after == 1


async def test_a_hash_with_older_parameters_is_upgraded_at_login(provider) -> None:
    import argon2

    from keystead.store.base import User

    old = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(PASSWORD)
    user = User("u-old", "olduser", old, created_at=NOW, updated_at=NOW)
    await provider.store.users.add(user)
    result = await authenticate(provider, "olduser", PASSWORD, IP)
    assert result.user is not None
    stored = await provider.store.users.get("u-old")
    assert stored.password_hash.startswith("$argon2id$v=19$m=9216,t=4,p=1$")
    assert stored.updated_at == NOW  # not a password change
    assert (await authenticate(provider, "olduser", PASSWORD, IP)).user is not None


async def test_a_password_changed_meanwhile_is_never_overwritten_by_the_upgrade(provider) -> None:
    from keystead.store.base import User

    await provider.store.users.add(User("u-x", "x", "old-hash", created_at=NOW, updated_at=NOW))
    await provider.store.users.set_password("u-x", "admin-set-hash", NOW + 1)
    assert not await provider.store.users.replace_password_hash("u-x", "old-hash", "upgraded")
    assert (await provider.store.users.get("u-x")).password_hash == "admin-set-hash"


async def test_a_user_without_a_password_costs_a_full_verify(provider) -> None:
    """A JIT user's unusable hash ("!federated") is refused after the same argon2 work as an
    unknown user's (the dummy verify), whatever the password."""
    from dataclasses import replace

    from keystead.accounts.login import authenticate
    from keystead.services.users import create_user

    user = await create_user(
        provider.store, provider.hasher, "fed-only", "a long password 123", now=provider.now()
    )
    await provider.store.users.update(replace(user, password_hash="!federated"))
    calls: list[str] = []
    real = provider.hasher.verify_dummy

    async def counting(password: str) -> bool:
        calls.append(password)
        return await real(password)

    provider.hasher.verify_dummy = counting
    result = await authenticate(provider, "fed-only", "!federated", "192.0.2.1")
    assert result.user is None and calls == ["!federated"]
