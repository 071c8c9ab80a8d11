"""The one error type and the error catalog.

Every error keystead returns is raised as ``OAuthError(catalog_id, description)``. The catalog
entry fixes the RFC error code and HTTP status; the description says precisely what was wrong
in this request and how to fix it. Errors never render themselves: ``web/render.py`` decides
how an error travels (JSON, redirect in the response mode, HTML page, WWW-Authenticate).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

GENERIC_USER_MESSAGE = (
    "The application sent a sign-in request that cannot be processed.",
    "Go back to the application and try again. If this keeps happening, contact the "
    "application's owner and mention the correlation id below.",
)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One error keystead can return: the RFC code and status it maps to, what a developer
    reads (title, causes, fixes) and, for errors shown to a person, plain words."""

    id: str
    error: str  # the RFC error code
    status: int
    title: str
    causes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    user_message: tuple[str, str] = GENERIC_USER_MESSAGE  # (what happened, what to do)


def _e(
    id: str,
    error: str,
    status: int,
    title: str,
    causes: tuple[str, ...],
    fixes: tuple[str, ...],
    user: tuple[str, str] = GENERIC_USER_MESSAGE,
) -> CatalogEntry:
    return CatalogEntry(id, error, status, title, causes, fixes, user)


_ENTRIES = (
    # --- malformed requests (RFC 6749 §4.1.2.1, §5.2) ---
    _e(
        "request-duplicate-parameter",
        "invalid_request",
        400,
        "A parameter was sent twice",
        ("The client library or your code appends a parameter that is already present.",),
        ("Send each OAuth parameter exactly once (RFC 6749 §3.1).",),
    ),
    _e(
        "request-missing-parameter",
        "invalid_request",
        400,
        "A required parameter is missing",
        ("The request omits a parameter the flow requires.",),
        ("Add the parameter named in error_description.",),
    ),
    _e(
        "request-invalid-parameter",
        "invalid_request",
        400,
        "A parameter has an invalid value",
        ("A parameter value is malformed or not one of the allowed values.",),
        ("Correct the parameter named in error_description.",),
    ),
    _e(
        "request-content-type",
        "invalid_request",
        400,
        "Wrong request content type",
        ("The body was not sent as application/x-www-form-urlencoded.",),
        ("Send token endpoint requests as an HTML form body (RFC 6749 §4.1.3).",),
    ),
    _e(
        "request-object-unsupported",
        "request_not_supported",
        400,
        "Request objects are not supported",
        ("The request carries a request parameter (JAR).",),
        ("Send the authorization parameters as plain query parameters.",),
    ),
    _e(
        "request-uri-unsupported",
        "request_uri_not_supported",
        400,
        "request_uri is not supported",
        ("The request carries a request_uri parameter (PAR/JAR by reference).",),
        ("Send the authorization parameters as plain query parameters.",),
    ),
    _e(
        "method-not-allowed",
        "invalid_request",
        405,
        "HTTP method not allowed",
        ("The endpoint was called with an HTTP method it does not accept.",),
        ("Use the method listed in the Allow header.",),
    ),
    # --- authorization endpoint: before the redirect URI is trusted (error page) ---
    _e(
        "authorize-client-unknown",
        "invalid_request",
        400,
        "Unknown client",
        ("client_id is misspelled, or the client was deleted or registered on another server.",),
        ("Use the client_id printed by `keystead client create` (see `keystead client list`).",),
        (
            "The application you came from is not registered here.",
            "Go back to the application and tell its owner; there is nothing you can fix yourself.",
        ),
    ),
    _e(
        "redirect-uri-missing",
        "invalid_request",
        400,
        "redirect_uri is missing",
        ("The authorization request does not name a redirect_uri.",),
        ("Send redirect_uri, exactly as registered for the client.",),
    ),
    _e(
        "redirect-uri-mismatch",
        "invalid_request",
        400,
        "redirect_uri is not registered",
        (
            "The redirect_uri differs from every registered one: scheme, host, port, path, "
            "trailing slash or query.",
        ),
        (
            "Register the exact URI (`keystead client create --redirect-uri ...`) or send one "
            "of the registered URIs byte for byte (RFC 9700 §2.1: exact matching).",
        ),
        (
            "The application asked to send you back to an address it has not registered.",
            "For your safety you were not sent there. Tell the application's owner; "
            "there is nothing you can fix yourself.",
        ),
    ),
    # --- authorization endpoint: redirected back to the client ---
    _e(
        "response-type-unsupported",
        "unsupported_response_type",
        400,
        "response_type not supported",
        ("The response_type is unknown or not implemented by this server.",),
        ("Use a response_type listed in response_types_supported in discovery.",),
    ),
    _e(
        "response-type-not-allowed",
        "unauthorized_client",
        400,
        "response_type not allowed for this client",
        ("The client is not registered for this response_type.",),
        ("Register it with --response-type, or use one of the client's response types.",),
    ),
    _e(
        "response-mode-unsupported",
        "invalid_request",
        400,
        "response_mode not supported",
        ("The response_mode is unknown or not allowed with this response_type.",),
        ("Use one of response_modes_supported in discovery.",),
    ),
    _e(
        "pkce-required",
        "invalid_request",
        400,
        "PKCE is required",
        ("The request has no code_challenge; keystead requires PKCE (RFC 9700 §2.1.1).",),
        (
            "Send code_challenge=BASE64URL(SHA256(code_verifier)) and "
            "code_challenge_method=S256; most client libraries have a PKCE switch.",
        ),
    ),
    _e(
        "pkce-method-unsupported",
        "invalid_request",
        400,
        "code_challenge_method not supported",
        ("code_challenge_method is plain or missing (it defaults to plain).",),
        ("Send code_challenge_method=S256.",),
    ),
    _e(
        "scope-invalid",
        "invalid_scope",
        400,
        "No usable scope",
        ("None of the requested scopes may be granted to this client.",),
        ("Request scopes the client is registered for (`keystead client show`).",),
    ),
    _e(
        "prompt-invalid",
        "invalid_request",
        400,
        "Invalid prompt",
        ("prompt=none was combined with another value, or an unknown value was sent.",),
        ("Send prompt=none alone, or any of login, consent, select_account.",),
    ),
    _e(
        "login-required",
        "login_required",
        400,
        "The user must log in",
        ("prompt=none was sent but the user has no valid session.",),
        ("Retry without prompt=none so the user can log in.",),
    ),
    _e(
        "consent-required",
        "consent_required",
        400,
        "The user must consent",
        ("prompt=none was sent but the user has not approved these scopes for this client.",),
        ("Retry without prompt=none so the user sees the consent page.",),
    ),
    _e(
        "access-denied",
        "access_denied",
        400,
        "The user denied the request",
        ("The user pressed Deny on the consent page.",),
        ("Nothing to fix: show the user a way to try again.",),
    ),
    # --- OpenID Connect request parameters (OIDC Core §3) ---
    _e(
        "nonce-required",
        "invalid_request",
        400,
        "nonce is required",
        (
            "The response type returns an ID token from the authorization endpoint, and the "
            "request has no nonce.",
        ),
        (
            "Send nonce= with a fresh random value and compare it with the ID token's nonce "
            "(OIDC Core §3.2.2.1).",
        ),
    ),
    _e(
        "openid-required",
        "invalid_request",
        400,
        "scope openid is required",
        ("The response type returns an ID token but scope does not include openid.",),
        ("Add openid to scope.",),
    ),
    _e(
        "claims-malformed",
        "invalid_request",
        400,
        "Malformed claims parameter",
        ("The claims parameter is not the JSON object OIDC Core §5.5 defines.",),
        (
            'Send {"userinfo": {"name": null}, "id_token": {"auth_time": '
            '{"essential": true}}}-style JSON, URL-encoded.',
        ),
    ),
    _e(
        "id-token-hint-invalid",
        "invalid_request",
        400,
        "Invalid id_token_hint",
        (
            "id_token_hint is not an ID token this server signed (wrong issuer, unknown key, "
            "or altered).",
        ),
        ("Send an ID token keystead issued to your client (expired ones are fine).",),
    ),
    # --- RP-Initiated Logout ---
    _e(
        "logout-client-mismatch",
        "invalid_request",
        400,
        "Unknown or inconsistent client",
        ("client_id is unknown, or differs from the audience of id_token_hint.",),
        ("Send the client_id the ID token was issued to, or leave client_id out.",),
        (
            "The application asked to sign you out in a way we cannot verify.",
            "You may still be signed in. Close the browser to end your session.",
        ),
    ),
    _e(
        "logout-redirect-uri-invalid",
        "invalid_request",
        400,
        "post_logout_redirect_uri not allowed",
        ("post_logout_redirect_uri is not registered for the client, or no client was named.",),
        ("Register it (`--post-logout-redirect-uri`) and send client_id or id_token_hint.",),
        (
            "The application asked to send you to an address it has not registered.",
            "For your safety you were not sent there.",
        ),
    ),
    # --- token endpoint ---
    _e(
        "grant-type-unsupported",
        "unsupported_grant_type",
        400,
        "grant_type not supported",
        ("grant_type is unknown or not implemented.",),
        ("Use a grant type listed in grant_types_supported in discovery.",),
    ),
    _e(
        "grant-type-not-allowed",
        "unauthorized_client",
        400,
        "grant_type not allowed",
        ("The client is not registered for this grant type.",),
        ("Register the grant type with --grant-type.",),
    ),
    _e(
        "client-auth-missing",
        "invalid_client",
        401,
        "No client authentication",
        ("The request has neither an Authorization: Basic header nor client_id.",),
        ("Authenticate as the client with the method it is registered for.",),
    ),
    _e(
        "client-auth-multiple",
        "invalid_request",
        400,
        "More than one client auth method",
        ("The request authenticates with both HTTP Basic and client_secret in the body.",),
        ("Use exactly one method (RFC 6749 §2.3).",),
    ),
    _e(
        "client-auth-malformed",
        "invalid_client",
        401,
        "Malformed client authentication",
        ("The Authorization header is not valid HTTP Basic.",),
        ("Send Basic base64(urlencode(client_id) ':' urlencode(client_secret)).",),
    ),
    _e(
        "client-unknown",
        "invalid_client",
        401,
        "Client authentication failed",
        ("client_id is unknown to this server.",),
        ("Check the client_id; `keystead client list` shows the registered ones.",),
    ),
    _e(
        "client-auth-method-mismatch",
        "invalid_client",
        401,
        "Wrong client authentication method",
        ("The client authenticated with another method than it is registered for.",),
        ("Use the registered token_endpoint_auth_method (`keystead client show`).",),
    ),
    _e(
        "client-secret-invalid",
        "invalid_client",
        401,
        "Client authentication failed",
        ("The client secret is wrong, or was rotated.",),
        ("Use the secret printed when the client was created.",),
    ),
    _e(
        "code-unknown",
        "invalid_grant",
        400,
        "Unknown authorization code",
        ("The code is mistyped, truncated, or from another server.",),
        ("Send the code exactly as received on the redirect URI.",),
    ),
    _e(
        "code-expired",
        "invalid_grant",
        400,
        "Authorization code expired",
        ("The code was redeemed too late (codes live at most 60 seconds by default).",),
        ("Redeem the code immediately after the redirect.",),
    ),
    _e(
        "code-replayed",
        "invalid_grant",
        400,
        "Authorization code already used",
        ("The code was redeemed before: a retry, a double submit, or an attacker.",),
        (
            "Redeem each code once; tokens from the first redemption were revoked "
            "(RFC 6749 §4.1.2).",
        ),
    ),
    _e(
        "code-client-mismatch",
        "invalid_grant",
        400,
        "Code issued to another client",
        ("The code was issued to a different client_id.",),
        ("Redeem the code with the client that started the authorization.",),
    ),
    _e(
        "code-redirect-uri-mismatch",
        "invalid_grant",
        400,
        "redirect_uri differs",
        ("The token request's redirect_uri is not identical to the authorization request's.",),
        ("Send the same redirect_uri as in the authorization request (RFC 6749 §4.1.3).",),
    ),
    _e(
        "pkce-verifier-missing",
        "invalid_grant",
        400,
        "code_verifier is missing",
        ("The code was issued with a code_challenge, but no code_verifier was sent.",),
        ("Send the code_verifier that produced the code_challenge.",),
    ),
    _e(
        "pkce-verifier-mismatch",
        "invalid_grant",
        400,
        "code_verifier does not match",
        ("SHA-256 of the code_verifier does not equal the code_challenge.",),
        ("Send the verifier generated for this authorization request.",),
    ),
    _e(
        "pkce-downgrade",
        "invalid_grant",
        400,
        "Unexpected code_verifier",
        (
            "A code_verifier was sent for a code issued without a code_challenge "
            "(a PKCE downgrade attempt, RFC 9700 §2.1.1).",
        ),
        ("Send code_challenge in the authorization request, or no code_verifier.",),
    ),
    # --- APIs and resource indicators (RFC 8707) ---
    _e(
        "resource-invalid",
        "invalid_target",
        400,
        "Malformed resource",
        ("resource is not an absolute URI, or it has a fragment.",),
        ("Send the API's identifier exactly as registered (`keystead api list`).",),
    ),
    _e(
        "resource-unknown",
        "invalid_target",
        400,
        "Unknown resource",
        ("resource names no registered API.",),
        ("Register the API (`keystead api create --identifier ...`) or fix the URI.",),
    ),
    _e(
        "resource-not-granted",
        "invalid_target",
        400,
        "Resource not in the authorization",
        ("The token request names a resource the authorization request did not.",),
        ("Add it as resource= to the authorization request, or pick one it named.",),
    ),
    _e(
        "resource-ambiguous",
        "invalid_target",
        400,
        "Which API is this token for?",
        ("The authorization named several resources, or the scopes belong to several APIs.",),
        ("Send resource= with one API identifier: an access token is for one API.",),
    ),
    # --- refresh tokens (RFC 6749 §6, RFC 9700 §4.14) ---
    _e(
        "refresh-unknown",
        "invalid_grant",
        400,
        "Unknown refresh token",
        ("The refresh token is mistyped, truncated, or from another server.",),
        ("Send the refresh token exactly as received.",),
    ),
    _e(
        "refresh-client-mismatch",
        "invalid_grant",
        400,
        "Refresh token of another client",
        ("The refresh token was issued to a different client_id.",),
        ("Use the refresh token with the client it was issued to.",),
    ),
    _e(
        "refresh-revoked",
        "invalid_grant",
        400,
        "Refresh token revoked",
        ("The grant was revoked: by the user, by revocation, or after a detected reuse.",),
        ("Send the user through the authorization flow again.",),
    ),
    _e(
        "refresh-expired",
        "invalid_grant",
        400,
        "Refresh token expired",
        (
            "The refresh token was unused for longer than the idle lifetime, or the grant "
            "reached its absolute lifetime.",
        ),
        ("Send the user through the authorization flow again.",),
    ),
    _e(
        "refresh-reused",
        "invalid_grant",
        400,
        "Refresh token reused",
        (
            "A refresh token was used again after it had been rotated: a stolen token, or a "
            "client that does not store the new refresh token of each response.",
        ),
        (
            "Store the refresh_token of every token response and use only the newest; the whole "
            "grant was revoked (RFC 9700 §4.14), so sign the user in again.",
        ),
    ),
    _e(
        "scope-wider",
        "invalid_scope",
        400,
        "Scope wider than granted",
        ("The request asks for scopes that were not granted.",),
        ("Request a subset of the granted scope (RFC 6749 §6), or authorize again.",),
    ),
    # --- client credentials, revocation, introspection ---
    _e(
        "client-credentials-public",
        "unauthorized_client",
        400,
        "client_credentials needs a confidential client",
        ("A public client (no secret) asked for client_credentials.",),
        ("Create a confidential client for machine-to-machine calls.",),
    ),
    _e(
        "client-credentials-no-api",
        "invalid_target",
        400,
        "No API for this token",
        ("client_credentials tokens are for an API, and none follows from the request.",),
        (
            "Send resource= or a scope of an API the client may request, or give the client a "
            "default API.",
        ),
    ),
    _e(
        "token-not-yours",
        "unauthorized_client",
        400,
        "Token of another client",
        ("The token being revoked was issued to a different client.",),
        ("A client can revoke only its own tokens (RFC 7009 §2.1).",),
    ),
    # --- browsers calling from another origin (CORS) ---
    _e(
        "origin-not-allowed",
        "invalid_request",
        400,
        "Origin not allowed for this client",
        (
            "A browser called the token, UserInfo or revocation endpoint from an origin that "
            "is neither the origin of one of the client's redirect URIs nor one of its "
            "allowed_origins; the request was refused before it had any effect.",
        ),
        (
            "Call from the origin the client redirects to, or register the calling origin "
            "with `keystead client create --allowed-origin https://app.example.com`.",
        ),
    ),
    _e(
        "caller-unauthenticated",
        "invalid_client",
        401,
        "Authentication required",
        (
            "Introspection needs an authenticated client or API; none was presented or the "
            "credentials are wrong.",
        ),
        (
            "Authenticate with HTTP Basic as a confidential client or with the API's "
            "api_id and api_secret (RFC 7662 §2.1).",
        ),
    ),
    # --- protected resources (RFC 6750) ---
    _e(
        "token-missing",
        "invalid_request",
        401,
        "No access token",
        ("The request has no Authorization: Bearer header.",),
        ("Send Authorization: Bearer <access_token>.",),
    ),
    _e(
        "token-invalid",
        "invalid_token",
        401,
        "Invalid access token",
        ("The access token is unknown, expired or revoked.",),
        ("Obtain a new access token.",),
    ),
    _e(
        "token-insufficient-scope",
        "insufficient_scope",
        403,
        "Insufficient scope",
        ("The access token lacks a scope this endpoint needs.",),
        ("Request the scope named in error_description.",),
    ),
    # --- login / consent pages ---
    _e(
        "interaction-invalid",
        "invalid_request",
        400,
        "This sign-in page expired",
        ("The sign-in page was open too long, was tampered with, or the cookie was lost.",),
        ("Go back to the application and start signing in again.",),
        (
            "This sign-in page is no longer valid.",
            "Go back to the application and start signing in again.",
        ),
    ),
    _e(
        "csrf-invalid",
        "invalid_request",
        400,
        "The form could not be verified",
        ("The form's CSRF token does not match the browser's cookie.",),
        ("Reload the page and submit the form again; allow cookies for this site.",),
        (
            "Your browser sent a form we could not verify.",
            "Reload the page and try again, and make sure cookies are allowed for this site.",
        ),
    ),
    # --- client assertions: client_secret_jwt, private_key_jwt (RFC 7523, OIDC Core §9) ---
    _e(
        "client-assertion-type-unsupported",
        "invalid_client",
        401,
        "Unsupported client_assertion_type",
        (
            "client_assertion_type is not urn:ietf:params:oauth:client-assertion-type:jwt-bearer, "
            "or only one of client_assertion and client_assertion_type was sent.",
        ),
        (
            "Send both client_assertion_type=urn:ietf:params:oauth:client-assertion-type:"
            "jwt-bearer and client_assertion (RFC 7523 §2.2).",
        ),
    ),
    _e(
        "client-assertion-malformed",
        "invalid_client",
        401,
        "Malformed client assertion",
        ("client_assertion is not a signed JWT, or names no client (no sub/iss).",),
        (
            "Send a compact JWS whose iss and sub are the client_id (RFC 7523 §3); a client "
            "library's client_secret_jwt / private_key_jwt support builds it.",
        ),
    ),
    _e(
        "client-assertion-alg",
        "invalid_client",
        401,
        "Client assertion signed with an alg not allowed",
        (
            "client_secret_jwt assertions are HS256; private_key_jwt assertions are RS256, PS256, "
            "ES256 or EdDSA; a client that registered token_endpoint_auth_signing_alg must use it.",
        ),
        (
            "Sign the assertion with an allowed alg (see discovery's "
            "token_endpoint_auth_signing_alg_values_supported).",
        ),
    ),
    _e(
        "client-assertion-signature",
        "invalid_client",
        401,
        "Client assertion signature invalid",
        (
            "The assertion was signed with another secret or key than the client registered, "
            "or names a kid its JWK Set does not contain.",
        ),
        (
            "client_secret_jwt: MAC with the client_secret. private_key_jwt: sign with a key whose "
            "public half is in the registered jwks or jwks_uri (keystead refetches jwks_uri at "
            "most once a minute on an unknown kid).",
        ),
    ),
    _e(
        "client-assertion-claims",
        "invalid_client",
        401,
        "Client assertion claims invalid",
        ("iss or sub is not the client_id, or jti, iat or nbf is missing or wrong.",),
        (
            "Set iss and sub to the client_id and a fresh random jti in every assertion "
            "(RFC 7523 §3).",
        ),
    ),
    _e(
        "client-assertion-audience",
        "invalid_client",
        401,
        "Client assertion for another audience",
        ("aud is not the issuer or the URL of the endpoint, or is an array.",),
        (
            "Set aud to one string: the issuer identifier or the token endpoint URL "
            "(RFC 7523 §3; draft-ietf-oauth-rfc7523bis).",
        ),
    ),
    _e(
        "client-assertion-lifetime",
        "invalid_client",
        401,
        "Client assertion expired or too long-lived",
        ("exp is missing, in the past, or more than 5 minutes ahead.",),
        (
            "Make assertions short-lived: exp at most 5 minutes after now (Authlib signs for "
            "an hour unless told otherwise: pass claims with a nearer exp).",
        ),
    ),
    _e(
        "client-assertion-replayed",
        "invalid_client",
        401,
        "Client assertion replayed",
        ("An assertion with this jti was already used by this client (RFC 7523 §3 item 7).",),
        ("Sign a new assertion, with a new random jti, for every request.",),
    ),
    _e(
        "client-jwks-unavailable",
        "invalid_client",
        401,
        "The client's JWK Set cannot be fetched",
        (
            "jwks_uri did not answer, answered an error or something that is not a JWK Set, or "
            "points at a loopback, private or special-use address.",
        ),
        (
            "Publish the client's public keys at a public https jwks_uri, or register them "
            "inline as jwks (KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true only for development).",
        ),
    ),
    # --- dynamic client registration and management (RFC 7591, RFC 7592) ---
    _e(
        "registration-token-missing",
        "invalid_request",
        401,
        "Initial access token required",
        ("Registration on this server needs an initial access token (RFC 7591 §3).",),
        (
            "Send Authorization: Bearer <token> with a token minted by `keystead client "
            "registration-token` (or ask the operator to set KEYSTEAD_OPEN_REGISTRATION=true).",
        ),
    ),
    _e(
        "registration-token-invalid",
        "invalid_token",
        401,
        "Initial access token invalid",
        ("The initial access token is unknown, expired, or was single-use and already used.",),
        ("Mint a new one with `keystead client registration-token`.",),
    ),
    _e(
        "registration-redirect-uri-invalid",
        "invalid_redirect_uri",
        400,
        "Invalid redirect_uri in client metadata",
        (
            "A redirect URI breaks the rules for its application_type: web needs https (http "
            "only on loopback), native may use loopback IP literals, private-use schemes or "
            "https; never a fragment.",
        ),
        ("Fix the redirect_uris named in error_description (RFC 7591 §3.2.2).",),
    ),
    _e(
        "registration-metadata-invalid",
        "invalid_client_metadata",
        400,
        "Invalid client metadata",
        (
            "A metadata field has a wrong type or value, grant_types and response_types do "
            "not fit together, or both jwks and jwks_uri were sent.",
        ),
        ("Fix the field named in error_description (RFC 7591 §2, §3.2.2).",),
    ),
    _e(
        "registration-software-statement",
        "invalid_software_statement",
        400,
        "Software statements are not supported",
        ("The registration request carries a software_statement.",),
        ("Register without software_statement; send the metadata as plain JSON members.",),
    ),
    _e(
        "registration-access-token-invalid",
        "invalid_token",
        401,
        "Registration access token invalid",
        (
            "The registration access token is missing or wrong, or the client does not exist "
            "or was not registered dynamically (RFC 7592 §2).",
        ),
        ("Use the registration_access_token returned when the client was registered.",),
    ),
    # --- admin API ---
    _e(
        "admin-client-credentials-required",
        "insufficient_scope",
        403,
        "Admin API needs a client's own token",
        (
            "The access token was issued to a user (authorization code); the admin API only "
            "accepts client_credentials tokens with the keystead:admin scope.",
        ),
        (
            "Obtain a token with grant_type=client_credentials and scope=keystead:admin as a "
            "client allowed that scope.",
        ),
    ),
    _e(
        "admin-body-invalid",
        "invalid_request",
        422,
        "Invalid request body",
        ("The JSON body is malformed, misses a field, or a field has an invalid value.",),
        ("Fix the fields listed in errors[] (see /admin/api/openapi.json).",),
    ),
    _e(
        "admin-not-found",
        "invalid_request",
        404,
        "No such resource",
        ("The id in the URL names no client, API, user or key.",),
        ("List the collection to find the id.",),
    ),
    _e(
        "admin-conflict",
        "invalid_request",
        409,
        "Conflicts with the current state",
        (
            "The name or identifier is taken, or the change would break something that must "
            "stay (the reserved admin API, the only active signing key of an alg).",
        ),
        ("Choose another name, or change the other resource first.",),
    ),
    # --- anything else ---
    _e(
        "server-error",
        "server_error",
        500,
        "Internal error",
        ("A bug or an outage; details are in the server log under the correlation id.",),
        ("Retry later; operators: look up the correlation id in the logs.",),
        ("Something went wrong on our side.", "Please try again in a moment."),
    ),
)

CATALOG: dict[str, CatalogEntry] = {entry.id: entry for entry in _ENTRIES}

_NOT_ALLOWED = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def safe_description(text: str) -> str:
    """RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALLOWED.sub("'", ascii_text.replace("\n", " ").replace("\\", "/"))


@dataclass(frozen=True, slots=True)
class RedirectTarget:
    """Where an authorization error may be sent once the redirect_uri is trusted."""

    redirect_uri: str
    response_mode: str
    state: str | None


class OAuthError(Exception):
    def __init__(
        self,
        catalog_id: str,
        description: str,
        *,
        debug: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        entry = CATALOG[catalog_id]  # KeyError here is a bug: every error must be catalogued
        self.entry = entry
        self.catalog_id = catalog_id
        self.error = entry.error
        self.status = entry.status
        self.description = safe_description(description)
        self.debug = debug  # logged, never sent
        self.headers = headers or {}
        self.redirect: RedirectTarget | None = None
        super().__init__(f"{entry.error} ({catalog_id}): {self.description}")

    def to_dict(self, errors_base_url: str | None = None) -> dict[str, Any]:
        body = {"error": self.error, "error_description": self.description}
        if errors_base_url is not None:
            body["error_uri"] = errors_base_url + self.catalog_id  # keystead's page for it
        return body
