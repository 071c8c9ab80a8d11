"""docs/oauth1.md's consumer, as printed there (Authlib's synchronous OAuth1Client), against
a real `keystead serve` process over TCP: the consumer registered with the CLI, the user
signs in and approves in a form-following browser, the signed call to /oauth1/userinfo."""

from __future__ import annotations

import httpx
from authlib.integrations.httpx_client import OAuth1Client

from tests.e2e.conftest import form_action, form_fields
from tests.e2e.test_server_process import Cli, server  # noqa: F401 - the fixture

CALLBACK = "https://printer.example.com/oauth1/callback"


def test_docs_consumer_against_a_server_process(server: tuple[Cli, str, list[str]]) -> None:  # noqa: F811
    cli, issuer, _ = server
    made = cli.json(
        "client", "create", "--name", "Photo Printer", "--redirect-uri", CALLBACK, "--oauth1"
    )
    cli.run("user", "create", "erin", "--email", "erin@example.com", "--password-stdin",
            stdin="correct horse battery staple\n")  # fmt: skip
    cli.start()  # type: ignore[attr-defined]

    client = OAuth1Client(
        made["client_id"], made["client_secret"], redirect_uri=CALLBACK,
        signature_method="HMAC-SHA1",
    )  # fmt: skip
    client.fetch_request_token(f"{issuer}/oauth1/request_token")
    url = client.create_authorization_url(f"{issuer}/oauth1/authorize")

    with httpx.Client(follow_redirects=False) as browser:
        r = browser.get(url)
        while r.status_code in (302, 303):  # the sign-in first
            r = browser.get(r.headers["location"])
        data = {**form_fields(r.text), "username": "erin",
                "password": "correct horse battery staple"}  # fmt: skip
        r = browser.post(form_action(r.text), data=data)
        while r.status_code in (302, 303):  # back to /oauth1/authorize
            r = browser.get(r.headers["location"])
        assert "Allow Photo Printer?" in r.text, r.text[:500]
        r = browser.post(form_action(r.text), data={**form_fields(r.text), "decision": "approve"})
        assert r.status_code == 303 and r.headers["location"].startswith(CALLBACK + "?")

    client.parse_authorization_response(r.headers["location"])
    tokens = client.fetch_access_token(f"{issuer}/oauth1/access_token")
    assert tokens["oauth_token"] and tokens["oauth_token_secret"]
    claims = client.get(f"{issuer}/oauth1/userinfo").json()
    assert claims["preferred_username"] == "erin" and claims["email"] == "erin@example.com"
    listed = cli.json("oauth1", "tokens", "--user", "erin")["tokens"]
    cli.json("oauth1", "revoke", listed[0]["token_id"])
    assert client.get(f"{issuer}/oauth1/userinfo").status_code == 401
