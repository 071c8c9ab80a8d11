"""Refresh tokens and APIs; grant, code and access token columns for refresh and resources.

New columns are nullable, or JSON arrays with a ``'[]'`` server default, so ``ADD COLUMN``
works in place on SQLite and rows written before this revision read back at the dataclass
defaults. The downgrade drops the columns in place (SQLite >= 3.35) rather than rebuilding the
tables in batch mode: rebuilding ``grants`` would cascade-delete its codes and tokens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String()
HASH = sa.String(64)
EMPTY_JSON_ARRAY = sa.text("'[]'")


def upgrade() -> None:
    op.add_column("grants", sa.Column("auth_time", sa.BigInteger(), nullable=True))
    op.add_column("grants", sa.Column("sid", ID, nullable=True))
    op.add_column(
        "grants",
        sa.Column("resources", sa.JSON(), server_default=EMPTY_JSON_ARRAY, nullable=False),
    )
    op.add_column("grants", sa.Column("expires_at", sa.BigInteger(), nullable=True))

    op.add_column(
        "authorization_codes",
        sa.Column("resources", sa.JSON(), server_default=EMPTY_JSON_ARRAY, nullable=False),
    )

    op.add_column(
        "access_tokens",
        sa.Column("aud", sa.JSON(), server_default=EMPTY_JSON_ARRAY, nullable=False),
    )
    op.add_column("access_tokens", sa.Column("jti", ID, nullable=True))
    op.add_column("access_tokens", sa.Column("revoked_at", sa.BigInteger(), nullable=True))

    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("grant_id", ID, nullable=False),
        sa.Column("client_id", ID, nullable=False),
        sa.Column("sub", ID, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("idle_expires_at", sa.BigInteger(), nullable=False),
        sa.Column("rotated_at", sa.BigInteger(), nullable=True),
        sa.Column("successor_hash", HASH, nullable=True),
        sa.Column("successor_enc", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.grant_id"],
            name="fk_refresh_tokens_grant_id_grants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_refresh_tokens"),
    )
    op.create_index("ix_refresh_tokens_grant_id", "refresh_tokens", ["grant_id"])

    op.create_table(
        "apis",
        sa.Column("api_id", ID, nullable=False),
        sa.Column("identifier", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("token_format", ID, nullable=False),
        sa.Column("access_token_ttl", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("secret_hash", HASH, nullable=True),
        sa.PrimaryKeyConstraint("api_id", name="pk_apis"),
    )
    op.create_index("ix_apis_identifier", "apis", ["identifier"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_apis_identifier", table_name="apis")
    op.drop_table("apis")
    op.drop_index("ix_refresh_tokens_grant_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")

    op.drop_column("access_tokens", "revoked_at")
    op.drop_column("access_tokens", "jti")
    op.drop_column("access_tokens", "aud")
    op.drop_column("authorization_codes", "resources")
    op.drop_column("grants", "expires_at")
    op.drop_column("grants", "resources")
    op.drop_column("grants", "sid")
    op.drop_column("grants", "auth_time")
