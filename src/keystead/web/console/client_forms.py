"""The client wizard's application types and their defaults, a form read into a
``ClientSpec``, and the copy-paste settings for three relying-party libraries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keystead.protocol.client_metadata import ClientSpec
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.config import Settings


@dataclass(frozen=True, slots=True)
class AppType:
    name: str
    title: str
    blurb: str
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    token_endpoint_auth_method: str
    application_type: str
    scope: str
    redirects: bool  # asks for redirect URIs (and logout URIs)
    origins: bool  # a browser app: its origins may call the token endpoint (CORS)


APP_TYPES: dict[str, AppType] = {
    t.name: t
    for t in (
        AppType(
            "web",
            "Web application",
            "A server-side app (Flask, Django, Express, Rails): keeps a client secret, "
            "authorization code flow with PKCE, refresh tokens.",
            ("authorization_code", "refresh_token"),
            ("code",),
            "client_secret_basic",
            "web",
            "openid profile email offline_access",
            True,
            False,
        ),
        AppType(
            "spa",
            "Single-page application",
            "JavaScript in the browser (React, Vue, Angular): a public client, no secret; "
            "code flow with PKCE; its origin may call the token endpoint.",
            ("authorization_code", "refresh_token"),
            ("code",),
            "none",
            "web",
            "openid profile email offline_access",
            True,
            True,
        ),
        AppType(
            "native",
            "Native application",
            "A desktop or mobile app (RFC 8252): a public client with a private-use scheme "
            "or loopback redirect URI, code flow with PKCE.",
            ("authorization_code", "refresh_token"),
            ("code",),
            "none",
            "native",
            "openid profile email offline_access",
            True,
            False,
        ),
        AppType(
            "m2m",
            "Machine to machine",
            "A service calling an API on its own behalf: client credentials grant "
            "(RFC 6749 §4.4), a client secret, no user, no redirect.",
            ("client_credentials",),
            (),
            "client_secret_basic",
            "web",
            "",
            False,
            False,
        ),
    )
}


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def spec_from_wizard(app: AppType, form: dict[str, str]) -> ClientSpec:
    redirect_uris = lines(form.get("redirect_uris", "")) if app.redirects else []
    # A SPA's redirect URIs' origins may call the token endpoint already; these are more.
    origins = lines(form.get("allowed_origins", "")) if app.origins else []
    return ClientSpec(
        client_name=form.get("client_name", "").strip(),
        redirect_uris=redirect_uris,
        grant_types=list(app.grant_types),
        response_types=list(app.response_types),
        scope=" ".join(form.get("scope", app.scope).split()),
        token_endpoint_auth_method=app.token_endpoint_auth_method,
        application_type=app.application_type,
        allowed_origins=origins,
        post_logout_redirect_uris=lines(form.get("post_logout_redirect_uris", "")),
        default_resource=form.get("default_resource", "").strip() or None,
    )


def apply_edit(spec: ClientSpec, form: dict[str, str]) -> ClientSpec:
    """The edit form's fields over the client's current metadata."""
    spec.client_name = form.get("client_name", "").strip()
    spec.redirect_uris = lines(form.get("redirect_uris", ""))
    spec.scope = " ".join(form.get("scope", "").split())
    spec.allowed_origins = lines(form.get("allowed_origins", ""))
    spec.post_logout_redirect_uris = lines(form.get("post_logout_redirect_uris", ""))
    spec.skip_consent = form.get("skip_consent") == "on"
    return spec


def app_type_of(client: Client) -> str:
    if client.grant_types == ("client_credentials",):
        return "m2m"
    if client.is_public:
        return "native" if client.application_type == "native" else "spa"
    return "web"


def snippets(settings: Settings, client: Client, secret: str | None) -> list[dict[str, Any]]:
    """Copy-paste configuration for Authlib (Python), openid-client (Node.js) and
    oidc-client-ts (browser): discovery does the rest."""
    issuer = settings.issuer
    cid = client.client_id
    redirect = client.redirect_uris[0] if client.redirect_uris else "https://app.example/callback"
    shown = secret or "<the client secret shown once at creation>"
    scope = client.scope or "openid"
    out: list[dict[str, Any]] = []
    if app_type_of(client) == "m2m":
        out.append(
            {
                "id": "authlib",
                "title": "Authlib (Python): client credentials",
                "code": (
                    "from authlib.integrations.httpx_client import OAuth2Client\n\n"
                    f'client = OAuth2Client("{cid}", "{shown}")\n'
                    f'token = client.fetch_token("{settings.url("/token")}", '
                    'grant_type="client_credentials")\n'
                ),
            }
        )
        out.append(
            {
                "id": "openid-client",
                "title": "openid-client (Node.js): client credentials",
                "code": (
                    "import * as client from 'openid-client'\n\n"
                    f"const config = await client.discovery(new URL('{issuer}'), '{cid}', "
                    f"'{shown}')\n"
                    "const tokens = await client.clientCredentialsGrant(config)\n"
                ),
            }
        )
        return out
    secret_py = f', client_secret="{shown}"' if not client.is_public else ""
    out.append(
        {
            "id": "authlib",
            "title": "Authlib (Python, Flask)",
            "code": (
                "from authlib.integrations.flask_client import OAuth\n\n"
                "oauth = OAuth(app)\n"
                "oauth.register(\n"
                '    "keystead",\n'
                f'    client_id="{cid}"{secret_py},\n'
                f'    server_metadata_url="{issuer}/.well-known/openid-configuration",\n'
                f'    client_kwargs={{"scope": "{scope}", "code_challenge_method": "S256"}},\n'
                ")\n"
                f'# redirect_uri: "{redirect}"\n'
            ),
        }
    )
    secret_js = f", '{shown}'" if not client.is_public else ""
    out.append(
        {
            "id": "openid-client",
            "title": "openid-client (Node.js)",
            "code": (
                "import * as client from 'openid-client'\n\n"
                f"const config = await client.discovery(new URL('{issuer}'), '{cid}'{secret_js})\n"
                "const code_verifier = client.randomPKCECodeVerifier()\n"
                "const url = client.buildAuthorizationUrl(config, {\n"
                f"  redirect_uri: '{redirect}',\n"
                f"  scope: '{scope}',\n"
                "  code_challenge: await client.calculatePKCECodeChallenge(code_verifier),\n"
                "  code_challenge_method: 'S256',\n"
                "})\n"
            ),
        }
    )
    if client.is_public:
        out.append(
            {
                "id": "oidc-client-ts",
                "title": "oidc-client-ts (browser)",
                "code": (
                    "import { UserManager } from 'oidc-client-ts'\n\n"
                    "const userManager = new UserManager({\n"
                    f"  authority: '{issuer}',\n"
                    f"  client_id: '{cid}',\n"
                    f"  redirect_uri: '{redirect}',\n"
                    f"  scope: '{scope}',\n"
                    "  response_type: 'code',\n"
                    "})\n"
                    "await userManager.signinRedirect()\n"
                ),
            }
        )
    return out
