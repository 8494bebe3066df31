"""covering certificate number index

The lookup's one query finds a number's certificates and joins each to its current record
version: with ``issuer_id`` and ``log_index`` in the number index, the certificate rows need
not be read at all (an index-only search), and the record is then one search by its key
(revision 0006).

On SQLite the new index also serves the certificate-number prefix search, whose own index
(``ix_search_certificate_number``, revision 0002) had the same leading columns in the same
bytewise order; it goes, and with it the planner's choice between two indexes, which it made
by whatever statistics ANALYZE had last left. PostgreSQL keeps it: there the prefix search
needs its ``COLLATE "C"`` order.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_certificate_number", table_name="certificate")
    op.create_index(
        "ix_certificate_number", "certificate", ["certificate_number", "issuer_id", "log_index"]
    )
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_search_certificate_number", table_name="certificate")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(
            "ix_search_certificate_number", "certificate", ["certificate_number", "issuer_id"]
        )
    op.drop_index("ix_certificate_number", table_name="certificate")
    op.create_index("ix_certificate_number", "certificate", ["certificate_number"])
