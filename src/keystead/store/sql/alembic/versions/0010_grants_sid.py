"""grants by (sub, sid): the clients that took part in a user's sessions (back-channel
logout).

Revision ID: 0010_grants_sid
Revises: 0009_outbox
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010_grants_sid"
down_revision: str | None = "0009_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_grants_sub_sid", "grants", ["sub", "sid"])


def downgrade() -> None:
    op.drop_index("ix_grants_sub_sid", table_name="grants")
