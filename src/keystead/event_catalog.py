"""What each event keystead records means: ``keystead explain EVENT_NAME`` prints it, and a
test keeps this list equal to the names the code emits."""

from __future__ import annotations

EVENTS: dict[str, str] = {
    "api.created": "An operator registered an API (a resource server).",
    "api.deleted": "An operator deleted an API; its tokens' audience no longer exists.",
    "api.updated": "An operator changed an API's name, scopes or token settings.",
    "app.access_revoked": "The user revoked an app's access on the account page: its grants "
    "were revoked (its refresh and access tokens stopped working) and its consent forgotten.",
    "authorization.issued": "The authorization endpoint answered a client with a code/tokens.",
    "client.created": "A client was registered (CLI, admin API or dynamic registration).",
    "client.deleted": "A client was deleted with its grants, codes and tokens.",
    "client.secret_rotated": "A client got a new secret; the old one stopped working.",
    "client.updated": "A client's registration changed.",
    "client_assertion.replayed": "A client assertion's jti was used twice (RFC 7523 §3).",
    "console.refused": "A signed-in user without the admin role was refused by the admin "
    "console (403).",
    "console.signed_in": "An admin signed in to the admin console (/admin); `acr` says how.",
    "console.signed_out": "An admin signed out of the admin console.",
    "console.tried": 'An admin ran a client\'s code flow from the console ("try it"): its '
    "tokens were issued to the admin and shown decoded.",
    "dpop.bound": "A token request with a valid DPoP proof: its tokens are bound to the key "
    "(RFC 9449).",
    "dpop.par_bound": "A pushed authorization request came with a DPoP proof: its code will be "
    "bound to the proof's key (RFC 9449 §10.1).",
    "dpop.replayed": "A DPoP proof's jti was used twice (RFC 9449 §11.1); refused.",
    "code.replayed": "An authorization code was redeemed twice; its grant was revoked.",
    "device.approved": "A signed-in user approved a device's request (RFC 8628) by its user code.",
    "device.authorization": "A client started a device authorization (RFC 8628 §3.1).",
    "device.denied": "A signed-in user denied a device's request (RFC 8628).",
    "ciba.requested": "A client made a CIBA backchannel authentication request for a user "
    "(CIBA Core 1.0 §7); `mode` is poll or ping.",
    "ciba.notified": "The CIBA notifier told the user of a pending request (`via`: how).",
    "ciba.approved": "The signed-in user approved a CIBA request on the account page.",
    "ciba.denied": "The signed-in user denied a CIBA request on the account page.",
    "ciba.ping_queued": "A CIBA ping (§10.2) to the client's notification endpoint was "
    "written to the outbox.",
    "ciba.pinged": "A CIBA ping was delivered: the client's notification endpoint accepted it.",
    "ciba.tokens_issued": "A CIBA auth_req_id was exchanged for tokens (single use).",
    "connection.created": "An operator added an upstream identity provider (a connection: "
    "`connection` names it); its client secret is stored sealed.",
    "connection.deleted": "An operator deleted a connection with every upstream identity "
    "linked through it.",
    "connection.updated": "An operator changed a connection (`changed` lists the fields; a "
    "secret's value is never recorded).",
    "oauth1.request_token": "An OAuth 1.0a consumer obtained temporary credentials "
    "(RFC 5849 §2.1).",
    "oauth1.authorized": "A signed-in user approved an OAuth 1.0a consumer's temporary "
    "credentials; a verifier was issued (RFC 5849 §2.2).",
    "oauth1.denied": "A signed-in user denied an OAuth 1.0a consumer's request.",
    "oauth1.access_token": "An OAuth 1.0a consumer exchanged approved temporary credentials "
    "and their verifier for token credentials (`token_id`; RFC 5849 §2.3).",
    "oauth1.signature_invalid": "An OAuth 1.0a request's signature did not match keystead's "
    "signature base string (RFC 5849 §3.4): a wrong secret or a tampered request.",
    "oauth1.nonce_replayed": "An OAuth 1.0a consumer's nonce came again with the same "
    "timestamp: a replayed request (RFC 5849 §3.3).",
    "oauth1.timestamp_refused": "An OAuth 1.0a request's timestamp was outside the accepted "
    "window (KEYSTEAD_OAUTH1_TIMESTAMP_WINDOW).",
    "oauth1.verifier_invalid": "An OAuth 1.0a access token request had a wrong or used "
    "verifier (RFC 5849 §2.3).",
    "oauth1.token_revoked": "OAuth 1.0a token credentials were revoked (CLI, admin API or "
    "the user's account page: `channel`).",
    "oauth1.api_verified": "An API's OAuth 1.0a-signed request was verified at /oauth1/verify "
    "(api_id, client_id, sub, token_id).",
    "oauth1.api_refused": "An API's OAuth 1.0a-signed request was refused at /oauth1/verify; "
    "catalog_id says why, the API forwards the RFC 5849 §3.2 status.",
    "consent.denied": "The user clicked Deny on the consent page.",
    "backchannel.queued": "Back-channel logout tokens (`jobs` of them) for the clients of "
    "ended sessions were written to the outbox (OIDC Back-Channel Logout).",
    "cors.origin_refused": "A browser request came from an origin no client registered.",
    "cors.preflight_refused": "A CORS preflight asked for what keystead does not allow.",
    "federation.started": "A browser was sent to an upstream provider's sign-in "
    "(`connection`; `link`: from the account page, to link it).",
    "federation.failed": "A sign-in at an upstream provider failed (`catalog_id`, `detail` for "
    "the developer: an error response, an invalid ID token, a timeout ...).",
    "federation.signed_in": "A user signed in through an upstream provider (amr fed).",
    "federation.linked": "An upstream identity (connection, upstream_sub) was linked to a "
    "local account: after the account's password, by a trusted verified email, or from the "
    "signed-in account page.",
    "federation.link_mailed": "An upstream identity's link to an existing account waits for "
    "its owner: a single-use link went to the account's verified address (the outbox).",
    "federation.link_offered": "An upstream identity matched an existing account's email: "
    "the owner was asked to prove the account before linking (never linked silently).",
    "federation.unlinked": "A user unlinked an upstream sign-in on the account page.",
    "federation.user_created": "A new local user was made just in time from an upstream "
    "identity (the connection allows it: --jit).",
    "federation.no_account": "An unknown upstream identity was refused: the connection makes "
    "no users just in time (--no-jit) and no account matched.",
    "key.retired": "A signing key stopped being published after its retirement time.",
    "keys.rotated": "A new signing key became the active one.",
    "link.sent": "A single-use link (`purpose`: reset, verify_email, invite) and its mail "
    "were written to the outbox.",
    "link.throttled": "A reset link was not sent: the account asked for too many recently.",
    "login.account_under_attack": "Many failed passwords on one account from untrusted "
    "sources: it is slowed down (never locked) and the account page tells the user.",
    "login.failed": "A wrong username or password (the event does not say which).",
    "login.succeeded": "A correct password (the second factor, if any, comes next).",
    "login.throttled": "A sign-in attempt was refused while its throttle delay ran.",
    "mfa.enrolled": "The user added a second factor (authenticator app or passkey).",
    "mfa.failed": "A wrong or replayed code, or a refused passkey response; `reason` says why.",
    "mfa.recovery_code_used": "A recovery code signed the user in; the account page says so.",
    "mfa.recovery_codes_generated": "New recovery codes were made; the older ones stopped working.",
    "mfa.removed": "The user removed a second factor on the account page.",
    "mfa.reset": "An operator removed all of a user's second factors and recovery codes.",
    "mfa.succeeded": "A second factor was accepted (`method`: totp, passkey).",
    "mfa.throttled": "A code was refused while the per-account or per-address delay ran.",
    "mfa.totp_imported": "An operator imported an authenticator app secret for a user.",
    "mfa.unavailable": "A client required a second factor the user has not set up: "
    "access_denied was returned to it.",
    "outbox.failed": "An outbox job (a mail ...) was given up: a permanent error or too many "
    "attempts; `reason` says which.",
    "outbox.retried": "An outbox delivery failed for now and will be tried again later.",
    "outbox.sent": "An outbox job was delivered (a mail accepted by the SMTP server).",
    "refresh.reused": "A rotated refresh token was used again; its family was revoked.",
    "registration_token.created": "An initial access token for dynamic registration was made.",
    "request.failed": "A request ended with an error (its catalog id is in the event).",
    "request.refused": "A request was refused before any protocol handling (size, method).",
    "session.created": "The user signed in: a new SSO session.",
    "session.ended": "An SSO session ended: logout, or signed out from the account page "
    "(`by`: user) or by an operator (`channel`: cli, admin_api).",
    "token.granted": "The token endpoint issued tokens.",
    "token.issued": "An access token was issued in the front channel.",
    "token.revoked": "A token was revoked (RFC 7009).",
    "user.disabled": "An operator disabled an account: its sessions ended, its grants and "
    "OAuth 1.0a tokens were revoked; no sign-in until enabled (`sessions_ended`).",
    "user.enabled": "An operator enabled a disabled account again.",
    "login.disabled_account": "A disabled account proved its credentials and was refused "
    "before any session (account-disabled).",
    "user.admin_granted": "An operator gave a user the admin role (the console at /admin).",
    "user.admin_revoked": "An operator took the admin role away from a user.",
    "user.created": "A user account was created.",
    "user.deleted": "A user account was deleted; sessions, consents and factors went with it.",
    "user.email_verified": "A user opened the link mailed to their address: it is now their "
    "verified email (`changed`: a new address replaced the old one, which was told).",
    "user.invitation_accepted": "An invited user chose a password from the invitation link.",
    "user.invited": "An operator invited a user: the account exists, the link was mailed.",
    "user.password_changed": "The user changed their password on the account page.",
    "user.password_reset": "The user set a new password from a reset link; every session "
    "and grant of theirs was ended.",
    "user.password_set": "An operator set a user's password.",
    "user.signed_up": "Someone created an account on the sign-up page (KEYSTEAD_SIGNUP).",
    "user.updated": "A user's profile changed.",
    "jwt_bearer.refused": "A JWT bearer grant (RFC 7523 §2.1) was refused; `catalog_id` "
    "names the rule.",
    "jwt_bearer.used": "A client got an access token for `sub` with a trusted issuer's JWT "
    "(RFC 7523 §2.1).",
    "token.exchanged": "A client exchanged a token (RFC 8693): `sub`, `actor` (delegation) or "
    "none (impersonation), `audience`, `mode`.",
    "token_exchange.refused": "A token exchange (RFC 8693) was refused; `catalog_id` names "
    "the rule.",
    "trusted_issuer.created": "An operator trusted an outside JWT issuer for some clients "
    "(RFC 7523, RFC 8693).",
    "trusted_issuer.deleted": "An operator stopped trusting an outside JWT issuer; its JWTs "
    "are refused.",
    "par.pushed": "A client pushed an authorization request (RFC 9126) and got a request_uri.",
    "par.reused": "A pushed request's request_uri was presented again after its one use "
    "(RFC 9126 §2.2): a replay, or a client retrying.",
    "par.wrong_client": "A request_uri pushed by one client was presented with another "
    "client's client_id (RFC 9126 §4).",
    "request_object.accepted": "A request object (RFC 9101) verified with the client's keys; "
    "its parameters made the authorization request.",
}
