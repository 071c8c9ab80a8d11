"""The operator's policy table (services/client_policy.py): checked values, defaults not
stored, unknown rows refused, kept rows."""

from __future__ import annotations

import pytest

from keystead.services import client_policy
from keystead.store.base import Client


def _client(extra: dict[str, object]) -> Client:
    return Client(
        "c",
        "C",
        ("https://a.example/cb",),
        ("authorization_code",),
        ("code",),
        "openid",
        "none",
        extra=dict(extra),
    )


def test_default_is_not_stored_and_reads_back() -> None:
    extra: dict[str, object] = {"jwks_uri": "https://a.example/jwks"}
    client_policy.apply(extra, {"require_mfa": True})
    assert extra["require_mfa"] is True
    assert client_policy.get(_client(extra), "require_mfa") is True
    client_policy.apply(extra, {"require_mfa": False})
    assert "require_mfa" not in extra and extra["jwks_uri"] == "https://a.example/jwks"
    assert client_policy.view(_client(extra))["require_mfa"] is False


def test_refusals_name_the_row() -> None:
    with pytest.raises(client_policy.PolicyError) as wrong_kind:
        client_policy.apply({}, {"require_mfa": 1})
    assert wrong_kind.value.field == "require_mfa"
    with pytest.raises(client_policy.PolicyError) as unknown:
        client_policy.apply({}, {"requires_mfa": True})
    assert unknown.value.field == "requires_mfa" and "require_mfa" in unknown.value.message


def test_kept_holds_only_policy_rows() -> None:
    assert client_policy.kept({"require_mfa": True, "jwks": {}}) == {"require_mfa": True}
