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
work when that marker matches what was asked for.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
import sqlite3
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect

from registry.app import LOG_KEY_FILE
from registry.client import Signer
from registry.crypto.keys import PrivateKey
from registry.log.note import NoteSigner
from registry.sample import records
from registry.services import search_index, transparency
from registry.services.ingest import ingest
from registry.services.issuers import register_issuer
from registry.store import schema
from registry.store.db import make_engine, make_sessionmaker

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
    #: Records already in the database when this load resumed it (0: loaded from scratch).
    resumed_from: int = 0

    @property
    def rate(self) -> float:
        """Records per second over this load (the resumed part only, if it resumed)."""
        loaded = self.records - self.resumed_from
        return loaded / self.seconds if self.seconds else 0.0


def cached(db: Path, certificates: int, seed: int) -> LoadReport | None:
    """The report of a finished load of ``db`` with these parameters, or None."""
    marker = marker_path(db)
    if not db.exists() or not marker.exists():
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
    resume: bool = False,
) -> LoadReport:
    """Build (or reuse) a registry database of ``certificates`` certificates at ``db``.

    Args:
        db: the SQLite file; it is replaced if it exists without a matching marker.
        certificates: how many certificates (all versions of each are pushed).
        seed: the :mod:`registry.sample` seed.
        today: the day the data is "as of" (default: today in China).
        processes: signing processes.
        echo: where progress lines go.
        resume: continue an unfinished load of ``db`` (records and no marker) instead of
            starting again: the stream is deterministic for ``seed`` and ``today``, so the
            records already stored are skipped and the rest pushed. ``today`` must be the day
            the load began.

    Raises:
        RuntimeError: the registry rejected a generated record (a bug in the generator or the
            rules; the message carries the registry's problem).
    """
    found = cached(db, certificates, seed)
    if found is not None:
        echo(f"using cached {db} ({found.certificates} certificates, {found.records} records)")
        return found
    now = dt.datetime.now(dt.UTC)
    today = today or (now + dt.timedelta(hours=8)).date()
    db.parent.mkdir(parents=True, exist_ok=True)
    done = _loaded_records(db) if resume else 0
    if done:
        echo(f"resuming {db} after {done:,} records (today {today.isoformat()})")
        engine = make_engine(f"sqlite:///{db}")
        schema.upgrade(engine)
        sessions = make_sessionmaker(engine)
    else:
        engine, sessions = _fresh(db, now)
    started = time.perf_counter()
    ingest_seconds = 0.0
    total = 0
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_init_signers) as pool:
        pending: deque[Any] = deque()
        stream = itertools.islice(certificates_stream(certificates, seed, today), done, None)
        batches = _batches(stream, BATCH)
        for batch in batches:
            pending.append(pool.apply_async(_sign_batch, (batch,)))
            if len(pending) < WINDOW:
                continue
            ingest_seconds += _ingest(sessions, pending.popleft().get(), now)
            total += BATCH
            if total % 50_000 == 0:
                elapsed = time.perf_counter() - started
                echo(
                    f"  {total:>9,} records  {total / elapsed:,.0f}/s "
                    f"(ingest alone {total / ingest_seconds:,.0f}/s)"
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
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        organisations = connection.exec_driver_sql("SELECT count(*) FROM organisation").scalar()
    engine.dispose()
    finished = time.perf_counter()
    report = LoadReport(
        certificates=certificates,
        records=done + total,
        organisations=int(organisations or 0),
        seed=seed,
        today=today.isoformat(),
        seconds=round(finished - started, 1),
        ingest_seconds=round(ingest_seconds, 1),
        index_seconds=round(finished - loaded, 1),
        resumed_from=done,
    )
    echo(
        f"loaded {total:,} records of {certificates:,} certificates "
        f"({report.organisations:,} organisations) in {report.seconds:,.0f} s: "
        f"{report.rate:,.0f} records/s overall, {total / max(ingest_seconds, 1e-9):,.0f}/s "
        f"in ingest; index and analyse {report.index_seconds:,.0f} s"
    )
    marker_path(db).write_text(json.dumps(asdict(report), indent=1) + "\n")
    return report


def _loaded_records(db: Path) -> int:
    """How many records an unfinished load left in ``db`` (0 if none, or if it finished)."""
    if not db.exists() or marker_path(db).exists():
        return 0
    with sqlite3.connect(db) as connection:
        found = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'record'"
        ).fetchone()
        if not found or not found[0]:
            return 0
        return int(connection.execute("SELECT count(*) FROM record").fetchone()[0])


def _fresh(db: Path, now: dt.datetime) -> tuple[Engine, Any]:
    """A new database at ``db`` (replacing any file there) with the benchmark issuers."""
    for stale in (
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        marker_path(db),
    ):
        stale.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    schema.upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
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
    return engine, sessions


def index_for_search(engine: Engine, echo: Any = print) -> None:
    """Build the search index in one pass if it lags behind the organisations.

    A database loaded before the search index existed (or by a loader that skipped it) has
    organisations the index lacks; :func:`registry.services.search_index.rebuild` derives the
    whole index from them, which is far faster than indexing batch by batch.
    """
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
            id INTEGER PRIMARY KEY, certificate_number TEXT, issuer TEXT, version INTEGER,
            status TEXT, received_at TEXT, log_index INTEGER, envelope TEXT);
        INSERT INTO record
            SELECT id, certificate_number, issuer_id, version, status, received_at, log_index,
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
