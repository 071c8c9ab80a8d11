"""Federation (issue 22): upstream identity providers (connections) and the upstream
identities linked to local users.

Revision ID: 0013_federation
Revises: 0012_device_codes
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_federation"
down_revision: str | None = "0012_device_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("connection_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("client_secret_enc", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("auth_method", sa.String(), nullable=False),
        sa.Column("jit", sa.Boolean(), nullable=False),
        sa.Column("link_by_verified_email", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name="pk_connections"),
        sa.UniqueConstraint("name", name="uq_connections_name"),
    )
    op.create_table(
        "federated_identities",
        sa.Column("connection_id", sa.String(), nullable=False),
        sa.Column("upstream_sub", sa.String(), nullable=False),
        sa.Column("sub", sa.String(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_login_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.connection_id"],
            name="fk_federated_identities_connection_id_connections",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sub"], ["users.sub"], name="fk_federated_identities_sub_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", "upstream_sub", name="pk_federated_identities"),
    )
    op.create_index("ix_federated_identities_sub", "federated_identities", ["sub"])


def downgrade() -> None:
    op.drop_table("federated_identities")
    op.drop_table("connections")
