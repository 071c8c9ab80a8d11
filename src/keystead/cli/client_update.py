"""client update: every metadata and policy flag of ``client create``; only those given change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from keystead.cli.apps import client_app
from keystead.cli.client_flags import (
    AUTH_METHOD_HELP,
    CIBA_ENDPOINT_HELP,
    CIBA_MODE_HELP,
    CONNECTION_HELP,
    DPOP_HELP,
    ENC_ALG_HELP,
    ENC_ENC_HELP,
    EXCHANGE_AUDIENCE_HELP,
    FLAGS,
    MTLS_BOUND_HELP,
    MTLS_SUBJECT_HELP,
    PASSWORD_LOGIN_HELP,
    PROFILE_HELP,
    REQUEST_OBJECT_ALG_HELP,
    REQUEST_URI_HELP,
    REQUIRE_PAR_HELP,
    RESPONSE_ALG_HELP,
    SECTOR_HELP,
    SIGNING_ALG_HELP,
    SUBJECT_TYPE_HELP,
    connections_change,
    exchange_changes,
    given,
    jar_changes,
    mtls_changes,
    oauth1_policy,
)
from keystead.cli.clients import _read_jwks, _show_secret, _with_secret
from keystead.cli.common import emit, refuse, with_provider
from keystead.provider import Provider
from keystead.services import clients as service
from keystead.services.clients import operator_view, spec_of
from keystead.services.common import CLI, ServiceError


@client_app.command("update")
def update(
    client_id: str,
    name: str | None = typer.Option(None, "--name"),
    redirect_uri: list[str] | None = typer.Option(
        None, "--redirect-uri", help="Repeatable; replaces the registered list."
    ),
    grant_type: list[str] | None = typer.Option(None, "--grant-type", help="Repeatable."),
    response_type: list[str] | None = typer.Option(None, "--response-type", help="Repeatable."),
    scope: str | None = typer.Option(None, "--scope"),
    auth_method: str | None = typer.Option(
        None, "--token-endpoint-auth-method", help=AUTH_METHOD_HELP
    ),
    jwks_file: Path | None = typer.Option(None, "--jwks"),  # noqa: B008
    jwks_uri: str | None = typer.Option(None, "--jwks-uri"),
    auth_signing_alg: str | None = typer.Option(
        None, "--token-endpoint-auth-signing-alg", help=SIGNING_ALG_HELP
    ),
    require_pkce: bool | None = typer.Option(None, "--require-pkce/--no-require-pkce"),
    skip_consent: bool | None = typer.Option(None, "--skip-consent/--no-skip-consent"),
    require_mfa: bool | None = typer.Option(
        None,
        "--require-mfa/--no-require-mfa",
        help="Every sign-in for this client needs a second factor (or no longer).",
    ),
    connection: list[str] | None = typer.Option(
        None, "--connection", help=CONNECTION_HELP + " Replaces the list."
    ),
    all_connections: bool = typer.Option(
        False, "--all-connections", help="Offer every enabled connection again."
    ),
    password_login: bool | None = typer.Option(
        None, "--password-login/--no-password-login", help=PASSWORD_LOGIN_HELP
    ),
    exchange_audience: list[str] | None = typer.Option(
        None, "--token-exchange-audience", help=EXCHANGE_AUDIENCE_HELP + " Replaces the list."
    ),
    exchange_impersonate: bool | None = typer.Option(
        None, "--token-exchange-impersonate/--no-token-exchange-impersonate"
    ),
    exchange_delegate: bool | None = typer.Option(
        None, "--token-exchange-delegate/--no-token-exchange-delegate"
    ),
    oauth1: bool | None = typer.Option(None, "--oauth1/--no-oauth1", help="OAuth 1.0a."),
    oauth1_oob: bool | None = typer.Option(None, "--oauth1-oob/--no-oauth1-oob"),
    oauth1_rsa_public_key: Path | None = typer.Option(  # noqa: B008
        None, "--oauth1-rsa-public-key", help="OAuth 1.0a RSA-SHA1: a PEM public key file."
    ),
    profile: str | None = typer.Option(None, "--profile", help=PROFILE_HELP),
    alg: str | None = typer.Option(None, "--id-token-signed-response-alg"),
    application_type: str | None = typer.Option(None, "--application-type"),
    default_resource: str | None = typer.Option(None, "--default-resource"),
    post_logout_redirect_uri: list[str] | None = typer.Option(
        None, "--post-logout-redirect-uri", help="Repeatable; replaces the registered list."
    ),
    allowed_origin: list[str] | None = typer.Option(
        None, "--allowed-origin", help="Repeatable; replaces the registered list."
    ),
    backchannel_logout_uri: str | None = typer.Option(None, "--backchannel-logout-uri"),
    backchannel_session: bool | None = typer.Option(
        None, "--backchannel-logout-session-required/--no-backchannel-logout-session-required"
    ),
    frontchannel_logout_uri: str | None = typer.Option(None, "--frontchannel-logout-uri"),
    frontchannel_session: bool | None = typer.Option(
        None, "--frontchannel-logout-session-required/--no-frontchannel-logout-session-required"
    ),
    ciba_mode: str | None = typer.Option(
        None, "--backchannel-token-delivery-mode", help=CIBA_MODE_HELP
    ),
    ciba_endpoint: str | None = typer.Option(
        None, "--backchannel-client-notification-endpoint", help=CIBA_ENDPOINT_HELP
    ),
    request_uri: list[str] | None = typer.Option(None, "--request-uri", help=REQUEST_URI_HELP),
    request_object_alg: str | None = typer.Option(
        None, "--request-object-signing-alg", help=REQUEST_OBJECT_ALG_HELP
    ),
    response_alg: str | None = typer.Option(
        None, "--authorization-signed-response-alg", help=RESPONSE_ALG_HELP
    ),
    require_par: bool | None = typer.Option(
        None, "--require-par/--no-require-par", help=REQUIRE_PAR_HELP
    ),
    subject_type: str | None = typer.Option(None, "--subject-type", help=SUBJECT_TYPE_HELP),
    sector_identifier_uri: str | None = typer.Option(
        None, "--sector-identifier-uri", help=SECTOR_HELP
    ),
    id_token_enc_alg: str | None = typer.Option(
        None, "--id-token-encrypted-response-alg", help=ENC_ALG_HELP
    ),
    id_token_enc_enc: str | None = typer.Option(
        None, "--id-token-encrypted-response-enc", help=ENC_ENC_HELP
    ),
    userinfo_signed_alg: str | None = typer.Option(None, "--userinfo-signed-response-alg"),
    userinfo_enc_alg: str | None = typer.Option(
        None, "--userinfo-encrypted-response-alg", help=ENC_ALG_HELP
    ),
    userinfo_enc_enc: str | None = typer.Option(
        None, "--userinfo-encrypted-response-enc", help=ENC_ENC_HELP
    ),
    jarm_enc_alg: str | None = typer.Option(
        None, "--authorization-encrypted-response-alg", help="JARM: " + ENC_ALG_HELP
    ),
    jarm_enc_enc: str | None = typer.Option(
        None, "--authorization-encrypted-response-enc", help=ENC_ENC_HELP
    ),
    dpop_bound: bool | None = typer.Option(
        None, "--dpop-bound-access-tokens/--no-dpop-bound-access-tokens", help=DPOP_HELP
    ),
    subject_dn: str | None = typer.Option(
        None, "--tls-client-auth-subject-dn", help=MTLS_SUBJECT_HELP
    ),
    san_dns: str | None = typer.Option(None, "--tls-client-auth-san-dns", help=MTLS_SUBJECT_HELP),
    san_uri: str | None = typer.Option(None, "--tls-client-auth-san-uri", help=MTLS_SUBJECT_HELP),
    san_ip: str | None = typer.Option(None, "--tls-client-auth-san-ip", help=MTLS_SUBJECT_HELP),
    san_email: str | None = typer.Option(
        None, "--tls-client-auth-san-email", help=MTLS_SUBJECT_HELP
    ),
    cert_bound: bool | None = typer.Option(
        None,
        "--tls-client-certificate-bound-access-tokens/--no-tls-client-certificate-bound-access-tokens",
        help=MTLS_BOUND_HELP,
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Change a client: only the options given change (a repeatable option replaces the
    whole list). Its client_id and secret stay; a new method that needs a secret the client
    does not have gets one, printed once."""
    changes: dict[str, Any] = {
        "client_name": name,
        "redirect_uris": redirect_uri,
        "grant_types": grant_type,
        "response_types": response_type,
        "scope": scope,
        "token_endpoint_auth_method": auth_method,
        "jwks": _read_jwks(jwks_file) if jwks_file is not None else None,
        "jwks_uri": jwks_uri,
        "token_endpoint_auth_signing_alg": auth_signing_alg,
        "require_pkce": require_pkce,
        "skip_consent": skip_consent,
        "id_token_signed_response_alg": alg,
        "application_type": application_type,
        "default_resource": default_resource,
        "post_logout_redirect_uris": post_logout_redirect_uri,
        "allowed_origins": allowed_origin,
        "backchannel_logout_uri": backchannel_logout_uri,
        "backchannel_logout_session_required": backchannel_session,
        "frontchannel_logout_uri": frontchannel_logout_uri,
        "frontchannel_logout_session_required": frontchannel_session,
        "backchannel_token_delivery_mode": ciba_mode,
        "backchannel_client_notification_endpoint": ciba_endpoint,
        "subject_type": subject_type,
        "sector_identifier_uri": sector_identifier_uri,
        "id_token_encrypted_response_alg": id_token_enc_alg,
        "id_token_encrypted_response_enc": id_token_enc_enc,
        "userinfo_signed_response_alg": userinfo_signed_alg,
        "userinfo_encrypted_response_alg": userinfo_enc_alg,
        "userinfo_encrypted_response_enc": userinfo_enc_enc,
        "authorization_encrypted_response_alg": jarm_enc_alg,
        "authorization_encrypted_response_enc": jarm_enc_enc,
        "dpop_bound_access_tokens": dpop_bound,
    }

    connections = connections_change(all_connections, connection)
    subjects = {
        "tls_client_auth_subject_dn": subject_dn,
        "tls_client_auth_san_dns": san_dns,
        "tls_client_auth_san_uri": san_uri,
        "tls_client_auth_san_ip": san_ip,
        "tls_client_auth_san_email": san_email,
    }

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            client = await service.get(provider, client_id)
            spec = spec_of(client)
            for field, value in changes.items():
                if value is not None:
                    setattr(spec, field, value)
            spec.jar_metadata.update(
                jar_changes(request_uri, request_object_alg, response_alg, require_par)
            )
            for name, value in mtls_changes(subjects, cert_bound).items():  # RFC 8705
                if value is None:
                    spec.mtls_metadata.pop(name, None)
                else:
                    spec.mtls_metadata[name] = value
            updated, secret = await service.update(
                provider,
                client,
                spec,
                CLI,
                policy=given(
                    {
                        "require_mfa": require_mfa,
                        "token_exchange": exchange_changes(
                            client, exchange_audience, exchange_impersonate, exchange_delegate
                        ),
                        **oauth1_policy(oauth1, oauth1_oob, oauth1_rsa_public_key),
                        "password_login": password_login,
                        "profile": profile,
                    }
                )
                | connections,
            )
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return _with_secret(operator_view(updated), secret)

    data = with_provider(work)

    def human() -> None:
        typer.echo(f"updated {client_id}")
        if "client_secret" in data:
            _show_secret(data)

    emit(data, as_json, human)
