"""A PostgreSQL 15 server for ``python -m bench http --postgres``, kept between runs.

The cluster lives in ``bench/out/pg/`` (git-ignored): created with ``initdb`` on first use,
started on a free port on 127.0.0.1 for a run and stopped cleanly after it, so a loaded
million-certificate database is reused like the cached SQLite file. It uses the Debian
``postgresql-15`` binaries that the tests use (``tests/postgres.py`` finds them and runs them
as the ``postgres`` user when we are root).

Unlike the tests' throwaway clusters, this one keeps PostgreSQL's durable defaults (``fsync``,
``synchronous_commit``, full-page writes): a push is measured as acknowledged only once it is on
disk, as in production. Memory settings suit a 2-core, 24 GB machine running the load
generator beside the server.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url

from tests.postgres import (
    SUPERUSER,
    ClusterError,
    as_server_user,
    chown_to_server_user,
    find_bindir,
    free_port,
)

#: Server settings beyond the defaults (postgresql.conf), written when the cluster is created.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_buffers": "'2GB'",
    "effective_cache_size": "'8GB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'512MB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'15min'",
    "max_connections": "50",
}


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        as_server_user(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@contextmanager
def server(root: Path) -> Iterator[str]:
    """Start the cluster in ``root`` (creating it if needed); yield the URL of its
    ``postgres`` database; stop it when the block ends.

    Raises:
        ClusterError: the binaries are missing, or initdb or the server failed (with its log).
    """
    bindir = find_bindir()
    root = root.resolve()  # the server's commands run in it, as another user
    data = root / "data"
    log = root / "server.log"
    root.mkdir(parents=True, exist_ok=True)
    chown_to_server_user(root)
    if not (data / "PG_VERSION").exists():
        made = _run(
            [
                str(bindir / "initdb"),
                f"--pgdata={data}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",  # as the tests' clusters: pg_trgm treats CJK as letters
            ],
            root,
            300,
        )
        if made.returncode != 0:
            raise ClusterError("initdb failed", made.stdout + made.stderr)
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# bench/pg.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in SETTINGS.items())
    port = free_port()
    pg_ctl = str(bindir / "pg_ctl")
    started = _run(
        [
            pg_ctl,
            f"--pgdata={data}",
            f"--log={log}",
            f"--options=-p {port} -k {root}",
            "--wait",
            "--timeout=300",  # a cluster stopped uncleanly replays its WAL first
            "start",
        ],
        root,
        330,
    )
    if started.returncode != 0:
        tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        raise ClusterError("pg_ctl start failed", started.stdout + started.stderr + tail)
    try:
        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres"
    finally:
        _run([pg_ctl, f"--pgdata={data}", "--mode=fast", "--wait", "stop"], root, 300)


def database_url(admin_url: str, name: str) -> str:
    """The URL of the database ``name`` on the server of ``admin_url``."""
    return make_url(admin_url).set(database=name).render_as_string(False)


def fresh_database(admin_url: str, name: str) -> str:
    """Drop the database ``name`` on the server of ``admin_url`` and create it empty; return
    its URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return database_url(admin_url, name)
