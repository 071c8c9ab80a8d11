"""client create | list | show | update | rotate-secret | delete | registration-token"""

from __future__ import annotations

import json
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
    ORIGIN_HELP,
    PASSWORD_LOGIN_HELP,
    PROFILE_HELP,
    REQUEST_OBJECT_ALG_HELP,
    REQUEST_URI_HELP,
    REQUIRE_PAR_HELP,
    RESPONSE_ALG_HELP,
    SECTOR_HELP,
    SIGNING_ALG_HELP,
    SUBJECT_TYPE_HELP,
    jar_changes,
    mtls_changes,
    oauth1_policy,
)
from keystead.cli.common import emit, fail, refuse, with_provider
from keystead.provider import Provider
from keystead.services import clients as service
from keystead.services import registration
from keystead.services.clients import ClientSpec, operator_view
from keystead.services.common import CLI, ServiceError


def _read_jwks(jwks_file: Path) -> dict[str, Any]:
    try:
        jwks: dict[str, Any] = json.loads(jwks_file.read_text())
    except (OSError, ValueError) as exc:
        fail(f"--jwks {jwks_file}: {exc}")
    return jwks


def _with_secret(view: dict[str, Any], secret: str | None) -> dict[str, Any]:
    if secret is not None:
        view["client_secret"] = secret
        view["client_secret_expires_at"] = 0
    return view


def _show_secret(data: dict[str, Any]) -> None:
    typer.echo(f"client_id:     {data['client_id']}")
    if "client_secret" in data:
        typer.echo(f"client_secret: {data['client_secret']}  (shown once; store it now)")


@client_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="client_name shown on login and consent pages."),
    redirect_uri: list[str] = typer.Option([], "--redirect-uri", help="Repeatable."),
    grant_type: list[str] = typer.Option(
        ["authorization_code", "refresh_token"], "--grant-type", help="Repeatable."
    ),
    response_type: list[str] = typer.Option(["code"], "--response-type", help="Repeatable."),
    scope: str = typer.Option("openid profile email offline_access", "--scope"),
    auth_method: str = typer.Option(
        "client_secret_basic", "--token-endpoint-auth-method", help=AUTH_METHOD_HELP
    ),
    jwks_file: Path | None = typer.Option(  # noqa: B008
        None, "--jwks", help="private_key_jwt: a file with the client's public JWK Set."
    ),
    jwks_uri: str | None = typer.Option(
        None, "--jwks-uri", help="private_key_jwt: where the client publishes its JWK Set."
    ),
    auth_signing_alg: str | None = typer.Option(
        None, "--token-endpoint-auth-signing-alg", help=SIGNING_ALG_HELP
    ),
    require_pkce: bool = typer.Option(
        True,
        "--require-pkce/--no-require-pkce",
        help="--no-require-pkce exempts a confidential client from PKCE.",
    ),
    skip_consent: bool = typer.Option(False, "--skip-consent", help="First-party client."),
    require_mfa: bool = typer.Option(
        False, "--require-mfa", help="Every sign-in for this client needs a second factor."
    ),
    connection: list[str] = typer.Option([], "--connection", help=CONNECTION_HELP),
    password_login: bool = typer.Option(
        True, "--password-login/--no-password-login", help=PASSWORD_LOGIN_HELP
    ),
    exchange_audience: list[str] = typer.Option(
        [], "--token-exchange-audience", help=EXCHANGE_AUDIENCE_HELP
    ),
    exchange_impersonate: bool = typer.Option(
        False, "--token-exchange-impersonate", help="Token exchange without an actor token."
    ),
    exchange_delegate: bool = typer.Option(
        False, "--token-exchange-delegate", help="Token exchange with an actor token (act)."
    ),
    oauth1: bool = typer.Option(False, "--oauth1", help="Also an OAuth 1.0a consumer."),
    oauth1_oob: bool = typer.Option(False, "--oauth1-oob", help="OAuth 1.0a: allow oob."),
    oauth1_rsa_public_key: Path | None = typer.Option(  # noqa: B008
        None, "--oauth1-rsa-public-key", help="OAuth 1.0a RSA-SHA1: a PEM public key file."
    ),
    profile: str | None = typer.Option(None, "--profile", help=PROFILE_HELP),
    alg: str = typer.Option("ES256", "--id-token-signed-response-alg"),
    application_type: str = typer.Option("web", "--application-type", help="web | native"),
    client_id: str | None = typer.Option(None, "--client-id", help="Default: random."),
    default_resource: str | None = typer.Option(
        None, "--default-resource", help="API identifier used when a token request names none."
    ),
    post_logout_redirect_uri: list[str] = typer.Option(
        [], "--post-logout-redirect-uri", help="Repeatable. Where /logout may send the user."
    ),
    allowed_origin: list[str] = typer.Option([], "--allowed-origin", help=ORIGIN_HELP),
    backchannel_logout_uri: str | None = typer.Option(
        None, "--backchannel-logout-uri", help="Back-Channel Logout 1.0: logout tokens go here."
    ),
    backchannel_session: bool = typer.Option(False, "--backchannel-logout-session-required"),
    frontchannel_logout_uri: str | None = typer.Option(
        None, "--frontchannel-logout-uri", help="Front-Channel Logout 1.0: framed at logout."
    ),
    frontchannel_session: bool = typer.Option(False, "--frontchannel-logout-session-required"),
    ciba_mode: str | None = typer.Option(
        None, "--backchannel-token-delivery-mode", help=CIBA_MODE_HELP
    ),
    ciba_endpoint: str | None = typer.Option(
        None, "--backchannel-client-notification-endpoint", help=CIBA_ENDPOINT_HELP
    ),
    request_uri: list[str] = typer.Option([], "--request-uri", help=REQUEST_URI_HELP),
    request_object_alg: str | None = typer.Option(
        None, "--request-object-signing-alg", help=REQUEST_OBJECT_ALG_HELP
    ),
    response_alg: str | None = typer.Option(
        None, "--authorization-signed-response-alg", help=RESPONSE_ALG_HELP
    ),
    require_par: bool = typer.Option(False, "--require-par", help=REQUIRE_PAR_HELP),
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
    dpop_bound: bool = typer.Option(False, "--dpop-bound-access-tokens", help=DPOP_HELP),
    subject_dn: str | None = typer.Option(
        None, "--tls-client-auth-subject-dn", help=MTLS_SUBJECT_HELP
    ),
    san_dns: str | None = typer.Option(None, "--tls-client-auth-san-dns", help=MTLS_SUBJECT_HELP),
    san_uri: str | None = typer.Option(None, "--tls-client-auth-san-uri", help=MTLS_SUBJECT_HELP),
    san_ip: str | None = typer.Option(None, "--tls-client-auth-san-ip", help=MTLS_SUBJECT_HELP),
    san_email: str | None = typer.Option(
        None, "--tls-client-auth-san-email", help=MTLS_SUBJECT_HELP
    ),
    cert_bound: bool = typer.Option(
        False, "--tls-client-certificate-bound-access-tokens", help=MTLS_BOUND_HELP
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a client. The client_secret is printed once and stored only as a hash
    (client_secret_jwt: encrypted with the key-encryption key, as it is the HMAC key)."""
    spec = ClientSpec(
        client_name=name,
        redirect_uris=redirect_uri,
        grant_types=grant_type,
        response_types=response_type,
        scope=scope,
        token_endpoint_auth_method=auth_method,
        require_pkce=require_pkce,
        skip_consent=skip_consent,
        id_token_signed_response_alg=alg,
        application_type=application_type,
        client_id=client_id,
        default_resource=default_resource,
        post_logout_redirect_uris=post_logout_redirect_uri,
        allowed_origins=allowed_origin,
        backchannel_logout_uri=backchannel_logout_uri,
        backchannel_logout_session_required=backchannel_session,
        frontchannel_logout_uri=frontchannel_logout_uri,
        frontchannel_logout_session_required=frontchannel_session,
        jwks=_read_jwks(jwks_file) if jwks_file is not None else None,
        jwks_uri=jwks_uri,
        token_endpoint_auth_signing_alg=auth_signing_alg,
        backchannel_token_delivery_mode=ciba_mode,
        backchannel_client_notification_endpoint=ciba_endpoint,
        jar_metadata=jar_changes(request_uri, request_object_alg, response_alg, require_par),
        subject_type=subject_type,
        sector_identifier_uri=sector_identifier_uri,
        id_token_encrypted_response_alg=id_token_enc_alg,
        id_token_encrypted_response_enc=id_token_enc_enc,
        userinfo_signed_response_alg=userinfo_signed_alg,
        userinfo_encrypted_response_alg=userinfo_enc_alg,
        userinfo_encrypted_response_enc=userinfo_enc_enc,
        authorization_encrypted_response_alg=jarm_enc_alg,
        authorization_encrypted_response_enc=jarm_enc_enc,
        dpop_bound_access_tokens=dpop_bound,
        mtls_metadata=mtls_changes(
            {
                "tls_client_auth_subject_dn": subject_dn,
                "tls_client_auth_san_dns": san_dns,
                "tls_client_auth_san_uri": san_uri,
                "tls_client_auth_san_ip": san_ip,
                "tls_client_auth_san_email": san_email,
            },
            cert_bound,
        ),
    )

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            client, secret = await service.create(
                provider,
                spec,
                CLI,
                policy={
                    "require_mfa": require_mfa,
                    "connections": connection or None,
                    "password_login": password_login,
                    "token_exchange": {
                        "audiences": exchange_audience,
                        "impersonate": exchange_impersonate,
                        "delegate": exchange_delegate,
                    },
                    **oauth1_policy(oauth1, oauth1_oob, oauth1_rsa_public_key),
                    "profile": profile,
                },
            )
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return _with_secret(operator_view(client), secret)

    data = with_provider(work)
    emit(data, as_json, lambda: _show_secret(data))


@client_app.command("rotate-secret")
def rotate_secret(client_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Give a client a new client_secret, printed once; the old one stops working now."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            _, secret = await service.rotate_secret(provider, client_id, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return {"client_id": client_id, "client_secret": secret, "client_secret_expires_at": 0}

    data = with_provider(work)
    emit(data, as_json, lambda: _show_secret(data))


@client_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List clients."""

    async def work(provider: Provider) -> list[dict[str, Any]]:
        return [operator_view(c) for c in await service.list_all(provider)]

    rows = with_provider(work)
    emit(rows, as_json, lambda: [typer.echo(f"{r['client_id']}  {r['client_name']}") for r in rows])


@client_app.command("show")
def show(client_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one client's metadata."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return operator_view(await service.get(provider, client_id))
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)
    emit(data, as_json, lambda: [typer.echo(f"{k}: {v}") for k, v in data.items()])


@client_app.command("delete")
def delete(client_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete a client with its grants and tokens."""

    async def work(provider: Provider) -> None:
        try:
            await service.delete(provider, client_id, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)

    with_provider(work)
    emit({"deleted": client_id}, as_json, lambda: typer.echo(f"deleted {client_id}"))


@client_app.command("registration-token")
def registration_token(
    expires_in: int = typer.Option(
        86400, "--expires-in", help="Seconds the token stays valid (at most a year)."
    ),
    reusable: bool = typer.Option(
        False, "--reusable", help="Allow several registrations with it (default: single use)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Mint an initial access token for dynamic client registration (RFC 7591 §3): send it as
    Authorization: Bearer to /register. Printed once; only its hash is stored."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            token, expires_at = await registration.mint_initial_access_token(
                provider, CLI, expires_in=expires_in, reusable=reusable
            )
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return {
            "initial_access_token": token,
            "expires_at": expires_at,
            "reusable": reusable,
            "registration_endpoint": provider.settings.url("/register"),
        }

    data = with_provider(work)
    emit(
        data,
        as_json,
        lambda: typer.echo(
            f"initial access token: {data['initial_access_token']}  (shown once)\n"
            f"expires at: {data['expires_at']}; send it as Authorization: Bearer to "
            f"{data['registration_endpoint']}"
        ),
    )
