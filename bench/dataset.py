"""The benchmark's data: realistic certificates at scale, signed and ingested for real.

The bulk path is the registry's own: records from :func:`registry.sample.records`, signed with
:class:`registry.client.Signer` (a process pool signs while the main process ingests),
issuers registered with :func:`registry.services.issuers.register_issuer`, and envelopes stored
by :func:`registry.services.ingest.ingest` in batches of 1000, one transaction each. Nothing is
written around the services, so the database is exactly what pushes over HTTP would build
(signatures, scan tokens, history, log leaves), only without the HTTP round trips.

Everything is deterministic for a seed except receipt times: issuer keys and the log key come
from fixed seeds, so a cached database can be served again without any key files.

A finished database is marked by ``<db>.json`` (counts and timings); :func:`load` skips the
work when that marker matches what was asked for. A database with records and no marker is a
load that stopped early (each batch is its own transaction, so it holds a whole prefix of the
stream): :func:`load` resumes it, checks that the stored records are the stream's first ones,
and pushes the rest of the same stream. The stream is a function of the seed and ``today``;
``today`` is the day in China when the load began, so a resumed load takes it from the stored
receipt times unless it is given.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import sqlite3
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select

from registry.app import LOG_KEY_FILE
from registry.client import Signer
from registry.crypto.keys import PrivateKey
from registry.domain.calendar import china_today
from registry.log.note import NoteSigner
from registry.sample import records
from registry.services import search_cards, search_index, transparency
from registry.services.ingest import ingest
from registry.services.issuers import register_issuer
from registry.store import schema
from registry.store.db import make_engine, make_sessionmaker
from registry.store.models import RecordVersion

#: Fictitious certification bodies; their certificate-number prefixes are all distinct, so a
#: number names one certificate across issuers (Datasette's table can key on it).
ISSUERS: tuple[tuple[str, str, str], ...] = (
    ("CNCA-R-2002-001", "中联服务认证中心（基准）", "Zhonglian Service Certification (bench)"),
    ("CNCA-R-2003-012", "华标认证有限公司（基准）", "Huabiao Certification (bench)"),
    ("CNCA-R-2005-007", "东方质量认证中心（基准）", "Dongfang Quality Certification (bench)"),
    ("CNCA-R-2008-021", "正信认证有限公司（基准）", "Zhengxin Certification (bench)"),
    ("CNCA-R-2011-003", "国优服务认证中心（基准）", "Guoyou Service Certification (bench)"),
    ("CNCA-R-2016-045", "信达认证有限公司（基准）", "Xinda Certification (bench)"),
)

#: The public URL baked into the log origin; the benchmark serves with the same one.
PUBLIC_URL = "https://registry.example.cn"
BATCH = 1000
#: Signed batches in flight ahead of ingest: bounds memory, keeps both signers busy.
WINDOW = 6
#: ``issued_at`` of every scan token, so the same seed gives the same bytes.
ISSUED_AT = 1_767_225_600


def issuer_key(issuer_id: str) -> PrivateKey:
    """The deterministic private key of a benchmark issuer."""
    return PrivateKey.from_seed(f"bench-issuer:{issuer_id}".encode().ljust(32, b"\0")[:32])


def log_key() -> PrivateKey:
    """The deterministic log key of a benchmark registry."""
    return PrivateKey.from_seed(b"bench-registry-log-key".ljust(32, b"\0"))


def keys_path(db: Path) -> Path:
    """The keys folder served with ``db`` (holds ``log.pem``), created on demand."""
    path = db.with_name(db.stem + ".keys")
    path.mkdir(parents=True, exist_ok=True)
    pem = path / LOG_KEY_FILE
    if not pem.exists():
        pem.write_bytes(log_key().to_pem())
        pem.chmod(0o600)
    return path


def marker_path(db: Path) -> Path:
    return db.with_name(db.name + ".json")


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load` built (also the content of the marker file)."""

    certificates: int
    records: int
    organisations: int
    seed: int
    today: str
    seconds: float
    ingest_seconds: float
    index_seconds: float
    #: Records already in the database when this load began (0 for a load from scratch).
    resumed_from: int = 0

    @property
    def rate(self) -> float:
        """Records pushed per second by this load (resumed records excluded)."""
        pushed = self.records - self.resumed_from
        return pushed / self.seconds if self.seconds else 0.0


def cached(db: Path, certificates: int, seed: int) -> LoadReport | None:
    """The report of a finished load of ``db`` with these parameters, or None."""
    if not db.exists():
        return None
    return _cached_marker(marker_path(db), certificates, seed)


def _cached_marker(marker: Path, certificates: int, seed: int) -> LoadReport | None:
    if not marker.exists():
        return None
    report = LoadReport(**json.loads(marker.read_text()))
    if report.certificates != certificates or report.seed != seed:
        return None
    return report


def certificates_stream(count: int, seed: int, today: dt.date) -> Iterator[dict[str, Any]]:
    """Records of exactly ``count`` certificates (every version of each), in push order."""
    seen = 0
    for record in records(10**9, [i[0] for i in ISSUERS], seed, today):
        if record["version"] == 1:
            if seen == count:
                return
            seen += 1
        yield record


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


_signers: dict[str, Signer] = {}


def _init_signers() -> None:
    for issuer_id, _, _ in ISSUERS:
        _signers[issuer_id] = Signer(issuer_key(issuer_id))


def _sign_batch(batch: Sequence[dict[str, Any]]) -> list[dict[str, object]]:
    return [_signers[str(r["issuer"])].envelope(r, issued_at=ISSUED_AT) for r in batch]


def load(
    db: Path,
    certificates: int,
    seed: int = 2026,
    today: dt.date | None = None,
    processes: int = 2,
    echo: Any = print,
) -> LoadReport:
    """Build (or reuse) a registry database of ``certificates`` certificates at ``db``.

    Args:
        db: the SQLite file. With a marker that does not match, it is replaced; with records
            and no marker (a load that stopped), the load resumes after the stored records.
        certificates: how many certificates (all versions of each are pushed).
        seed: the :mod:`registry.sample` seed.
        today: the day the data is "as of". Default: the day in China when the load began,
            that is now, or for a resumed load the receipt time of its first record.
        processes: signing processes.
        echo: where progress lines go.

    Raises:
        RuntimeError: the registry rejected a generated record (a bug in the generator or the
            rules; the message carries the registry's problem), or a stopped load's records
            are not the start of this stream.
    """
    found = cached(db, certificates, seed)
    if found is not None:
        echo(f"using cached {db} ({found.certificates} certificates, {found.records} records)")
        return found
    now = dt.datetime.now(dt.UTC)
    stopped = stopped_load(db)
    if stopped is None:
        today = today or china_today(now)
        _start_database(db, now)
        done = 0
    else:
        done, began = stopped
        today = today or china_today(began)
        echo(f"resuming {db}: {done:,} records loaded (today {today.isoformat()})")
    engine = make_engine(f"sqlite:///{db}")
    schema.upgrade(engine)  # a stopped load may predate the latest migrations
    report = _push_and_finish(engine, certificates, seed, today, now, done, processes, echo)
    marker_path(db).write_text(json.dumps(asdict(report), indent=1) + "\n")
    return report


def load_postgres(
    admin_url: str,
    database: str,
    marker: Path,
    certificates: int,
    seed: int = 2026,
    processes: int = 2,
    echo: Any = print,
) -> LoadReport:
    """Build (or reuse) the same dataset in the PostgreSQL database ``database``.

    Args:
        admin_url: a URL of the server's ``postgres`` database, to (re)create ``database``.
        database: the database's name; replaced unless ``marker`` records a finished load of
            these parameters (a load that stopped starts again: there is no resuming here).
        marker: the JSON report of the finished load.
        certificates, seed, processes, echo: as for :func:`load`.
    """
    found = _cached_marker(marker, certificates, seed)
    if found is not None:
        echo(f"using cached {database} ({found.certificates:,} certificates)")
        return found
    from bench import pg

    marker.unlink(missing_ok=True)
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(pg.fresh_database(admin_url, database))
    schema.upgrade(engine)
    _register_issuers(engine, now)
    report = _push_and_finish(engine, certificates, seed, china_today(now), now, 0, processes, echo)
    marker.write_text(json.dumps(asdict(report), indent=1) + "\n")
    return report


def _push_and_finish(
    engine: Engine,
    certificates: int,
    seed: int,
    today: dt.date,
    now: dt.datetime,
    done: int,
    processes: int,
    echo: Any,
) -> LoadReport:
    """Push the stream's records after the ``done`` stored ones, then sign a checkpoint, build
    the search index and gather statistics; disposes of ``engine``."""
    sessions = make_sessionmaker(engine)
    stream = certificates_stream(certificates, seed, today)
    if done:
        _skip_loaded(stream, done, sessions)

    started = time.perf_counter()
    ingest_seconds = 0.0
    total = done
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_init_signers) as pool:
        pending: deque[Any] = deque()
        batches = _batches(stream, BATCH)
        for batch in batches:
            pending.append(pool.apply_async(_sign_batch, (batch,)))
            if len(pending) < WINDOW:
                continue
            envelopes = pending.popleft().get()
            ingest_seconds += _ingest(sessions, envelopes, now)
            total += len(envelopes)
            if total % 50_000 == 0:
                elapsed = time.perf_counter() - started
                echo(
                    f"  {total:>9,} records  {(total - done) / elapsed:,.0f}/s "
                    f"(ingest alone {(total - done) / ingest_seconds:,.0f}/s)"
                )
        while pending:
            envelopes = pending.popleft().get()
            ingest_seconds += _ingest(sessions, envelopes, now)
            total += len(envelopes)
    loaded = time.perf_counter()

    with sessions() as session:
        origin = f"{PUBLIC_URL.removeprefix('https://')}/log"
        transparency.fresh_checkpoint(session, NoteSigner(origin, log_key()), origin, 1.0, now)
        session.commit()
    index_for_search(engine, echo)
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        organisations = connection.exec_driver_sql("SELECT count(*) FROM organisation").scalar()
        connection.commit()
    engine.dispose()
    finished = time.perf_counter()
    report = LoadReport(
        certificates=certificates,
        records=total,
        organisations=int(organisations or 0),
        seed=seed,
        today=today.isoformat(),
        seconds=round(finished - started, 1),
        ingest_seconds=round(ingest_seconds, 1),
        index_seconds=round(finished - loaded, 1),
        resumed_from=done,
    )
    pushed = total - done
    echo(
        f"loaded {pushed:,} records ({total:,} in all, {done:,} before) of "
        f"{certificates:,} certificates ({report.organisations:,} organisations) in "
        f"{report.seconds:,.0f} s: {pushed / max(report.seconds, 1e-9):,.0f} records/s overall, "
        f"{pushed / max(ingest_seconds, 1e-9):,.0f}/s in ingest; "
        f"index and analyse {report.index_seconds:,.0f} s"
    )
    return report


def stopped_load(db: Path) -> tuple[int, dt.datetime] | None:
    """A load of ``db`` that stopped early: (records stored, receipt time of the first), or None.

    None when ``db`` does not exist, has a marker (finished, or to be replaced) or holds no
    records.
    """
    if not db.exists() or marker_path(db).exists():
        return None
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        count = connection.execute("SELECT count(*) FROM record").fetchone()[0]
        first = connection.execute(
            "SELECT received_at FROM record ORDER BY log_index LIMIT 1"
        ).fetchone()
    except sqlite3.OperationalError:  # no record table: not a registry database
        return None
    finally:
        connection.close()
    if not count:
        return None
    return int(count), dt.datetime.fromisoformat(first[0]).replace(tzinfo=dt.UTC)


def _start_database(db: Path, now: dt.datetime) -> None:
    """Replace ``db`` by a migrated registry database with the benchmark issuers registered."""
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        marker_path(db),
    ):
        stale.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    schema.upgrade(engine)
    _register_issuers(engine, now)


def _register_issuers(engine: Engine, now: dt.datetime) -> None:
    """Register the benchmark issuers in a migrated, empty database; disposes of ``engine``."""
    with make_sessionmaker(engine)() as session:
        for issuer_id, name, name_en in ISSUERS:
            register_issuer(
                session,
                issuer_id,
                name,
                name_en,
                issuer_key(issuer_id).public_key,
                now,
                valid_from=now - dt.timedelta(days=1),
            )
        session.commit()
    engine.dispose()


#: What names a record version, in the stream and in the ``record`` table.
_IDENTITY = ("issuer", "certificate_number", "version")


def _skip_loaded(stream: Iterator[dict[str, Any]], done: int, sessions: Any) -> None:
    """Advance ``stream`` past the ``done`` records stored, checking they are its first ones.

    Raises:
        RuntimeError: the first and last records stored are not the stream's first and
            ``done``-th (another seed, ``today`` or generator), so resuming would mix datasets.
    """
    columns = (RecordVersion.issuer_id, RecordVersion.certificate_number, RecordVersion.version)
    with sessions() as session:
        first = session.execute(select(*columns).order_by(RecordVersion.log_index).limit(1)).one()
        last = session.execute(
            select(*columns).order_by(RecordVersion.log_index.desc()).limit(1)
        ).one()
    stored = {0: tuple(first), done - 1: tuple(last)}
    generated: dict[int, tuple[object, ...]] = {}
    for position, record in enumerate(islice(stream, done)):
        if position in stored:
            generated[position] = tuple(
                record[name] for name in ("issuer", "certificate_number", "version")
            )
    if generated != stored:
        raise RuntimeError(
            f"the {done:,} records stored are not the start of this stream "
            f"(stored {stored}, generated {generated}); delete the database to load it afresh"
        )


def index_for_search(engine: Engine, echo: Any = print) -> None:
    """Build the search index in one pass if it lags behind the organisations, then render
    the search cards that are missing or out of date today.

    A database loaded before the search index existed (or by a loader that skipped it) has
    organisations the index lacks; :func:`registry.services.search_index.rebuild` derives the
    whole index from them, which is far faster than indexing batch by batch. The cards are
    what ``registry search refresh``, run daily, keeps (one loaded before they existed has
    none).
    """
    _index_names(engine, echo)
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        count = search_cards.refresh_all(
            session, china_today(dt.datetime.now(dt.UTC)), stale_only=True
        )
        session.commit()
    if count:
        echo(f"rendered {count:,} search cards in {time.perf_counter() - started:,.0f} s")


def _index_names(engine: Engine, echo: Any) -> None:
    rebuild = getattr(search_index, "rebuild", None)
    if not callable(rebuild):
        return
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        if "search_organisation" not in tables:
            return
        wanted = connection.exec_driver_sql("SELECT count(*) FROM organisation").scalar()
        indexed = connection.exec_driver_sql("SELECT count(*) FROM search_organisation").scalar()
    if indexed == wanted:
        return
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        rebuild(session)
        session.commit()
    echo(f"indexed {wanted:,} organisations for search in {time.perf_counter() - started:,.0f} s")


def _ingest(sessions: Any, envelopes: Sequence[object], now: dt.datetime) -> float:
    started = time.perf_counter()
    with sessions() as session:
        report = ingest(session, envelopes, now)
        rejected = [r for r in report.results if r.outcome != "accepted"]
        if rejected:
            raise RuntimeError(
                f"the registry did not accept a generated record: {rejected[0].to_json()}"
            )
        session.commit()
    return time.perf_counter() - started


def export_datasette(db: Path) -> Path:
    """Copy the rows Datasette serves into a plain SQLite file beside ``db``; return its path.

    Datasette publishes tables as they are, so it gets the same facts in the shape it serves
    best: ``certificate`` keyed by number (with the current envelope as text), ``record``
    (every version, indexed by number), and ``organisation`` keyed by USCC with an FTS5
    trigram index on names (what ``?_search=`` uses). Cached: rebuilt only when missing.
    """
    out = db.with_name(db.stem + ".datasette.db")
    done = out.with_name(out.name + ".done")
    if out.exists() and done.exists():
        return out
    out.unlink(missing_ok=True)
    connection = sqlite3.connect(out)
    connection.execute("ATTACH DATABASE ? AS r", (str(db),))
    connection.executescript("""
        PRAGMA journal_mode=OFF;
        CREATE TABLE certificate (
            certificate_number TEXT PRIMARY KEY, issuer TEXT, organisation_name TEXT,
            uscc TEXT, scheme TEXT, tier TEXT, status TEXT, issue_date TEXT, expiry_date TEXT,
            version INTEGER, envelope TEXT);
        INSERT INTO certificate
            SELECT c.certificate_number, c.issuer_id, c.organisation_name, c.uscc, c.scheme,
                   c.tier, c.status, c.issue_date, c.expiry_date, c.version,
                   CAST(v.envelope AS TEXT)
            FROM r.certificate c JOIN r.record v ON v.log_index = c.log_index;
        CREATE INDEX certificate_uscc ON certificate (uscc);
        CREATE TABLE record (
            log_index INTEGER PRIMARY KEY, certificate_number TEXT, issuer TEXT,
            version INTEGER, status TEXT, received_at TEXT, envelope TEXT);
        INSERT INTO record
            SELECT log_index, certificate_number, issuer_id, version, status, received_at,
                   CAST(envelope AS TEXT)
            FROM r.record;
        CREATE INDEX record_number ON record (certificate_number, version);
        CREATE TABLE organisation (uscc TEXT PRIMARY KEY, name TEXT, former_names TEXT);
        INSERT INTO organisation SELECT uscc, name, former_names FROM r.organisation;
        CREATE VIRTUAL TABLE organisation_fts USING fts5(
            name, former_names, content="organisation", tokenize="trigram");
        INSERT INTO organisation_fts (organisation_fts) VALUES ('rebuild');
        ANALYZE main;
    """)
    connection.commit()
    connection.close()
    done.touch()
    return out
