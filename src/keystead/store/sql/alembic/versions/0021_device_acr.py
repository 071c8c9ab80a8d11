"""Device codes remember the approving session's acr and amr (the ID token's, RFC 8628 with
OIDC Core §2).

Revision ID: 0021_device_acr
Revises: 0016_oauth1
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_device_acr"
down_revision: str | None = "0016_oauth1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("device_codes", sa.Column("acr", sa.String(), nullable=True))
    op.add_column(
        "device_codes",
        sa.Column("amr", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("device_codes", "amr")
    op.drop_column("device_codes", "acr")
