"""The browser flow validates a request once: interaction.resume rebuilds the validated request
from the page state (protocol/authorization_request.py) and re-checks only what lies outside
the request and may have changed since (docs/architecture.md, "The browser flow: validated
once"); the protocol decides the errors of the login and consent steps, with their redirect."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest

from keystead.errors import OAuthError
from keystead.protocol import authorize
from keystead.protocol.authorization_request import carried, rebuild, registration_digest
from keystead.protocol.id_token import make_id_token
from keystead.protocol.interaction import Step, consenting_session, decide, deny, resume
from keystead.protocol.request import from_pairs
from keystead.store.base import Api, Consent

from .conftest import NOW, REDIRECT_URI

pytestmark = pytest.mark.anyio

API = "https://api.example.com"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each of the ordered authorization checks runs."""
    runs: Counter[str] = Counter()

    def spy(check: authorize.Check) -> authorize.Check:
        async def run(ctx: Any) -> None:
            runs[check.__name__] += 1
            pending = check(ctx)  # a coroutine for the checks that read the store
            if pending is not None:
                await pending

        return run

    monkeypatch.setattr(authorize, "CHECKS", tuple(spy(c) for c in authorize.CHECKS))
    return runs


async def test_resume_rebuilds_the_validated_request_without_any_check(
    oauth, client, counted
) -> None:
    areq = await oauth.validate(client, prompt="login", max_age="0", claims='{"id_token":{}}')
    assert set(counted.values()) == {1} and len(counted) == len(authorize.CHECKS)
    state = json.loads(json.dumps(carried(areq)))  # as it travels in the page
    again = await resume(areq.pairs, state, oauth.provider)
    assert again == areq
    assert set(counted.values()) == {1}  # not one check ran again


async def test_the_id_token_hint_is_verified_once(oauth, client, user, monkeypatch) -> None:
    hint = await make_id_token(
        oauth.provider, client, sub=user.sub, auth_time=NOW - 60, nonce=None, sid=None
    )
    verified: list[str] = []
    real = authorize.hint_subject

    async def spy(provider: Any, token: str) -> str:
        verified.append(token)
        return await real(provider, token)

    monkeypatch.setattr(authorize, "hint_subject", spy)
    areq = await oauth.validate(client, id_token_hint=hint)
    assert areq.hint_sub == user.sub
    again = await resume(areq.pairs, carried(areq), oauth.provider)
    again = await resume(again.pairs, carried(again), oauth.provider)  # login, then consent
    assert again.hint_sub == user.sub
    assert verified == [hint]


async def test_a_state_without_the_validated_request_is_validated_again(
    oauth, client, counted
) -> None:
    areq = await oauth.validate(client)
    assert await resume(areq.pairs, None, oauth.provider) == areq
    assert set(counted.values()) == {2}


@pytest.mark.parametrize("shape", ["another registration", "empty", "fields missing"])
async def test_a_state_of_another_shape_is_validated_again(oauth, client, counted, shape) -> None:
    areq = await oauth.validate(client)
    state = {
        "another registration": {**carried(areq), "registration": "0" * 32},
        "empty": {},
        "fields missing": {"registration": registration_digest(client), "scope": ["openid"]},
    }[shape]
    assert await resume(areq.pairs, state, oauth.provider) == areq
    assert set(counted.values()) == {2}


async def test_rebuild_refuses_another_registration(oauth, client) -> None:
    areq = await oauth.validate(client)
    req = from_pairs("GET", areq.pairs)
    assert rebuild(req, carried(areq), client) == areq
    for change in (
        {"redirect_uris": ("https://rp.example.com/other",)},
        {"scope": "openid"},
        {"response_types": ("code", "id_token")},
        {"require_pkce": False},
        {"token_endpoint_auth_method": "none"},
        {"application_type": "native"},
    ):
        assert rebuild(req, carried(areq), dataclasses.replace(client, **change)) is None
    # what the checks do not read may change: the request is rebuilt for the client as it is now
    renamed = dataclasses.replace(client, client_name="Renamed", skip_consent=True)
    rebuilt = rebuild(req, carried(areq), renamed)
    assert rebuilt is not None and rebuilt.client is renamed


async def test_a_client_deleted_mid_flow_is_refused_on_a_page(oauth, client) -> None:
    areq = await oauth.validate(client)
    await oauth.provider.store.clients.delete(client.client_id)
    oauth.provider.forget_client(client.client_id)
    with pytest.raises(OAuthError) as caught:
        await resume(areq.pairs, carried(areq), oauth.provider)
    assert caught.value.catalog_id == "authorize-client-unknown"
    assert caught.value.redirect is None  # no client, no trusted redirect_uri


async def test_a_redirect_uri_unregistered_mid_flow_is_refused_on_a_page(
    oauth, client, counted
) -> None:
    areq = await oauth.validate(client)
    moved = dataclasses.replace(client, redirect_uris=("https://rp.example.com/new",))
    await oauth.provider.store.clients.update(moved)
    oauth.provider.forget_client(client.client_id)
    with pytest.raises(OAuthError) as caught:
        await resume(areq.pairs, carried(areq), oauth.provider)
    assert caught.value.catalog_id == "redirect-uri-mismatch"
    assert caught.value.redirect is None
    assert counted["check_client"] == counted["check_redirect_uri"] == 2  # validated again


async def test_a_scope_withdrawn_mid_flow_is_not_granted(oauth, client) -> None:
    areq = await oauth.validate(client)
    await oauth.provider.store.clients.update(dataclasses.replace(client, scope="openid"))
    oauth.provider.forget_client(client.client_id)
    again = await resume(areq.pairs, carried(areq), oauth.provider)
    assert areq.scope == ("openid", "profile", "email") and again.scope == ("openid",)


async def test_an_api_deleted_mid_flow_is_refused_back_to_the_client(
    oauth, make_client, counted
) -> None:
    api = Api("api-1", API, "Example API", (("api:read", "Read"),), "jwt", 600, NOW)
    await oauth.provider.store.apis.add(api)
    client = await make_client(scope="openid api:read")
    pairs = [*oauth.params(client, scope="openid api:read").items(), ("resource", API)]
    areq = await authorize.validate(from_pairs("GET", pairs), oauth.provider)
    assert areq.resources == (API,)
    await oauth.provider.store.apis.delete(api.api_id)
    oauth.provider.forget_apis()
    with pytest.raises(OAuthError) as caught:
        await resume(areq.pairs, carried(areq), oauth.provider)
    assert caught.value.catalog_id == "resource-unknown"
    assert caught.value.redirect == areq.target
    assert set(counted.values()) == {1}


# --- the protocol's decisions at the login and consent steps --------------------------------


async def test_prompt_none_errors_carry_their_redirect(oauth, client, session) -> None:
    areq = await oauth.validate(client, prompt="none", state="st-9")
    with pytest.raises(OAuthError) as caught:
        await decide(areq, None, oauth.provider, started_at=None)
    assert caught.value.catalog_id == "login-required"
    assert caught.value.redirect == areq.target
    assert caught.value.redirect.redirect_uri == REDIRECT_URI
    assert caught.value.redirect.state == "st-9"
    with pytest.raises(OAuthError) as caught:
        await decide(areq, session, oauth.provider, started_at=None)
    assert caught.value.catalog_id == "consent-required"
    assert caught.value.redirect == areq.target


async def test_decide_reads_the_stored_consent(oauth, client, session) -> None:
    areq = await oauth.validate(client)
    assert await decide(areq, session, oauth.provider, started_at=None) is Step.CONSENT
    await oauth.provider.store.consents.put(
        Consent(session.sub, client.client_id, "openid profile email", NOW)
    )
    assert await decide(areq, session, oauth.provider, started_at=None) is Step.ISSUE
    given = await decide(areq, None, oauth.provider, started_at=NOW, consent_given_now=True)
    assert given is Step.ISSUE


async def test_deny_is_access_denied_back_to_the_client(oauth, client, session, events) -> None:
    areq = await oauth.validate(client)
    err = deny(areq, session.sub, oauth.provider)
    assert (err.error, err.catalog_id) == ("access_denied", "access-denied")
    assert err.redirect == areq.target
    assert [e.name for e in events] == ["consent.denied"]


async def test_the_consent_form_belongs_to_its_session(session) -> None:
    assert consenting_session(session, session.sid) is session
    for live, sid in ((None, session.sid), (session, None), (session, "sid-2")):
        with pytest.raises(OAuthError) as caught:
            consenting_session(live, sid)
        assert caught.value.catalog_id == "interaction-invalid"
        assert caught.value.redirect is None
