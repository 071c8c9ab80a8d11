"""Rich Authorization Requests (RFC 9396): the authorization details types an API accepts.

``apis.authorization_details_types``: a JSON array with a ``'[]'`` server default, so
``ADD COLUMN`` works in place on SQLite and every API created before this revision accepts
none. The authorization details a user granted are kept with the grant's claims request
(``grants.claims``, already JSON): no other change.

Revision ID: 0019_rar
Revises: 0020_admin_role
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_rar"
down_revision: str | None = "0020_admin_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_JSON_ARRAY = sa.text("'[]'")


def upgrade() -> None:
    op.add_column(
        "apis",
        sa.Column(
            "authorization_details_types",
            sa.JSON(),
            server_default=EMPTY_JSON_ARRAY,
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("apis", "authorization_details_types")
