"""An operator's second-factor operations: list (no secret in any view), reset (factors and
recovery codes, one mfa.reset), TOTP import (sealed to the user under the KEK, codes that
pyotp computes verify against it, one authenticator app per user, readable refusals); and
the client policy require_mfa, kept across updates unless changed."""

from __future__ import annotations

import json
import time

import pyotp
import pytest

from keystead.accounts import totp
from keystead.events import Event
from keystead.services import clients, factors, users
from keystead.services.clients import ClientSpec, operator_view, requires_mfa
from keystead.services.common import CLI, Actor, Conflict, NotFound, ServiceError
from keystead.store.factors import PASSKEY, TOTP, Factor

pytestmark = pytest.mark.anyio

ADMIN = Actor("admin_api", "admin-bot")
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 160 bits


def named(events: list[Event], prefix: str) -> list[Event]:
    return [e for e in events if e.name.startswith(prefix)]


async def test_import_then_list_then_reset(provider, events: list[Event]) -> None:
    user = await users.create(provider, "alice", "long enough pw", CLI)
    # as another provider shows it: lower case, in groups, padded
    shown = " ".join(SECRET[i : i + 4].lower() for i in range(0, len(SECRET), 4)) + "===="
    factor = await factors.import_totp(provider, user.sub, shown, "  Phone ", ADMIN)
    assert factor.kind == TOTP and factor.name == "Phone" and factor.last_step == 0
    assert factor.created_at == provider.now()
    stored = await provider.store.factors.get(factor.factor_id)
    assert stored is not None and stored.secret_enc and SECRET not in stored.secret_enc
    secret = totp.unseal(provider.kek, user.sub, stored.secret_enc)
    assert secret == SECRET
    now = int(time.time())
    code = pyotp.TOTP(SECRET).at(now)  # what the user's app shows
    assert totp.matching_step(secret, code, now) == totp.step_of(now)
    with pytest.raises(ValueError, match="cannot decrypt"):  # sealed to alice's sub only
        totp.unseal(provider.kek, "someone-else", stored.secret_enc)

    await provider.store.factors.add(
        Factor(
            "pk1",
            user.sub,
            PASSKEY,
            "YubiKey",
            provider.now() + 1,  # after the app: the list is in created_at order
            credential_id="cred",
            public_key="PUBLIC-KEY-VALUE",
        )  # fmt: skip
    )
    await provider.store.factors.set_recovery_codes(user.sub, ["h1", "h2", "h3"], provider.now())
    listed = await factors.list_factors(provider, user.sub)
    assert [f["kind"] for f in listed["factors"]] == [TOTP, PASSKEY]
    assert set(listed["factors"][0]) == {"factor_id", "kind", "name", "created_at", "last_used_at"}
    assert listed["recovery_codes"]["left"] == 3
    assert listed["recovery_codes"]["generated_at"] == provider.now()
    text = json.dumps(listed)
    assert stored.secret_enc not in text and "PUBLIC-KEY-VALUE" not in text and SECRET not in text

    removed = await factors.reset_factors(provider, user.sub, ADMIN)
    assert removed == factors.Removed(factors=2, recovery_codes=3)
    after = await factors.list_factors(provider, user.sub)
    assert after["factors"] == [] and after["recovery_codes"]["left"] == 0
    assert await factors.reset_factors(provider, user.sub, CLI) == factors.Removed(0, 0)

    imported, reset, reset_again = named(events, "mfa.")
    assert imported.name == "mfa.totp_imported"
    assert imported.data == {
        "channel": "admin_api",
        "by_client_id": "admin-bot",
        "sub": user.sub,
        "factor_id": factor.factor_id,
    }
    assert reset.name == "mfa.reset" and reset.data["factors"] == 2
    assert reset.data["recovery_codes"] == 3 and reset_again.data["channel"] == "cli"
    assert not any(SECRET in str(e.data) or SECRET.lower() in str(e.data) for e in events)


async def test_one_authenticator_app_per_user(provider) -> None:
    user = await users.create(provider, "bob", "long enough pw", CLI)
    await factors.import_totp(provider, user.sub, SECRET, None, CLI)
    with pytest.raises(Conflict) as second:
        await factors.import_totp(provider, user.sub, pyotp.random_base32(), "Other", CLI)
    assert "bob already has an authenticator app" in second.value.message
    assert "reset" in second.value.message
    await factors.reset_factors(provider, user.sub, CLI)
    again = await factors.import_totp(provider, user.sub, SECRET, None, CLI)
    assert again.name == factors.DEFAULT_TOTP_NAME


@pytest.mark.parametrize(
    ("secret", "name", "field", "words"),
    [
        ("not base32!", None, "secret", "not base32"),
        ("JBSWY3DP", None, "secret", "shorter than 80 bits"),
        ("", None, "secret", "not a TOTP secret"),
        ("A" * 600, None, "secret", "longer than"),
        (SECRET, "x" * 65, "name", "at most 64"),
        (SECRET, "tab\there", "name", "printable"),
    ],
)
async def test_bad_input_is_a_readable_refusal(
    provider, events: list[Event], secret: str, name: str | None, field: str, words: str
) -> None:
    user = await users.create(provider, "carol", "long enough pw", CLI)
    with pytest.raises(ServiceError) as refused:
        await factors.import_totp(provider, user.sub, secret, name, CLI)
    assert not isinstance(refused.value, Conflict | NotFound)
    assert refused.value.field == field and words.lower() in refused.value.message.lower()
    assert await provider.store.factors.list(user.sub) == []
    assert named(events, "mfa.") == []


async def test_unknown_users_are_not_found(provider, events: list[Event]) -> None:
    for call in (
        factors.list_factors(provider, "nobody"),
        factors.reset_factors(provider, "nobody", CLI),
        factors.import_totp(provider, "nobody", SECRET, None, CLI),
    ):
        with pytest.raises(NotFound) as missing:
            await call
        assert missing.value.field == "sub"
    with pytest.raises(NotFound) as by_name:
        await factors.sub_of(provider, "nobody")
    assert by_name.value.field == "username"
    user = await users.create(provider, "dave", "long enough pw", CLI)
    assert await factors.sub_of(provider, "dave") == user.sub
    assert named(events, "mfa.") == []


async def test_require_mfa_policy_round_trip(provider) -> None:
    spec = ClientSpec(client_name="App", redirect_uris=["https://app.example/cb"])
    plain, _ = await clients.create(provider, spec, CLI)
    assert not requires_mfa(plain) and operator_view(plain)["require_mfa"] is False
    strict, _ = await clients.create(
        provider,
        ClientSpec(client_name="Bank", redirect_uris=["https://bank.example/cb"]),
        CLI,
        policy={"require_mfa": True},
    )
    assert requires_mfa(strict) and strict.extra["require_mfa"] is True
    stored = await clients.get(provider, strict.client_id)
    assert requires_mfa(stored)
    # an update of other metadata keeps the policy (RFC 7592 replacements go this way too)
    renamed = clients.spec_of(stored)
    renamed.client_name = "Bank 2"
    kept, _ = await clients.update(provider, stored, renamed, CLI)
    assert requires_mfa(kept) and requires_mfa(await clients.get(provider, strict.client_id))
    off, _ = await clients.update(
        provider, kept, clients.spec_of(kept), CLI, policy={"require_mfa": False}
    )
    assert not requires_mfa(off) and "require_mfa" not in off.extra
    on, _ = await clients.update(
        provider, off, clients.spec_of(off), CLI, policy={"require_mfa": True}
    )
    assert requires_mfa(await clients.get(provider, on.client_id))
    # not RFC 7591 metadata: the public view has no such member
    assert "require_mfa" not in clients.client_view(on)
    # a policy value of the wrong kind, or a policy that does not exist, is refused by name
    for bad in ({"require_mfa": "yes"}, {"require_2fa": True}):
        with pytest.raises(clients.ClientSpecError) as refused:
            await clients.update(provider, on, clients.spec_of(on), CLI, policy=bad)
        assert refused.value.field == next(iter(bad))
