"""The "second website": a tiny notes API that accepts keystead access tokens.

Run it against a keystead server:

    export KEYSTEAD_ISSUER=http://127.0.0.1:8000
    keystead api create --identifier https://notes.example.com \\
        --scope "notes:read=Read your notes" --scope "notes:write=Write notes" --json
    NOTES_AUDIENCE=https://notes.example.com uvicorn examples.notes_api.app:app --port 9100

For opaque tokens, give the API credentials (`--with-secret`) and set NOTES_API_ID and
NOTES_API_SECRET.

With those credentials it also accepts OAuth 1.0a-signed requests (RFC 5849) on
`GET /oauth1/notes`, verified by keystead (`keystead.rs.OAuth1Verifier`); set NOTES_PUBLIC_URL
to the API's own URL as consumers sign it (default http://127.0.0.1:9100).
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keystead.rs import OAuth1Verifier, Verifier, oauth1_protected, protected


def build_app(verifier: Verifier, oauth1: OAuth1Verifier | None = None) -> Starlette:
    notes: dict[str, list[str]] = {}

    @protected(verifier, ["notes:read"], realm="notes")
    async def list_notes(request: Request) -> Response:
        token = request.state.token
        return JSONResponse(
            {"sub": token.sub, "client_id": token.client_id, "notes": notes.get(token.sub, [])}
        )

    @protected(verifier, ["notes:write"], realm="notes")
    async def add_note(request: Request) -> Response:
        token = request.state.token
        body = await request.json()
        notes.setdefault(token.sub, []).append(str(body.get("text", ""))[:1000])
        return JSONResponse({"ok": True}, status_code=201)

    routes = [
        Route("/notes", list_notes, methods=["GET"]),
        Route("/notes", add_note, methods=["POST"]),
    ]
    if oauth1 is not None:

        @oauth1_protected(oauth1, realm="notes")
        async def list_notes_oauth1(request: Request) -> Response:
            signed = request.state.oauth1  # the consumer and the user keystead verified
            return JSONResponse(
                {
                    "sub": signed.sub,
                    "client_id": signed.client_id,
                    "name": signed.claims.get("name"),
                    "notes": notes.get(signed.sub, []),
                }
            )

        routes.append(Route("/oauth1/notes", list_notes_oauth1, methods=["GET", "POST"]))
    return Starlette(routes=routes)


def from_env() -> Starlette:
    issuer = os.environ.get("KEYSTEAD_ISSUER", "http://127.0.0.1:8000")
    api_id, api_secret = os.environ.get("NOTES_API_ID"), os.environ.get("NOTES_API_SECRET")
    oauth1 = None
    if api_id and api_secret:
        public_url = os.environ.get("NOTES_PUBLIC_URL", "http://127.0.0.1:9100")
        oauth1 = OAuth1Verifier(issuer, public_url, api_id=api_id, api_secret=api_secret)
    return build_app(
        Verifier(
            issuer,
            os.environ.get("NOTES_AUDIENCE", "https://notes.example.com"),
            api_id=api_id,
            api_secret=api_secret,
        ),
        oauth1,
    )


app = from_env()
