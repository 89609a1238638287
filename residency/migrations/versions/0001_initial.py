"""The store as it was before migrations: one inventory per organisation name.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _entity(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("inventory_id", sa.Integer, sa.ForeignKey("inventory.id"), nullable=False),
        *columns,
    )
    op.create_index(f"ix_{name}_inventory_id", name, ["inventory_id"])


def upgrade() -> None:
    """Create the tables the SQLModel store of residency 0.x created."""
    op.create_table(
        "inventory",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("country", sa.String, nullable=False),
        sa.Column("content_hash", sa.String, nullable=False),
        sa.Column("source", sa.String),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation", sa.JSON, nullable=False),
        sa.Column("origins", sa.JSON, nullable=False),
    )
    op.create_index("ix_inventory_name", "inventory", ["name"], unique=True)
    _entity(
        "client",
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("id", sa.String, nullable=False),
        sa.Column("name", sa.String),
        sa.Column("country", sa.String, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
    )
    op.create_index("ix_client_country", "client", ["country"])
    op.create_index("ix_client_id", "client", ["id"])
    _entity(
        "staff",
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("id", sa.String, nullable=False),
        sa.Column("country", sa.String, nullable=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
    )
    op.create_index("ix_staff_country", "staff", ["country"])
    op.create_index("ix_staff_id", "staff", ["id"])
    _entity(
        "system",
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("id", sa.String, nullable=False),
        sa.Column("vendor", sa.String, nullable=False),
        sa.Column("vendor_country", sa.String, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
    )
    op.create_index("ix_system_id", "system", ["id"])
    _entity(
        "system_location",
        sa.Column("system_id", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("recipient", sa.String, nullable=False),
        sa.Column("country", sa.String, nullable=False),
    )
    op.create_index("ix_system_location_country", "system_location", ["country"])
    op.create_index("ix_system_location_system_id", "system_location", ["system_id"])
