"""Assessments: the transfer impact assessments an inventory records, per snapshot.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the assessment table; snapshots stored before hold no assessments."""
    op.create_table(
        "assessment",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("inventory_id", sa.Integer, sa.ForeignKey("inventory.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("id", sa.String, nullable=False),
        sa.Column("destination", sa.String, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column(
            "snapshot_id",
            sa.Integer,
            sa.ForeignKey("snapshot.id", name="fk_assessment_snapshot"),
            nullable=False,
        ),
    )
    for column in ("inventory_id", "id", "destination", "snapshot_id"):
        op.create_index(f"ix_assessment_{column}", "assessment", [column])
