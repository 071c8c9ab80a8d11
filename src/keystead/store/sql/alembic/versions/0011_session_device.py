"""Where a session was signed in (its User-Agent and client address) for the user's list of
sessions, and the index that list reads by (a user's grants are found by 0010's
ix_grants_sub_sid, whose first column is sub).

Revision ID: 0011_session_device
Revises: 0010_grants_sid
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_session_device"
down_revision: str | None = "0010_grants_sid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("user_agent", sa.Text(), nullable=True))
    op.add_column("sessions", sa.Column("ip", sa.String(), nullable=True))
    op.create_index("ix_sessions_sub", "sessions", ["sub"])


def downgrade() -> None:
    op.drop_index("ix_sessions_sub", "sessions")
    # Not batch mode (sessions have no children, but keep one way for every table).
    op.drop_column("sessions", "ip")
    op.drop_column("sessions", "user_agent")
