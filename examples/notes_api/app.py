"""The "second website": a tiny notes API that accepts keystead access tokens.

Run it against a keystead server:

    export KEYSTEAD_ISSUER=http://127.0.0.1:8000
    keystead api create --identifier https://notes.example.com \\
        --scope "notes:read=Read your notes" --scope "notes:write=Write notes" --json
    NOTES_AUDIENCE=https://notes.example.com uvicorn examples.notes_api.app:app --port 9100

For opaque tokens, give the API credentials (`--with-secret`) and set NOTES_API_ID and
NOTES_API_SECRET.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keystead.rs import Verifier, protected


def build_app(verifier: Verifier) -> Starlette:
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

    return Starlette(
        routes=[
            Route("/notes", list_notes, methods=["GET"]),
            Route("/notes", add_note, methods=["POST"]),
        ]
    )


def from_env() -> Starlette:
    return build_app(
        Verifier(
            os.environ.get("KEYSTEAD_ISSUER", "http://127.0.0.1:8000"),
            os.environ.get("NOTES_AUDIENCE", "https://notes.example.com"),
            api_id=os.environ.get("NOTES_API_ID"),
            api_secret=os.environ.get("NOTES_API_SECRET"),
        )
    )


app = from_env()
