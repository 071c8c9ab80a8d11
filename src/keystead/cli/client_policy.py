"""The client commands' flags for the operator's policy (services/client_policy.py): each
flag's value turned into a policy row for ``create``/``update``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keystead.cli.common import fail
from keystead.services import client_policy
from keystead.store.base import Client

EXCHANGE_AUDIENCE_HELP = (
    "Repeatable. An API identifier this client may get tokens for by token exchange "
    "(RFC 8693); with --token-exchange-impersonate and/or --token-exchange-delegate."
)


def exchange_changes(
    client: Client,
    audiences: list[str] | None,
    impersonate: bool | None,
    delegate: bool | None,
) -> dict[str, Any] | None:
    """The token_exchange policy with the given flags changed (None: no flag given)."""
    given = {"audiences": audiences, "impersonate": impersonate, "delegate": delegate}
    if all(v is None for v in given.values()):
        return None
    current = dict(client_policy.get(client, "token_exchange"))
    current.update({k: v for k, v in given.items() if v is not None})
    return current


def oauth1_policy(
    enabled: bool | None, oob: bool | None, rsa_key_file: Path | None
) -> dict[str, Any]:
    """The OAuth 1.0a rows (docs/oauth1.md); None: not given."""
    policy: dict[str, Any] = {"oauth1": enabled, "oauth1_oob": oob}
    if rsa_key_file is not None:
        try:
            policy["oauth1_rsa_public_key"] = rsa_key_file.read_text()
        except (OSError, ValueError) as exc:
            fail(f"--oauth1-rsa-public-key {rsa_key_file}: {exc}")
    return policy


def given(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy rows an update names (an option not given is None: the row stays)."""
    return {name: value for name, value in policy.items() if value is not None}
