"""Credentials of the OAuth 1.0a provider (RFC 5849): temporary and token credentials.

Revision ID: 0016_oauth1
Revises: 0015_ciba
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_oauth1"
down_revision: str | None = "0015_ciba"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth1_temporary",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("callback", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("verifier_hash", sa.String(64), nullable=True),
        sa.Column("sub", sa.String(), nullable=True),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            name="fk_oauth1_temporary_client_id_clients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_oauth1_temporary"),
    )
    op.create_index("ix_oauth1_temporary_client_id", "oauth1_temporary", ["client_id"])
    op.create_index("ix_oauth1_temporary_expires_at", "oauth1_temporary", ["expires_at"])
    op.create_table(
        "oauth1_tokens",
        sa.Column("token_id", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("sub", sa.String(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            name="fk_oauth1_tokens_client_id_clients",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sub"], ["users.sub"], name="fk_oauth1_tokens_sub_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_id", name="pk_oauth1_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_oauth1_tokens_token_hash"),
    )
    op.create_index("ix_oauth1_tokens_client_id", "oauth1_tokens", ["client_id"])
    op.create_index("ix_oauth1_tokens_sub", "oauth1_tokens", ["sub"])


def downgrade() -> None:
    op.drop_table("oauth1_tokens")
    op.drop_table("oauth1_temporary")
