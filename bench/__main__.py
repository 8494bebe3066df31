"""``python -m bench``: load a dataset, then benchmark the HTTP endpoints against baselines.

    python -m bench load --certificates 1000000          # once; cached under bench/out/
                                                         # (rerun it to resume a stopped load)
    python -m bench http --certificates 1000000          # loads first if needed
    python -m bench http --quick                         # a few hundred certificates, ~1 minute
    python -m bench http --postgres                      # the same, served from PostgreSQL 15
    python -m bench instructions "scan page"             # instructions/request (valgrind)

See docs/benchmarks.md for what is measured and how to read the table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from bench import dataset

OUT = Path(__file__).resolve().parent / "out"

#: Dataset size and per-endpoint duration of ``--quick`` (the smoke test runs it).
QUICK_CERTIFICATES = 300
QUICK_DURATION = 1.0


def default_db(certificates: int) -> Path:
    return OUT / f"registry-{certificates}.db"


@click.group()
def main() -> None:
    """Benchmarks that print ratios to baselines measured in the same run."""


@main.command("load")
@click.option("--certificates", default=1_000_000, show_default=True)
@click.option("--db", type=click.Path(path_type=Path), help="Default: bench/out/registry-N.db")
@click.option("--seed", default=2026, show_default=True)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The day the data is as of. Default: the day in China when the load began.",
)
def load_command(certificates: int, db: Path | None, seed: int, today: dt.datetime | None) -> None:
    """Generate, sign and ingest CERTIFICATES certificates (skipped when cached).

    A database with records and no marker file is a load that stopped: it is resumed.
    """
    db = db or default_db(certificates)
    dataset.load(db, certificates, seed=seed, today=today and today.date(), echo=click.echo)
    click.echo(f"datasette copy: {dataset.export_datasette(db)}")


@main.command("http")
@click.option(
    "--certificates",
    default=1_000_000,
    show_default=True,
    help="Dataset size; loaded first unless cached.",
)
@click.option("--db", type=click.Path(path_type=Path), help="Default: bench/out/registry-N.db")
@click.option("--duration", default=10.0, show_default=True, help="Seconds per endpoint.")
@click.option("--connections", default=16, show_default=True)
@click.option("--threads", default=2, show_default=True, help="wrk threads.")
@click.option(
    "--quick",
    is_flag=True,
    help=f"{QUICK_CERTIFICATES} certificates, {QUICK_DURATION:g} s per endpoint.",
)
@click.option("--only", multiple=True, help="Run only these endpoints (repeatable).")
@click.option("--no-datasette", is_flag=True, help="Skip the Datasette comparison.")
@click.option(
    "--postgres",
    is_flag=True,
    help="Serve from PostgreSQL 15 instead: a cluster kept in pg/ beside the database file "
    "(default bench/out/pg/), loaded with the same dataset. No Datasette.",
)
def http_command(
    certificates: int,
    db: Path | None,
    duration: float,
    connections: int,
    threads: int,
    quick: bool,
    only: tuple[str, ...],
    no_datasette: bool,
    postgres: bool,
) -> None:
    """Serve the registry with gunicorn and drive every endpoint with wrk."""
    from bench import http

    if quick:
        certificates, duration = QUICK_CERTIFICATES, QUICK_DURATION
    if postgres:
        from bench import pg

        root = (db.parent if db is not None else OUT) / "pg"
        name = f"registry_{certificates}"
        with pg.server(root) as admin_url:
            dataset.load_postgres(
                admin_url, name, root / f"{name}.json", certificates, echo=click.echo
            )
            http.run(
                root / name,
                duration=duration,
                connections=connections,
                threads=threads,
                only=set(only),
                datasette=False,
                echo=click.echo,
                database_url=pg.database_url(admin_url, name),
            )
        return
    if db is not None and db.exists() and dataset.cached(db, certificates, 2026) is None:
        # An explicit database is served as it is: one loaded with other parameters, or a
        # load stopped early (each batch is its own transaction, so it is consistent).
        click.echo(f"serving {db} as it is (no finished load of {certificates:,} recorded)")
    else:
        db = db or default_db(certificates)
        dataset.load(db, certificates, echo=click.echo)
    http.run(
        db,
        duration=duration,
        connections=connections,
        threads=threads,
        only=set(only),
        datasette=not no_datasette,
        echo=click.echo,
    )


@main.command("profile")
@click.option("--db", type=click.Path(path_type=Path, exists=True), required=True)
@click.option("--requests", default=500, show_default=True)
@click.argument("endpoints", nargs=-1, required=True)
def profile_command(db: Path, requests: int, endpoints: tuple[str, ...]) -> None:
    """cProfile ENDPOINTS (names as in the table, e.g. lookup "search (1 char)") in-process."""
    from bench import http

    http.profile(db, list(endpoints), requests, echo=click.echo)


@main.command("instructions")
@click.option("--db", type=click.Path(path_type=Path, exists=True), default=default_db(1_000_000))
@click.option("--requests", default=1000, show_default=True)
@click.option("--warm", default=200, show_default=True, help="Requests before the counted ones.")
@click.argument("endpoints", nargs=-1, required=True)
def instructions_command(db: Path, requests: int, warm: int, endpoints: tuple[str, ...]) -> None:
    """Instructions per request of ENDPOINTS and hello-world, counted by valgrind (in-process,
    no HTTP): a figure to compare builds by on a noisy machine (bench/instructions.py)."""
    from bench import instructions

    try:
        instructions.measure(db, list(endpoints), requests, warm, echo=click.echo)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
