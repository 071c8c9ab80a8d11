"""Rich Authorization Requests beyond /authorize (RFC 9396 §6): the authorization_details of
an access token narrower than its grant's (or a client_credentials token's own), and those a
device authorization or a CIBA request asked for. Nullable columns added in place: NULL means
"the grant's" (tokens) or "none asked" (device codes, CIBA requests).

Revision ID: 0023_rar_details
Revises: 0022_user_disabled
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_rar_details"
down_revision: str | None = "0023_mtls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("access_tokens", "device_codes", "ciba_requests")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("authorization_details", sa.JSON(none_as_null=True), nullable=True)
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, "authorization_details")
