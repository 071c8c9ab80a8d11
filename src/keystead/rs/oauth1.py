"""Verify OAuth 1.0a-signed requests (RFC 5849) in an API, by asking keystead.

An API holds no consumer or token secrets, so ``OAuth1Verifier`` forwards what the signature
covers to keystead's ``POST /oauth1/verify`` with the API's own credentials (the api_id and
the secret of ``keystead api create --with-secret``): the method, the full URL the consumer
signed — the API's configured public base URL, the path and the query, never built from the
``Host`` header (RFC 5849 §3.4.1.2) — the ``Authorization`` header and a form body.
keystead checks the signature, the timestamp, the nonce (one replay cache with its own
/oauth1/userinfo: nothing is cached here, every request is asked about) and that the token
credentials are live. A refusal is an ``OAuth1Error`` with RFC 5849 §3.2's status to answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

VERIFY_PATH = "/oauth1/verify"
FORM = "application/x-www-form-urlencoded"


class OAuth1Error(Exception):
    """A signed request refused (RFC 5849 §3.2): ``status`` 400 or 401, ``problem`` the
    ``oauth_problem`` (Problem Reporting extension), ``advice`` what to fix."""

    def __init__(self, status: int, problem: str, advice: str, error_uri: str = "") -> None:
        super().__init__(f"{problem}: {advice}")
        self.status = status
        self.problem = problem
        self.advice = advice
        self.error_uri = error_uri

    def www_authenticate(self, realm: str = "api") -> str:
        """RFC 5849 §3.5.1 / RFC 2617 §1.2: the OAuth challenge of a 401."""
        realm = realm.replace('"', "")
        return f'OAuth realm="{realm}", oauth_problem="{self.problem.replace(chr(34), "")}"'

    def body(self) -> dict[str, str]:
        """The form-encoded body consumers parse (oauth_problem, oauth_problem_advice)."""
        body = {"oauth_problem": self.problem, "oauth_problem_advice": self.advice}
        if self.error_uri:
            body["error_uri"] = self.error_uri
        return body


@dataclass(frozen=True)
class OAuth1Info:
    """A verified request: the consumer (``client_id``), the approving user (``sub``), the
    approved scope and the user's claims the consumer was given."""

    client_id: str
    sub: str
    scope: frozenset[str]
    token_id: str = ""
    claims: dict[str, Any] = field(default_factory=dict)


class OAuth1Verifier:
    def __init__(
        self,
        issuer: str,
        public_base_url: str,
        *,
        api_id: str,
        api_secret: str,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        # The API's own name as its consumers address it: the base string URI (§3.4.1.2).
        self.public_base_url = public_base_url.rstrip("/")
        self._credentials = (api_id, api_secret)
        # Bounded timeouts: a slow issuer must not hang the API.
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(5.0))

    def url_of(self, path: str, query: str = "") -> str:
        """The URL a consumer signed for ``path`` and the raw ``query`` string."""
        return self.public_base_url + path + (f"?{query}" if query else "")

    async def verify(
        self, method: str, url: str, authorization: str | None, body: str = ""
    ) -> OAuth1Info:
        """``url`` in full (``url_of``); ``body`` the raw text of an
        ``application/x-www-form-urlencoded`` body (§3.4.1.3.1), "" for any other."""
        data = {"method": method, "url": url}
        if authorization:
            data["authorization"] = authorization
        if body:
            data["body"] = body
        response = await self._http.post(
            self.issuer + VERIFY_PATH, data=data, auth=self._credentials
        )
        response.raise_for_status()  # the API's own credentials wrong: its operator's matter
        answer = response.json()
        if not answer.get("active"):
            status = answer.get("status")
            raise OAuth1Error(
                status if status in (400, 401) else 401,  # RFC 5849 §3.2's two statuses
                str(answer.get("oauth_problem", "token_rejected")),
                str(answer.get("oauth_problem_advice", "The request is refused.")),
                str(answer.get("error_uri", "")),
            )
        return OAuth1Info(
            client_id=str(answer.get("client_id", "")),
            sub=str(answer.get("sub", "")),
            scope=frozenset(str(answer.get("scope", "")).split()),
            token_id=str(answer.get("token_id", "")),
            claims=dict(answer.get("claims") or {}),
        )

    async def aclose(self) -> None:
        await self._http.aclose()
