"""``POST /oauth1/verify``: an API asks keystead about an OAuth 1.0a-signed request it
received (oauth1/api.py). parse -> oauth1.api -> render.

The answer is JSON, 200 for a verified request and for a refused one alike (``active``
says which; a refusal carries RFC 5849 §3.2's ``status`` and the ``oauth_problem`` for the
API to forward). An error of the API's own call — no or wrong API credentials, a client
instead of an API, a malformed description — is an ordinary JSON error with its status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.oauth1 import api
from keystead.web import render
from keystead.web.parse import oauth_request

if TYPE_CHECKING:
    from keystead.provider import Provider

PATH = api.PATH


async def verify(request: Request) -> Response:
    async def respond() -> Response:
        provider: Provider = request.app.state.provider
        outcome = await api.verify_for_api(await oauth_request(request, body=True), provider)
        body: dict[str, Any]
        if outcome.resource is not None:
            r = outcome.resource
            body = {
                "active": True,
                "client_id": r.client_id,
                "sub": r.sub,
                "scope": r.scope,
                "token_id": r.token_id,
                "claims": r.claims,
            }
        else:
            err = outcome.refusal
            assert err is not None
            body = {
                "active": False,
                "status": err.status,  # RFC 5849 §3.2: 400 or 401, for the API to answer
                "oauth_problem": err.error,
                "oauth_problem_advice": err.description,
                "error_uri": render.errors_base_url(provider.settings) + err.catalog_id,
            }
        return render.json_response(body, headers=render.NO_STORE)

    return await render.guarded(request, respond, kind="json")
