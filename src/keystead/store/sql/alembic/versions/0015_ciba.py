"""Backchannel authentication requests of OpenID Connect CIBA Core 1.0.

Revision ID: 0015_ciba
Revises: 0014_trusted_issuers
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_ciba"
down_revision: str | None = "0014_trusted_issuers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ciba_requests",
        sa.Column("auth_req_id_hash", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("sub", sa.String(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("delivery_mode", sa.String(), nullable=False),
        sa.Column("acr_values", sa.Text(), nullable=True),
        sa.Column("binding_message", sa.Text(), nullable=True),
        sa.Column("ping_enc", sa.Text(), nullable=True),
        sa.Column("last_polled_at", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("sid", sa.String(), nullable=True),
        sa.Column("auth_time", sa.BigInteger(), nullable=True),
        sa.Column("acr", sa.String(), nullable=True),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("consumed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("auth_req_id_hash", name="pk_ciba_requests"),
        sa.UniqueConstraint("request_id", name="uq_ciba_requests_request_id"),
    )
    op.create_index("ix_ciba_requests_sub", "ciba_requests", ["sub"])
    op.create_index("ix_ciba_requests_expires_at", "ciba_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_table("ciba_requests")
