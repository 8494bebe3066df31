"""The index's writes stay index lookups: at a million certificates a table scan per
statement costs seconds per pushed batch (SQLite plans a row-value ``IN`` as a scan)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.services.search_index import index_organisations
from registry.store import schema
from registry.store.db import make_engine

USCC = "91330100MA2H3B4C5X"


def test_a_rename_deletes_postings_by_primary_key(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    schema.upgrade(engine)
    with Session(engine) as session:
        index_organisations(session, [(USCC, "杭州海川电器有限公司", ())])
        session.commit()
    deletes: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM NAME_GRAM"):
            deletes.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            index_organisations(session, [(USCC, "杭州海川家电有限公司", ())])
            session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert deletes, "a rename must remove the grams of the old name"
    raw = engine.raw_connection()
    try:
        for statement, params in deletes:
            first = params[0] if isinstance(params, list) else params
            plan = raw.cursor().execute("EXPLAIN QUERY PLAN " + statement, first).fetchall()
            details = " ".join(str(row[-1]) for row in plan)
            assert "SCAN" not in details, details
    finally:
        raw.close()
        engine.dispose()
