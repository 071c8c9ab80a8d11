"""Trusted issuer operations: the outside JWT issuers whose JWTs keystead accepts as
authorization grants (RFC 7523 §2.1) and as token-exchange ``jwt`` tokens (RFC 8693 §3).

An issuer is trusted for the clients named in ``allowed_client_ids`` only (none by default),
with its public keys inline or at a ``jwks_uri`` (fetched through net/, cached, refetched on
an unknown kid). ``create`` and ``delete`` emit one audit event whichever channel asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.jose.client_keys import InvalidJwks, parse_jwks
from keystead.protocol.trusted_jwt import JWKS_CACHE_PREFIX
from keystead.secrets_util import random_token
from keystead.services.common import Actor, Conflict, NotFound, ServiceError, audit
from keystead.store.base import DuplicateError
from keystead.store.trusted_issuers import SUBJECT_MAPPINGS, TrustedIssuer

if TYPE_CHECKING:
    from keystead.provider import Provider


class TrustedIssuerError(ServiceError):
    """Invalid trusted issuer data: ``field`` names it."""


@dataclass
class TrustedIssuerSpec:
    issuer: str
    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None
    subject_claim: str = "sub"
    subject_mapping: str = "sub"
    allowed_client_ids: list[str] = field(default_factory=list)
    verifies_email: bool = False


def _check_url(name: str, value: str) -> None:
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise TrustedIssuerError(
            name, f"{name} {value[:200]!r} must be an absolute http(s) URL without a fragment."
        )


async def validate(provider: Provider, spec: TrustedIssuerSpec) -> None:
    _check_url("issuer", spec.issuer)
    if spec.issuer == provider.settings.issuer:
        raise TrustedIssuerError(
            "issuer", "keystead's own issuer is not an outside issuer; its tokens are trusted."
        )
    if (spec.jwks is None) == (spec.jwks_uri is None):
        raise TrustedIssuerError("jwks", "Give exactly one of jwks (inline) and jwks_uri.")
    if spec.jwks_uri is not None:
        _check_url("jwks_uri", spec.jwks_uri)
    if spec.jwks is not None:
        try:
            parse_jwks(spec.jwks, strict=True)
        except InvalidJwks as exc:
            raise TrustedIssuerError("jwks", str(exc)) from None
    if spec.subject_mapping not in SUBJECT_MAPPINGS:
        raise TrustedIssuerError(
            "subject_mapping",
            f"subject_mapping {spec.subject_mapping!r} is unknown; use one of "
            f"{', '.join(SUBJECT_MAPPINGS)}.",
        )
    if not spec.subject_claim or len(spec.subject_claim) > 100:
        raise TrustedIssuerError("subject_claim", "subject_claim names a claim, e.g. sub.")
    for client_id in spec.allowed_client_ids:
        if await provider.store.clients.get(client_id) is None:
            raise TrustedIssuerError("allowed_client_ids", f"No client {client_id}.")


def view(issuer: TrustedIssuer) -> dict[str, Any]:
    return {
        "issuer_id": issuer.issuer_id,
        "issuer": issuer.issuer,
        "jwks_uri": issuer.jwks_uri,
        "jwks": issuer.jwks,
        "subject_claim": issuer.subject_claim,
        "subject_mapping": issuer.subject_mapping,
        "verifies_email": issuer.verifies_email,
        "allowed_client_ids": list(issuer.allowed_client_ids),
        "created_at": issuer.created_at,
    }


async def create(provider: Provider, spec: TrustedIssuerSpec, actor: Actor) -> TrustedIssuer:
    await validate(provider, spec)
    issuer = TrustedIssuer(
        issuer_id=random_token(12),
        issuer=spec.issuer,
        created_at=provider.now(),
        jwks_uri=spec.jwks_uri,
        jwks=spec.jwks,
        subject_claim=spec.subject_claim,
        subject_mapping=spec.subject_mapping,
        allowed_client_ids=tuple(dict.fromkeys(spec.allowed_client_ids)),
        verifies_email=spec.verifies_email,
    )
    try:
        await provider.store.trusted_issuers.add(issuer)
    except DuplicateError:
        raise Conflict("issuer", f"The issuer {spec.issuer} is already trusted.") from None
    audit(
        provider,
        actor,
        "trusted_issuer.created",
        issuer_id=issuer.issuer_id,
        issuer=issuer.issuer,
        allowed_client_ids=list(issuer.allowed_client_ids),
    )
    return issuer


async def get(provider: Provider, issuer_id: str) -> TrustedIssuer:
    """A trusted issuer by issuer_id, or by its issuer URL."""
    store = provider.store.trusted_issuers
    found = await store.get(issuer_id) or await store.get_by_issuer(issuer_id)
    if found is None:
        raise NotFound("issuer_id", f"No trusted issuer {issuer_id}.")
    return found


async def list_all(provider: Provider) -> list[TrustedIssuer]:
    return await provider.store.trusted_issuers.list()


async def delete(provider: Provider, issuer: TrustedIssuer, actor: Actor) -> None:
    if not await provider.store.trusted_issuers.delete(issuer.issuer_id):
        raise NotFound("issuer_id", f"No trusted issuer {issuer.issuer_id}.")
    provider.client_jwks.forget(JWKS_CACHE_PREFIX + issuer.issuer_id)
    audit(
        provider, actor, "trusted_issuer.deleted", issuer_id=issuer.issuer_id, issuer=issuer.issuer
    )
