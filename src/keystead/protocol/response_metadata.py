"""Client metadata for pairwise subjects and for signed and encrypted responses, and its
rules (OIDC Registration §2; OIDC Core §8, §10.2).

- ``subject_type`` / ``sector_identifier_uri``: protocol/pairwise.py.
- ``id_token_encrypted_response_alg`` / ``_enc``: the ID token is signed, then encrypted to
  the client's key (a nested JWT, OIDC Core §10.2).
- ``userinfo_signed_response_alg``: UserInfo answers ``application/jwt`` signed with it;
  ``userinfo_encrypted_response_alg`` / ``_enc``: ... encrypted (after signing, when both).
- ``authorization_encrypted_response_alg`` / ``_enc`` (JARM §3): the signed JARM response is
  encrypted to the client's key (protocol/jarm.py), with the same choices and rules.

Every value is kept in ``Client.extra``; protocol/encrypted_responses.py applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keystead.jose.client_keys import InvalidJwks
from keystead.jose.jwe import ENC_ALGS, ENC_ENCS, encryption_keys, key_for
from keystead.jose.keys import SUPPORTED_ALGS
from keystead.protocol import pairwise

ID_TOKEN_ALG = "id_token_encrypted_response_alg"
ID_TOKEN_ENC = "id_token_encrypted_response_enc"
USERINFO_SIGNED = "userinfo_signed_response_alg"
USERINFO_ALG = "userinfo_encrypted_response_alg"
USERINFO_ENC = "userinfo_encrypted_response_enc"
AUTHORIZATION_ALG = "authorization_encrypted_response_alg"  # JARM §3
AUTHORIZATION_ENC = "authorization_encrypted_response_enc"
ENCRYPTION_PAIRS = (
    (ID_TOKEN_ALG, ID_TOKEN_ENC),
    (USERINFO_ALG, USERINFO_ENC),
    (AUTHORIZATION_ALG, AUTHORIZATION_ENC),
)
RESPONSE_METADATA = (
    *pairwise.PAIRWISE_METADATA,
    ID_TOKEN_ALG,
    ID_TOKEN_ENC,
    USERINFO_SIGNED,
    USERINFO_ALG,
    USERINFO_ENC,
    AUTHORIZATION_ALG,
    AUTHORIZATION_ENC,
)


class BadValue(ValueError):
    """A member of the registration body that is not a string: (name, message)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} must be a string.")
        self.name = name


def from_registration(body: Mapping[str, Any]) -> dict[str, Any]:
    """The members of an RFC 7591 registration body, as ClientSpec keyword arguments."""
    values: dict[str, Any] = {}
    for name in RESPONSE_METADATA:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise BadValue(name)
        values[name] = value
    return values


def with_defaults(values: Mapping[str, str | None]) -> dict[str, str]:
    """The values to keep: those given. An alg without its enc is kept alone, and encrypted
    with DEFAULT_ENC (OIDC Registration §2: "If ..._alg is specified, the default ..._enc
    value is A128CBC-HS256"), so removing the alg later leaves no enc behind."""
    kept = {k: v for k, v in values.items() if v is not None}
    if kept.get(pairwise.SUBJECT_TYPE) == pairwise.PUBLIC:
        del kept[pairwise.SUBJECT_TYPE]  # the default: nothing to keep
    return kept


def problem(
    values: Mapping[str, str | None],
    redirect_uris: list[str],
    jwks: Any,
    jwks_uri: str | None,
) -> tuple[str, str] | None:
    """The first rule broken, as (metadata name, what to change); None when all hold."""
    broken = pairwise.problem(
        values.get(pairwise.SUBJECT_TYPE), values.get(pairwise.SECTOR_IDENTIFIER_URI), redirect_uris
    )
    if broken is not None:
        return broken
    signed = values.get(USERINFO_SIGNED)
    if signed is not None and signed not in SUPPORTED_ALGS:
        return USERINFO_SIGNED, f"{USERINFO_SIGNED} must be one of {', '.join(SUPPORTED_ALGS)}."
    for alg_name, enc_name in ENCRYPTION_PAIRS:
        alg, enc = values.get(alg_name), values.get(enc_name)
        if enc is not None and alg is None:
            # OIDC Registration §2: "If ..._enc is included, ..._alg MUST also be provided."
            return enc_name, f"{enc_name} needs {alg_name} to be set too."
        if alg is None:
            continue
        if alg not in ENC_ALGS:
            return alg_name, f"{alg_name} must be one of {', '.join(ENC_ALGS)}."
        if enc is not None and enc not in ENC_ENCS:
            return enc_name, f"{enc_name} must be one of {', '.join(ENC_ENCS)}."
        reason = _key_problem(alg, alg_name, jwks, jwks_uri)
        if reason is not None:
            return alg_name, reason
    return None


def _key_problem(alg: str, alg_name: str, jwks: Any, jwks_uri: str | None) -> str | None:
    """OIDC Core §10.2: the response is encrypted to a key the client published."""
    if jwks is None and jwks_uri is None:
        return f"{alg_name} needs the client's public keys: give jwks or jwks_uri."
    if jwks is None:
        return None  # fetched when a response is encrypted
    try:
        keys = encryption_keys(jwks)
    except InvalidJwks as exc:
        return str(exc)
    if key_for(keys, alg) is None:
        kind = "an RSA key" if alg.startswith("RSA") else "an EC (P-256) or X25519 key"
        return f"{alg_name} {alg} needs {kind} in jwks (use enc, or no use)."
    return None


def discovery_metadata() -> dict[str, list[str]]:
    """OIDC Discovery 1.0 §3 and JARM §4: the algs of signed and encrypted responses."""
    return {
        "subject_types_supported": list(pairwise.SUBJECT_TYPES),
        "id_token_encryption_alg_values_supported": list(ENC_ALGS),
        "id_token_encryption_enc_values_supported": list(ENC_ENCS),
        "userinfo_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "userinfo_encryption_alg_values_supported": list(ENC_ALGS),
        "userinfo_encryption_enc_values_supported": list(ENC_ENCS),
        # JARM §4: the algs of encrypted authorization responses.
        "authorization_encryption_alg_values_supported": list(ENC_ALGS),
        "authorization_encryption_enc_values_supported": list(ENC_ENCS),
    }
