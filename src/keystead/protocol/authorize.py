"""Validate an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1).

An ordered list of small checks. The order matters and is visible here: the client and its
redirect_uri are established first, and until then an error is shown on an error page, never
redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.11). Every error after that point travels back to
the client in the request's response mode.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.errors import OAuthError, RedirectTarget
from keystead.protocol import fapi, jarm, pkce, rar, redirect_uris, scopes
from keystead.protocol.authorization_request import AuthorizationRequest, build
from keystead.protocol.claims import parse_claims_request
from keystead.protocol.id_token import hint_subject
from keystead.protocol.request import OAuthRequest
from keystead.protocol.resources import check_resource
from keystead.protocol.response import RESPONSE_MODES, default_response_mode
from keystead.protocol.response_types import RESPONSE_TYPES, normalize_response_type
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

PROMPT_VALUES = ("none", "login", "consent", "select_account")
PROMPT_CREATE = "create"  # OpenID Connect Prompt Create 1.0: only with KEYSTEAD_SIGNUP


def prompt_values(signup: bool) -> tuple[str, ...]:
    return (*PROMPT_VALUES, PROMPT_CREATE) if signup else PROMPT_VALUES


DISPLAY_VALUES = ("page", "popup", "touch", "wap")  # OIDC Core §3.1.2.1
_MAX_AGE = re.compile(r"[0-9]{1,10}")


@dataclass
class _Ctx:
    req: OAuthRequest
    provider: Provider
    client: Client | None = None
    redirect_uri: str | None = None
    response_type: str | None = None
    response_mode: str | None = None
    scope: tuple[str, ...] = ()
    prompt: frozenset[str] = field(default_factory=frozenset)
    max_age: int | None = None
    resources: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)
    hint_sub: str | None = None


async def check_client(ctx: _Ctx) -> None:
    ctx.req.refuse_duplicates(("client_id", "redirect_uri"))
    client_id = ctx.req.require("client_id")
    client = await ctx.provider.get_client(client_id)
    if client is None:
        raise OAuthError(
            "authorize-client-unknown",
            f"No client is registered with client_id {client_id}.",
        )
    ctx.client = client


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _describe_mismatch(uri: str, registered: tuple[str, ...]) -> str:
    """Say how the URI differs from the closest registered one (origins only are disclosed)."""
    if not registered:
        return "The client has no registered redirect URIs."
    hint = f"Registered redirect URIs are on {', '.join(sorted({_origin(r) for r in registered}))}."
    try:
        sent = urlsplit(uri)
        sent_port = sent.port
    except ValueError:
        return hint + " The redirect_uri sent is not a valid URI."
    wanted = [urlsplit(r) for r in registered]
    same_origin = [w for w in wanted if (w.scheme, w.netloc) == (sent.scheme, sent.netloc)]
    for want in same_origin:
        if want.path.rstrip("/") == sent.path.rstrip("/") and want.path != sent.path:
            return hint + " The path differs only by a trailing slash."
    for want in same_origin:
        if want.path == sent.path:
            return hint + " The path matches; the query differs."
    if same_origin:
        return hint + " The origin matches; the path differs."
    for want in wanted:
        if want.netloc.lower() == sent.netloc.lower():
            if want.scheme != sent.scheme:
                return hint + f" The scheme differs ({sent.scheme} instead of {want.scheme})."
            return hint + " The host differs only in letter case; matching is exact."
        if want.hostname == sent.hostname:
            if want.scheme != sent.scheme:
                return hint + f" The scheme differs ({sent.scheme} instead of {want.scheme})."
            if want.port != sent_port:
                return hint + " The port differs."
    return hint


def check_redirect_uri(ctx: _Ctx) -> None:
    assert ctx.client is not None
    uri = ctx.req.get("redirect_uri")
    if uri is None:
        raise OAuthError(
            "redirect-uri-missing",
            "redirect_uri is required (OIDC Core §3.1.2.1); send one of the client's "
            "registered redirect URIs.",
        )
    # RFC 9700 §2.1 / §4.1.3: exact string matching, no patterns; RFC 8252 §7.3: a native
    # app's loopback IP redirect on any port (the rule table is protocol/redirect_uris.py).
    client = ctx.client
    if not redirect_uris.is_registered(uri, client.redirect_uris, client.application_type):
        raise OAuthError(
            "redirect-uri-mismatch",
            "redirect_uri is not registered for this client. "
            + _describe_mismatch(uri, client.redirect_uris)
            + redirect_uris.mismatch_hint(uri, client.application_type),
        )
    ctx.redirect_uri = uri


def check_duplicates(ctx: _Ctx) -> None:
    ctx.req.refuse_duplicates(ctx.req.duplicated)


def _registered(client: Client, response_type: str) -> bool:
    """Whether the client registered ``response_type`` (normalized), in any order of its
    parts (RFC 6749 §3.1.1); a value registered as sent is found without normalizing."""
    values = client.response_types
    return response_type in values or response_type in {normalize_response_type(r) for r in values}


def check_response_type(ctx: _Ctx) -> None:
    assert ctx.client is not None
    raw = ctx.req.require("response_type")
    response_type = normalize_response_type(raw)
    registered = _registered(ctx.client, response_type)
    if response_type not in RESPONSE_TYPES:
        supported = ", ".join(sorted(RESPONSE_TYPES))
        what = "registered for this client but " if registered else ""
        raise OAuthError(
            "response-type-unsupported",
            f"response_type {raw} is {what}not supported by this server; supported: {supported}.",
        )
    if not registered:
        raise OAuthError(
            "response-type-not-allowed",
            f"This client is not registered for response_type {raw}; its response types are: "
            f"{', '.join(ctx.client.response_types) or 'none'}.",
        )
    ctx.response_type = response_type


def check_response_mode(ctx: _Ctx) -> None:
    assert ctx.response_type is not None
    mode = ctx.req.get("response_mode")
    if mode is None:
        return
    if mode not in RESPONSE_MODES:
        raise OAuthError(
            "response-mode-unsupported",
            f"response_mode {mode} is not supported; use one of {', '.join(RESPONSE_MODES)}.",
        )
    mode = jarm.explicit(mode, ctx.response_type)  # JARM §2.3.4
    # Multiple Response Types §2.1: never query for responses that carry tokens (JARM §2.3.1:
    # nor query.jwt, as keystead does not encrypt responses).
    if mode in ("query", "query.jwt") and default_response_mode(ctx.response_type) != "query":
        raise OAuthError(
            "response-mode-unsupported",
            f"response_mode=query is not allowed with response_type {ctx.response_type}, "
            "because tokens must not appear in a query string; use fragment or form_post.",
        )
    ctx.response_mode = mode


def check_request_objects(ctx: _Ctx) -> None:
    if ctx.req.get("request") is not None:
        raise OAuthError(
            "request-object-unsupported",
            "The request parameter (request objects) is not supported; send the parameters "
            "in the query string.",
        )
    if ctx.req.get("request_uri") is not None:
        raise OAuthError(
            "request-uri-unsupported",
            "The request_uri parameter is not supported; send the parameters in the query string.",
        )


def check_scope(ctx: _Ctx) -> None:
    assert ctx.client is not None
    requested = scopes.parse(ctx.req.get("scope"))
    for token in requested:
        if not scopes.is_valid_token(token):
            raise OAuthError(
                "request-invalid-parameter",
                "scope contains characters RFC 6749 §3.3 does not allow.",
            )
    # Reserved keystead:* scopes are for client_credentials only: a user can never grant them.
    granted = tuple(
        s for s in scopes.allowed(requested, ctx.client.scope) if not scopes.is_reserved(s)
    )
    if requested and not granted:
        raise OAuthError(
            "scope-invalid",
            f"None of the requested scopes ({' '.join(requested)}) may be granted to this "
            f"client; it may request: {ctx.client.scope or 'nothing'}.",
        )
    ctx.scope = granted


async def check_resources(ctx: _Ctx) -> None:
    index = await ctx.provider.apis()
    values = ctx.req.get_all("resource")
    for value in values:
        check_resource(value, index)  # RFC 8707 §2: invalid_target for unknown ones
    ctx.resources = tuple(dict.fromkeys(values))


def check_pkce(ctx: _Ctx) -> None:
    assert ctx.client is not None
    assert ctx.response_type is not None
    if "code" not in ctx.response_type.split():
        return  # no code, nothing for PKCE to bind (implicit-style responses)
    # RFC 9700 §2.1.1: PKCE required; public clients can never be exempted.
    required = ctx.client.require_pkce or ctx.client.is_public
    pkce.check_challenge(
        ctx.req.get("code_challenge"), ctx.req.get("code_challenge_method"), required
    )


def check_fapi(ctx: _Ctx) -> None:
    assert ctx.client is not None and ctx.response_type is not None
    get = ctx.req.get  # FAPI 2.0 client profile: protocol/fapi.py
    mode, challenge = ctx.response_mode, get("code_challenge")
    fapi.check_request(ctx.client, ctx.response_type, mode, challenge, get("code_challenge_method"))


def check_prompt(ctx: _Ctx) -> None:
    values = frozenset((ctx.req.get("prompt") or "").split())
    supported = prompt_values(ctx.provider.settings.signup)
    unknown = values.difference(supported)
    if unknown:
        # Prompt Create 1.0 §4.1: an unsupported value is invalid_request.
        raise OAuthError(
            "prompt-invalid",
            f"prompt value {sorted(unknown)[0]} is unknown here; use {', '.join(supported)}"
            + ("" if ctx.provider.settings.signup else " (create needs KEYSTEAD_SIGNUP=true)")
            + ".",
        )
    # OIDC Core §3.1.2.1: none must not be combined with any other value.
    if "none" in values and len(values) > 1:
        raise OAuthError(
            "prompt-invalid", "prompt=none cannot be combined with other prompt values."
        )
    ctx.prompt = values


def check_max_age(ctx: _Ctx) -> None:
    raw = ctx.req.get("max_age")
    if raw is None:
        return
    if not _MAX_AGE.fullmatch(raw):
        raise OAuthError(
            "request-invalid-parameter",
            "max_age must be a non-negative integer number of seconds (at most 10 digits).",
        )
    ctx.max_age = int(raw)


def check_openid_parameters(ctx: _Ctx) -> None:
    """OIDC Core §3.2.2.1, §3.3.2.11: responses with an ID token need openid and a nonce."""
    assert ctx.response_type is not None
    if "id_token" not in ctx.response_type.split():
        return
    if "openid" not in ctx.scope:
        raise OAuthError(
            "openid-required",
            f"response_type {ctx.response_type} returns an ID token, so scope must include openid.",
        )
    if ctx.req.get("nonce") is None:
        raise OAuthError(
            "nonce-required",
            f"nonce is required with response_type {ctx.response_type} (OIDC Core §3.2.2.1): "
            "send a fresh random value and check it in the ID token.",
        )


def check_display(ctx: _Ctx) -> None:
    display = ctx.req.get("display")
    if display is not None and display not in DISPLAY_VALUES:
        raise OAuthError(
            "request-invalid-parameter",
            f"display {display} is unknown; use one of {', '.join(DISPLAY_VALUES)}.",
        )


def check_claims(ctx: _Ctx) -> None:
    ctx.claims = parse_claims_request(ctx.req.get("claims"))


async def check_authorization_details(ctx: _Ctx) -> None:
    # RFC 9396 §2: kept next to the claims request, so it travels with the grant.
    raw = ctx.req.get(rar.PARAMETER)
    if raw is not None:
        registered = rar.types_of((await ctx.provider.apis()).by_id.values())
        ctx.claims = {**ctx.claims, rar.PARAMETER: rar.parse(raw, registered)}


async def check_id_token_hint(ctx: _Ctx) -> None:
    hint = ctx.req.get("id_token_hint")
    if hint is not None:
        ctx.hint_sub = await hint_subject(ctx.provider, hint)


# A check reads the request (a plain function) or also the store or the keys (a coroutine).
Check = Callable[[_Ctx], Awaitable[None] | None]

# Until REDIRECT_TRUSTED_AFTER checks have passed, errors are shown on a page.
CHECKS: tuple[Check, ...] = (
    check_client,
    check_redirect_uri,
    check_response_type,
    check_response_mode,
    check_duplicates,
    check_request_objects,
    check_scope,
    check_resources,
    check_pkce,
    check_fapi,
    check_prompt,
    check_max_age,
    check_openid_parameters,
    check_display,
    check_claims,
    check_authorization_details,
    check_id_token_hint,
)
REDIRECT_TRUSTED_AFTER = 2


def _error_response_mode(req: OAuthRequest) -> str:
    """Errors travel in the mode a success would have used (Multiple Response Types §5)."""
    default = default_response_mode(normalize_response_type(req.get("response_type") or "code"))
    requested = req.get("response_mode")
    if requested in RESPONSE_MODES:
        response_type = normalize_response_type(req.get("response_type") or "code")
        requested = jarm.explicit(requested, response_type)
        if not (requested in ("query", "query.jwt") and default != "query"):
            return requested
    return default


async def validate(req: OAuthRequest, provider: Provider) -> AuthorizationRequest:
    ctx = _Ctx(req, provider)
    for index, check in enumerate(CHECKS):
        try:
            pending = check(ctx)
            if pending is not None:
                await pending
        except OAuthError as err:
            if index >= REDIRECT_TRUSTED_AFTER and ctx.redirect_uri is not None:
                mode = ctx.response_mode or _error_response_mode(req)
                client_id = ctx.client.client_id if ctx.client else None
                err.redirect = RedirectTarget(ctx.redirect_uri, mode, req.get("state"), client_id)
            raise
    assert ctx.client and ctx.redirect_uri and ctx.response_type
    return build(
        req,
        ctx.client,
        redirect_uri=ctx.redirect_uri,
        response_type=ctx.response_type,
        response_mode=ctx.response_mode or default_response_mode(ctx.response_type),
        scope=ctx.scope,
        prompt=ctx.prompt,
        max_age=ctx.max_age,
        resources=ctx.resources,
        claims=ctx.claims,
        hint_sub=ctx.hint_sub,
    )
