"""Trusted issuers of JWT authorization grants (RFC 7523) and token exchange (RFC 8693).

Revision ID: 0014_trusted_issuers
Revises: 0013_federation
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_trusted_issuers"
down_revision: str | None = "0013_federation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trusted_issuers",
        sa.Column("issuer_id", sa.String(), nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("jwks_uri", sa.Text(), nullable=True),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("subject_claim", sa.String(), nullable=False),
        sa.Column("subject_mapping", sa.String(), nullable=False),
        sa.Column("allowed_client_ids", sa.JSON(), nullable=False),
        sa.Column("verifies_email", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", name="pk_trusted_issuers"),
        sa.UniqueConstraint("issuer", name="uq_trusted_issuers_issuer"),
    )


def downgrade() -> None:
    op.drop_table("trusted_issuers")
