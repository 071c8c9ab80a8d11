"""Authentication context: which factors a session has (``amr``, RFC 8176) and which class
(``acr``) that reaches; what a request or a client asks for, and whether a session meets it.

The classes, weakest first:

- ``"1"`` — one factor (a password): every keystead login;
- ``"2"`` — two factors (a password and a one-time code, or a passkey with user verification);
- ``"phr"`` — phishing-resistant (OpenID EAP ACR Values 1.0 §2): a passkey took part, bound
  to this origin, so a look-alike site cannot relay it.

A request asks through ``acr_values`` (OIDC Core §3.1.2.1) or an essential ``acr`` in the
``claims`` parameter (§5.5.1.1); a client through ``require_mfa`` (at least ``"2"``) or its
registered ``default_acr_values`` (OIDC Registration §2). Unknown values are ignored: acr
values are voluntary unless essential, and keystead knows only its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from keystead.store.base import Client
from keystead.store.factors import PASSKEY, Factor

ACR_PASSWORD = "1"
ACR_MFA = "2"
ACR_PHISHING_RESISTANT = "phr"
ACR_VALUES = (ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT)  # weakest first

# RFC 8176 §2 method values keystead records.
AMR_PASSWORD = "pwd"
AMR_OTP = "otp"  # an authenticator app's code, or a recovery code (both one-time passwords)
AMR_HARDWARE_KEY = "hwk"  # a device-bound passkey
AMR_SOFTWARE_KEY = "swk"  # a synced passkey (backup eligible): the key lives in software
AMR_USER = "user"  # the authenticator tested that the user was present
AMR_MFA = "mfa"  # more than one factor
# RFC 8176 names no method for "an upstream provider authenticated the user" (issue 22):
# keystead reports "fed", one factor (what the upstream checked is not known here).
AMR_FEDERATED = "fed"


def acr_of(amr: Iterable[str]) -> str:
    """The strongest class the methods reach."""
    methods = set(amr)
    if AMR_MFA not in methods:
        return ACR_PASSWORD
    if methods & {AMR_HARDWARE_KEY, AMR_SOFTWARE_KEY}:
        return ACR_PHISHING_RESISTANT
    return ACR_MFA


def meets(amr: Iterable[str], acr: str) -> bool:
    return ACR_VALUES.index(acr_of(amr)) >= ACR_VALUES.index(acr)


def with_factor(amr: Sequence[str], methods: Sequence[str]) -> tuple[str, ...]:
    """A session's methods after another factor: both kept, ``mfa`` when more than one."""
    combined = list(dict.fromkeys((*amr, *methods)))
    combined = [m for m in combined if m != AMR_MFA]
    factors = {AMR_PASSWORD, AMR_OTP, AMR_FEDERATED} | {AMR_HARDWARE_KEY, AMR_SOFTWARE_KEY}
    kinds = {m for m in combined if m in factors}
    passkey_with_uv = bool(kinds & {AMR_HARDWARE_KEY, AMR_SOFTWARE_KEY}) and AMR_USER in combined
    if len(kinds) > 1 or passkey_with_uv:
        combined.append(AMR_MFA)
    return tuple(combined)


def methods_of(factor: Factor) -> tuple[str, ...]:
    """What using the factor adds to a session's ``amr``."""
    if factor.kind == PASSKEY:
        return (AMR_SOFTWARE_KEY if factor.backup_eligible else AMR_HARDWARE_KEY, AMR_USER)
    return (AMR_OTP,)


def helpful(
    amr: Sequence[str], factors: Iterable[Factor], acceptable: Sequence[str]
) -> list[Factor]:
    """The user's factors whose use would make the session meet ``acceptable``."""
    return [f for f in factors if met(with_factor(amr, methods_of(f)), acceptable)]


def requires_mfa(client: Client) -> bool:
    """The client's policy (``keystead client create --require-mfa``), kept in its metadata."""
    return client.extra.get("require_mfa") is True


def _essential(claims: dict[str, Any]) -> tuple[str, ...] | None:
    """OIDC Core §5.5.1.1: ``{"id_token": {"acr": {"essential": true, "values": [...]}}}``."""
    spec = claims.get("id_token", {}).get("acr") if isinstance(claims, dict) else None
    if not isinstance(spec, dict) or spec.get("essential") is not True:
        return None
    values = spec.get("values", [spec["value"]] if "value" in spec else [])
    return tuple(v for v in values if isinstance(v, str))


def wanted(
    client: Client, acr_values: Sequence[str], claims: dict[str, Any]
) -> tuple[tuple[str, ...], bool]:
    """The classes that would satisfy this request (any one of them), in the requester's order
    of preference, and whether the requirement is essential (an unmet one ends the request
    with an error instead of being reported). ``()``: anything goes."""
    essential = _essential(claims)
    asked = essential if essential is not None else tuple(acr_values)
    if not asked:
        default = client.extra.get("default_acr_values")
        asked = tuple(v for v in default if isinstance(v, str)) if isinstance(default, list) else ()
    known = tuple(v for v in asked if v in ACR_VALUES)
    if requires_mfa(client):
        floor = ACR_VALUES.index(ACR_MFA)
        known = tuple(v for v in known if ACR_VALUES.index(v) >= floor) or (ACR_MFA,)
        return known, True
    return known, essential is not None and bool(known)


def met(amr: Iterable[str], acceptable: Sequence[str]) -> bool:
    methods = tuple(amr)
    return not acceptable or any(meets(methods, acr) for acr in acceptable)


def reported(amr: Iterable[str], acceptable: Sequence[str]) -> str:
    """The ``acr`` claim: the first acceptable class the session meets (the requester's
    preferred one), else the strongest it reaches."""
    methods = tuple(amr)
    for acr in acceptable:
        if meets(methods, acr):
            return acr
    return acr_of(methods)
