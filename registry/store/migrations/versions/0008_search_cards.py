"""search cards

Each organisation's search result, as the API writes it, rendered ahead of the search, with
the days its statuses hold (``search_card``). A page of an unfiltered name search then reads
the postings and these rows, and no certificate or organisation rows (docs/search.md). The
table starts empty: a page with an organisation that has no card is answered from the
certificate rows as before, until ``registry search refresh`` (or ``reindex``) renders them;
ingest renders the cards of the organisations each push touches.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_card",
        sa.Column("org_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("holds_from", sa.Date(), nullable=True),
        sa.Column("holds_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("org_key"),
    )


def downgrade() -> None:
    op.drop_table("search_card")
