"""issuer certificate count

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Kept by ingest in the push's transaction, so "who publishes here" needs no count(*).
    with op.batch_alter_table("issuer") as batch:
        batch.add_column(
            sa.Column("certificates", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE issuer SET certificates = "
        "(SELECT count(*) FROM certificate WHERE certificate.issuer_id = issuer.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("issuer") as batch:
        batch.drop_column("certificates")
