"""The API scopes a dynamically registered client may ask for (issue 18 #4).

``apis.self_registration_scopes``: a JSON array with a ``'[]'`` server default, so
``ADD COLUMN`` works in place on SQLite and every API created before this revision allows
none (the default policy: self-registration gets no API scope until the operator says so).

Revision ID: 0007_self_registration_scopes
Revises: 0006_pending_successors
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_self_registration_scopes"
down_revision: str | None = "0006_pending_successors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_JSON_ARRAY = sa.text("'[]'")


def upgrade() -> None:
    op.add_column(
        "apis",
        sa.Column(
            "self_registration_scopes",
            sa.JSON(),
            server_default=EMPTY_JSON_ARRAY,
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("apis", "self_registration_scopes")
