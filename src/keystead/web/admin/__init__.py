"""The admin REST API under /admin/api: clients, APIs, users and signing keys.

Protected by keystead's own tokens (protocol/admin_auth.py: client_credentials, scope
keystead:admin, audience <issuer>/admin/api). One module per resource (clients.py, apis.py,
users.py, keys.py); each endpoint parses the body with the pydantic models of schema.py and
calls the service that owns the operation (services/*: the same the CLI calls, with its cache
invalidation and audit event); each change is one store write, so a refused request has
written nothing. Bad input is a 422 whose ``errors`` list names each field (common.py).
``admin_routes()`` is the one list of the admin API's routes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.web import render
from keystead.web.admin import apis, clients, keys, schema, users


async def openapi_document(request: Request) -> Response:
    return render.json_response(schema.openapi(request.app.state.provider.settings))


def admin_routes() -> list[BaseRoute]:
    return [
        Mount(
            ADMIN_API_PATH,
            routes=[
                Route("/openapi.json", openapi_document, methods=["GET"]),
                Route("/clients", clients.clients, methods=["GET", "POST"]),
                Route(
                    "/clients/{client_id}",
                    clients.client_item,
                    methods=["GET", "PATCH", "DELETE"],
                ),
                Route("/clients/{client_id}/secret", clients.client_secret, methods=["POST"]),
                Route("/apis", apis.apis, methods=["GET", "POST"]),
                Route("/apis/{api_id}", apis.api_item, methods=["GET", "PATCH", "DELETE"]),
                Route("/users", users.users, methods=["GET", "POST"]),
                Route("/users/{sub}", users.user_item, methods=["GET", "PATCH", "DELETE"]),
                Route("/keys", keys.keys, methods=["GET", "POST"]),
                Route("/keys/rotate", keys.rotate, methods=["POST"]),
                Route("/keys/{kid}", keys.key_item, methods=["GET", "DELETE"]),
            ],
        )
    ]
