"""The endpoint table: every URL keystead serves, one row each, and how it is served.

This is the only place routes and lanes are declared. ``build_app`` (app.py) builds both the
Starlette routes and the lanes of web/fastlane.py from these rows, so a reader of this file
knows how any request is served:

- a row with a fixed path is served by the **lane**: one dict lookup on (method, path) before
  Starlette's router; the lane does what the router's middleware does for the rest (metrics,
  access log line, a 500 with a correlation id: web/observe.py) and runs the row's endpoint;
- a ``direct`` row also answers server-to-server POSTs (no ``Origin`` header) without
  ``Request``/``Response`` objects: the body read and parsed once into the ``OAuthRequest``
  its protocol function takes, the answer rendered as JSON with prebuilt headers;
- a ``document`` row answers GETs without ``Origin`` with the document's bytes and headers
  built once per document;
- everything else — paths with parameters, mounts, ``OPTIONS`` (CORS preflights), ``HEAD``,
  a method a row does not take (405), unknown paths (404) — goes to Starlette's router.

Each row says how its errors travel (``json`` for APIs, ``page`` for a browser's pages) and
its CORS kind (web/cors.py): ``public`` (any origin: discovery, JWKS), ``client`` (registered
clients' origins: token, UserInfo, revocation) or ``none``.

Adding an endpoint is adding a row; ``tests/web/test_table.py`` checks the table's shape.
"""

from __future__ import annotations

from keystead.protocol.admin_auth import ADMIN_API_PATH as ADMIN
from keystead.web import (
    admin,
    authorize,
    ciba,
    demo,
    device,
    device_page,
    email,
    endpoints,
    errors_pages,
    factor,
    federation,
    federation_mail,
    logout,
    oauth1,
    oauth1_page,
    oauth1_verify,
    ops,
    pages,
    par,
    passkey,
    registration,
    reset,
    signup,
)
from keystead.web.account import access, connections, oauth1_access, overview, profile, security
from keystead.web.account import ciba as account_ciba
from keystead.web.admin import apis, clients, factors, invitations, keys, trusted_issuers, users
from keystead.web.admin import connections as admin_connections
from keystead.web.admin import oauth1 as admin_oauth1
from keystead.web.admin import sessions as admin_sessions
from keystead.web.console import audit as console_audit
from keystead.web.console import clients as console_clients
from keystead.web.console import overview as console
from keystead.web.console import resources as console_resources
from keystead.web.console import signin as console_signin
from keystead.web.console import try_it as console_try
from keystead.web.console import users as console_users
from keystead.web.fastlane import Direct, Row

OIDC_CONFIG = "/.well-known/openid-configuration"
OAUTH_METADATA = "/.well-known/oauth-authorization-server"

# fmt: off
ENDPOINTS: tuple[Row, ...] = (
    # OpenID Connect Discovery 1.0 §4 and RFC 8414 §3.
    Row(OIDC_CONFIG, ("GET",), endpoints.discovery, cors="public",
        document=endpoints.discovery_document, place="well-known"),
    Row(OAUTH_METADATA, ("GET",), endpoints.discovery, cors="public",
        document=endpoints.discovery_document, place="well-known"),
    Row("/jwks", ("GET",), endpoints.jwks, cors="public", document=endpoints.jwks_document),
    # The authorization endpoint and its pages (RFC 6749 §3.1, OIDC Core §3.1.2).
    Row("/authorize", ("GET", "POST"), authorize.authorize, errors="page"),
    Row("/login", ("POST",), authorize.login, errors="page"),
    Row("/login/factor", ("POST",), factor.factor, errors="page"),
    Row("/login/passkey", ("POST",), passkey.passkey_login, errors="page"),
    Row("/consent", ("POST",), authorize.consent, errors="page"),
    # Sign-in with an upstream provider (web/federation.py, issue 22).
    Row("/federation/start", ("POST",), federation.start, errors="page"),
    Row("/federation/link", ("POST",), federation.link, errors="page"),
    Row("/federation/link/mail", ("POST",), federation_mail.link_by_mail, errors="page"),
    Row("/federation/link/confirm", ("GET", "POST"), federation_mail.confirm_link, errors="page"),
    Row("/federation/{name}/callback", ("GET",), federation.callback, errors="page"),
    # The user's own account page (web/account/): signed in through /authorize.
    Row("/account", ("GET",), overview.account, errors="page"),
    Row("/account/confirm", ("GET",), overview.confirm, errors="page"),
    Row("/account/password", ("POST",), security.password, errors="page"),
    Row("/account/totp", ("GET", "POST"), security.totp_enrolment, errors="page"),
    Row("/account/factors/remove", ("POST",), security.remove, errors="page"),
    Row("/account/recovery-codes", ("POST",), security.recovery_codes, errors="page"),
    Row("/account/passkeys", ("POST",), security.add_passkey, errors="page"),
    Row("/account/profile", ("POST",), profile.profile, errors="page"),
    Row("/account/verify-email", ("POST",), profile.resend_verification, errors="page"),
    Row("/account/delete", ("POST",), profile.delete_account, errors="page"),
    Row("/account/data", ("GET",), profile.data_export, errors="page"),
    Row("/account/sessions/end", ("POST",), access.end_session, errors="page"),
    Row("/account/sessions/end-others", ("POST",), access.end_others, errors="page"),
    Row("/account/apps/revoke", ("POST",), access.revoke_app, errors="page"),
    Row("/account/connections/link", ("POST",), connections.link, errors="page"),
    Row("/account/connections/unlink", ("POST",), connections.unlink, errors="page"),
    Row("/account/oauth1", ("GET",), oauth1_access.oauth1_apps, errors="page"),
    Row("/account/oauth1/revoke", ("POST",), oauth1_access.revoke, errors="page"),
    # Password reset by mail (web/reset.py).
    Row("/password/forgot", ("GET", "POST"), reset.forgot, errors="page"),
    Row("/password/reset", ("GET", "POST"), reset.reset_page, errors="page"),
    Row("/invitation", ("GET", "POST"), reset.invitation, errors="page"),
    Row("/email/verify", ("GET", "POST"), email.verify, errors="page"),
    Row("/signup", ("GET", "POST"), signup.signup_page, errors="page"),
    # RP-Initiated Logout 1.0.
    Row("/logout", ("GET", "POST"), logout.logout, errors="page"),
    Row("/logout/confirm", ("POST",), logout.confirm, errors="page"),
    # Token (RFC 6749 §3.2), UserInfo (OIDC Core §5.3), revocation (RFC 7009),
    # introspection (RFC 7662).
    Row("/token", ("POST",), endpoints.token, cors="client",
        direct=Direct(endpoints.token_direct)),
    # Device authorization (RFC 8628 §3.1) and its verification page (§3.3).
    Row("/device_authorization", ("POST",), device.device_authorization),
    Row("/device", ("GET", "POST"), device_page.device_page, errors="page"),
    # CIBA Core 1.0: the backchannel authentication endpoint (§7) and the development
    # notifier's answers on the account page (web/account/ciba.py).
    Row("/bc-authorize", ("POST",), ciba.bc_authorize),
    Row("/account/ciba/answer", ("POST",), account_ciba.answer, errors="page"),
    # Pushed authorization requests (RFC 9126 §2).
    Row("/par", ("POST",), par.par, cors="client"),
    Row("/userinfo", ("GET", "POST"), endpoints.userinfo, cors="client"),
    Row("/revoke", ("POST",), endpoints.revoke, cors="client"),
    Row("/introspect", ("POST",), endpoints.introspect,
        direct=Direct(endpoints.introspect_direct, declines=endpoints.wants_jwt)),
    # OAuth 1.0a (RFC 5849 §2): temporary credentials, the user's authorization, token
    # credentials, and a protected resource signed with them.
    Row(oauth1.REQUEST_TOKEN_PATH, ("POST",), oauth1.request_token),
    Row(oauth1.AUTHORIZE_PATH, ("GET", "POST"), oauth1_page.authorize_page, errors="page"),
    Row(oauth1.ACCESS_TOKEN_PATH, ("POST",), oauth1.access_token),
    Row(oauth1.USERINFO_PATH, ("GET", "POST"), oauth1.userinfo),
    # An API's signed request, verified for it (keystead.rs.OAuth1Verifier).
    Row(oauth1_verify.PATH, ("POST",), oauth1_verify.verify),
    # Dynamic registration (RFC 7591) and management (RFC 7592).
    Row("/register", ("POST",), registration.register),
    Row("/register/{client_id}", ("GET", "PUT", "DELETE"), registration.manage),
    # The admin API (web/admin/): keystead's own tokens, scope keystead:admin.
    Row(ADMIN + "/openapi.json", ("GET",), admin.openapi_document),
    Row(ADMIN + "/clients", ("GET", "POST"), clients.clients),
    Row(ADMIN + "/clients/{client_id}", ("GET", "PATCH", "DELETE"), clients.client_item),
    Row(ADMIN + "/clients/{client_id}/secret", ("POST",), clients.client_secret),
    Row(ADMIN + "/apis", ("GET", "POST"), apis.apis),
    Row(ADMIN + "/apis/{api_id}", ("GET", "PATCH", "DELETE"), apis.api_item),
    Row(ADMIN + "/users", ("GET", "POST"), users.users),
    Row(ADMIN + "/users/invitations", ("POST",), invitations.invitations),
    Row(ADMIN + "/users/{sub}", ("GET", "PATCH", "DELETE"), users.user_item),
    Row(ADMIN + "/users/{sub}/factors", ("GET", "DELETE"), factors.factors),
    Row(ADMIN + "/users/{sub}/factors/totp", ("PUT",), factors.totp),
    Row(ADMIN + "/users/{sub}/sessions", ("GET", "DELETE"), admin_sessions.sessions),
    Row(ADMIN + "/users/{sub}/sessions/{sid}", ("DELETE",), admin_sessions.session_item),
    Row(ADMIN + "/users/{sub}/oauth1-tokens", ("GET",), admin_oauth1.tokens),
    Row(ADMIN + "/oauth1-tokens/{token_id}", ("DELETE",), admin_oauth1.token_item),
    Row(ADMIN + "/keys", ("GET", "POST"), keys.keys),
    Row(ADMIN + "/keys/rotate", ("POST",), keys.rotate),
    Row(ADMIN + "/keys/{kid}", ("GET", "DELETE"), keys.key_item),
    Row(ADMIN + "/trusted-issuers", ("GET", "POST"), trusted_issuers.trusted_issuers),
    Row(ADMIN + "/trusted-issuers/{issuer_id}", ("GET", "DELETE"),
        trusted_issuers.trusted_issuer_item),
    Row(ADMIN + "/connections", ("GET", "POST"), admin_connections.connections),
    Row(ADMIN + "/connections/{name}", ("GET", "PATCH", "DELETE"),
        admin_connections.connection_item),
    # The admin console (web/console/, issue 27): admins only, signed in through /authorize.
    Row("/admin", ("GET",), console.home, errors="page"),
    Row("/admin/signin", ("GET",), console_signin.start, errors="page"),
    Row("/admin/callback", ("GET",), console_signin.callback, errors="page"),
    Row("/admin/signout", ("POST",), console_signin.sign_out, errors="page"),
    Row("/admin/clients", ("GET",), console_clients.clients, errors="page"),
    Row("/admin/clients/new", ("GET", "POST"), console_clients.new_client, errors="page"),
    Row("/admin/clients/{client_id}", ("GET", "POST"), console_clients.client_item,
        errors="page"),
    Row("/admin/clients/{client_id}/secret", ("POST",), console_clients.rotate_secret,
        errors="page"),
    Row("/admin/clients/{client_id}/delete", ("GET", "POST"), console_clients.delete_client,
        errors="page"),
    Row("/admin/clients/{client_id}/try", ("POST",), console_try.start, errors="page"),
    Row("/admin/try", ("GET",), console_try.finish, errors="page"),
    Row("/admin/users", ("GET",), console_users.users, errors="page"),
    Row("/admin/users/new", ("GET", "POST"), console_users.new_user, errors="page"),
    Row("/admin/users/invite", ("POST",), console_users.invite, errors="page"),
    Row("/admin/users/{sub}", ("GET",), console_users.user_item, errors="page"),
    Row("/admin/users/{sub}/delete", ("GET", "POST"), console_users.delete_user,
        errors="page"),
    Row("/admin/users/{sub}/{action}", ("POST",), console_users.user_action, errors="page"),
    Row("/admin/apis", ("GET", "POST"), console_resources.api_list, errors="page"),
    Row("/admin/apis/{api_id}/delete", ("GET", "POST"), console_resources.delete_api,
        errors="page"),
    Row("/admin/connections", ("GET", "POST"), console_resources.connection_list,
        errors="page"),
    Row("/admin/connections/{name}/delete", ("GET", "POST"),
        console_resources.delete_connection, errors="page"),
    Row("/admin/keys", ("GET",), console.key_list, errors="page"),
    Row("/admin/keys/rotate", ("POST",), console.rotate_keys, errors="page"),
    Row("/admin/events", ("GET",), console_audit.events, errors="page"),
    Row("/admin/events/{correlation_id}", ("GET",), console_audit.explain, errors="page"),
    # keystead's own documentation of each error (the error_uri).
    Row("/errors", ("GET",), errors_pages.error_index, errors="page"),
    Row("/errors/{catalog_id}", ("GET",), errors_pages.error_doc, errors="page"),
    # Operations: liveness, readiness, Prometheus metrics.
    Row("/healthz", ("GET",), ops.healthz, place="root"),
    Row("/readyz", ("GET",), ops.readyz, place="root"),
    Row("/metrics", ("GET",), ops.metrics, place="root"),
    # The development quickstart's relying party (`keystead serve --demo` only).
    Row("/demo", ("GET",), demo.start, errors="page", demo=True),
    Row("/demo/callback", ("GET",), demo.callback, errors="page", demo=True),
    # Stylesheets and the like.
    Row("/static/{path:path}", ("GET",), pages.static_file, errors="page"),
)
# fmt: on
