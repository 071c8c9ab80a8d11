"""Settings: from ``KEYSTEAD_*`` environment variables, then an optional TOML file.

The TOML file is named by ``KEYSTEAD_CONFIG`` (or ``keystead --config FILE``); keys are the
field names below without the prefix, e.g. ``issuer = "https://id.example.com"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from keystead.mail.address import check_mail_from
from keystead.mail.smtp import parse_smtp_url


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value may hold a password (KEYSTEAD_SMTP_URL); each
    # validator's message says what is wrong without quoting it.
    model_config = SettingsConfigDict(
        env_prefix="KEYSTEAD_", extra="forbid", hide_input_in_errors=True
    )

    issuer: str = "http://127.0.0.1:8000"
    data_dir: Path = Path("keystead-data")
    database_url: str | None = None  # default: SQLite file in data_dir
    secret_key: SecretStr | None = None  # key-encryption key; default: data_dir/secret.key
    dev_mode: bool = False  # developer details on error pages
    redis_url: str | None = None  # optional: cache invalidation across instances (pub/sub)
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line
    purge_interval: int = Field(3600, ge=1)  # seconds between purges of expired rows
    # Reverse proxies whose X-Forwarded-For gives the client IP (login throttling per IP),
    # e.g. "10.0.0.5" or "10.0.0.5,10.0.0.6"; unset: the TCP peer is the client.
    forwarded_allow_ips: str | None = None
    # TLS served by `keystead serve` itself (uvicorn): certificate and key files; with
    # tls_client_ca_file, client certificates are requested (optional) and verified against
    # it during the handshake (docs/mtls.md).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    # Mutual TLS (RFC 8705, docs/mtls.md): advertised when enabled or given a base URL (the
    # mtls_endpoint_aliases are under it; default: the issuer); tls_client_auth chains are
    # checked against mtls_ca_file when set (else the TLS layer's verification is trusted);
    # the client certificate may come in mtls_cert_header from forwarded_allow_ips only.
    mtls_enabled: bool = False
    mtls_base_url: str | None = None
    mtls_ca_file: Path | None = None
    mtls_cert_header: str | None = None
    # Largest request body read (forms, JSON); a larger one is refused while it is read (413).
    max_body_bytes: int = Field(64 * 1024, ge=4096, le=16 * 1024 * 1024)

    code_ttl: int = Field(60, ge=5, le=600)  # RFC 6749 §4.1.2 recommends at most 10 minutes
    access_token_ttl: int = Field(3600, ge=30)
    id_token_ttl: int = Field(3600, ge=30)
    access_token_alg: str = "ES256"  # JWT access tokens (RFC 9068) and introspection JWTs
    refresh_idle_ttl: int = Field(14 * 86400, ge=60)  # unused this long: dead
    refresh_absolute_ttl: int = Field(30 * 86400, ge=60)  # a family never outlives this
    refresh_grace: int = Field(10, ge=0, le=60)  # same refresh token again: same successor
    session_idle_ttl: int = Field(2 * 3600, ge=60)
    session_absolute_ttl: int = Field(24 * 3600, ge=60)
    interaction_ttl: int = Field(15 * 60, ge=60)  # how long a login/consent page stays valid
    # Threads hashing passwords in one process (argon2id keeps ~9 MiB resident per thread).
    # Default: the CPUs the process may use; ``serve --workers N`` divides them among workers.
    password_threads: int | None = Field(None, ge=1)
    # argon2id parameters of new hashes (accounts/passwords.py; OWASP's minimums: m=7168 KiB
    # with t=5 ... m=47104 with t=1); older hashes are replaced at the next sign-in.
    argon2_time_cost: int = Field(4, ge=1, le=100)
    argon2_memory_cost: int = Field(9216, ge=7168, le=4 * 1024 * 1024)  # KiB
    argon2_parallelism: int = Field(1, ge=1, le=16)
    # Shortest password a user may choose, in code points after NFKC (accounts/password_policy.py).
    # NIST SP 800-63B §5.1.1.2: at least 8, so lower values are refused; at most 64 (the
    # longest a verifier must accept).
    password_min_length: int = Field(8, ge=8, le=64)
    jwks_max_age: int = Field(300, ge=0)  # Cache-Control on JWKS; rotation waits this long
    cache_ttl: float = Field(5.0, ge=0)  # bounded staleness of cached clients and keys
    event_retention_days: int = Field(7, ge=1)  # refused requests and security events

    # Clients and registration (RFC 7523, RFC 7591):
    # fetching a client's jwks_uri may reach loopback/private addresses (development, tests)
    allow_private_network_fetch: bool = False
    open_registration: bool = False  # /register without an initial access token
    # JWTs of trusted issuers (RFC 7523 §3 grants, RFC 8693 jwt subject/actor tokens):
    jwt_grant_leeway: int = Field(60, ge=0, le=600)  # clock skew allowed on exp, nbf, iat
    jwt_grant_max_age: int = Field(3600, ge=60)  # a jwt-bearer assertion's iat at most this old
    # Federation (federation/): seconds per step of a call to an upstream identity provider
    federation_timeout: float = Field(10.0, gt=0, le=60)

    # Login throttling (accounts/login.py): delays double per failure past a threshold.
    login_account_threshold: int = 5  # failures on an account from one address
    login_ip_threshold: int = 20  # failures from one address, all accounts
    login_max_delay: int = 15 * 60  # cap of those two delays; a device cookie's lockout
    login_attack_threshold: int = 20  # failures on an account, all untrusted sources
    login_account_max_delay: int = Field(4, ge=0, le=60)  # that one only slows: small cap
    login_device_threshold: int = Field(10, ge=1)  # failures one device cookie may make
    login_device_cookie_ttl: int = Field(180 * 86400, ge=60)

    # Account lifecycle (accounts/links.py): single-use links sent by mail.
    password_reset_ttl: int = Field(30 * 60, ge=60, le=24 * 3600)
    email_verification_ttl: int = Field(24 * 3600, ge=300)
    invitation_ttl: int = Field(7 * 86400, ge=3600)
    signup: bool = False  # "Create account" on the login page, and prompt=create
    signup_requires_verified_email: bool = True  # no token before the address is verified
    # The outbox (outbox.py): seconds before a failed delivery's first retry (then doubling,
    # up to an hour).
    outbox_retry_base: int = Field(30, ge=1, le=3600)
    # CIBA (protocol/ciba.py): how users learn of a backchannel authentication request; the
    # development notifier "account_page" lists them on /account with Approve / Deny.
    ciba_notifier: Literal["account_page"] = "account_page"

    # OAuth 1.0a (RFC 5849, docs/oauth1.md): how far oauth_timestamp may be from the clock
    # (seconds either way; nonces are remembered this long), and the temporary credentials'
    # lifetime.
    oauth1_timestamp_window: int = Field(300, ge=30, le=3600)
    oauth1_request_token_ttl: int = Field(600, ge=60, le=3600)

    # PAR (RFC 9126, docs/par-jar-jarm.md): every client must push its authorization requests
    # (require_pushed_authorization_requests in discovery), and a request_uri's lifetime.
    require_par: bool = False
    par_ttl: int = Field(60, ge=10, le=600)
    # JAR (RFC 9101): the largest request object fetched from a client's request_uri (bytes).
    request_uri_max_bytes: int = Field(65536, ge=1024, le=1048576)
    # The admin console (/admin, docs/console.md): admins sign in with a second factor (acr
    # "2"); false only for development and tests. A console session lasts at most this long.
    admin_require_mfa: bool = True
    admin_session_ttl: int = Field(8 * 3600, ge=300, le=7 * 86400)
    # DPoP (RFC 9449, docs/dpop.md): how old (or how far ahead) a proof's iat may be, in
    # seconds; whether proofs must carry a server-provided nonce (DPoP-Nonce, §8), and how
    # long one nonce stays valid (stateless: any instance sharing the data key accepts it).
    dpop_proof_max_age: int = Field(300, ge=10, le=3600)
    dpop_require_nonce: bool = False
    dpop_nonce_ttl: int = Field(300, ge=30, le=3600)

    # Outgoing mail (mail/, docs/mail.md). Without smtp_url, development mode logs each
    # message and its link; production refuses the flows that need mail.
    # smtp://[user:pass@]host[:port] | smtp+starttls://... | smtps://... (ports 25/587/465)
    smtp_url: SecretStr | None = None
    mail_from: str | None = None  # e.g. "keystead <no-reply@example.com>"
    mail_templates_dir: Path | None = None  # a file here overrides the built-in of that name
    smtp_timeout: float = Field(10, gt=0, le=300)  # seconds per SMTP step
    smtp_ca_file: Path | None = None  # CA bundle trusted for the SMTP server's certificate

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        # OIDC Discovery §3 / RFC 8414 §2: https URL with no query or fragment.
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError("issuer must be an absolute http(s) URL, e.g. https://id.example.com")
        if parts.query or parts.fragment:
            raise ValueError("issuer must not contain a query or fragment")
        return value.rstrip("/")

    @field_validator("mtls_base_url")
    @classmethod
    def _mtls_base_url(cls, value: str | None) -> str | None:
        # RFC 8705 §5: the aliases are URLs like the endpoints they stand for.
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("mtls_base_url must be an https URL, e.g. https://mtls.example.com")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_smtp_url(value.get_secret_value())  # ValueError: reason, never the password
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str | None) -> str | None:
        if value is not None:
            check_mail_from(value)
        return value

    @field_validator("mail_templates_dir")
    @classmethod
    def _mail_templates_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("mail_templates_dir must be an existing directory")
        return value

    @property
    def mtls(self) -> bool:
        """Is mutual TLS (RFC 8705) offered?"""
        return self.mtls_enabled or self.mtls_base_url is not None

    @property
    def issuer_path(self) -> str:
        return urlsplit(self.issuer).path

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'keystead.db'}"

    def url(self, path: str) -> str:
        """An absolute URL under the issuer: every URL keystead emits is built here."""
        return self.issuer + path

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = os.environ.get("KEYSTEAD_CONFIG")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
