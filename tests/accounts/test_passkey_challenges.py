"""accounts/passkey_challenges.py: a challenge state is signed, bound to its purpose and user,
expires, and is consumed once (the memory MarkerStore; the SQL one keeps the same contract,
tests/store/)."""

from __future__ import annotations

import base64
import json

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import OctKey

from keystead.accounts.passkey_challenges import Challenges
from keystead.accounts.webauthn import PasskeyError
from keystead.store.memory.markers import MemoryMarkerStore
from keystead.web.interaction import Interaction, InteractionSigner

pytestmark = pytest.mark.anyio

KEY = b"k" * 32
NOW = 1_700_000_000


@pytest.fixture
def markers() -> MemoryMarkerStore:
    return MemoryMarkerStore()


async def refused(code: str, words: str, markers: MemoryMarkerStore, *args: object) -> None:
    with pytest.raises(PasskeyError) as info:
        await Challenges(KEY).consume(markers, *args)  # type: ignore[arg-type]
    assert info.value.code == code
    assert words in info.value.reason


async def test_a_challenge_is_consumed_once(markers: MemoryMarkerStore) -> None:
    challenges = Challenges(KEY)
    token, challenge = challenges.issue("register", "sub-1", NOW)
    assert len(challenge) == 32
    assert await challenges.consume(markers, token, "register", "sub-1", NOW + 10) == challenge
    await refused("replayed", "already used", markers, token, "register", "sub-1", NOW + 11)
    # another process, another Challenges: the marker store is what counts
    with pytest.raises(PasskeyError):
        await Challenges(KEY).consume(markers, token, "register", "sub-1", NOW + 12)


async def test_two_challenges_are_independent(markers: MemoryMarkerStore) -> None:
    challenges = Challenges(KEY)
    first, c1 = challenges.issue("login", None, NOW)
    second, c2 = challenges.issue("login", None, NOW)
    assert c1 != c2
    assert await challenges.consume(markers, second, "login", None, NOW) == c2
    assert await challenges.consume(markers, first, "login", None, NOW) == c1


async def test_expiry(markers: MemoryMarkerStore) -> None:
    token, challenge = Challenges(KEY, ttl=300).issue("login", None, NOW)
    await refused("expired", "expired after 5 minutes", markers, token, "login", None, NOW + 300)
    assert await Challenges(KEY).consume(markers, token, "login", None, NOW + 299) == challenge


async def test_purpose_and_user_bind(markers: MemoryMarkerStore) -> None:
    challenges = Challenges(KEY)
    token, _ = challenges.issue("register", "sub-1", NOW)
    await refused(
        "state", "adding a passkey, not signing in", markers, token, "login", "sub-1", NOW
    )
    await refused("state", "another account", markers, token, "register", "sub-2", NOW)
    await refused("state", "another account", markers, token, "register", None, NOW)
    await refused("state", "another account", markers, token, "register", "sub-1\x00", NOW)
    passwordless, _ = challenges.issue("login", None, NOW)
    await refused("state", "another account", markers, passwordless, "login", "sub-1", NOW)
    # none of the refusals used the challenge up
    assert await challenges.consume(markers, token, "register", "sub-1", NOW)


def _payload(token: str) -> dict[str, object]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


async def test_tampered_or_foreign_states(markers: MemoryMarkerStore) -> None:
    token, _ = Challenges(KEY).issue("login", None, NOW)
    header, body, sig = token.split(".")
    altered = dict(_payload(token), exp=NOW + 10**6)
    forged_body = base64.urlsafe_b64encode(json.dumps(altered).encode()).rstrip(b"=").decode()
    other_key = Challenges(b"o" * 32).issue("login", None, NOW)[0]
    interaction = InteractionSigner(KEY, 600).dump(Interaction(pairs=(), started_at=NOW, csrf="c"))
    no_typ = jws.serialize_compact(
        {"alg": "HS256"}, json.dumps(_payload(token)).encode(), OctKey.import_key(KEY)
    )
    for bad in (
        f"{header}.{forged_body}.{sig}",
        f"{header}.{body}.{sig[:-2]}",
        other_key,
        interaction,
        no_typ,
        "",
        "a.b.c",
        "é",
        "x" * 5000,
        token + ".",
    ):
        await refused("state", "altered", markers, bad, "login", None, NOW)


async def test_an_unknown_purpose_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Challenges(KEY).issue("logout", None, NOW)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    token=st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_-]{0,60}(\.[A-Za-z0-9_-]{0,60}){2}")
)
def test_any_string_is_a_passkey_error(token: str) -> None:
    async def consume() -> None:
        with pytest.raises(PasskeyError):
            await Challenges(KEY).consume(MemoryMarkerStore(), token, "login", None, NOW)

    anyio.run(consume)
