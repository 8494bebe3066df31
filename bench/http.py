"""The HTTP benchmark: every public endpoint under load, as ratios to baselines.

One run starts three servers on 127.0.0.1 (the registry and a hello-world Flask app under the
deploy gunicorn config, and Datasette over the same rows), then for each endpoint runs wrk with
a Lua script that rotates through a thousand realistic URLs sampled from the dataset, after a
short warm-up. Hello-world is measured first and last; its mean is the baseline, and the drift
between the two is printed so a noisy run shows itself.

Datasette queries (the fairest equivalents we found; see docs/benchmarks.md):

==================  =======================================================================
lookup              ``/certs/certificate/<number>.json`` (row by primary key)
history             ``/certs/record.json?certificate_number=<n>&_sort=version&_nocount=1``
organisation        ``/certs/certificate.json?uscc=<uscc>&_nocount=1`` (indexed column)
search, < 3 chars   ``/certs/organisation.json?name__contains=<q>&_size=20&_nocount=1`` (LIKE)
search, >= 3 chars  ``/certs/organisation.json?_search=<q>&_size=20&_nocount=1`` (FTS5 trigram)
==================  =======================================================================
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import bindparam, create_engine, make_url, text

from bench import dataset, servers, wrk

#: URLs per endpoint: more than one run sends, so each certificate is asked for about once
#: and per-process answer caches (the lookup's, the pages') help only as much as they would
#: with a million certificates' long tail of real traffic.
URLS_PER_ENDPOINT = 20_000
#: A further set of URLs for the warm-up only, so warming does not prime the measured URLs.
WARM_URLS = 2_000
#: QR images are cached by design; the benchmark asks for a warmed set of this many.
QR_SET = 200
#: Common Chinese words and characters that no generated organisation name contains; a query
#: made of them has no match (checked against every name before use).
NO_MATCH_SOURCE = "茶餐厅火锅酒店服装纺织钢铁煤炭水泥玻璃陶瓷造纸印刷皮革渔业牧场矿业航空港口铁路"


@dataclass(frozen=True)
class Endpoint:
    """One row of the table: registry URLs, and Datasette's equivalents if comparable."""

    name: str
    route: str
    paths: list[str]
    target: float | None = None
    datasette: list[str] | None = None
    warm_all: bool = False


@dataclass
class Row:
    name: str
    route: str
    target: float | None
    result: wrk.Result | None = None
    datasette: wrk.Result | None = None
    #: CPU microseconds the registry's processes spent per request during the run.
    cpu_us: float | None = None
    note: str = ""
    ratios: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """Realistic request parameters drawn from the dataset."""

    numbers: list[str]
    usccs: list[str]
    tokens: list[str]
    queries: dict[str, list[str]]

    @classmethod
    def from_db(cls, url: str, count: int, seed: int = 7) -> Sample:
        """Draw ``count`` random certificates and search queries of every kind from the
        registry database at ``url`` (SQLite or PostgreSQL)."""
        rng = random.Random(seed)
        engine = create_engine(url)
        chosen = text(
            "SELECT c.certificate_number, c.uscc, r.envelope FROM certificate c "
            "JOIN record r ON r.log_index = c.log_index WHERE c.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        try:
            with engine.connect() as connection:
                top = connection.execute(text("SELECT max(id) FROM certificate")).scalar_one()
                ids = sorted({rng.randint(1, top) for _ in range(count * 2)})[: count * 2]
                rows = []
                for start in range(0, len(ids), 500):
                    rows += connection.execute(chosen, {"ids": ids[start : start + 500]}).all()
                names = list(connection.execute(text("SELECT name FROM organisation")).scalars())
        finally:
            engine.dispose()
        rng.shuffle(rows)
        rows = rows[:count]
        return cls(
            numbers=[r[0] for r in rows],
            usccs=[r[1] for r in rows],
            tokens=[json.loads(r[2])["qr"] for r in rows],
            queries=_queries(names, count, rng),
        )


def _queries(names: list[str], count: int, rng: random.Random) -> dict[str, list[str]]:
    """Search queries: substrings of real names by length, and queries that match nothing."""

    def substrings(low: int, high: int) -> list[str]:
        out = []
        while len(out) < count:
            name = rng.choice(names)
            length = rng.randint(low, high)
            if len(name) >= length:
                start = rng.randrange(len(name) - length + 1)
                out.append(name[start : start + length])
        return out

    text = "\n".join(names)
    candidates = {c for c in NO_MATCH_SOURCE if c not in text}
    for _ in range(400):  # each check scans every name; a few hundred words are plenty
        length = rng.choice((2, 2, 3, 4))
        word = "".join(rng.sample(NO_MATCH_SOURCE, length))
        if word not in text:
            candidates.add(word)
    no_match = sorted(candidates)
    rng.shuffle(no_match)
    return {
        "1": substrings(1, 1),
        "2": substrings(2, 2),
        "3+": substrings(3, 6),
        "none": (no_match * (count // max(len(no_match), 1) + 1))[:count],
    }


def _datasette_search(query: str) -> str:
    if len(query) < 3:
        return f"/certs/organisation.json?name__contains={quote(query)}&_size=20&_nocount=1"
    return f"/certs/organisation.json?_search={quote(query)}&_size=20&_nocount=1"


def endpoints(sample: Sample) -> list[Endpoint]:
    """Every endpoint the benchmark knows, whether or not the app serves it yet."""
    numbers, usccs = sample.numbers, sample.usccs
    search = [
        Endpoint(
            f"search ({label})",
            "/api/v1/search",
            [f"/api/v1/search?q={quote(q)}" for q in queries],
            0.5,
            [_datasette_search(q) for q in queries],
        )
        for label, queries in (
            ("1 char", sample.queries["1"]),
            ("2 chars", sample.queries["2"]),
            ("3+ chars", sample.queries["3+"]),
            ("no match", sample.queries["none"]),
        )
    ]
    return [
        Endpoint(
            "lookup",
            "/api/v1/certificates/<number>",
            [f"/api/v1/certificates/{n}" for n in numbers],
            0.8,
            [f"/certs/certificate/{quote(n)}.json" for n in numbers],
        ),
        Endpoint(
            "history",
            "/api/v1/certificates/<number>/history",
            [f"/api/v1/certificates/{n}/history" for n in numbers],
            None,
            [
                f"/certs/record.json?certificate_number={quote(n)}&_sort=version&_nocount=1"
                for n in numbers
            ],
        ),
        Endpoint(
            "organisation",
            "/api/v1/organisations/<uscc>",
            [f"/api/v1/organisations/{u}" for u in usccs],
            None,
            [f"/certs/certificate.json?uscc={u}&_nocount=1" for u in usccs],
        ),
        *search,
        Endpoint(
            "search page", "/search", [f"/search?q={quote(q)}" for q in sample.queries["2"]], 0.5
        ),
        Endpoint("certificate page", "/c/<number>", [f"/c/{n}" for n in numbers], 0.5),
        Endpoint("scan page", "/v/<token>", [f"/v/{t}" for t in sample.tokens], 0.5),
        Endpoint(
            "QR image (cached)",
            "/c/<number>/qr.png",
            [f"/c/{n}/qr.png" for n in numbers[:QR_SET]],
            0.8,
            warm_all=True,
        ),
    ]


def _served(app_url_map: Any, path: str) -> bool:
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    try:
        app_url_map.bind("localhost").match(path.split("?", 1)[0], method="GET")
    except NotFound:
        return False
    except MethodNotAllowed:
        return False
    return True


def registry_env(db: Path, database_url: str | None = None) -> dict[str, str]:
    """The ``REGISTRY_*`` settings the benchmarked registry runs with: the SQLite file ``db``,
    or the database at ``database_url`` with the keys and instance folders beside ``db``."""
    return {
        "REGISTRY_DATABASE_URL": database_url or f"sqlite:///{db}",
        "REGISTRY_KEYS_PATH": str(dataset.keys_path(db)),
        "REGISTRY_INSTANCE_PATH": str(db.parent / "instance"),
        "REGISTRY_PUBLIC_URL": dataset.PUBLIC_URL,
        # The benchmark is one client hammering search; the limit is not what is measured.
        "REGISTRY_SEARCH_RATE_LIMIT": "100000000/second",
        "REGISTRY_REPORT_RATE_LIMIT": "100000000/second",
    }


def _write_paths(folder: Path, name: str, paths: list[str]) -> Path:
    file = folder / (name.replace(" ", "-").replace("(", "").replace(")", "") + ".txt")
    file.write_text("\n".join(paths) + "\n")
    return file


def _warm(base_url: str, paths: list[str]) -> None:
    import urllib.error
    import urllib.request

    for path in paths:
        try:
            with urllib.request.urlopen(base_url + path, timeout=30) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError:
            pass


def read_through(path: Path, chunk: int = 16 << 20) -> float:
    """Read ``path`` once so the operating system caches it, as it would for a server that has
    been up for a while; return the seconds it took. Both the registry's database and
    Datasette's copy are read, so neither starts with a cold disk."""
    started = time.perf_counter()
    with path.open("rb", buffering=0) as file:
        while file.read(chunk):
            pass
    return time.perf_counter() - started


def run(
    db: Path,
    duration: float,
    connections: int,
    threads: int,
    only: set[str],
    datasette: bool,
    echo: Callable[[str], None] = print,
    database_url: str | None = None,
) -> list[Row]:
    """Benchmark the registry served from ``db``, or from ``database_url`` (PostgreSQL, with
    its keys and the run's output beside ``db``, and no Datasette); print and return the table.

    Raises:
        wrk.WrkMissing: wrk is not installed.
    """
    wrk.wrk_path()
    from registry import create_app
    from registry.store import schema
    from registry.store.db import make_engine

    env = registry_env(db, database_url)
    url = env["REGISTRY_DATABASE_URL"]
    engine = make_engine(url)
    schema.upgrade(engine)  # a cached database may predate a migration
    dataset.index_for_search(engine, echo)
    with engine.connect() as connection:
        counts = connection.exec_driver_sql(
            "SELECT (SELECT count(*) FROM certificate), (SELECT count(*) FROM record), "
            "(SELECT count(*) FROM organisation)"
        ).one()
        if (
            database_url is None
            and not connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).first()
        ):
            connection.exec_driver_sql("ANALYZE")  # a load stopped early never analysed
            connection.commit()
    engine.dispose()
    echo(f"dataset: {counts[0]:,} certificates, {counts[1]:,} records, {counts[2]:,} organisations")
    app = create_app(environ=env)
    app.extensions["registry"].engine.dispose()

    out = db.parent / f"run-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True)
    started = time.perf_counter()
    sample = Sample.from_db(url, URLS_PER_ENDPOINT + WARM_URLS)
    chosen = [e for e in endpoints(sample) if not only or e.name in only or e.route in only]
    # Short runs (--quick) warm up with a few plain requests instead of a wrk run of its own.
    warmup = 2.0 if duration >= 5 else 0.0
    rows: list[Row] = []
    ds_db = dataset.export_datasette(db) if datasette and database_url is None else None
    for served in (db if database_url is None else None, ds_db):
        if served is not None:
            echo(f"read {served.name} into the file cache in {read_through(served):.1f} s")
    with ExitStack() as stack:
        hello = stack.enter_context(servers.gunicorn("hello", "bench.hello:app", {}, "/", out))
        registry = stack.enter_context(
            servers.gunicorn("registry", "registry:create_app()", env, "/api/v1/issuers", out)
        )
        ds = None
        if ds_db is not None:
            ds = stack.enter_context(servers.datasette(ds_db, out, workers=os.cpu_count() or 1))

        def measure(
            server: servers.Server, name: str, paths: list[str], warm_all: bool
        ) -> tuple[wrk.Result, float]:
            """The wrk run, and the server's CPU microseconds per request during it."""
            base = server.base_url
            warm, paths = paths, paths
            if len(paths) > 2 * WARM_URLS and not warm_all:
                warm, paths = paths[-WARM_URLS:], paths[:-WARM_URLS]
            file = _write_paths(out, name, paths)
            if warm_all:
                # Each gunicorn worker keeps its own cache; ask often enough to reach them all.
                _warm(base, paths * 4)
            if warmup:
                wrk.run(
                    base, _write_paths(out, name + " warm-up", warm), warmup, connections, threads
                )
            else:
                _warm(base, warm[:20])
            cpu_before = server.cpu_seconds()
            result = wrk.run(base, file, duration, connections, threads)
            cpu = server.cpu_seconds() - cpu_before
            return result, cpu / max(result.requests, 1) * 1e6

        # Freshly forked workers answer their first burst slowly: warm hello-world with wrk
        # even in --quick mode, or the first baseline reads low.
        wrk.run(hello.base_url, _write_paths(out, "hello", ["/"]), 1, connections, threads)
        hello_first, hello_cpu_first = measure(hello, "hello", ["/"], False)
        echo(f"hello-world: {hello_first.rate:,.0f} req/s")
        for endpoint in chosen:
            row = Row(endpoint.name, endpoint.route, endpoint.target)
            rows.append(row)
            if not _served(app.url_map, endpoint.paths[0]):
                row.note = "not served yet"
                continue
            row.result, row.cpu_us = measure(
                registry, endpoint.name, endpoint.paths, endpoint.warm_all
            )
            if ds is not None and endpoint.datasette:
                row.datasette, _ = measure(
                    ds, "datasette " + endpoint.name, endpoint.datasette, False
                )
                busy = ds.wait_idle()
                if busy > 2:
                    echo(f"  (datasette went on working for {busy:.0f} s after its run)")
            echo(f"  {endpoint.name}: {row.result.rate:,.0f} req/s")
        hello_last, hello_cpu_last = measure(hello, "hello", ["/"], False)

    baseline = statistics.mean([hello_first.rate, hello_last.rate])
    drift = abs(hello_first.rate - hello_last.rate) / baseline
    hello_cpu = statistics.mean([hello_cpu_first, hello_cpu_last])
    for row in rows:
        if row.result is not None:
            row.ratios["hello"] = row.result.rate / baseline
            if row.cpu_us:
                row.ratios["cpu"] = hello_cpu / row.cpu_us
            if row.datasette is not None:
                row.ratios["datasette"] = row.result.rate / max(row.datasette.rate, 0.01)
    echo("")
    echo(table(rows, (hello_first, hello_cpu_first), (hello_last, hello_cpu_last)))
    echo(
        f"\nbaseline hello-world {baseline:,.0f} req/s (first {hello_first.rate:,.0f}, last "
        f"{hello_last.rate:,.0f}, drift {drift:.0%}); {duration:g} s per endpoint, "
        f"{connections} connections, {threads} wrk threads; took "
        f"{time.perf_counter() - started:,.0f} s. Raw output in {out}"
    )
    report = {
        "db": str(db) if database_url is None else make_url(database_url).render_as_string(),
        "duration": duration,
        "connections": connections,
        "hello": [asdict(hello_first), asdict(hello_last)],
        "hello_cpu_us": [hello_cpu_first, hello_cpu_last],
        "rows": [
            {
                **asdict(r),
                "result": asdict(r.result) if r.result else None,
                "datasette": asdict(r.datasette) if r.datasette else None,
            }
            for r in rows
        ],
    }
    (out / "results.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return rows


def _cells(row: Row) -> Iterator[str]:
    result = row.result
    yield row.name
    if result is None:
        yield from ("", "", "", "", "", "", "", "", "", row.note)
        return
    ratio = row.ratios["hello"]
    yield f"{result.rate:,.0f}"
    yield f"{ratio:.2f}"
    yield f"{result.p50_ms:.1f}"
    yield f"{result.p99_ms:.1f}"
    yield f"{row.cpu_us:,.0f}" if row.cpu_us else ""
    yield f"{row.ratios['cpu']:.2f}" if "cpu" in row.ratios else ""
    if row.target is None:
        yield ""
    else:
        yield f"≥{row.target:g} {'ok' if ratio >= row.target else 'MISSED'}"
    if row.datasette is not None:
        yield f"{row.datasette.rate:,.0f}"
        yield f"{row.ratios['datasette']:.2f}"
    else:
        yield from ("", "")
    problems = []
    if result.non_2xx:
        problems.append(f"{result.non_2xx} non-2xx")
    if result.socket_errors:
        problems.append(f"{result.socket_errors} socket errors")
    if row.datasette is not None and (row.datasette.non_2xx or row.datasette.socket_errors):
        problems.append(f"datasette: {row.datasette.non_2xx + row.datasette.socket_errors} failed")
    yield "; ".join(problems)


def table(
    rows: list[Row],
    hello_first: tuple[wrk.Result, float],
    hello_last: tuple[wrk.Result, float],
) -> str:
    """The results as a Markdown table (pasted as is into docs/benchmarks.md).

    ``hello_first`` and ``hello_last`` are the baseline's runs with its CPU microseconds per
    request."""
    header = [
        "endpoint",
        "req/s",
        "× hello",
        "p50 ms",
        "p99 ms",
        "CPU µs/req",
        "CPU × hello",
        "target",
        "datasette req/s",
        "× datasette",
        "notes",
    ]

    def hello_cells(run: tuple[wrk.Result, float], label: str) -> list[str]:
        hello, cpu_us = run
        return [
            label,
            f"{hello.rate:,.0f}",
            "1",
            f"{hello.p50_ms:.1f}",
            f"{hello.p99_ms:.1f}",
            f"{cpu_us:,.0f}",
            "1",
            "",
            "",
            "",
            "",
        ]

    body = [
        header,
        ["---"] * len(header),
        hello_cells(hello_first, "hello-world (first)"),
        *(list(_cells(r)) for r in rows),
        hello_cells(hello_last, "hello-world (last)"),
    ]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in body)


def profile(db: Path, names: list[str], requests: int, echo: Callable[[str], None] = print) -> None:
    """Profile endpoints in-process (Flask test client, no HTTP) with cProfile.

    For each endpoint, sends ``requests`` requests over distinct sampled URLs, prints the mean
    time per request next to the hello-world app's (the in-process ratio), then the top of the
    profile by cumulative time. Use it to see where an endpoint that misses its target spends
    its time.
    """
    import cProfile
    import io
    import pstats

    from bench.hello import app as hello_app
    from registry import create_app

    env = registry_env(db)
    app = create_app(environ=env)
    sample = Sample.from_db(env["REGISTRY_DATABASE_URL"], requests * 2)
    by_name = {e.name: e for e in endpoints(sample)}
    client, hello = app.test_client(), hello_app.test_client()

    def per_request(send: Callable[[str], object], paths: list[str]) -> float:
        started = time.perf_counter()
        for path in paths:
            send(path)
        return (time.perf_counter() - started) / len(paths) * 1000

    per_request(hello.get, ["/"] * 10)
    hello_ms = per_request(hello.get, ["/"] * requests)
    for name in names:
        # Distinct URLs, none asked before, like the HTTP benchmark's long tail; the first
        # few requests only pay one-off start-up costs.
        paths = by_name[name].paths
        per_request(client.get, paths[-10:])
        measured, profiled = paths[:requests], paths[requests : 2 * requests] or paths[:requests]
        ms = per_request(client.get, measured)
        echo(
            f"{name}: {ms:.3f} ms per request in-process, hello-world {hello_ms:.3f} ms "
            f"(ratio {hello_ms / ms:.2f})"
        )
        profiler = cProfile.Profile()
        profiler.enable()
        per_request(client.get, profiled)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        echo(out.getvalue())
