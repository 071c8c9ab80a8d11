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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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


RULES: tuple[Rule, ...] = (
    Rule(
        "require_mfa",
        False,
        _flag("require_mfa"),
        "Every sign-in for this client needs a second factor.",
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
POLICY: dict[str, Rule] = {rule.name: rule for rule in RULES}


def get(client: Client, name: str) -> Any:
    """The client's value for the row ``name`` (its default when unset)."""
    rule = POLICY[name]
    return client.extra.get(name, rule.default)


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
