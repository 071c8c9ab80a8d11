"""OpenID Connect Back-Channel Logout 1.0: the Logout Token (§2.4) and who gets one (§2.7).

When a session ends, ``notify`` writes one outbox job (kind ``backchannel_logout``) for each
client that took part in it and registered a ``backchannel_logout_uri``; the token itself is
made when the job is delivered (net/backchannel.py), so it is signed with the key that is
current then and its ``iat``/``exp`` are fresh even after retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from keystead.jose import jwt
from keystead.outbox import new_job
from keystead.protocol import pairwise
from keystead.secrets_util import random_token

if TYPE_CHECKING:
    from keystead.provider import Provider
    from keystead.store.base import Client

KIND = "backchannel_logout"
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TYP = "logout+jwt"  # §2.4: explicit typing (RFC 8725 §3.11), never taken for an ID token
TTL = 120  # seconds; §2.4 recommends a short lifetime (a few minutes at most)


def logout_uri(client: Client) -> str | None:
    uri = client.extra.get("backchannel_logout_uri")
    return uri if isinstance(uri, str) and uri else None


def session_required(client: Client) -> bool:
    # OIDC Back-Channel Logout §2.2: default false.
    return client.extra.get("backchannel_logout_session_required") is True


async def logout_token(provider: Provider, client: Client, *, sub: str, sid: str | None) -> str:
    """A Logout Token for ``client`` (§2.4), signed like its ID tokens
    (``id_token_signed_response_alg``)."""
    now = provider.now()
    claims: dict[str, Any] = {
        "iss": provider.settings.issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + TTL,
        "jti": random_token(16),  # §2.4: REQUIRED, a unique identifier (replay detection)
        "events": {EVENT: {}},  # §2.4: REQUIRED, exactly this member with an empty object
        # §2.4: sub and/or sid MUST be present; keystead sends sub always, and sid whenever
        # the ended session is known (§2.2: required when the client asked for it).
        "sub": pairwise.subject(provider, client, sub),  # OIDC Core §8
    }
    if sid is not None:
        claims["sid"] = sid
    elif session_required(client):
        raise ValueError(f"{client.client_id} requires sid in its logout tokens")
    # §2.4: a nonce MUST NOT be present (a Logout Token must never pass for an ID token);
    # none is ever added here.
    ring = await provider.keyring()
    return jwt.sign(claims, ring, client.id_token_signed_response_alg, now=now, typ=TYP)


async def other_sessions(provider: Provider, sub: str, *, keep: str) -> list[str]:
    """The sids of ``sub``'s sessions but the one whose hash is ``keep`` (the sessions that
    "sign out everywhere else" ends)."""
    return [s.sid for s in await provider.store.sessions.list_for(sub) if s.session_hash != keep]


async def notify(
    provider: Provider,
    *,
    sub: str,
    sids: Sequence[str] | None,
    client_ids: Sequence[str] | None = None,
) -> int:
    """Queue a logout token for every client that took part in the sessions ``sids`` of
    ``sub`` (None: in any of the user's sessions) and registered a ``backchannel_logout_uri``.
    How many jobs were written. Call it before the grants that record the participants go.

    With ``sids`` None, a client that does not require ``sid`` gets one token naming only the
    user (§2.4: all its sessions of that user end); one that requires it gets one per session.
    ``client_ids``: only those clients (an app whose access the user revoked).
    """
    participants = await provider.store.grants.participants(sub, sids)
    if client_ids is not None:
        participants = [p for p in participants if p[0] in client_ids]
    by_client: dict[str, list[str | None]] = {}
    for client_id, sid in participants:
        by_client.setdefault(client_id, []).append(sid)
    jobs = []
    for client_id, client_sids in by_client.items():
        client = await provider.get_client(client_id)
        if client is None or logout_uri(client) is None:
            continue
        if sids is None and not session_required(client):
            wanted: list[str | None] = [None]
        else:
            wanted = [sid for sid in client_sids if sid is not None]
        for sid in wanted:
            payload = {"client_id": client_id, "sub": sub, "sid": sid}
            jobs.append(new_job(provider, KIND, payload))
    for job in jobs:
        await provider.store.jobs.add(job)
    if jobs:
        provider.events.emit("backchannel.queued", sub=sub, jobs=len(jobs))
        provider.wake_outbox()
    return len(jobs)
