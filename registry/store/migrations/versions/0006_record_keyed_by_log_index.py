"""record keyed by log index

A record version's natural key is its log index (unique, never reused, assigned once under the
sequencer lock). Making it the primary key drops the surrogate ``id`` and the separate unique
index on ``log_index``; on SQLite the key becomes the rowid, so the lookup's join from
``certificate.log_index`` reaches the row in one B-tree search instead of two (index, then
table). Nothing referenced ``record.id``.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The columns both shapes of the table share, in the order the rebuilt table lists them.
_SHARED = (
    "issuer_id, certificate_number, version, envelope, record_hash, kid, received_at, "
    "log_index, status, effective_from, flagged"
)


def _sqlite_table(surrogate: bool) -> str:
    """The SQLite table, keyed by ``log_index`` (``INTEGER PRIMARY KEY``: the rowid) or, as
    revision 0005 left it, by a surrogate ``id`` with ``log_index`` unique."""
    id_column = "id INTEGER NOT NULL,\n    " if surrogate else ""
    log_index_type = "BIGINT" if surrogate else "INTEGER"
    keys = "PRIMARY KEY (id),\n    UNIQUE (log_index)" if surrogate else "PRIMARY KEY (log_index)"
    return f"""
CREATE TABLE record_new (
    {id_column}issuer_id VARCHAR(20) NOT NULL,
    certificate_number VARCHAR(32) NOT NULL,
    version INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    record_hash BLOB NOT NULL,
    kid VARCHAR(43) NOT NULL,
    received_at DATETIME NOT NULL,
    log_index {log_index_type} NOT NULL,
    status VARCHAR(16) NOT NULL,
    effective_from DATE NOT NULL,
    flagged BOOLEAN NOT NULL,
    {keys},
    FOREIGN KEY(issuer_id) REFERENCES issuer (id),
    FOREIGN KEY(kid) REFERENCES issuer_key (kid),
    UNIQUE (issuer_id, certificate_number, version)
)
"""


def _sqlite_rebuild(create: str, columns: str, source_columns: str) -> None:
    """Replace ``record`` by the table ``create`` makes, rows copied in log order.

    ``certificate`` references ``record``: this needs foreign keys unenforced while it runs,
    as :func:`registry.store.schema.upgrade` arranges (it checks every reference after).
    """
    op.execute(create)
    op.execute(
        f"INSERT INTO record_new ({columns}) SELECT {source_columns} FROM record ORDER BY log_index"
    )
    op.execute("DROP TABLE record")
    op.execute("ALTER TABLE record_new RENAME TO record")
    op.execute("CREATE INDEX ix_record_kid ON record (kid)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(_sqlite_table(surrogate=False), _SHARED, _SHARED)
        return
    op.drop_constraint("certificate_log_index_fkey", "certificate", type_="foreignkey")
    op.drop_constraint("record_log_index_key", "record", type_="unique")
    op.drop_constraint("record_pkey", "record", type_="primary")
    op.drop_column("record", "id")
    op.create_primary_key("record_pkey", "record", ["log_index"])
    op.create_foreign_key(
        "certificate_log_index_fkey", "certificate", "record", ["log_index"], ["log_index"]
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(
            _sqlite_table(surrogate=True), f"id, {_SHARED}", f"log_index + 1, {_SHARED}"
        )
        return
    op.drop_constraint("certificate_log_index_fkey", "certificate", type_="foreignkey")
    op.drop_constraint("record_pkey", "record", type_="primary")
    op.execute("ALTER TABLE record ADD COLUMN id BIGSERIAL PRIMARY KEY")
    op.create_unique_constraint("record_log_index_key", "record", ["log_index"])
    op.create_foreign_key(
        "certificate_log_index_fkey", "certificate", "record", ["log_index"], ["log_index"]
    )
