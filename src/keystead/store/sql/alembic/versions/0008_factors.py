"""Second factors (issue 20): TOTP authenticators and passkeys, recovery codes, and the
authentication context (acr, amr) carried by grants and codes into ID tokens.

Revision ID: 0008_factors
Revises: 0007_self_registration_scopes
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_factors"
down_revision: str | None = "0007_self_registration_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMPTY_JSON_ARRAY = sa.text("'[]'")


def upgrade() -> None:
    op.create_table(
        "factors",
        sa.Column("factor_id", sa.String(), nullable=False),
        sa.Column("sub", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=True),
        sa.Column("secret_enc", sa.Text(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("credential_id", sa.String(), nullable=True),
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("backup_eligible", sa.Boolean(), nullable=False),
        sa.Column("backup_state", sa.Boolean(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sub"], ["users.sub"], name="fk_factors_sub_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("factor_id", name="pk_factors"),
        sa.UniqueConstraint("credential_id", name="uq_factors_credential_id"),
    )
    op.create_index("ix_factors_sub", "factors", ["sub"])
    op.create_table(
        "recovery_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("sub", sa.String(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sub"], ["users.sub"], name="fk_recovery_codes_sub_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code_hash", name="pk_recovery_codes"),
    )
    op.create_index("ix_recovery_codes_sub", "recovery_codes", ["sub"])
    for table in ("grants", "authorization_codes"):
        op.add_column(table, sa.Column("acr", sa.String(), nullable=True))
        op.add_column(
            table, sa.Column("amr", sa.JSON(), server_default=EMPTY_JSON_ARRAY, nullable=False)
        )


def downgrade() -> None:
    for table in ("grants", "authorization_codes"):
        # Not batch mode: SQLite's copy-and-swap would cascade-delete the codes' tokens.
        op.drop_column(table, "amr")
        op.drop_column(table, "acr")
    op.drop_table("recovery_codes")
    op.drop_table("factors")
