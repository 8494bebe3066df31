"""``python -m bench.log_bench``: the log's two performance promises, measured.

    python -m bench.log_bench proof --leaves 10000000   # inclusion proofs in a 10M-leaf log
    python -m bench.log_bench ingest --records 5000     # ingest rate vs signature checks alone
    python -m bench.log_bench ingest --postgres         # the same, ingesting into PostgreSQL 15

``proof`` bulk-loads the complete-subtree hashes of N synthetic leaves into a migrated SQLite
file (``merkle.append_hashes`` in large batches, ``executemany``), signs one checkpoint, then
times ``transparency.inclusion_proof`` with a session (the server-side cost) and the JSON
endpoint through Flask's test client, at random indices. The loaded file is kept as
``bench/out/log-<N>.db`` (``--cache``) and reused by later runs, since building ten million
leaves takes minutes; a build that stops early leaves only ``<file>.partial`` behind.

``ingest`` signs N sample records, times (a) verifying their record signatures and scan tokens
alone, and (b) ``services.ingest.ingest`` in batches of 1000 with commit, batch by batch in
alternation (a noisy neighbour slows both alike), and prints the ratio of the rates (the target
is at least 0.7). See docs/benchmarks.md, section "Log".

The two sides, so that the ratio measures what ingest adds to the signature checks:

- (a), the baseline, does for each envelope exactly the two checks ingest must do, with the
  parsing each needs: ``verify_record`` (RFC 8785 canonical bytes of the record, Ed25519) and
  ``ScanToken.from_text(qr).verify`` (base32, the strict COSE_Sign1 parse with its
  deterministic-encoding check, Ed25519 over the Sig_structure). Issuer keys are parsed
  beforehand, as ingest parses each key once per process.
- (b) starts from freshly parsed JSON (a copy of each envelope, as from a request body) and
  ends with the transaction committed: envelope shape, key lookup and validity, both checks
  above, the record rules (``Record.from_json``), claims against the record, the stored
  bytes, then under the sequencer lock the version decisions, the log append, the history,
  certificate, organisation and search-index rows, and the commit. ``--profile`` shows
  where (b)'s time goes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from registry import create_app
from registry.app import LOG_KEY_FILE
from registry.client import Signer
from registry.crypto.envelope import verify_record
from registry.crypto.keys import PrivateKey, PublicKey
from registry.crypto.scantoken import ScanToken
from registry.log import merkle
from registry.log.note import NoteSigner
from registry.sample import records
from registry.services import transparency
from registry.services.ingest import ingest
from registry.services.issuers import register_issuer
from registry.store import schema
from registry.store.db import make_engine, make_sessionmaker

ORIGIN = "registry.example.cn/log"
NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
LOG_SEED = bytes(range(32))
OUT = Path(__file__).resolve().parent / "out"


@click.group()
def main() -> None:
    """Log benchmarks (see the module docstring)."""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(name: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"{name}: p50 {percentile(ms, 0.5):.3f} ms, p99 {percentile(ms, 0.99):.3f} ms, "
        f"max {max(ms):.3f} ms, mean {statistics.fmean(ms):.3f} ms over {len(ms)}"
    )


# --- proof ---------------------------------------------------------------------------------------


def synthetic_leaves(start: int, count: int) -> Iterator[bytes]:
    for index in range(start, start + count):
        yield merkle.leaf_hash(b"synthetic entry %d" % index)


def bulk_load(path: Path, leaves: int, batch: int, echo: Callable[[str], None]) -> float:
    """Fill ``log_hash`` of a migrated SQLite file with every complete subtree; seconds taken."""
    began = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    frontier: dict[merkle.NodeId, bytes] = {}
    rows_written = 0
    for start in range(0, leaves, batch):
        count = min(batch, leaves - start)
        rows = merkle.append_hashes(start, list(synthetic_leaves(start, count)), frontier)
        connection.executemany("INSERT INTO log_hash (level, idx, hash) VALUES (?, ?, ?)", rows)
        connection.commit()
        rows_written += len(rows)
        for level, idx, digest in rows:
            frontier[(level, idx)] = digest
        frontier = {node: frontier[node] for node in merkle.append_nodes(start + count)}
        echo(
            f"  {start + count:>11,} leaves, {rows_written:>11,} rows, "
            f"{time.perf_counter() - began:7.1f} s"
        )
    connection.execute("UPDATE log_state SET size = ? WHERE id = 1", (leaves,))
    connection.commit()
    connection.close()
    return time.perf_counter() - began


@main.command("proof")
@click.option("--leaves", default=10_000_000, show_default=True)
@click.option("--samples", default=2000, show_default=True)
@click.option("--batch", default=1_000_000, show_default=True)
@click.option("--dir", "workdir", type=click.Path(path_type=Path), help="Default: a temp dir.")
@click.option(
    "--cache",
    type=click.Path(path_type=Path),
    help="The loaded log file, reused when it exists. Default: bench/out/log-LEAVES.db.",
)
def proof_command(
    leaves: int, samples: int, batch: int, workdir: Path | None, cache: Path | None
) -> None:
    """Inclusion proofs in a log of LEAVES entries: service call and HTTP endpoint."""
    db = cache or OUT / f"log-{leaves}.db"
    if db.exists():
        click.echo(f"using {db} ({db.stat().st_size / 2**30:.2f} GiB)")
    else:
        db.parent.mkdir(parents=True, exist_ok=True)
        partial = db.with_name(db.name + ".partial")
        partial.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{partial}")
        schema.upgrade(engine)
        engine.dispose()
        click.echo(f"loading {leaves:,} leaves into {partial}")
        seconds = bulk_load(partial, leaves, batch, click.echo)
        partial.rename(db)
        click.echo(f"load: {seconds:.1f} s, {db.stat().st_size / 2**30:.2f} GiB")
    url = f"sqlite:///{db}"
    with tempfile.TemporaryDirectory(dir=workdir) as temp:
        root = Path(temp)
        keys = root / "keys"
        keys.mkdir()
        (keys / LOG_KEY_FILE).write_bytes(PrivateKey.from_seed(LOG_SEED).to_pem())
        signer = NoteSigner(ORIGIN, PrivateKey.from_seed(LOG_SEED))
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            head = transparency.fresh_checkpoint(session, signer, ORIGIN, 1.0, NOW)
            session.commit()
        rng = random.Random(2026)
        indices = [rng.randrange(leaves) for _ in range(samples)]

        service: list[float] = []
        # CPU time of this thread per proof: wall-clock tails that CPU time lacks are waits
        # (for a core on a busy machine, or for the disk), not work our code does.
        service_cpu: list[float] = []
        with sessions() as session:
            for index in indices[:50]:  # warm the page cache and statement cache
                transparency.inclusion_proof(session, index, leaves)
            for index in indices:
                began, began_cpu = time.perf_counter(), time.thread_time()
                proof = transparency.inclusion_proof(session, index, leaves)
                service.append(time.perf_counter() - began)
                service_cpu.append(time.thread_time() - began_cpu)
            # Prove the proofs are right, not just fast.
            for index in indices[:20]:
                leaf = transparency.leaf_hash(session, index)
                merkle.verify_inclusion(
                    leaf,
                    index,
                    leaves,
                    transparency.inclusion_proof(session, index, leaves),
                    head.checkpoint.root_hash,
                )
        click.echo(describe("transparency.inclusion_proof (service, session)", service))
        click.echo(describe("  the same proofs, CPU time of the thread", service_cpu))
        click.echo(f"  proof length {len(proof)} hashes")

        app = create_app(
            {
                "database_url": url,
                "keys_path": keys,
                "instance_path": root / "instance",
                "public_url": "https://registry.example.cn",
            },
            environ={},
        )
        client = app.test_client()
        http: list[float] = []
        for index in indices[:50]:
            client.get(f"/api/v1/log/proof/inclusion?index={index}")
        for index in indices:
            began = time.perf_counter()
            response = client.get(f"/api/v1/log/proof/inclusion?index={index}")
            http.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise click.ClickException(response.text)
        click.echo(describe("GET /api/v1/log/proof/inclusion (Flask test client)", http))
        app.extensions["registry"].engine.dispose()
        engine.dispose()


# --- ingest --------------------------------------------------------------------------------------

ISSUERS = ["CNCA-R-2002-001", "CNCA-R-2003-017", "CNCA-R-2009-042"]


def signed_envelopes(count: int) -> tuple[list[dict[str, Any]], dict[str, PrivateKey]]:
    keys = {
        issuer: PrivateKey.from_seed(issuer.encode().ljust(32, b"-")[:32]) for issuer in ISSUERS
    }
    signers = {issuer: Signer(key) for issuer, key in keys.items()}
    envelopes = [
        signers[record["issuer"]].envelope(record, issued_at=1_767_225_600)
        for record in records(count, ISSUERS, seed=2026, today=NOW.date())
    ]
    return envelopes, keys


def verify_alone(envelopes: list[dict[str, Any]], keys: dict[str, PublicKey]) -> float:
    """Seconds to do the two signature checks ingest must do for each envelope."""
    began = time.perf_counter()
    for envelope in envelopes:
        key = keys[envelope["record"]["issuer"]]
        verify_record(envelope["record"], envelope["signature"], key)
        ScanToken.from_text(envelope["qr"]).verify(key)
    return time.perf_counter() - began


@main.command("ingest")
@click.option("--records", "count", default=5000, show_default=True)
@click.option("--batch", default=1000, show_default=True)
@click.option(
    "--repeat",
    default=3,
    show_default=True,
    help="Rounds of (signatures alone, ingest); the median ratio is the figure.",
)
@click.option("--profile", is_flag=True, help="Print a cProfile of the ingest run.")
@click.option(
    "--postgres",
    is_flag=True,
    help="Ingest into PostgreSQL 15 (the cluster `bench http --postgres` keeps) instead of SQLite.",
)
@click.option(
    "--pg-dir",
    type=click.Path(path_type=Path),
    default=OUT / "pg",
    show_default=True,
    help="Where the PostgreSQL cluster lives (with --postgres).",
)
def ingest_command(
    count: int, batch: int, repeat: int, profile: bool, postgres: bool, pg_dir: Path
) -> None:
    """Records accepted per second vs signatures verified per second, same records, same run.

    Each round ingests into a fresh database, timing the two batch by batch in
    alternation; the median of ``repeat`` rounds is the figure.
    """
    if postgres:
        from bench import pg

        with pg.server(pg_dir) as admin_url:
            _ingest_rounds(count, batch, repeat, profile, admin_url)
    else:
        _ingest_rounds(count, batch, repeat, profile, None)


def _ingest_rounds(
    count: int, batch: int, repeat: int, profile: bool, admin_url: str | None
) -> None:
    click.echo(f"signing {count} sample records")
    envelopes, keys = signed_envelopes(count)
    public = {issuer: key.public_key for issuer, key in keys.items()}
    verify_alone(envelopes[:200], public)  # warm up
    ratios: list[float] = []
    for round_ in range(1, repeat + 1):
        # Ingest sees freshly parsed JSON, as from a request body; parsed outside the timing.
        pushed = [json.loads(json.dumps(e, ensure_ascii=False)) for e in envelopes]
        verify_seconds, ingest_seconds, profiler = _timed_ingest(
            envelopes, pushed, public, batch, profile, admin_url
        )
        verify_rate = count / verify_seconds
        ingest_rate = count / ingest_seconds
        ratios.append(ingest_rate / verify_rate)
        click.echo(
            f"round {round_}: signature checks alone {verify_rate:6.0f} records/s, "
            f"ingest (batches of {batch}, commit) {ingest_rate:6.0f} records/s, "
            f"ratio {ratios[-1]:.2f}"
        )
        if profiler is not None:
            import pstats

            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    click.echo(
        f"ratio ingest / signatures: median {statistics.median(ratios):.2f} of {repeat} "
        f"(min {min(ratios):.2f}, max {max(ratios):.2f}; target >= 0.70)"
    )


def _timed_ingest(
    envelopes: list[dict[str, Any]],
    pushed: list[dict[str, Any]],
    public: dict[str, PublicKey],
    batch: int,
    profile: bool,
    admin_url: str | None = None,
) -> tuple[float, float, Any]:
    """Seconds to check the signatures of ``envelopes`` alone under the issuers' ``public``
    keys, seconds to ingest ``pushed`` (their copies) in batches into a fresh database, and the
    profile of the ingest: a SQLite file, or the database ``ingest_bench`` created afresh on the
    PostgreSQL server of ``admin_url``.

    The two are timed batch by batch in alternation (the checks of a batch's envelopes, then
    its ingest and commit), so that a noisy neighbour on a shared machine slows both alike.
    """
    count = len(pushed)
    with tempfile.TemporaryDirectory() as temp:
        url = f"sqlite:///{Path(temp) / 'ingest.db'}"
        if admin_url is not None:
            from bench import pg

            url = pg.fresh_database(admin_url, "ingest_bench")
        engine = make_engine(url)
        schema.upgrade(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            for issuer, key in public.items():
                register_issuer(
                    session,
                    issuer,
                    issuer,
                    None,
                    key,
                    NOW - dt.timedelta(days=1),
                    valid_from=NOW - dt.timedelta(days=3650),
                )
            session.commit()

        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
        accepted = 0
        verify_seconds = ingest_seconds = 0.0
        with sessions() as session:
            for start in range(0, count, batch):
                verify_seconds += verify_alone(envelopes[start : start + batch], public)
                if profiler is not None:
                    profiler.enable()
                began = time.perf_counter()
                report = ingest(session, pushed[start : start + batch], NOW)
                session.commit()
                ingest_seconds += time.perf_counter() - began
                if profiler is not None:
                    profiler.disable()
                accepted += report.count("accepted")
        engine.dispose()
    if accepted != count:
        raise click.ClickException(f"only {accepted} of {count} records were accepted")
    return verify_seconds, ingest_seconds, profiler


if __name__ == "__main__":
    main()
