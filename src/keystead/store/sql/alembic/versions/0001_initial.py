"""Initial schema: clients, users, grants, codes, tokens, sessions, consents, keys, throttle.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String()
HASH = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("client_id", ID, nullable=False),
        sa.Column("client_name", sa.Text(), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("response_types", sa.JSON(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("token_endpoint_auth_method", ID, nullable=False),
        sa.Column("client_secret_hash", HASH, nullable=True),
        sa.Column("require_pkce", sa.Boolean(), nullable=False),
        sa.Column("skip_consent", sa.Boolean(), nullable=False),
        sa.Column("id_token_signed_response_alg", ID, nullable=False),
        sa.Column("application_type", ID, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_clients"),
    )
    op.create_table(
        "users",
        sa.Column("sub", ID, nullable=False),
        sa.Column("username", ID, nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sub", name="pk_users"),
    )
    op.create_index("ix_users_username", "users", ["username"], unique=True)

    op.create_table(
        "grants",
        sa.Column("grant_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("sub", ID, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            name="fk_grants_client_id_clients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("grant_id", name="pk_grants"),
    )
    op.create_index("ix_grants_client_id", "grants", ["client_id"])

    op.create_table(
        "authorization_codes",
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("grant_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("sub", ID, nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("sid", ID, nullable=True),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("code_challenge", ID, nullable=True),
        sa.Column("code_challenge_method", ID, nullable=True),
        sa.Column("consumed_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.grant_id"],
            name="fk_authorization_codes_grant_id_grants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name="pk_authorization_codes"),
    )
    op.create_index("ix_authorization_codes_grant_id", "authorization_codes", ["grant_id"])

    op.create_table(
        "access_tokens",
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("grant_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("sub", ID, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.grant_id"],
            name="fk_access_tokens_grant_id_grants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_access_tokens"),
    )
    op.create_index("ix_access_tokens_grant_id", "access_tokens", ["grant_id"])

    op.create_table(
        "sessions",
        sa.Column("session_hash", HASH, nullable=False),
        sa.Column("sid", ID, nullable=False),
        sa.Column("sub", ID, nullable=False),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_active_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("session_hash", name="pk_sessions"),
    )

    op.create_table(
        "consents",
        sa.Column("sub", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            name="fk_consents_client_id_clients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sub", "client_id", name="pk_consents"),
    )
    op.create_index("ix_consents_client_id", "consents", ["client_id"])

    op.create_table(
        "keys",
        sa.Column("kid", ID, nullable=False),
        sa.Column("alg", ID, nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_jwk_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("activate_at", sa.BigInteger(), nullable=False),
        sa.Column("retire_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_keys"),
    )

    op.create_table(
        "throttle",
        sa.Column("key", ID, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_throttle"),
    )


def downgrade() -> None:
    op.drop_table("throttle")
    op.drop_table("keys")
    op.drop_index("ix_consents_client_id", table_name="consents")
    op.drop_table("consents")
    op.drop_table("sessions")
    op.drop_index("ix_access_tokens_grant_id", table_name="access_tokens")
    op.drop_table("access_tokens")
    op.drop_index("ix_authorization_codes_grant_id", table_name="authorization_codes")
    op.drop_table("authorization_codes")
    op.drop_index("ix_grants_client_id", table_name="grants")
    op.drop_table("grants")
    op.drop_index("ix_users_username", table_name="users")
    op.drop_table("users")
    op.drop_table("clients")
