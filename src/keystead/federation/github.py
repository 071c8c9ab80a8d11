"""GitHub as an upstream (``kind="github"``): OAuth 2.0 without OpenID Connect. The identity is
GET /user's numeric id, the email the primary verified one of GET /user/emails.

The connection's issuer is GitHub's web base URL: https://github.com, whose API is
https://api.github.com, or a GitHub Enterprise Server's, whose API is {base}/api/v3.
"""

from __future__ import annotations

from typing import Any

from keystead.federation.token import get_json, token_request, with_query
from keystead.federation.upstream import UpstreamError, UpstreamIdentity
from keystead.net.fetch import SafeFetcher
from keystead.store.connections import Connection

DEFAULT_BASE = "https://github.com"
DEFAULT_SCOPE = "read:user user:email"
API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "keystead",  # GitHub's API refuses requests without one
}


def base_url(connection: Connection) -> str:
    return connection.issuer.rstrip("/")


def api_url(connection: Connection) -> str:
    base = base_url(connection)
    return "https://api.github.com" if base == DEFAULT_BASE else base + "/api/v3"


def authorization_url(
    connection: Connection,
    *,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    login_hint: str | None,
) -> str:
    params = {
        "client_id": connection.client_id,
        "redirect_uri": redirect_uri,
        "scope": connection.scope,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        params["login"] = login_hint  # GitHub's name for it
    return with_query(base_url(connection) + "/login/oauth/authorize", params)


def _primary_email(emails: Any) -> tuple[str | None, bool]:
    if not isinstance(emails, list):
        return None, False
    primary = [e for e in emails if isinstance(e, dict) and e.get("primary") is True]
    if not primary or not isinstance(primary[0].get("email"), str):
        return None, False
    return primary[0]["email"], primary[0].get("verified") is True


async def finish(
    fetcher: SafeFetcher,
    connection: Connection,
    client_secret: str,
    *,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> UpstreamIdentity:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    token_url = base_url(connection) + "/login/oauth/access_token"
    answer = await token_request(
        fetcher, token_url, connection, client_secret, form, {"Accept": "application/json"}
    )
    access_token = answer["access_token"]
    api = api_url(connection)
    status, user = await get_json(fetcher, api + "/user", access_token, API_HEADERS)
    if status != 200 or not isinstance(user, dict):
        raise UpstreamError("upstream-userinfo-invalid", f"{api}/user answered HTTP {status}.")
    user_id = user.get("id")
    if isinstance(user_id, bool) or not isinstance(user_id, int | str) or user_id in ("", None):
        raise UpstreamError("upstream-userinfo-invalid", f"{api}/user has no id.")
    status, emails = await get_json(fetcher, api + "/user/emails", access_token, API_HEADERS)
    # Without the user:email scope GitHub answers 404: no address, not a failure.
    email, verified = _primary_email(emails) if status == 200 else (None, False)
    claims = {
        "preferred_username": user.get("login"),
        "name": user.get("name"),
        "picture": user.get("avatar_url"),
        "profile": user.get("html_url"),
    }
    return UpstreamIdentity(
        connection_id=connection.connection_id,
        upstream_sub=str(user_id),
        email=email,
        email_verified=verified,
        claims={k: v for k, v in claims.items() if isinstance(v, str) and v},
    )
