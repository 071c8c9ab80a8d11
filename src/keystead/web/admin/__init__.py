"""The admin REST API under /admin/api: clients, APIs, users (and their second factors) and
signing keys.

Protected by keystead's own tokens (protocol/admin_auth.py: client_credentials, scope
keystead:admin, audience <issuer>/admin/api). One module per resource (clients.py, apis.py,
users.py, factors.py, keys.py); each endpoint parses the body with the pydantic models of
schema.py and calls the service that owns the operation (services/*: the same the CLI calls,
with its cache invalidation and audit event); each change is one store write, so a refused
request has written nothing. Bad input is a 422 whose ``errors`` list names each field (common.py).
Its routes are rows of the endpoint table (web/table.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keystead.web import render
from keystead.web.admin import schema


async def openapi_document(request: Request) -> Response:
    return render.json_response(schema.openapi(request.app.state.provider.settings))
