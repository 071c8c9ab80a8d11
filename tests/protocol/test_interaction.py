"""interaction.next_step: login, consent or issue (OIDC Core §3.1.2.3-4, §3.1.2.6)."""

from __future__ import annotations

import dataclasses

import pytest

from keystead.errors import OAuthError
from keystead.protocol.interaction import Step, consent_needed, decide, next_step
from keystead.store.base import Consent

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000
STARTED = NOW - 20  # the interaction began 20 s ago; the session login was 30 s ago


@pytest.fixture
async def areq(oauth, client):
    return await oauth.validate(client)  # scope: openid profile email


def consent(*approved: str) -> Consent:
    return Consent(sub="u-5d1f0c7e", client_id="rp", scope=" ".join(approved), updated_at=NOW)


FULL = consent("openid", "profile", "email")


def with_(areq, prompt: str = "", max_age: int | None = None, **fields):
    return areq._replace(prompt=frozenset(prompt.split()), max_age=max_age, **fields)


def step(areq, session, given=FULL, started_at: int | None = STARTED, now: int = NOW) -> Step:
    return next_step(areq, session, given, started_at=started_at, now=now)


def refused(areq, session, given=FULL, **kwargs) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        step(areq, session, given, **kwargs)
    return caught.value


# --- login -----------------------------------------------------------------------------------


async def test_no_session_needs_login(areq) -> None:
    assert step(areq, None) is Step.LOGIN


async def test_session_and_consent_issue(areq, session) -> None:
    assert step(areq, session) is Step.ISSUE


async def test_no_session_with_prompt_none_is_login_required(areq) -> None:
    err = refused(with_(areq, "none"), None, None)
    assert err.catalog_id == "login-required"
    assert err.error == "login_required"


@pytest.mark.parametrize("prompt", ["login", "select_account", "login consent"])
async def test_prompt_login_needs_a_login_after_the_interaction_started(
    areq, session, prompt
) -> None:
    assert session.auth_time < STARTED
    assert step(with_(areq, prompt), session) is Step.LOGIN


@pytest.mark.parametrize("auth_time", [STARTED, STARTED + 5])
async def test_prompt_login_is_satisfied_by_a_login_during_the_interaction(
    areq, session, auth_time
) -> None:
    fresh = dataclasses.replace(session, auth_time=auth_time)
    assert step(with_(areq, "login"), fresh) is Step.ISSUE


async def test_a_new_interaction_never_counts_an_earlier_login(areq, session) -> None:
    same_second = dataclasses.replace(session, auth_time=NOW)
    assert step(with_(areq, "login"), same_second, started_at=None) is Step.LOGIN
    assert step(areq, same_second, started_at=None) is Step.ISSUE


async def test_max_age_exceeded_needs_login(areq, session) -> None:
    # OIDC Core §3.1.2.1: the login was 30 s ago.
    assert step(with_(areq, max_age=29), session) is Step.LOGIN


@pytest.mark.parametrize("max_age", [30, 31, 3600])
async def test_max_age_not_exceeded(areq, session, max_age) -> None:
    assert step(with_(areq, max_age=max_age), session) is Step.ISSUE


async def test_max_age_zero_needs_a_login_this_very_second(areq, session) -> None:
    assert step(with_(areq, max_age=0), session) is Step.LOGIN
    just_now = dataclasses.replace(session, auth_time=NOW)
    assert step(with_(areq, max_age=0), just_now) is Step.ISSUE


async def test_max_age_zero_is_prompt_login_even_for_a_login_of_this_second(areq, session) -> None:
    # OIDC Core §3.1.2.1: "max_age=0 is equivalent to prompt=login"; the session's login was
    # before this interaction, however recent.
    this_second = dataclasses.replace(session, auth_time=NOW)
    assert step(with_(areq, max_age=0), this_second, started_at=None) is Step.LOGIN
    assert step(with_(areq, max_age=0), this_second, started_at=NOW + 1) is Step.LOGIN
    err = refused(with_(areq, "none", max_age=0), this_second, started_at=None)
    assert err.catalog_id == "login-required"


async def test_max_age_zero_is_satisfied_by_the_login_of_this_interaction(areq, session) -> None:
    logged_in = dataclasses.replace(session, auth_time=STARTED)
    for later in (0, 1, 2):  # the clock may tick between the login and the decision
        assert step(with_(areq, max_age=0), logged_in, now=STARTED + later) is Step.ISSUE


async def test_max_age_boundaries_with_the_clock(oauth, client, session, clock) -> None:
    """Exactly max_age seconds since the login is still fine; one more is not."""
    assert session.auth_time == NOW - 30
    for max_age, expected in ((30, Step.CONSENT), (29, Step.LOGIN), (1, Step.LOGIN)):
        areq = await oauth.validate(client, max_age=str(max_age))
        assert await decide(areq, session, oauth.provider, started_at=None) is expected
    areq = await oauth.validate(client, max_age="31")
    assert await decide(areq, session, oauth.provider, started_at=None) is Step.CONSENT
    clock.advance(1)  # now 31 s since the login
    assert await decide(areq, session, oauth.provider, started_at=None) is Step.CONSENT
    clock.advance(1)
    assert await decide(areq, session, oauth.provider, started_at=None) is Step.LOGIN


async def test_max_age_exceeded_with_prompt_none_is_login_required(areq, session) -> None:
    err = refused(with_(areq, "none", max_age=10), session)
    assert err.catalog_id == "login-required"


async def test_login_is_decided_before_consent(areq) -> None:
    err = refused(with_(areq, "none"), None, None)
    assert err.catalog_id == "login-required"


# --- consent ---------------------------------------------------------------------------------


async def test_no_consent_needs_consent(areq, session) -> None:
    assert step(areq, session, None) is Step.CONSENT


async def test_consent_for_a_subset_needs_consent(areq, session) -> None:
    assert step(areq, session, consent("openid", "email")) is Step.CONSENT


async def test_consent_for_a_superset_is_enough(areq, session) -> None:
    given = consent("openid", "profile", "email", "offline_access", "extra")
    assert step(areq, session, given) is Step.ISSUE


async def test_request_without_scopes_needs_no_consent(areq, session) -> None:
    assert step(with_(areq, scope=()), session, None) is Step.ISSUE


async def test_prompt_consent_asks_again(areq, session) -> None:
    assert step(with_(areq, "consent"), session, FULL) is Step.CONSENT


async def test_prompt_none_without_consent_is_consent_required(areq, session) -> None:
    err = refused(with_(areq, "none"), session, consent("openid"))
    assert err.catalog_id == "consent-required"
    assert err.error == "consent_required"


async def test_prompt_none_with_session_and_consent_issues(areq, session) -> None:
    assert step(with_(areq, "none"), session, FULL) is Step.ISSUE


async def test_skip_consent_client_never_asks(oauth, make_client, session) -> None:
    client = await make_client("first-party", skip_consent=True)
    areq = await oauth.validate(client)
    assert step(areq, session, None) is Step.ISSUE
    assert step(with_(areq, "none"), session, None) is Step.ISSUE
    assert not consent_needed(with_(areq, "consent"), None)


async def test_skip_consent_does_not_skip_login(oauth, make_client) -> None:
    client = await make_client("first-party", skip_consent=True)
    areq = await oauth.validate(client)
    assert step(areq, None, None) is Step.LOGIN
