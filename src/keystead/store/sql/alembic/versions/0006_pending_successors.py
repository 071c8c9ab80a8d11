"""A partial index on the refresh tokens whose successor is still kept (encrypted).

Housekeeping clears ``successor_enc`` once the grace window has passed
(``clear_successors``, every 10 s). Without this index that UPDATE scanned every refresh token
ever rotated, each time; with it, it reads only the few rotated in the last seconds.

Revision ID: 0006_pending_successors
Revises: 0005_markers
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_pending_successors"
down_revision: str | None = "0005_markers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("successor_enc IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_refresh_tokens_pending_successor",
        "refresh_tokens",
        ["rotated_at"],
        unique=False,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_pending_successor", table_name="refresh_tokens")
