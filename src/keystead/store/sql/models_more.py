"""Tables of the concerns added after the core, on models.py's ``Base`` (one metadata, one
migration history): upstream connections and the identities linked through them, trusted JWT
issuers, CIBA requests, OAuth 1.0a credentials."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from keystead.store.sql.declarative import HASH, ID, Base


class ConnectionRow(Base):
    """``ConnectionStore``: upstream identity providers (store/connections.py)."""

    __tablename__ = "connections"

    connection_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(ID, unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(ID)
    issuer: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(Text)
    client_secret_enc: Mapped[str] = mapped_column(Text)  # encrypted under the KEK
    scope: Mapped[str] = mapped_column(Text)
    auth_method: Mapped[str] = mapped_column(ID)
    jit: Mapped[bool] = mapped_column(Boolean)
    link_by_verified_email: Mapped[bool] = mapped_column(Boolean)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class FederatedIdentityRow(Base):
    """``FederatedIdentityStore``: an upstream's sub at a connection is a local user."""

    __tablename__ = "federated_identities"

    connection_id: Mapped[str] = mapped_column(
        ID, ForeignKey("connections.connection_id", ondelete="CASCADE"), primary_key=True
    )
    upstream_sub: Mapped[str] = mapped_column(ID, primary_key=True)
    sub: Mapped[str] = mapped_column(ID, ForeignKey("users.sub", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_login_at: Mapped[int] = mapped_column(BigInteger)


class TrustedIssuerRow(Base):
    """``TrustedIssuerStore``: outside JWT issuers (RFC 7523 grants, RFC 8693 ``jwt``)."""

    __tablename__ = "trusted_issuers"

    issuer_id: Mapped[str] = mapped_column(ID, primary_key=True)
    issuer: Mapped[str] = mapped_column(ID, unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    jwks_uri: Mapped[str | None] = mapped_column(Text)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject_claim: Mapped[str] = mapped_column(ID)
    subject_mapping: Mapped[str] = mapped_column(ID)
    allowed_client_ids: Mapped[list[str]] = mapped_column(JSON)
    verifies_email: Mapped[bool] = mapped_column(Boolean)


class CibaRequestRow(Base):
    """``CibaRequestStore``: CIBA backchannel authentication requests, by the auth_req_id hash."""

    __tablename__ = "ciba_requests"

    auth_req_id_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    request_id: Mapped[str] = mapped_column(ID, unique=True)
    client_id: Mapped[str] = mapped_column(ID)
    sub: Mapped[str] = mapped_column(ID, index=True)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    interval: Mapped[int] = mapped_column(Integer)
    delivery_mode: Mapped[str] = mapped_column(ID)
    acr_values: Mapped[str | None] = mapped_column(Text)
    binding_message: Mapped[str | None] = mapped_column(Text)
    ping_enc: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(ID)
    decided_at: Mapped[int | None] = mapped_column(BigInteger)
    sid: Mapped[str | None] = mapped_column(ID)
    auth_time: Mapped[int | None] = mapped_column(BigInteger)
    acr: Mapped[str | None] = mapped_column(ID)
    amr: Mapped[list[str]] = mapped_column(JSON)
    consumed_at: Mapped[int | None] = mapped_column(BigInteger)
    authorization_details: Mapped[list[dict[str, Any]] | None] = mapped_column(  # 0023
        JSON(none_as_null=True)
    )


class OAuth1TemporaryRow(Base):
    """``OAuth1Store``: RFC 5849 §2.1 temporary credentials, by the hash of the token."""

    __tablename__ = "oauth1_temporary"

    token_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    secret_enc: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(
        ID, ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    callback: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(ID)
    verifier_hash: Mapped[str | None] = mapped_column(HASH)
    sub: Mapped[str | None] = mapped_column(ID)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class OAuth1TokenRow(Base):
    """``OAuth1Store``: RFC 5849 §2.3 token credentials; they go with their client or user."""

    __tablename__ = "oauth1_tokens"

    token_id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(HASH, unique=True)
    secret_enc: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(
        ID, ForeignKey("clients.client_id", ondelete="CASCADE"), index=True
    )
    sub: Mapped[str] = mapped_column(ID, ForeignKey("users.sub", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class PushedRequestRow(Base):
    """``PushedRequestStore``: RFC 9126 pushed authorization requests, by request_uri hash."""

    __tablename__ = "pushed_requests"

    request_uri_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    client_id: Mapped[str] = mapped_column(ID)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
