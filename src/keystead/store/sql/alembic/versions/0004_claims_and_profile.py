"""Claims requests on grants and codes (OIDC Core §5.5), users' other standard claims (§5.1).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_JSON_OBJECT = sa.text("'{}'")


def upgrade() -> None:
    op.add_column(
        "grants",
        sa.Column("claims", sa.JSON(), nullable=False, server_default=EMPTY_JSON_OBJECT),
    )
    op.add_column(
        "authorization_codes",
        sa.Column("claims", sa.JSON(), nullable=False, server_default=EMPTY_JSON_OBJECT),
    )
    op.add_column(
        "users",
        sa.Column("profile", sa.JSON(), nullable=False, server_default=EMPTY_JSON_OBJECT),
    )


def downgrade() -> None:
    op.drop_column("users", "profile")
    op.drop_column("authorization_codes", "claims")
    op.drop_column("grants", "claims")
