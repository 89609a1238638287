"""Snapshots: every import is kept, numbered per organisation; rows belong to a snapshot.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ENTITIES = ("staff", "client", "system", "system_location")


def upgrade() -> None:
    """Add the snapshot table; what an old store holds becomes snapshot 1 of each name."""
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inventory_id", sa.Integer, sa.ForeignKey("inventory.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String),
        sa.Column("content_hash", sa.String, nullable=False),
        sa.Column("source", sa.String),
        sa.Column("organisation", sa.JSON, nullable=False),
        sa.Column("origins", sa.JSON, nullable=False),
        sa.Column("staff", sa.Integer, nullable=False),
        sa.Column("clients", sa.Integer, nullable=False),
        sa.Column("systems", sa.Integer, nullable=False),
        sa.UniqueConstraint("inventory_id", "number", name="uq_snapshot_number"),
    )
    op.create_index("ix_snapshot_inventory_id", "snapshot", ["inventory_id", "imported_at"])
    op.execute(
        "INSERT INTO snapshot (inventory_id, number, imported_at, imported_by, content_hash,"
        " source, organisation, origins, staff, clients, systems)"
        " SELECT i.id, 1, i.imported_at, NULL, i.content_hash, i.source, i.organisation,"
        " i.origins,"
        " (SELECT count(*) FROM staff e WHERE e.inventory_id = i.id),"
        " (SELECT count(*) FROM client e WHERE e.inventory_id = i.id),"
        " (SELECT count(*) FROM system e WHERE e.inventory_id = i.id)"
        " FROM inventory i"
    )
    for table in ENTITIES:
        op.add_column(table, sa.Column("snapshot_id", sa.Integer))
        op.execute(
            f"UPDATE {table} SET snapshot_id = (SELECT s.id FROM snapshot s"
            f" WHERE s.inventory_id = {table}.inventory_id)"
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("snapshot_id", existing_type=sa.Integer, nullable=False)
            batch.create_foreign_key(f"fk_{table}_snapshot", "snapshot", ["snapshot_id"], ["id"])
        op.create_index(f"ix_{table}_snapshot_id", table, ["snapshot_id"])
