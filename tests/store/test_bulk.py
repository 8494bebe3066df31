"""insert_rows stores exactly what session.execute(insert(table), rows) stores, on both backends
(PostgreSQL takes the rows as one array per column); add_rows adds to the rows it finds,
upsert_rows replaces them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.crypto.keys import PrivateKey
from registry.services.issuers import register_issuer
from registry.store.bulk import add_rows, insert_rows, upsert_rows
from registry.store.models import LogEntry, Organisation, table_of
from registry.store.scans import ScanCount
from registry.store.search import SearchCard, SearchOrganisation
from tests.conftest import ISSUER_ID

NOW = dt.datetime(2026, 11, 22, 8, 2, 25, 371234, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)  # no microseconds: formats differ there
FORMER = "丙\n丁"


def _raw(session: Session, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Rows as the driver returns them (text() columns get no result processing)."""
    return [tuple(row) for row in session.execute(text(sql), params)]


def test_log_entries_are_stored_alike(session: Session) -> None:
    def rows(start: int) -> list[dict[str, object]]:
        return [
            {"idx": start + i, "kind": kind, "data": data, "appended_at": when}
            for i, (kind, data, when) in enumerate(
                [("record", b"{}", NOW), ("key", bytes(range(256)), NOW), ("record", b"", LATER)]
            )
        ]

    insert_rows(session, table_of(LogEntry), rows(1000))
    session.execute(insert(table_of(LogEntry)), rows(2000))
    query = (
        "SELECT kind, data, appended_at FROM log_entry"
        " WHERE idx BETWEEN :first AND :first + 2 ORDER BY idx"
    )
    bulk = _raw(session, query, first=1000)
    core = _raw(session, query, first=2000)
    assert [(k, bytes(d), w) for k, d, w in bulk] == [(k, bytes(d), w) for k, d, w in core]
    assert len(bulk) == 3
    assert session.get(LogEntry, 1000).appended_at == NOW


def test_organisations_are_stored_alike_in_any_key_order(session: Session) -> None:
    insert_rows(
        session,
        table_of(Organisation),
        [
            {"name": "甲公司", "uscc": "91110000802100433B", "former_names": "", "updated_at": NOW},
            {"name": "乙", "uscc": "91440300708461136T", "former_names": FORMER, "updated_at": NOW},
        ],
    )
    session.execute(
        insert(table_of(Organisation)),
        [
            {"uscc": "9131000005587870XB", "name": "甲公司", "former_names": "", "updated_at": NOW},
            {"uscc": "914403001922038216", "name": "乙", "former_names": FORMER, "updated_at": NOW},
        ],
    )

    def stored(uscc: str) -> list[tuple[object, ...]]:
        return _raw(
            session,
            "SELECT name, former_names, updated_at FROM organisation WHERE uscc = :uscc",
            uscc=uscc,
        )

    assert stored("91110000802100433B") == stored("9131000005587870XB")  # one by each path
    assert stored("91440300708461136T") == stored("914403001922038216")
    assert stored("91440300708461136T")[0][1] == FORMER
    assert session.execute(text("SELECT count(*) FROM organisation")).scalar_one() == 4


def test_add_rows_inserts_new_keys_and_adds_to_stored_ones(session: Session) -> None:
    """The upsert of counters: dates in the key go through the column's bind processor, so a
    later batch finds the row an earlier one stored."""
    register_issuer(
        session, ISSUER_ID, "测试", None, PrivateKey.from_seed(bytes(32)).public_key, NOW
    )
    table = table_of(ScanCount)
    keys = ("issuer_id", "certificate_number", "day")
    day = dt.date(2026, 11, 22)

    def count(number: str, when: dt.date, n: int) -> dict[str, object]:
        return {"issuer_id": ISSUER_ID, "certificate_number": number, "day": when, "count": n}

    add_rows(session, table, [count("A", day, 2), count("B", day, 1)], keys=keys, add="count")
    add_rows(
        session,
        table,
        [count("A", day, 3), count("A", day + dt.timedelta(days=1), 4)],
        keys=keys,
        add="count",
    )
    add_rows(session, table, [], keys=keys, add="count")
    stored = session.execute(
        select(ScanCount.certificate_number, ScanCount.day, ScanCount.count).order_by(
            ScanCount.certificate_number, ScanCount.day
        )
    ).all()
    assert [tuple(row) for row in stored] == [
        ("A", day, 5),
        ("A", day + dt.timedelta(days=1), 4),
        ("B", day, 1),
    ]


def test_upsert_rows_inserts_new_keys_and_replaces_stored_rows(session: Session) -> None:
    """A stored row takes every other column of the new one (dates through their bind
    processors, NULLs included); rows with new keys are inserted."""
    table = table_of(SearchCard)
    day = dt.date(2026, 11, 22)
    upsert_rows(
        session,
        table,
        [
            {"org_key": 1, "card": "a", "holds_from": day, "holds_until": None},
            {"org_key": 2, "card": "b", "holds_from": None, "holds_until": day},
        ],
        keys=("org_key",),
    )
    upsert_rows(
        session,
        table,
        [
            {"org_key": 2, "card": "B", "holds_from": day, "holds_until": None},
            {"org_key": 3, "card": "", "holds_from": None, "holds_until": None},
        ],
        keys=("org_key",),
    )
    stored = session.execute(
        select(
            SearchCard.key, SearchCard.card, SearchCard.holds_from, SearchCard.holds_until
        ).order_by(SearchCard.key)
    ).all()
    assert [tuple(row) for row in stored] == [
        (1, "a", day, None),
        (2, "B", day, None),
        (3, "", None, None),
    ]


def test_rows_are_inserted_in_the_order_given(session: Session) -> None:
    """Generated keys follow the rows' order: the search index gives new organisations keys
    in USCC order, whatever the dialect does with a batch."""
    usccs = [f"91{n:016d}" for n in (7, 3, 9, 1, 5, 8, 2, 6, 4, 0)]
    insert_rows(session, table_of(SearchOrganisation), [{"uscc": u, "haystack": u} for u in usccs])
    stored = session.execute(select(SearchOrganisation.uscc).order_by(SearchOrganisation.key))
    assert list(stored.scalars()) == usccs


def test_a_large_batch_with_nulls_and_bytes_is_stored_whole(session: Session) -> None:
    """Thousands of rows in one call, binary values of every byte and NULL-only columns."""
    rows = [
        {"org_key": n, "card": "卡" * (n % 7), "holds_from": None, "holds_until": None}
        for n in range(1, 5001)
    ]
    upsert_rows(session, table_of(SearchCard), rows, keys=("org_key",))
    insert_rows(
        session,
        table_of(LogEntry),
        [
            {"idx": 10_000 + n, "kind": "record", "data": bytes([n % 256]) * n, "appended_at": NOW}
            for n in range(3000)
        ],
    )
    assert session.execute(text("SELECT count(*) FROM search_card")).scalar_one() == 5000
    assert (
        session.execute(
            text("SELECT count(*) FROM search_card WHERE holds_from IS NULL")
        ).scalar_one()
        == 5000
    )
    assert bytes(session.get(LogEntry, 12_999).data) == bytes([2999 % 256]) * 2999
    assert session.get(LogEntry, 10_000).data == b""


def test_a_value_too_long_for_its_column_is_never_cut(session: Session) -> None:
    """PostgreSQL refuses it, as a plain INSERT does (an explicit cast to ``varchar(n)`` would
    cut it silently); SQLite does not enforce lengths and stores it whole."""
    long_name = "长" * 201  # organisation.name is VARCHAR(200)
    row = {"uscc": "91110000802100433B", "name": long_name, "former_names": "", "updated_at": NOW}
    if session.get_bind().dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="too long"), session.begin_nested():
            insert_rows(session, table_of(Organisation), [row])
    else:
        insert_rows(session, table_of(Organisation), [row])
        assert session.execute(select(Organisation.name)).scalar_one() == long_name


def test_a_column_left_out_gets_its_default_as_with_insert(session: Session) -> None:
    """``former_names`` has a Python-side default (""): rows that leave it out are stored with
    it, by either path, as ``session.execute(insert(table), rows)`` stores them."""
    insert_rows(
        session,
        table_of(Organisation),
        [{"name": "甲公司", "uscc": "91110000802100433B", "updated_at": NOW}],
    )
    session.execute(
        insert(table_of(Organisation)),
        [{"name": "甲公司", "uscc": "9131000005587870XB", "updated_at": NOW}],
    )
    query = "SELECT name, former_names FROM organisation WHERE uscc = :uscc"
    assert _raw(session, query, uscc="91110000802100433B") == [("甲公司", "")]
    assert _raw(session, query, uscc="9131000005587870XB") == [("甲公司", "")]


def test_a_default_computed_per_row_must_be_given(session: Session) -> None:
    stamped = Table(
        "stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime, default=lambda: NOW),
    )
    with pytest.raises(ValueError, match=r"stamped\.at has a default computed per row"):
        insert_rows(session, stamped, [{"id": 1}])


def test_upsert_rows_replaces_a_column_left_out_by_its_default(session: Session) -> None:
    organisation = table_of(Organisation)
    row = {"name": "甲公司", "uscc": "91110000802100433B", "updated_at": NOW}
    upsert_rows(session, organisation, [{**row, "former_names": FORMER}], keys=("uscc",))
    upsert_rows(session, organisation, [{**row, "name": "乙公司"}], keys=("uscc",))
    query = "SELECT name, former_names FROM organisation WHERE uscc = :uscc"
    assert _raw(session, query, uscc="91110000802100433B") == [("乙公司", "")]
