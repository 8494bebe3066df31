"""scans: label reports and scan counts per certificate and day

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:30:00

Written by hand for SQLite and PostgreSQL (registry/store/scans.py has the models).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_report",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("issuer_id", sa.String(length=20), nullable=False),
        sa.Column("certificate_number", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_label_report_issuer", "label_report", ["issuer_id", "id"])
    op.create_table(
        "scan_count",
        sa.Column("issuer_id", sa.String(length=20), nullable=False),
        sa.Column("certificate_number", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", "certificate_number", "day"),
    )


def downgrade() -> None:
    op.drop_table("scan_count")
    op.drop_index("ix_label_report_issuer", table_name="label_report")
    op.drop_table("label_report")
