"""Markers: hashed keys that expire (client assertion jti replay cache, initial access tokens).

Revision ID: 0005_markers
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_markers"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "markers",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_markers")),
    )
    op.create_index(op.f("ix_markers_expires_at"), "markers", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_markers_expires_at"), table_name="markers")
    op.drop_table("markers")
