"""search index: organisation keys, name n-grams, gram counts, certificate-number prefix index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:00:00

Written by hand (see docs/search.md). After upgrading a database that already holds
organisations, run ``registry search reindex`` to fill the index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_organisation",
        sa.Column("org_key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("haystack", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("org_key"),
        sa.UniqueConstraint("uscc"),
    )
    # On SQLite both index tables are clustered on their primary key (WITHOUT ROWID).
    op.create_table(
        "name_gram",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("org_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("gram", "org_key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "gram_count",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gram"),
        sqlite_with_rowid=False,
    )
    # Certificate-number prefix search is a range scan over (number, issuer). It needs bytewise
    # order: SQLite's BINARY collation is, but PostgreSQL's database collation may not be (a
    # linguistic collation ignores punctuation), so there the index is built COLLATE "C".
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_search_certificate_number ON certificate "
            '(certificate_number COLLATE "C", issuer_id)'
        )
    else:
        op.create_index(
            "ix_search_certificate_number", "certificate", ["certificate_number", "issuer_id"]
        )


def downgrade() -> None:
    op.drop_index("ix_search_certificate_number", table_name="certificate")
    op.drop_table("gram_count")
    op.drop_table("name_gram")
    op.drop_table("search_organisation")
