"""The signed page state of the login and consent pages (web/interaction.py): it carries the
validated request, and anything not signed by this server's key, altered or expired is
refused as interaction-invalid."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jws
from joserfc.jwk import OctKey

from keystead.errors import OAuthError
from keystead.web.interaction import Interaction, InteractionSigner

KEY = b"i" * 32
NOW = 1_700_000_000
STATE = Interaction(
    pairs=(("client_id", "rp"), ("scope", "openid")),
    started_at=NOW,
    csrf="csrf-1",
    sid="sid-1",
    validated={"registration": "0" * 32, "scope": ["openid"]},
)


def refused(signer: InteractionSigner, token: str, now: int = NOW) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        signer.load(token, now)
    assert caught.value.catalog_id == "interaction-invalid"
    return caught.value


def test_the_state_round_trips_with_the_validated_request() -> None:
    signer = InteractionSigner(KEY, ttl=600)
    assert signer.load(signer.dump(STATE), NOW + 600) == STATE
    bare = Interaction(STATE.pairs, NOW, "csrf-1")  # the logout confirmation carries none
    assert signer.load(signer.dump(bare), NOW) == bare


def test_an_altered_payload_is_refused() -> None:
    signer = InteractionSigner(KEY, ttl=600)
    head, payload, sig = signer.dump(STATE).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["v"]["scope"] = ["openid", "offline_access"]
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    refused(signer, f"{head}.{raw}.{sig}")


def test_a_state_signed_by_another_key_is_refused() -> None:
    other = InteractionSigner(b"o" * 32, ttl=600)
    refused(InteractionSigner(KEY, ttl=600), other.dump(STATE))


def test_a_validated_request_that_is_not_an_object_is_refused() -> None:
    payload = {"p": [], "iat": NOW, "csrf": "c", "sid": None, "v": ["scope"]}
    token = jws.serialize_compact(
        {"alg": "HS256"}, json.dumps(payload).encode(), OctKey.import_key(KEY)
    )
    refused(InteractionSigner(KEY, ttl=600), token)


def test_an_expired_state_is_refused() -> None:
    signer = InteractionSigner(KEY, ttl=600)
    assert "expired" in refused(signer, signer.dump(STATE), NOW + 601).description


def test_a_state_is_refused_by_the_other_kind_of_step() -> None:
    """A consent page's state (it carries a sid) is not a logout confirmation's, and the
    reverse: each step loads only the states made for it."""
    signer = InteractionSigner(KEY, ttl=600)
    logout = Interaction(STATE.pairs, NOW, "csrf-1", sid="sid-1", purpose="logout")
    assert signer.load(signer.dump(logout), NOW, purpose="logout") == logout
    assert "altered" in refused(signer, signer.dump(logout)).description  # at /login, /consent
    with pytest.raises(OAuthError) as caught:
        signer.load(signer.dump(STATE), NOW, purpose="logout")
    assert caught.value.catalog_id == "interaction-invalid"


def test_a_state_signed_before_purposes_is_an_authorizations() -> None:
    signer = InteractionSigner(KEY, ttl=600)
    payload = {"p": [["client_id", "rp"]], "iat": NOW, "csrf": "c", "sid": None}
    old = jws.serialize_compact(
        {"alg": "HS256"}, json.dumps(payload).encode(), OctKey.import_key(KEY)
    )
    assert signer.load(old, NOW).purpose == "authorize"
    with pytest.raises(OAuthError):
        signer.load(old, NOW, purpose="logout")
