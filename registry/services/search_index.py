"""The organisation-name index for search: character unigrams and bigrams (docs/search.md).

Ingest calls :func:`index_organisations` in the push's transaction for every organisation whose
names changed, so a search sees a pushed name as soon as the push is acknowledged.
:func:`rebuild` derives the whole index from the ``organisation`` table, for bulk loads and
after upgrading a database that predates the index (``registry search reindex``).

Names are indexed *normalised*: NFKC, then case-folded (and NFKC again, since case folding
can denormalise), so ``ＡＢＣ`` and ``abc`` find ``ABC``. A gram never spans two names.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from registry.services import transparency
from registry.store.bulk import add_rows, insert_rows
from registry.store.models import Organisation, table_of
from registry.store.search import GramCount, NameGram, SearchOrganisation

_T = TypeVar("_T")

#: One changed organisation as ingest reports it: ``(uscc, name, former names)``.
Change = tuple[str, str, tuple[str, ...]]

#: Rows per executemany batch in bulk writes: large enough to amortise round trips, small
#: enough to keep memory flat.
_BATCH = 20_000
#: Most parameters in one ``IN`` list.
_CHUNK = 500


def normalise(text_: str) -> str:
    """The form names and queries are compared in: NFKC, case-folded, NFKC again."""
    folded = unicodedata.normalize("NFKC", text_).casefold()
    return unicodedata.normalize("NFKC", folded)


def haystack(name: str, former_names: Iterable[str]) -> str:
    """The normalised names of an organisation, one per line (names hold no line feeds)."""
    return "\n".join(normalise(n) for n in (name, *former_names))


def grams(haystack_: str) -> set[str]:
    """Every distinct unigram and bigram of each line of ``haystack_``."""
    out: set[str] = set()
    for line in haystack_.split("\n"):
        out.update(line)
        out.update(line[i : i + 2] for i in range(len(line) - 1))
    return out


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert_counts(session: Session, deltas: Counter[str]) -> None:
    """Add ``deltas`` to ``gram_count`` (rows at zero stay; a zero count means no postings).

    Like :func:`_write_postings`, the rows go to the driver in bulk
    (:func:`registry.store.bulk.add_rows`): through the ORM's bulk path each row cost ~10 µs
    of Python, about a quarter of indexing a new name.
    """
    rows = [{"gram": g, "count": n} for g, n in sorted(deltas.items()) if n]
    for chunk in _chunks(rows, _BATCH):
        add_rows(session, table_of(GramCount), chunk, keys=("gram",), add="count")


_SORG = table_of(SearchOrganisation)
_DELETE_POSTING = delete(table_of(NameGram)).where(
    table_of(NameGram).c.gram == bindparam("g"), table_of(NameGram).c.org_key == bindparam("k")
)


def index_organisations(session: Session, changed: Sequence[Change]) -> dict[str, int]:
    """(Re)index the names of organisations ``(uscc, name, former_names)``; returns their
    search keys by USCC.

    New organisations get the next keys (so they sort after every organisation already
    indexed); renamed ones keep their key, and only the grams that changed are written. The
    caller commits; ingest holds the log's sequencer lock, which keeps concurrent pushes from
    racing on ``gram_count``.
    """
    if not changed:
        return {}
    wanted = {uscc: haystack(name, former) for uscc, name, former in changed}
    usccs = sorted(wanted)
    keys: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(usccs, _CHUNK):
        for key, uscc, old in session.execute(
            select(
                SearchOrganisation.key, SearchOrganisation.uscc, SearchOrganisation.haystack
            ).where(SearchOrganisation.uscc.in_(chunk))
        ):
            keys[uscc] = (key, old)
    indexed = {uscc: key for uscc, (key, _) in keys.items()}
    added: list[tuple[int, set[str]]] = []  # (key, grams it gains), per organisation
    removals: list[tuple[str, int]] = []
    renamed: list[dict[str, object]] = []
    new = [u for u in usccs if u not in keys]
    if new:
        # Inserted at driver speed, then their keys read back: the ORM's INSERT … RETURNING
        # cost ~14 µs of Python an organisation, a third of indexing it.
        insert_rows(session, _SORG, [{"uscc": u, "haystack": wanted[u]} for u in new])
        for chunk in _chunks(new, _CHUNK):
            for key, uscc in session.execute(
                select(_SORG.c.org_key, _SORG.c.uscc).where(_SORG.c.uscc.in_(chunk))
            ):
                added.append((key, grams(wanted[uscc])))
                indexed[uscc] = key
    for uscc, (key, old) in keys.items():
        if old == wanted[uscc]:
            continue
        before, after = grams(old), grams(wanted[uscc])
        added.append((key, after - before))
        removals.extend(zip(before - after, repeat(key)))
        renamed.append({"key": key, "haystack": wanted[uscc]})
    if renamed:
        session.execute(update(SearchOrganisation), renamed)
    if removals:
        # One primary-key delete per posting (executemany). A row-value IN over the pairs
        # reads the same, but SQLite plans it as a scan of every posting.
        session.connection().execute(
            _DELETE_POSTING, [{"g": gram, "k": key} for gram, key in removals]
        )
    postings, deltas = _by_gram(added)
    deltas.subtract(gram for gram, _ in removals)
    _write_postings(session, postings)
    _upsert_counts(session, deltas)
    return indexed


def _by_gram(added: list[tuple[int, set[str]]]) -> tuple[list[tuple[str, int]], Counter[str]]:
    """The postings ``(gram, key)`` of ``added`` in (gram, key) order, and how many each gram
    gains.

    In that order each posting appends to the end of its list's B-tree range. Grouped by gram
    (organisations taken in key order), only the distinct grams are sorted: sorting the
    postings themselves cost ~12 µs an organisation.
    """
    keys_of: dict[str, list[int]] = {}
    for key, grams_ in sorted(added, key=itemgetter(0)):
        for gram in grams_:
            listed = keys_of.get(gram)
            if listed is None:
                keys_of[gram] = [key]
            else:
                listed.append(key)
    postings = [(gram, key) for gram in sorted(keys_of) for key in keys_of[gram]]
    return postings, Counter({gram: len(listed) for gram, listed in keys_of.items()})


@dataclass(frozen=True)
class RebuildReport:
    """What :func:`rebuild` did."""

    organisations: int
    postings: int
    grams: int


def rebuild(session: Session) -> RebuildReport:
    """Rebuild the whole index from ``organisation``; the caller commits.

    Keys of organisations indexed before are kept (open cursors stay meaningful); organisations
    new to the index get keys in ``(updated_at, uscc)`` order, roughly the order they arrived.
    Takes the log's sequencer lock first, so no push changes names meanwhile. On PostgreSQL the
    posting table is truncated, which makes searches wait until the rebuild commits.
    """
    transparency.lock(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("TRUNCATE name_gram, gram_count"))
    else:
        session.execute(delete(NameGram))
        session.execute(delete(GramCount))
    session.execute(
        delete(SearchOrganisation).where(SearchOrganisation.uscc.not_in(select(Organisation.uscc)))
    )
    rows = session.execute(
        select(
            Organisation.uscc,
            Organisation.name,
            Organisation.former_names,
            SearchOrganisation.key,
            SearchOrganisation.haystack,
        )
        .outerjoin(SearchOrganisation, SearchOrganisation.uscc == Organisation.uscc)
        .order_by(Organisation.updated_at, Organisation.uscc)
    ).all()
    indexed: list[tuple[int, str]] = []
    new: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for uscc, name, former, key, old in rows:
        hay = haystack(name, [n for n in former.split("\n") if n])
        if key is None:
            new.append({"uscc": uscc, "haystack": hay})
        else:
            indexed.append((key, hay))
            if old != hay:
                changed.append({"key": key, "haystack": hay})
    del rows
    for chunk in _chunks(changed, _BATCH):
        session.execute(update(SearchOrganisation), list(chunk))
    for chunk in _chunks(new, _BATCH):
        added = session.execute(
            insert(SearchOrganisation).returning(
                SearchOrganisation.key, SearchOrganisation.haystack, sort_by_parameter_order=True
            ),
            list(chunk),
        )
        indexed.extend((key, hay) for key, hay in added)
    indexed.sort()
    counts: Counter[str] = Counter()
    postings: list[tuple[str, int]] = []
    total = 0
    for key, hay in indexed:
        found = grams(hay)
        postings.extend((gram, key) for gram in found)
        counts.update(found)
        if len(postings) >= _BATCH:
            total += _write_postings(session, postings)
            postings.clear()
    total += _write_postings(session, postings)
    _upsert_counts(session, counts)
    return RebuildReport(organisations=len(indexed), postings=total, grams=len(counts))


def _write_postings(session: Session, postings: Sequence[tuple[str, int]]) -> int:
    """Insert ``(gram, org_key)`` rows at driver speed; returns how many.

    The ORM's bulk insert spends ~10 µs of Python a row, several times what SQLite needs to
    store it; PostgreSQL takes the rows by COPY. Both run in the session's transaction.
    """
    if not postings:
        return 0
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver: Any = connection.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy("COPY name_gram (gram, org_key) FROM STDIN") as copy,
        ):
            for row in postings:
                copy.write_row(row)
    else:
        connection.exec_driver_sql(
            "INSERT INTO name_gram (gram, org_key) VALUES (?, ?)", list(postings)
        )
    return len(postings)
