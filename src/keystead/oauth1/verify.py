"""RFC 5849 §3.2: checking a signed request, in the order the RFC's statuses need.

The 400s first (§3.2: unsupported or missing or duplicated parameters, unsupported signature
method), then the 401s: the consumer, the token, the timestamp, the signature, and the nonce
last — remembered only for a request whose signature verified, so nobody can burn a
consumer's nonces without its secret (§3.3). The nonce cache is the MarkerStore (the
database: shared by every instance), keyed by consumer, timestamp and nonce, and kept for the
whole accepted window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from keystead.errors import OAuthError
from keystead.oauth1 import credentials, signature
from keystead.oauth1.params import Collected, SignedRequest, collect
from keystead.protocol import client_assertion
from keystead.secrets_util import sha256_hex
from keystead.services import client_policy
from keystead.store.base import Client
from keystead.store.oauth1 import TemporaryCredential, TokenCredential

if TYPE_CHECKING:
    from keystead.provider import Provider

TokenKind = Literal["none", "temporary", "token"]
NONCE_PREFIX = "oauth1-nonce:"
MAX_NONCE = 200  # characters: a nonce is random, not a document


@dataclass(frozen=True, slots=True)
class Verified:
    client: Client
    params: Collected
    temporary: TemporaryCredential | None = None
    token: TokenCredential | None = None

    @property
    def protocol(self) -> dict[str, str]:
        return self.params.protocol


def _absent(name: str, why: str = "") -> OAuthError:
    return OAuthError("oauth1-parameter-absent", f"{name} is required{why} (RFC 5849 §3.1).")


def _check_parameters(got: Collected, kind: TokenKind, secure: bool) -> str:
    """The 400s of §3.2; returns the signature method."""
    p = got.protocol
    version = p.get("oauth_version")
    if version is not None and version != "1.0":  # RFC 5849 §3.1: if present, "1.0"
        raise OAuthError(
            "oauth1-version-rejected", f"oauth_version is {version!r}; send 1.0 or omit it."
        )
    for name in ("oauth_consumer_key", "oauth_signature_method", "oauth_signature"):
        if not p.get(name):
            raise _absent(name)
    method = p["oauth_signature_method"]
    if method not in signature.METHODS:
        raise OAuthError(
            "oauth1-signature-method-rejected",
            f"oauth_signature_method {method!r} is not supported; use one of "
            f"{', '.join(signature.METHODS)}.",
        )
    if method == signature.PLAINTEXT and not secure:  # RFC 5849 §3.4.4: only over TLS
        raise OAuthError(
            "oauth1-plaintext-insecure",
            "PLAINTEXT is refused: keystead's issuer is not https, and PLAINTEXT would send "
            "the secrets in the clear. Sign with HMAC-SHA1, HMAC-SHA256 or RSA-SHA1.",
        )
    if method != signature.PLAINTEXT:  # RFC 5849 §3.3: MAY be omitted for PLAINTEXT only
        for name in ("oauth_timestamp", "oauth_nonce"):
            if not p.get(name):
                raise _absent(name, f" with {method}")
    if kind != "none" and not p.get("oauth_token"):
        raise _absent("oauth_token", " at this endpoint")
    return method


async def _client(provider: Provider, consumer_key: str) -> Client:
    client = await provider.get_client(consumer_key)
    if client is None:  # RFC 5849 §3.2: invalid consumer key -> 401
        raise OAuthError(
            "oauth1-consumer-key-unknown", f"No consumer has the key {consumer_key!r}."
        )
    if not client_policy.get(client, "oauth1"):
        raise OAuthError(
            "oauth1-consumer-key-rejected",
            f"The client {consumer_key} is not enabled for OAuth 1.0a (an operator enables "
            "it with --oauth1).",
        )
    return client


def _check_timestamp(provider: Provider, p: dict[str, str]) -> int | None:
    raw = p.get("oauth_timestamp")
    if raw is None:
        return None
    window = provider.settings.oauth1_timestamp_window
    now = provider.now()
    # RFC 5849 §3.3: a positive integer of seconds since the epoch; a stale one is refused.
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise OAuthError("oauth1-timestamp-refused", "oauth_timestamp must be a positive integer.")
    if abs(int(raw) - now) > window:
        provider.events.emit("oauth1.timestamp_refused", client_id=p["oauth_consumer_key"])
        raise OAuthError(
            "oauth1-timestamp-refused",
            f"oauth_timestamp {raw} is more than {window} seconds away from keystead's clock "
            f"({now}); send the current Unix time.",
        )
    return int(raw)


def _token_rejected(why: str) -> OAuthError:
    return OAuthError("oauth1-token-rejected", f"The oauth_token is refused: {why}.")


async def _temporary(provider: Provider, client: Client, value: str) -> TemporaryCredential:
    cred = await provider.store.oauth1.get_temporary(sha256_hex(value))
    if cred is None or cred.client_id != client.client_id:
        raise _token_rejected("no temporary credentials of this consumer have it")
    if cred.used_at is not None:  # RFC 5849 §2.3: exchanged once
        raise OAuthError("oauth1-token-used", "These temporary credentials were exchanged already.")
    if cred.expires_at <= provider.now():  # temporary credentials are short-lived
        raise OAuthError(
            "oauth1-token-expired", "The temporary credentials expired; request new ones."
        )
    return cred


async def _token(provider: Provider, client: Client, value: str) -> TokenCredential:
    cred = await provider.store.oauth1.get_token(sha256_hex(value))
    if cred is None or cred.client_id != client.client_id:
        # Temporary credentials are never token credentials: a request token at a resource
        # lands here, as any unknown token does.
        raise _token_rejected("it is not the token credentials of this consumer")
    if cred.revoked_at is not None:
        raise OAuthError("oauth1-token-revoked", "These token credentials were revoked.")
    return cred


def _check_keys(method: str, client: Client, client_secret: str | None) -> None:
    rsa_pem = client_policy.get(client, "oauth1_rsa_public_key")
    if method == signature.RSA_SHA1 and not rsa_pem:
        raise OAuthError(
            "oauth1-signature-method-rejected",
            "RSA-SHA1 needs a public key registered for the consumer "
            "(--oauth1-rsa-public-key); none is.",
        )
    if method != signature.RSA_SHA1 and client_secret is None:
        raise OAuthError(
            "oauth1-signature-method-rejected",
            f"{method} needs the consumer secret and this consumer has none kept in clear; "
            "sign with RSA-SHA1 or rotate the client's secret.",
        )


async def verify(req: SignedRequest, provider: Provider, kind: TokenKind) -> Verified:
    got = collect(req)
    method = _check_parameters(got, kind, req.secure)
    p = got.protocol
    client = await _client(provider, p["oauth_consumer_key"])
    client_secret = client_assertion.open_secret(provider.kek, client)
    _check_keys(method, client, client_secret)
    temporary = token = None
    token_secret = ""
    if kind == "temporary":
        temporary = await _temporary(provider, client, p["oauth_token"])
        token_secret = credentials.open_temporary_secret(provider, temporary)
    elif kind == "token":
        token = await _token(provider, client, p["oauth_token"])
        token_secret = credentials.open_token_secret(provider, token)
    timestamp = _check_timestamp(provider, p)
    base = signature.base_string(req.method, req.url, got.signed)
    rsa_pem = client_policy.get(client, "oauth1_rsa_public_key")
    ok = signature.verify(
        method,
        base,
        p["oauth_signature"],
        client_secret=client_secret,
        token_secret=token_secret,
        rsa_public_key=signature.load_rsa_public_key(rsa_pem) if rsa_pem else None,
    )
    if not ok:
        provider.events.emit("oauth1.signature_invalid", client_id=client.client_id, method=method)
        detail = f" keystead's base string: {base}" if provider.settings.dev_mode else ""
        raise OAuthError(
            "oauth1-signature-invalid",
            f"The {method} signature does not match (RFC 5849 §3.4); sign {req.method} "
            f"{signature.base_string_uri(req.url)} with every query, form and oauth_* "
            f"parameter.{detail}",
        )
    if timestamp is not None:
        await _remember_nonce(provider, client, timestamp, p["oauth_nonce"])
    return Verified(client, got, temporary, token)


async def _remember_nonce(provider: Provider, client: Client, timestamp: int, nonce: str) -> None:
    """RFC 5849 §3.3: a nonce is unique for its consumer and timestamp. Kept until the
    timestamp leaves the accepted window, so a replay within the window is always seen."""
    if len(nonce) > MAX_NONCE:
        raise OAuthError(
            "oauth1-parameter-rejected", f"oauth_nonce is longer than {MAX_NONCE} characters."
        )
    now = provider.now()
    key = NONCE_PREFIX + sha256_hex(f"{client.client_id}\x00{timestamp}\x00{nonce}")
    expires_at = timestamp + provider.settings.oauth1_timestamp_window + 1
    if not await provider.store.markers.add(key, max(expires_at, now + 1), now):
        provider.events.emit("oauth1.nonce_replayed", client_id=client.client_id)
        raise OAuthError(
            "oauth1-nonce-used",
            "This oauth_nonce was used with this timestamp already; send a new nonce.",
        )
