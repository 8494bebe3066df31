"""Search latency at scale, through ``registry.services.search`` (no HTTP), and bulk index time.

Bulk-inserts sample organisations with one or two certificates each straight into the state
tables (no signatures, no log: this measures search, not ingest), rebuilds the name index with
``search_index.rebuild`` (timed: the bulk-indexing figure), then times queries of each kind,
each in its own session as a request would run it, and prints p50/p99 per kind.

    .venv/bin/python -m bench.search_latency --organisations 100000
    .venv/bin/python -m bench.search_latency --organisations 100000 --postgres

``--postgres`` starts a throwaway PostgreSQL 15 cluster (tests/postgres.py) for the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, event, insert, text

from registry.domain.schemes import SCHEMES
from registry.sample import organisations
from registry.services import search_index
from registry.services.search import SearchQuery, search
from registry.store import schema
from registry.store.db import make_engine, make_sessionmaker
from registry.store.models import Certificate, Issuer, Organisation

TODAY = dt.date(2026, 3, 1)
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
ISSUERS = ("CNCA-R-2002-001", "CNCA-R-2003-012", "CNCA-R-2005-007")
#: Characters that occur in no sample name, for queries that must find nothing.
NO_MATCH = "鬼魅魑魉龘靐齉爨麤灪鱻饕餮貔貅麒麟凤凰龟蛇"


def load(engine: Engine, count: int, seed: int) -> list[tuple[str, tuple[str, ...]]]:
    """Insert ``count`` organisations and their certificates; return their names."""
    rng = random.Random(seed)
    names: list[tuple[str, tuple[str, ...]]] = []
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        if engine.dialect.name == "postgresql":
            # No record rows are made: let certificate.log_index dangle for the benchmark.
            session.execute(text("SET session_replication_role = replica"))
        else:
            session.execute(text("PRAGMA foreign_keys=OFF"))
        session.execute(
            insert(Issuer),
            [{"id": i, "name": i, "name_en": None, "registered_at": NOW} for i in ISSUERS],
        )
        orgs: list[dict[str, object]] = []
        certs: list[dict[str, object]] = []
        serial = 0
        for org in organisations(count, seed):
            names.append((org.name, org.former_names))
            orgs.append(
                {
                    "uscc": org.uscc,
                    "name": org.name,
                    "former_names": "\n".join(org.former_names),
                    "updated_at": NOW,
                }
            )
            for _ in range(rng.choice((1, 1, 1, 2))):
                serial += 1
                scheme = rng.choice(SCHEMES)
                expiry = TODAY + dt.timedelta(days=rng.randint(-400, 1000))
                certs.append(
                    {
                        "issuer_id": rng.choice(ISSUERS),
                        "certificate_number": f"B{scheme.code}-{serial:08d}",
                        "version": 1,
                        "log_index": serial,
                        "organisation_name": org.name,
                        "uscc": org.uscc,
                        "scheme": scheme.id,
                        "tier": rng.choice(scheme.tiers).name,
                        "status": rng.choice(("valid",) * 8 + ("suspended", "withdrawn")),
                        "issue_date": expiry - dt.timedelta(days=1000),
                        "expiry_date": expiry,
                        "received_at": NOW,
                    }
                )
            if len(orgs) >= 20_000:
                session.execute(insert(Organisation), orgs)
                session.execute(insert(Certificate), certs)
                orgs, certs = [], []
        if orgs:
            session.execute(insert(Organisation), orgs)
            session.execute(insert(Certificate), certs)
        session.commit()
    return names


def queries(
    names: list[tuple[str, tuple[str, ...]]], count: int, seed: int
) -> dict[str, list[str]]:
    """Substrings of real names by length, and queries that match nothing."""
    rng = random.Random(seed)

    def substrings(length: int) -> Iterator[str]:
        while True:
            name = rng.choice(names)[0]
            if len(name) >= length:
                start = rng.randrange(len(name) - length + 1)
                yield name[start : start + length]

    out: dict[str, list[str]] = {}
    for label, length in (("1 char", 1), ("2 chars", 2), ("4 chars", 4)):
        stream = substrings(length)
        out[label] = [next(stream) for _ in range(count)]
    out["no match (1-3 chars)"] = [
        "".join(rng.sample(NO_MATCH, rng.choice((1, 2, 3)))) for _ in range(count)
    ]
    out["1 char, status=expired"] = out["1 char"]
    return out


def measure(engine: Engine, texts: list[str], **filters: str) -> tuple[float, float, float]:
    """p50, p99 and max milliseconds of ``search`` over ``texts``, one session each."""
    sessions = make_sessionmaker(engine)
    timings = []
    for text_ in texts:
        started = time.perf_counter()
        with sessions() as session:
            search(session, SearchQuery(text_, **filters), TODAY)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return statistics.median(timings), p99, timings[-1]


def run(url: str, count: int, per_kind: int, seed: int) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # The rebuild runs in one transaction; let SQLite keep its pages in memory meanwhile.
        event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA cache_size=-262144"))
    schema.upgrade(engine)
    started = time.perf_counter()
    names = load(engine, count, seed)
    seconds = time.perf_counter() - started
    print(f"{engine.dialect.name}: loaded {count:,} organisations in {seconds:.1f} s")
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        report = search_index.rebuild(session)
        session.commit()
    print(
        f"rebuild: {report.postings:,} postings, {report.grams:,} grams "
        f"in {time.perf_counter() - started:.1f} s"
    )
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    for label, texts in queries(names, per_kind, seed).items():
        filters = {"status": "expired"} if "status=" in label else {}
        measure(engine, texts[: max(10, per_kind // 10)], **filters)  # warm caches and pools
        p50, p99, worst = measure(engine, texts, **filters)
        print(f"  {label:<24} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {worst:6.2f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000, help="per kind")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--url", help="an empty database to use instead")
    args = parser.parse_args()
    if args.url:
        run(args.url, args.organisations, args.queries, args.seed)
    elif args.postgres:
        from tests.postgres import Cluster, find_bindir

        cluster = Cluster(find_bindir())
        cluster.start()
        try:
            run(cluster.test_url(), args.organisations, args.queries, args.seed)
        finally:
            cluster.stop()
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(
                f"sqlite:///{Path(folder) / 'search.db'}",
                args.organisations,
                args.queries,
                args.seed,
            )


if __name__ == "__main__":
    main()
