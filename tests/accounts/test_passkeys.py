"""Passkeys end to end at the accounts level: registered to an account, then used
passwordless and as a second factor, with real WebAuthn data (soft_authenticator)."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable

import pytest

from keystead.accounts import passkeys
from keystead.accounts.webauthn import PasskeyError
from keystead.provider import Provider
from keystead.store.base import User
from tests.accounts.soft_authenticator import BE, UP, SoftAuthenticator

pytestmark = pytest.mark.anyio


def challenge_of(ceremony: passkeys.Ceremony) -> bytes:
    text = json.loads(ceremony.options_json)["challenge"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def registered(provider: Provider, user: User) -> SoftAuthenticator:
    device = SoftAuthenticator(
        "id.example.com", "https://id.example.com", user_handle=user.sub.encode()
    )
    ceremony = await passkeys.begin_registration(provider, user)
    options = json.loads(ceremony.options_json)
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["user"]["name"] == user.username
    factor = await passkeys.finish_registration(
        provider, user, device.register(challenge_of(ceremony)), ceremony.state, "  My   laptop "
    )
    assert factor.name == "My laptop" and factor.backup_eligible
    return device


async def test_register_then_sign_in_passwordless_and_as_second_factor(
    provider: Provider, add_user: Callable[[Provider], Awaitable[User]]
) -> None:
    user = await add_user(provider)
    device = await registered(provider, user)
    ceremony = await passkeys.begin_sign_in(provider, None)
    assert json.loads(ceremony.options_json).get("allowCredentials", []) == []
    signed = await passkeys.finish_sign_in(
        provider, device.assert_(challenge_of(ceremony)), ceremony.state, None
    )
    assert signed.factor.sub == user.sub and signed.methods == ("swk", "user")
    ceremony = await passkeys.begin_sign_in(provider, user.sub)
    assert len(json.loads(ceremony.options_json)["allowCredentials"]) == 1
    second = await passkeys.finish_sign_in(
        provider, device.assert_(challenge_of(ceremony), flags=UP | BE), ceremony.state, user.sub
    )
    assert second.methods == ("swk",)  # no user verification: possession only
    stored = await provider.store.factors.get(signed.factor.factor_id)
    assert stored is not None and stored.sign_count == device.counter


async def test_refusals(
    provider: Provider, add_user: Callable[[Provider], Awaitable[User]]
) -> None:
    user = await add_user(provider)
    device = await registered(provider, user)
    ceremony = await passkeys.begin_sign_in(provider, None)
    response = device.assert_(challenge_of(ceremony))
    await passkeys.finish_sign_in(provider, response, ceremony.state, None)
    with pytest.raises(PasskeyError, match="already used"):  # the same state again
        await passkeys.finish_sign_in(provider, response, ceremony.state, None)
    ceremony = await passkeys.begin_sign_in(provider, None)
    with pytest.raises(PasskeyError, match="user verification"):  # passwordless needs UV
        await passkeys.finish_sign_in(
            provider, device.assert_(challenge_of(ceremony), flags=UP | BE), ceremony.state, None
        )
    stranger = SoftAuthenticator("id.example.com", "https://id.example.com")
    ceremony = await passkeys.begin_sign_in(provider, None)
    with pytest.raises(PasskeyError, match="not registered here"):
        await passkeys.finish_sign_in(
            provider, stranger.assert_(challenge_of(ceremony)), ceremony.state, None
        )
    ceremony = await passkeys.begin_registration(provider, user)
    with pytest.raises(PasskeyError, match="already registered"):
        await passkeys.finish_registration(
            provider, user, device.register(challenge_of(ceremony)), ceremony.state, "again"
        )


def test_the_login_pages_options_are_the_librarys() -> None:
    from keystead.accounts.webauthn import authentication_options, relying_party

    rp = relying_party("https://id.example.com")
    challenge = bytes(range(32))
    mine = passkeys.passwordless_options(rp, challenge)
    theirs = authentication_options(rp, challenge=challenge, user_verification="required")
    assert json.loads(mine) == json.loads(theirs)
