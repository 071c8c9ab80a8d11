"""Back-Channel Logout 1.0: the Logout Token (§2.4) and the jobs queued for the clients of
ended sessions (§2.7)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from keystead.events import Event
from keystead.outbox import payload_of
from keystead.protocol.backchannel import EVENT, KIND, logout_token, notify, other_sessions
from keystead.provider import Provider
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client, Grant, Session, User
from tests.protocol.conftest import ISSUER, NOW, MakeClient

pytestmark = pytest.mark.anyio
URI = "https://rp.example.com/backchannel"


async def verified(provider: Provider, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, the signature checked with the public JWKS only (as an RP would)."""
    ring = await provider.keyring()
    keys = KeySet.import_key_set(ring.jwks(provider.now()))  # type: ignore[arg-type]
    algs = ["RS256", "ES256", "PS256", "EdDSA", "ES384", "RS384", "RS512", "PS384", "PS512"]
    decoded = jose_jwt.decode(token, keys, algorithms=algs)
    return dict(decoded.header), dict(decoded.claims)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
async def test_logout_token_claims_and_type(
    provider: Provider, make_client: MakeClient, alg: str
) -> None:
    client = await make_client(
        id_token_signed_response_alg=alg, extra={"backchannel_logout_uri": URI}
    )
    token = await logout_token(provider, client, sub="u-1", sid="sid-1")
    header, claims = await verified(provider, token)
    assert header["typ"] == "logout+jwt" and header["alg"] == alg  # §2.4, like its ID tokens
    assert set(claims) == {"iss", "aud", "iat", "exp", "jti", "events", "sub", "sid"}
    assert "nonce" not in claims  # §2.4: MUST NOT
    assert claims["iss"] == ISSUER and claims["aud"] == client.client_id
    assert claims["iat"] == NOW and claims["exp"] == NOW + 120
    assert claims["events"] == {EVENT: {}}
    assert claims["sub"] == "u-1" and claims["sid"] == "sid-1"
    again = await logout_token(provider, client, sub="u-1", sid="sid-1")
    assert (await verified(provider, again))[1]["jti"] != claims["jti"]


async def test_without_sid_only_for_clients_that_do_not_require_it(
    provider: Provider, make_client: MakeClient
) -> None:
    plain = await make_client("plain", extra={"backchannel_logout_uri": URI})
    _, claims = await verified(provider, await logout_token(provider, plain, sub="u", sid=None))
    assert claims["sub"] == "u" and "sid" not in claims
    strict = await make_client(
        "strict",
        extra={"backchannel_logout_uri": URI, "backchannel_logout_session_required": True},
    )
    with pytest.raises(ValueError, match="requires sid"):
        await logout_token(provider, strict, sub="u", sid=None)


async def _grant(provider: Provider, grant_id: str, client: Client, user: User, sid: str) -> None:
    grant = Grant(grant_id, client.client_id, user.sub, "openid", NOW - 10, sid=sid)
    await provider.store.grants.add_grant(grant)


async def _queued(provider: Provider) -> list[dict[str, Any]]:
    jobs = await provider.store.jobs.recent(100)
    assert all(job.kind == KIND for job in jobs)
    payloads = [payload_of(provider, job) for job in jobs]
    return sorted(payloads, key=lambda p: (p["client_id"], p["sid"] or ""))


async def test_notify_queues_one_job_per_participant_with_a_uri(
    provider: Provider, make_client: MakeClient, user: User, events: list[Event]
) -> None:
    a = await make_client("a", extra={"backchannel_logout_uri": URI})
    b = await make_client(
        "b", extra={"backchannel_logout_uri": URI, "backchannel_logout_session_required": True}
    )
    c = await make_client("c")  # no backchannel_logout_uri: nothing to send
    for grant_id, client, sid in [
        ("g1", a, "s1"),
        ("g2", b, "s1"),
        ("g3", b, "s2"),
        ("g4", c, "s1"),
    ]:
        await _grant(provider, grant_id, client, user, sid)
    woken: list[bool] = []
    provider.wake_outbox = lambda: woken.append(True)
    assert await notify(provider, sub=user.sub, sids=["s1"]) == 2
    assert await _queued(provider) == [
        {"client_id": "a", "sub": user.sub, "sid": "s1"},
        {"client_id": "b", "sub": user.sub, "sid": "s1"},
    ]
    assert woken and [e.name for e in events].count("backchannel.queued") == 1


async def test_notify_every_session(
    provider: Provider, make_client: MakeClient, user: User
) -> None:
    a = await make_client("a", extra={"backchannel_logout_uri": URI})
    b = await make_client(
        "b", extra={"backchannel_logout_uri": URI, "backchannel_logout_session_required": True}
    )
    for grant_id, client, sid in [
        ("g1", a, "s1"),
        ("g2", a, "s2"),
        ("g3", b, "s1"),
        ("g4", b, "s2"),
    ]:
        await _grant(provider, grant_id, client, user, sid)
    # a: one token naming the user (all its sessions); b requires sid: one per session
    assert await notify(provider, sub=user.sub, sids=None) == 3
    assert await _queued(provider) == [
        {"client_id": "a", "sub": user.sub, "sid": None},
        {"client_id": "b", "sub": user.sub, "sid": "s1"},
        {"client_id": "b", "sub": user.sub, "sid": "s2"},
    ]
    assert await notify(provider, sub="someone-else", sids=None) == 0


async def test_other_sessions_leaves_out_the_kept_one(
    provider: Provider, user: User, session: Session
) -> None:
    other = dataclasses.replace(session, session_hash=sha256_hex("other"), sid="sid-2")
    await provider.store.sessions.add(session)
    await provider.store.sessions.add(other)
    assert await other_sessions(provider, user.sub, keep=session.session_hash) == ["sid-2"]
