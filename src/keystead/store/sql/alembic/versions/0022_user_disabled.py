"""Users can be disabled by an operator (issue 27): no sign-in while ``disabled_at`` is set.

Revision ID: 0022_user_disabled
Revises: 0018_dpop
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_user_disabled"
down_revision: str | None = "0018_dpop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("disabled_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "disabled_at")
