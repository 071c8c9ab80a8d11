"""Mutual TLS (RFC 8705): the client certificate an access token (§3) or a public client's
refresh token (§4) is bound to, as its x5t#S256 thumbprint. Nullable columns added in place:
rows from before this revision are unbound tokens.

Revision ID: 0023_mtls
Revises: 0022_user_disabled
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_mtls"
down_revision: str | None = "0022_user_disabled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("access_tokens", sa.Column("x5t_s256", sa.String(), nullable=True))
    op.add_column("refresh_tokens", sa.Column("x5t_s256", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "x5t_s256")
    op.drop_column("access_tokens", "x5t_s256")
