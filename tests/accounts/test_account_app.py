"""Where an account sign-in returns (accounts/account_app.py): /account, or /device with the
user code; a state naming anything else (anyone can write one) returns to /account."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from keystead.accounts.account_app import return_url, sign_in_url
from keystead.config import Settings


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_device_return_round_trip() -> None:
    settings = Settings(issuer="https://id.example")
    assert return_url(settings, _state(sign_in_url(settings))) == "https://id.example/account"
    state = _state(sign_in_url(settings, then="device:ABCD-EFGH"))
    assert return_url(settings, state) == "https://id.example/device?user_code=ABCD-EFGH"
    assert return_url(settings, _state(sign_in_url(settings, then="device"))) == (
        "https://id.example/device"
    )


def test_no_open_redirect() -> None:
    settings = Settings(issuer="https://id.example")
    for state in (
        "x.https://evil.example",
        "x.//evil.example",
        "x.device:AB/../../evil",
        "x.device:ABCD?x=1",
        "x.account/../evil",
        None,
        "",
    ):
        assert return_url(settings, state) == "https://id.example/account"
    # an unsafe ``then`` is not carried at all
    assert "." not in _state(sign_in_url(settings, then="https://evil.example"))


def test_oauth1_return_round_trip() -> None:
    settings = Settings(issuer="https://id.example")
    token = "Ab-_" * 10 + "xyz"  # base64url, as oauth1/credentials.py makes them
    state = _state(sign_in_url(settings, then=f"oauth1:{token}"))
    assert return_url(settings, state) == f"https://id.example/oauth1/authorize?oauth_token={token}"
    for bad in ("x.oauth1:short", "x.oauth1:a/../../evil" + "a" * 20, "x.oauth1:" + "a" * 65):
        assert return_url(settings, bad) == "https://id.example/account"
