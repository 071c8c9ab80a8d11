"""DPoP (RFC 9449): the key an authorization code, an access token or a refresh token is
bound to (its RFC 7638 thumbprint). Nullable columns added in place: rows from before this
revision are unbound (Bearer) tokens.

Revision ID: 0018_dpop
Revises: 0019_rar
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_dpop"
down_revision: str | None = "0019_rar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("authorization_codes", sa.Column("dpop_jkt", sa.String(), nullable=True))
    op.add_column("access_tokens", sa.Column("jkt", sa.String(), nullable=True))
    op.add_column("refresh_tokens", sa.Column("jkt", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "jkt")
    op.drop_column("access_tokens", "jkt")
    op.drop_column("authorization_codes", "dpop_jkt")
