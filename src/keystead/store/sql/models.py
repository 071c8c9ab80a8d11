"""SQLAlchemy 2 tables for the SQL store, one per concern of ``store/base.py``.

The schema is created by the hand-written Alembic migrations in ``alembic/versions``; keep the
two in step (``tests/store`` compares them). Timestamps are UNIX seconds (BigInteger); the
``*_hash`` columns hold SHA-256 hex digests, never clear secrets. JSON array columns added
after the first release carry ``server_default='[]'``, so rows written before them read back
as an empty tuple.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from keystead.store.sql.declarative import (  # noqa: F401 - their home is models.py's API
    EMPTY_JSON_ARRAY,
    EMPTY_JSON_OBJECT,
    HASH,
    ID,
    NAMING_CONVENTION,
    Base,
)


class ClientRow(Base):
    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(ID, primary_key=True)
    client_name: Mapped[str] = mapped_column(Text)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    response_types: Mapped[list[str]] = mapped_column(JSON)
    scope: Mapped[str] = mapped_column(Text)
    token_endpoint_auth_method: Mapped[str] = mapped_column(ID)
    client_secret_hash: Mapped[str | None] = mapped_column(HASH)
    require_pkce: Mapped[bool] = mapped_column(Boolean)
    skip_consent: Mapped[bool] = mapped_column(Boolean)
    id_token_signed_response_alg: Mapped[str] = mapped_column(ID)
    application_type: Mapped[str] = mapped_column(ID)
    created_at: Mapped[int] = mapped_column(BigInteger)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)


class UserRow(Base):
    __tablename__ = "users"

    sub: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(ID, unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    email_verified: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(Text)
    given_name: Mapped[str | None] = mapped_column(Text)
    family_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, server_default=EMPTY_JSON_OBJECT)
    admin: Mapped[bool] = mapped_column(Boolean, server_default=false())  # 0020_admin_role
    disabled_at: Mapped[int | None] = mapped_column(BigInteger)  # 0022_user_disabled

    # Password reset and sign-up look users up by email, case-insensitively (0009).
    __table_args__ = (Index("ix_users_email_lower", func.lower(text("email"))),)


class GrantRow(Base):
    __tablename__ = "grants"

    grant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    # Deleting a client deletes its grants, and with them every code and token issued under them.
    client_id: Mapped[str] = mapped_column(
        ID, ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    sub: Mapped[str] = mapped_column(ID)  # the account page's list: ix_grants_sub_sid
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    auth_time: Mapped[int | None] = mapped_column(BigInteger)
    sid: Mapped[str | None] = mapped_column(ID)
    resources: Mapped[list[str]] = mapped_column(JSON, server_default=EMPTY_JSON_ARRAY)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, server_default=EMPTY_JSON_OBJECT)
    acr: Mapped[str | None] = mapped_column(ID)
    amr: Mapped[list[str]] = mapped_column(JSON, server_default=EMPTY_JSON_ARRAY)

    # Who took part in a user's sessions: back-channel logout's participants (0010).
    __table_args__ = (Index("ix_grants_sub_sid", "sub", "sid"),)


class AuthorizationCodeRow(Base):
    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ID, ForeignKey("grants.grant_id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(ID)
    sub: Mapped[str] = mapped_column(ID)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    sid: Mapped[str | None] = mapped_column(ID)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(ID)
    code_challenge_method: Mapped[str | None] = mapped_column(ID)
    consumed_at: Mapped[int | None] = mapped_column(BigInteger)
    resources: Mapped[list[str]] = mapped_column(JSON, server_default=EMPTY_JSON_ARRAY)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, server_default=EMPTY_JSON_OBJECT)
    acr: Mapped[str | None] = mapped_column(ID)
    amr: Mapped[list[str]] = mapped_column(JSON, server_default=EMPTY_JSON_ARRAY)
    dpop_jkt: Mapped[str | None] = mapped_column(ID)  # RFC 9449 §10 (0018)


class AccessTokenRow(Base):
    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ID, ForeignKey("grants.grant_id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(ID)
    sub: Mapped[str] = mapped_column(ID)
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    aud: Mapped[list[str]] = mapped_column(JSON, server_default=EMPTY_JSON_ARRAY)
    jti: Mapped[str | None] = mapped_column(ID)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    jkt: Mapped[str | None] = mapped_column(ID)  # RFC 9449 §6 (0018)
    x5t_s256: Mapped[str | None] = mapped_column(ID)  # RFC 8705 §3 (0023)
    authorization_details: Mapped[list[dict[str, Any]] | None] = mapped_column(  # 0023
        JSON(none_as_null=True)
    )


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ID, ForeignKey("grants.grant_id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(ID)
    sub: Mapped[str] = mapped_column(ID)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    idle_expires_at: Mapped[int] = mapped_column(BigInteger)
    rotated_at: Mapped[int | None] = mapped_column(BigInteger)
    successor_hash: Mapped[str | None] = mapped_column(HASH)
    successor_enc: Mapped[str | None] = mapped_column(Text)  # encrypted, never the clear value
    jkt: Mapped[str | None] = mapped_column(ID)  # RFC 9449 §5 (0018)
    x5t_s256: Mapped[str | None] = mapped_column(ID)  # RFC 8705 §4 (0023)

    # Only the rows whose successor is still kept: what clear_successors looks for (0006).
    __table_args__ = (
        Index(
            "ix_refresh_tokens_pending_successor",
            "rotated_at",
            sqlite_where=text("successor_enc IS NOT NULL"),
            postgresql_where=text("successor_enc IS NOT NULL"),
        ),
    )


class SessionRow(Base):
    __tablename__ = "sessions"

    session_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    sid: Mapped[str] = mapped_column(ID)
    sub: Mapped[str] = mapped_column(ID, index=True)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_active_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    amr: Mapped[list[str]] = mapped_column(JSON)
    user_agent: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(ID)


class ConsentRow(Base):
    __tablename__ = "consents"

    sub: Mapped[str] = mapped_column(ID, primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ID, ForeignKey("clients.client_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    scope: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class KeyRow(Base):
    __tablename__ = "keys"

    kid: Mapped[str] = mapped_column(ID, primary_key=True)
    alg: Mapped[str] = mapped_column(ID)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_jwk_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    activate_at: Mapped[int] = mapped_column(BigInteger)
    retire_at: Mapped[int | None] = mapped_column(BigInteger)


class ThrottleRow(Base):
    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(ID, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[int] = mapped_column(BigInteger)


class EventRow(Base):
    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(ID)
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)
    correlation_id: Mapped[str | None] = mapped_column(ID, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApiRow(Base):
    __tablename__ = "apis"

    api_id: Mapped[str] = mapped_column(ID, primary_key=True)
    identifier: Mapped[str] = mapped_column(ID, unique=True, index=True)
    name: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[list[str]]] = mapped_column(JSON)  # [[name, description], ...]
    token_format: Mapped[str] = mapped_column(ID)
    access_token_ttl: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    secret_hash: Mapped[str | None] = mapped_column(HASH)
    self_registration_scopes: Mapped[list[str]] = mapped_column(
        JSON, server_default=EMPTY_JSON_ARRAY
    )
    authorization_details_types: Mapped[list[str]] = mapped_column(  # RFC 9396 (0019_rar)
        JSON, server_default=EMPTY_JSON_ARRAY
    )


class MarkerRow(Base):
    """``MarkerStore``: assertion jti replay cache and initial access tokens (hashed keys)."""

    __tablename__ = "markers"

    key: Mapped[str] = mapped_column(ID, primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class FactorRow(Base):
    """``FactorStore``: TOTP authenticators and passkeys (store/factors.py)."""

    __tablename__ = "factors"

    factor_id: Mapped[str] = mapped_column(ID, primary_key=True)
    sub: Mapped[str] = mapped_column(ID, ForeignKey("users.sub", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)
    secret_enc: Mapped[str | None] = mapped_column(Text)  # encrypted under the KEK
    last_step: Mapped[int] = mapped_column(BigInteger)
    credential_id: Mapped[str | None] = mapped_column(ID, unique=True)
    public_key: Mapped[str | None] = mapped_column(Text)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    backup_eligible: Mapped[bool] = mapped_column(Boolean)
    backup_state: Mapped[bool] = mapped_column(Boolean)
    transports: Mapped[list[str]] = mapped_column(JSON)


class RecoveryCodeRow(Base):
    """Recovery codes, by hash; ``used_at`` set once."""

    __tablename__ = "recovery_codes"

    code_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    sub: Mapped[str] = mapped_column(ID, ForeignKey("users.sub", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class JobRow(Base):
    """``JobStore``: the durable outbox (store/outbox.py)."""

    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(ID)
    payload_enc: Mapped[str] = mapped_column(Text)  # encrypted under the KEK
    created_at: Mapped[int] = mapped_column(BigInteger)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(ID)
    claimed_until: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[int | None] = mapped_column(BigInteger)
    failed_at: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)

    # What a sender looks for: pending jobs by due time.
    __table_args__ = (
        Index(
            "ix_jobs_pending",
            "next_attempt_at",
            sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
    )


class ActionTokenRow(Base):
    """``ActionTokenStore``: single-use links (reset, verification, invitation), by hash."""

    __tablename__ = "action_tokens"

    token_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    purpose: Mapped[str] = mapped_column(ID)
    sub: Mapped[str] = mapped_column(ID, ForeignKey("users.sub", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    email: Mapped[str | None] = mapped_column(Text)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class DeviceCodeRow(Base):
    """``DeviceCodeStore``: RFC 8628 device codes, by the hashes of both codes."""

    __tablename__ = "device_codes"

    device_code_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    user_code_hash: Mapped[str] = mapped_column(HASH, unique=True)
    client_id: Mapped[str] = mapped_column(ID)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    interval: Mapped[int] = mapped_column(Integer)
    last_polled_at: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(ID)
    sub: Mapped[str | None] = mapped_column(ID)
    sid: Mapped[str | None] = mapped_column(ID)
    auth_time: Mapped[int | None] = mapped_column(BigInteger)
    consumed_at: Mapped[int | None] = mapped_column(BigInteger)
    acr: Mapped[str | None] = mapped_column(ID)
    amr: Mapped[list[str]] = mapped_column(JSON, server_default=EMPTY_JSON_ARRAY)
    authorization_details: Mapped[list[dict[str, Any]] | None] = mapped_column(  # 0023
        JSON(none_as_null=True)
    )


# The rows of the concerns added since (federation, trusted issuers, CIBA, OAuth 1.0a) live in
# models_more.py, on the same Base: imported here so Base.metadata always has every table.
from keystead.store.sql import models_more  # noqa: E402, F401
