"""The operator's policy for a client: settings that are no RFC 7591 metadata.

A client registers its metadata (redirect URIs, grant types ...); the operator decides, per
client, what keystead enforces beyond it — a second factor at every sign-in, which upstream
connections the login page offers, whether it may exchange tokens. Each such setting is one
row of ``POLICY``: its name (the CLI's ``--flag`` spelled with dashes, the admin API's JSON
member), the value when unset, and the check that turns an input into the stored value or
refuses it with a ``ClientSpecError`` naming the row.

Values live in ``Client.extra`` under the row's name, only when they differ from the default,
so a client without a policy stores nothing. Dynamic registration never reads or writes them
(RFC 7591 §2 metadata only), and a client updating itself through RFC 7592 keeps them.

Adding a policy is adding a row here, a flag in cli/clients.py and a member in the admin
API's schema; the services' ``create``/``update`` take ``policy={name: value}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from keystead.oauth1.signature import load_rsa_public_key
from keystead.protocol import fapi
from keystead.services.common import ServiceError
from keystead.store.base import Client


class PolicyError(ServiceError):
    """A policy value no client may have: ``field`` is the row's name."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    default: Any
    check: Callable[[Any], Any]  # input -> stored value, or raise PolicyError
    help: str


def _flag(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise PolicyError(name, f"{name} is true or false.")
        return value

    return check


_CONNECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def _connections(value: Any) -> list[str] | None:
    """None: every enabled connection; a list: only these, by name (issue 22)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError("connections", "connections is a list of connection names, or null.")
    for name in value:
        if not _CONNECTION_NAME.match(name):
            raise PolicyError(
                "connections", f"{name!r} is no connection name (lowercase letters, digits, -)."
            )
    return sorted(set(value))


def _rsa_public_key(value: Any) -> str | None:
    """A PEM RSA public key of at least 2048 bits (RSA-SHA1, RFC 5849 §3.4.3), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PolicyError("oauth1_rsa_public_key", "oauth1_rsa_public_key is a PEM string.")
    try:
        load_rsa_public_key(value)
    except ValueError as exc:
        raise PolicyError(
            "oauth1_rsa_public_key",
            f"oauth1_rsa_public_key is not a PEM RSA public key of 2048 bits or more: {exc}.",
        ) from None
    return value.strip() + "\n"


RULES: tuple[Rule, ...] = (
    Rule(
        "require_mfa",
        False,
        _flag("require_mfa"),
        "Every sign-in for this client needs a second factor.",
    ),
    Rule(
        "connections",
        None,
        _connections,
        "The upstream connections its login page offers (default: every enabled one).",
    ),
    Rule(
        "password_login",
        True,
        _flag("password_login"),
        "Whether its login page has the password form (false: upstream connections only).",
    ),
    Rule(
        "oauth1",
        False,
        _flag("oauth1"),
        "The client is also an OAuth 1.0a consumer (RFC 5849): consumer key = client_id, "
        "consumer secret = client_secret (kept sealed for HMAC).",
    ),
    Rule(
        "oauth1_oob",
        False,
        _flag("oauth1_oob"),
        "OAuth 1.0a: oauth_callback=oob is allowed (the user copies the verifier).",
    ),
    Rule(
        "oauth1_rsa_public_key",
        None,
        _rsa_public_key,
        "OAuth 1.0a: the consumer's RSA public key (PEM) for RSA-SHA1 signatures.",
    ),
)
TOKEN_EXCHANGE_DEFAULT: dict[str, Any] = {"audiences": [], "impersonate": False, "delegate": False}


def _token_exchange(value: Any) -> dict[str, Any]:
    """RFC 8693: which APIs (identifiers) the client may exchange tokens for, and whether
    without an actor token (impersonation) and with one (delegation)."""
    name = "token_exchange"
    if not isinstance(value, Mapping):
        raise PolicyError(
            name,
            f'{name} is an object {{"audiences": [...], "impersonate": bool, "delegate": bool}}.',
        )
    unknown = set(value) - set(TOKEN_EXCHANGE_DEFAULT)
    if unknown:
        raise PolicyError(name, f"{name} has unknown members: {', '.join(sorted(unknown))}.")
    audiences = value.get("audiences", [])
    if not isinstance(audiences, list | tuple) or not all(
        isinstance(a, str) and "://" in a and "#" not in a for a in audiences
    ):
        raise PolicyError(name, f"{name}.audiences is a list of API identifiers (absolute URIs).")
    stored: dict[str, Any] = {"audiences": list(dict.fromkeys(audiences))}
    for flag in ("impersonate", "delegate"):
        if not isinstance(value.get(flag, False), bool):
            raise PolicyError(name, f"{name}.{flag} is true or false.")
        stored[flag] = value.get(flag, False)
    return stored


RULES += (
    Rule(
        "token_exchange",
        TOKEN_EXCHANGE_DEFAULT,
        _token_exchange,
        "Token exchange (RFC 8693): the APIs it may get tokens for, and whether it may "
        "impersonate (no actor token) and delegate (with an actor token).",
    ),
)


def _profile(value: Any) -> str | None:
    """A security profile the client is held to: fapi2 (protocol/fapi.py), or None."""
    try:
        return fapi.profile_value(value)
    except ValueError as exc:
        raise PolicyError(fapi.PROFILE, str(exc)) from None


RULES += (
    Rule(
        fapi.PROFILE,
        None,
        _profile,
        "fapi2: the client is held to the FAPI 2.0 Security Profile (PAR, PKCE S256, "
        "sender-constrained tokens, private_key_jwt or MTLS, PS256/ES256/EdDSA); "
        "none removes it.",
    ),
)
POLICY: dict[str, Rule] = {rule.name: rule for rule in RULES}


def get(client: Client, name: str) -> Any:
    """The client's value for the row ``name`` (its default when unset)."""
    rule = POLICY[name]
    return client.extra.get(name, rule.default)


def get_in(extra: Mapping[str, Any], name: str) -> Any:
    """The value of the row ``name`` in a client's ``extra`` (its default when unset)."""
    return extra.get(name, POLICY[name].default)


def view(client: Client) -> dict[str, Any]:
    """Every row's value for the client: what the CLI and the admin API show."""
    return {name: client.extra.get(name, rule.default) for name, rule in POLICY.items()}


def apply(extra: dict[str, Any], changes: Mapping[str, Any] | None) -> None:
    """Check and set each change in a client's ``extra``; a value equal to the default
    removes the entry. An unknown name is refused (a typo must not pass silently)."""
    for name, value in (changes or {}).items():
        rule = POLICY.get(name)
        if rule is None:
            raise PolicyError(name, f"{name} is no client policy; known: {', '.join(POLICY)}.")
        stored = rule.check(value)
        if stored == rule.default:
            extra.pop(name, None)
        else:
            extra[name] = stored


def kept(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The policy entries of a client's ``extra`` (kept when its metadata is replaced)."""
    return {name: extra[name] for name in POLICY if name in extra}
