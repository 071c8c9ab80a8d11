"""Pushed authorization requests (RFC 9126).

Revision ID: 0017_par
Revises: 0016_oauth1
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_par"
down_revision: str | None = "0021_device_acr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pushed_requests",
        sa.Column("request_uri_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("request_uri_hash", name="pk_pushed_requests"),
    )
    op.create_index("ix_pushed_requests_expires_at", "pushed_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_table("pushed_requests")
