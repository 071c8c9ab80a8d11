"""Request bodies of the admin API (pydantic, ``extra="forbid"``) and its OpenAPI document.

The OpenAPI document is built from these models and one table of operations, so what it
describes is what the handlers in web/admin/ parse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from keystead.config import Settings
from keystead.protocol.admin_auth import ADMIN_API_PATH, ADMIN_SCOPE
from keystead.protocol.client_metadata import DESCRIPTIVE_METADATA
from keystead.services.factors import MAX_NAME, MAX_SECRET_TEXT
from keystead.services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from keystead.web.admin.client_schema import (
    CLIENT_LISTS,
    CLIENT_NULLABLE,
    ClientCreate,
    ClientUpdate,
)
from keystead.web.admin.client_schema import Body as _Body
from keystead.web.admin.connection_schema import (
    CONNECTION_NOT_NULL,
    ConnectionCreate,
    ConnectionUpdate,
)

USER_NOT_NULL = ("username", "password", "email_verified", "disabled")


SELF_SCOPES = (
    "Of the API's scopes, those a client registering itself (RFC 7591 /register, RFC 7592) "
    "may ask for; none by default."
)


RAR_TYPES = "RFC 9396: the authorization_details types this API accepts."


class ApiCreate(_Body):
    identifier: str = Field(description="Audience URI (RFC 8707 resource)")
    name: str = ""
    scopes: dict[str, str] = Field(default_factory=dict, description="scope name -> description")
    token_format: Literal["jwt", "opaque"] = "jwt"
    access_token_ttl: int = 3600
    with_secret: bool = Field(False, description="credentials of its own for introspection")
    self_registration_scopes: list[str] = Field(default_factory=list, description=SELF_SCOPES)
    authorization_details_types: list[str] = Field(default_factory=list, description=RAR_TYPES)


class ApiUpdate(_Body):
    name: str | None = None
    scopes: dict[str, str] | None = None
    token_format: Literal["jwt", "opaque"] | None = None
    access_token_ttl: int | None = None
    rotate_secret: bool = False
    self_registration_scopes: list[str] | None = Field(
        None, description=SELF_SCOPES + " Replaces the list; [] for none; absent keeps it."
    )
    authorization_details_types: list[str] | None = Field(
        None, description=RAR_TYPES + " Replaces the list; absent keeps it."
    )


class TrustedIssuerCreate(_Body):
    issuer: str = Field(description="The exact iss of its JWTs")
    jwks_uri: str | None = Field(None, description="Where its JWK Set is (or jwks)")
    jwks: dict[str, Any] | None = Field(None, description="Its public JWK Set (or jwks_uri)")
    subject_claim: str = "sub"
    subject_mapping: Literal["sub", "username", "email", "none"] = Field(
        "sub", description="How the JWT's subject maps to a local user"
    )
    verifies_email: bool = Field(False, description="email mapping: trust its emails")
    allowed_client_ids: list[str] = Field(
        default_factory=list, description="Clients that may present its JWTs; none if empty"
    )


class UserCreate(_Body):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=8, max_length=1024)
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict, description="other OIDC claims")


class UserUpdate(_Body):
    username: str | None = Field(None, min_length=1, max_length=128)
    password: str | None = Field(None, min_length=8, max_length=1024)
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    profile: dict[str, Any] | None = None
    disabled: bool | None = Field(
        None, description="true: no sign-in, sessions end, grants revoked; false: enable again"
    )


class Invitation(_Body):
    email: str = Field(
        min_length=1, max_length=254, description="Where the invitation link is sent (name@host)"
    )
    name: str | None = Field(None, max_length=200, description="The invitee's full name")
    username: str | None = Field(
        None, min_length=1, max_length=128, description="default: the email address"
    )


class TotpImport(_Body):
    secret: str = Field(
        min_length=1,
        max_length=MAX_SECRET_TEXT,
        description="The base32 TOTP secret the user's app already holds (SHA-1, 6 digits, "
        "30 s); spaces, lower case and padding are accepted.",
    )
    name: str | None = Field(
        None, max_length=MAX_NAME, description='The label the user sees; "Authenticator app"'
    )


class KeyCreate(_Body):
    alg: str = Field(description="RS256 | PS256 | ES256 | EdDSA")


class KeyRotate(_Body):
    algs: list[str] | None = Field(None, description="default: every alg")


MODELS: tuple[type[BaseModel], ...] = (
    ClientCreate,
    ClientUpdate,
    ApiCreate,
    ApiUpdate,
    UserCreate,
    UserUpdate,
    Invitation,
    TotpImport,
    KeyCreate,
    KeyRotate,
    TrustedIssuerCreate,
    ConnectionCreate,
    ConnectionUpdate,
)

# (method, path, summary, request model, success status, what the response is)
OPERATIONS: tuple[tuple[str, str, str, type[BaseModel] | None, int, str], ...] = (
    ("get", "/clients", "List clients", None, 200, "Page"),
    ("post", "/clients", "Create a client (client_secret shown once)", ClientCreate, 201, "Object"),
    ("get", "/clients/{client_id}", "Read a client", None, 200, "Object"),
    ("patch", "/clients/{client_id}", "Update a client", ClientUpdate, 200, "Object"),
    ("delete", "/clients/{client_id}", "Delete a client and its grants", None, 204, ""),
    ("post", "/clients/{client_id}/secret", "Rotate the client secret", None, 200, "Object"),
    ("get", "/apis", "List APIs", None, 200, "Page"),
    ("post", "/apis", "Create an API", ApiCreate, 201, "Object"),
    ("get", "/apis/{api_id}", "Read an API", None, 200, "Object"),
    ("patch", "/apis/{api_id}", "Update an API", ApiUpdate, 200, "Object"),
    ("delete", "/apis/{api_id}", "Delete an API", None, 204, ""),
    ("get", "/users", "List users", None, 200, "Page"),
    ("post", "/users", "Create a user", UserCreate, 201, "Object"),
    (
        "post",
        "/users/invitations",
        "Invite someone by email: the user is created without a usable password and the "
        "invitation mail with its single-use link is queued",
        Invitation,
        201,
        "Object",
    ),
    ("get", "/users/{sub}", "Read a user", None, 200, "Object"),
    ("patch", "/users/{sub}", "Update a user", UserUpdate, 200, "Object"),
    ("delete", "/users/{sub}", "Delete a user, their sessions and grants", None, 204, ""),
    ("get", "/users/{sub}/factors", "List a user's second factors", None, 200, "Object"),
    (
        "delete",
        "/users/{sub}/factors",
        "Remove every second factor and recovery code of a user (lost device)",
        None,
        200,
        "Object",
    ),
    (
        "put",
        "/users/{sub}/factors/totp",
        "Import a user's TOTP secret (one authenticator app per user)",
        TotpImport,
        201,
        "Object",
    ),
    ("get", "/users/{sub}/sessions", "List where a user is signed in", None, 200, "Object"),
    ("delete", "/users/{sub}/sessions", "Sign a user out everywhere", None, 200, "Object"),
    ("delete", "/users/{sub}/sessions/{sid}", "End one session of a user", None, 204, ""),
    (
        "get",
        "/users/{sub}/oauth1-tokens",
        "List the OAuth 1.0a token credentials a user approved",
        None,
        200,
        "Object",
    ),
    ("delete", "/oauth1-tokens/{token_id}", "Revoke an OAuth 1.0a token", None, 200, "Object"),
    ("get", "/keys", "List signing keys", None, 200, "Page"),
    ("post", "/keys", "Add the next key for one alg (rotation)", KeyCreate, 201, "Object"),
    ("post", "/keys/rotate", "Rotate the keys of some or every alg", KeyRotate, 200, "List"),
    ("get", "/keys/{kid}", "Read a key", None, 200, "Object"),
    ("delete", "/keys/{kid}", "Retire a key now (compromise)", None, 204, ""),
    ("get", "/trusted-issuers", "List trusted JWT issuers", None, 200, "Page"),
    ("post", "/trusted-issuers", "Trust a JWT issuer", TrustedIssuerCreate, 201, "Object"),
    ("get", "/trusted-issuers/{issuer_id}", "Read a trusted issuer", None, 200, "Object"),
    ("delete", "/trusted-issuers/{issuer_id}", "Stop trusting an issuer", None, 204, ""),
    ("get", "/connections", "List upstream identity providers", None, 200, "Page"),
    ("post", "/connections", "Add an upstream identity provider", ConnectionCreate, 201, "Object"),
    ("get", "/connections/{name}", "Read a connection", None, 200, "Object"),
    ("patch", "/connections/{name}", "Update a connection", ConnectionUpdate, 200, "Object"),
    ("delete", "/connections/{name}", "Delete a connection and its links", None, 204, ""),
)

# Longer words for an operation, by (path, success status).
NOTES = {
    ("/users/{sub}/sessions", 200): "GET: the user's live sessions, newest first (sid, "
    "created_at, last_active_at, auth_time, expires_at, device, user_agent, ip, amr). DELETE: "
    "ends them all; the response says how many (`ended`). The apps the user signed in to keep "
    "their tokens.",
    ("/users/invitations", 201): "409 when an account with the address exists. 422 (field "
    "email) for an address that is not one, and when this server has no mail configured "
    "(KEYSTEAD_SMTP_URL; a development server on a loopback http issuer logs the mail "
    "instead): the request cannot succeed until the configuration changes.",
}

_ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "error_uri": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "required": ["error", "error_description"],
}
_RESPONSES = {
    "Object": {"type": "object"},
    "List": {"type": "array", "items": {"type": "object"}},
    "Page": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
}


def _operation(
    path: str, summary: str, model: type[BaseModel] | None, status: int, kind: str
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "security": [{"keystead": [ADMIN_SCOPE]}]}
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("client_id", "api_id", "sub", "sid", "kid", "name")
        if "{" + name + "}" in path
    ]
    if kind == "Page":
        params += [
            {
                "name": "limit",
                "in": "query",
                "schema": {
                    "type": "integer",
                    "default": DEFAULT_LIMIT,
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                },
            },
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ]
    if params:
        op["parameters"] = params
    if model is not None:
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    if (path, status) in NOTES:
        op["description"] = NOTES[path, status]
    ok: dict[str, Any] = {"description": summary}
    if kind:
        ok["content"] = {"application/json": {"schema": _RESPONSES[kind]}}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op["responses"] = {
        str(status): ok,
        "401": {"description": "No valid access token", **error},
        "403": {"description": f"Not a client_credentials token with {ADMIN_SCOPE}", **error},
        "404": {"description": "No such resource", **error},
        "409": {"description": "Conflicts with the current state", **error},
        "422": {"description": "Invalid body or parameter, per field", **error},
    }
    return op


def _not_null(properties: dict[str, Any], names: Iterable[str]) -> None:
    """Drop the ``null`` alternative pydantic documents for an optional field that may be
    left out but not sent as null."""
    for name in names:
        prop = properties[name]
        kept = [alt for alt in prop.pop("anyOf", []) if alt != {"type": "null"}]
        if len(kept) == 1:
            prop.update(kept[0])
        elif kept:
            prop["anyOf"] = kept
        if prop.get("default", 0) is None:
            del prop["default"]


def openapi(settings: Settings) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, model, status, kind in OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(path, summary, model, status, kind)
    schemas: dict[str, Any] = {
        m.__name__: m.model_json_schema(ref_template="#/components/schemas/{model}") for m in MODELS
    }
    for name in ("ClientCreate", "ClientUpdate"):
        props = schemas[name]["properties"]
        may_be_null = CLIENT_NULLABLE | CLIENT_LISTS | set(DESCRIPTIVE_METADATA)
        _not_null(props, [p for p in props if p not in may_be_null])
    _not_null(schemas["UserUpdate"]["properties"], USER_NOT_NULL)
    _not_null(schemas["ConnectionUpdate"]["properties"], CONNECTION_NOT_NULL)
    schemas["Error"] = _ERROR
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "keystead admin API",
            "version": "1",
            "description": "Clients, APIs, users and signing keys. Call it with an access token "
            f"from grant_type=client_credentials with scope {ADMIN_SCOPE}.",
        },
        "servers": [{"url": settings.url(ADMIN_API_PATH)}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "keystead": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": settings.url("/token"),
                            "scopes": {ADMIN_SCOPE: "Administer keystead"},
                        }
                    },
                }
            },
        },
    }
