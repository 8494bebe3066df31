"""Pytest plugin: a throwaway PostgreSQL 15 cluster for the tests that need one.

Load it with ``pytest_plugins = ["tests.postgres"]``. It provides two session-scoped fixtures:

``postgres_url``
    SQLAlchemy URL of an empty database ``registry_test``
    (``postgresql+psycopg://postgres@127.0.0.1:<port>/registry_test``).
``postgres_admin_url``
    The same server's ``postgres`` database, for ``CREATE DATABASE`` / ``DROP DATABASE``.

The cluster starts lazily, the first time a test asks for either fixture, and is stopped
(``pg_ctl stop -m immediate``) and deleted when the session ends, on failure and on Ctrl-C too.
If ``REGISTRY_TEST_POSTGRES_URL`` is set, that server is used instead and nothing is started.

Where PostgreSQL is missing or will not start, the tests that need it are skipped, except under
``CI=true``, where they fail with the reason and the server log: CI must run them.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa

DATABASE = "registry_test"
SUPERUSER = "postgres"
URL_ENV = "REGISTRY_TEST_POSTGRES_URL"
DEBIAN_BINDIR = Path("/usr/lib/postgresql/15/bin")
# The server runs as the `postgres` system user when the tests run as root (initdb refuses root).
SYSTEM_USER = "postgres"
# Speed over durability: the cluster lives for one test session.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
}
FIXTURES = ("postgres_url", "postgres_admin_url")


def unavailable(reason: str, detail: str = "") -> NoReturn:
    """Skip the current test because a test dependency is missing; fail instead under CI=true.

    Shared with tests/browser/conftest.py, so "CI makes it mandatory" is decided in one place.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (mandatory under CI=true)\n{detail}".rstrip(), pytrace=False)
    pytest.skip(reason)


class ClusterError(Exception):
    """The throwaway cluster could not be set up; ``log`` holds what the server said."""

    def __init__(self, reason: str, log: str = "") -> None:
        super().__init__(reason)
        self.log = log


def find_bindir() -> Path:
    """Where PostgreSQL 15's initdb and pg_ctl live; raises ClusterError if nowhere."""
    candidates = [DEBIAN_BINDIR]
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found:
            candidates.append(Path(found))
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise ClusterError(
        "PostgreSQL server binaries not found in "
        + ", ".join(map(str, candidates))
        + " (Debian: apt-get install postgresql-15)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def as_server_user(argv: Sequence[str]) -> list[str]:
    """``argv`` run as the PostgreSQL system user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return list(argv)
    if shutil.which("runuser"):
        return ["runuser", "-u", SYSTEM_USER, "--", *argv]
    return ["su", SYSTEM_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]


def chown_to_server_user(path: Path) -> None:
    """Give ``path`` to the PostgreSQL system user when we are root, so it can write there.

    Raises:
        ClusterError: we are root and that user does not exist.
    """
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise ClusterError(
            f"running as root, but there is no {SYSTEM_USER!r} user to run PostgreSQL"
        ) from None
    os.chown(path, user.pw_uid, user.pw_gid)


@contextmanager
def pooled_driver_connection(engine: sa.Engine) -> Iterator[Any]:
    """A connection of ``engine``'s pool, as the driver's own object (psycopg's here)."""
    raw = engine.raw_connection()
    try:
        yield raw.driver_connection
    finally:
        raw.close()


def drop_every_connection(engine: sa.Engine, admin_url: str) -> int:
    """End every server session on ``engine``'s database, as a restart or failover would; how
    many there were."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            dropped: int = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": engine.url.database},
            ).scalar_one()
    finally:
        admin.dispose()
    return dropped


def server_prepared_statements(driver_connection: Any) -> list[str]:
    """The SQL of the statements prepared on the server in this PostgreSQL session."""
    cursor = driver_connection.cursor()
    cursor.execute("SELECT statement FROM pg_prepared_statements")
    return [row[0] for row in cursor.fetchall()]


@dataclass
class Cluster:
    """A throwaway cluster in a temp directory: ``start`` once, ``stop`` as often as you like."""

    bindir: Path
    root: Path = field(init=False)
    port: int = field(init=False, default=0)
    running: bool = field(init=False, default=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    def admin_url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def test_url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            as_server_user(argv),
            cwd=self.root,  # the server user may not be allowed into our working directory
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> None:
        """Create the cluster and the test database; raises ClusterError on any failure."""
        self.root = Path(tempfile.mkdtemp(prefix="registry-pg-"))
        chown_to_server_user(self.root)
        initdb = self._run(
            [
                str(self.bindir / "initdb"),
                f"--pgdata={self.data}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                # A UTF-8 ctype, so pg_trgm and lower() treat CJK as letters (plain C would not).
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            timeout=120,
        )
        if initdb.returncode != 0:
            raise ClusterError("initdb failed", initdb.stdout + initdb.stderr)
        # Trust, but only over the socket in our private directory and on 127.0.0.1.
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        for attempt in range(3):
            self.port = free_port()
            settings = {
                **SERVER_SETTINGS,
                "port": str(self.port),
                "unix_socket_directories": f"'{self.root}'",
            }
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write("\n# tests/postgres.py\n")
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            started = self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    f"--pgdata={self.data}",
                    f"--log={self.log_file}",
                    "--wait",
                    "--timeout=60",
                    "start",
                ],
                timeout=90,
            )
            if started.returncode == 0:
                self.running = True
                break
            self.running = (self.data / "postmaster.pid").exists()
            self.stop_server()
            # Another process may have taken the port between free_port() and the bind.
            if "could not bind" not in self.log() or attempt == 2:
                raise ClusterError(
                    "pg_ctl start failed", started.stdout + started.stderr + self.log()
                )
        engine = sa.create_engine(self.admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                if not conn.scalar(
                    sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
                ):
                    raise ClusterError("the pg_trgm extension is missing (postgresql-contrib)")
                conn.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
        except sa.exc.SQLAlchemyError as exc:
            raise ClusterError(f"cannot prepare the test database: {exc}", self.log()) from exc
        finally:
            engine.dispose()

    def stop_server(self) -> None:
        """Stop the server at once (no checkpoint; the data is thrown away)."""
        if not self.running:
            return
        self.running = False
        try:
            stopped = self._run(
                [str(self.bindir / "pg_ctl"), f"--pgdata={self.data}", "--mode=immediate", "stop"],
                timeout=30,
            ).returncode
        except subprocess.TimeoutExpired:
            stopped = -1
        if stopped != 0:
            self._kill_postmaster()

    def _kill_postmaster(self) -> None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGKILL)  # its backends notice the postmaster's death and exit
        except ProcessLookupError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call more than once."""
        self.stop_server()
        if getattr(self, "root", None) is not None and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)


def _external_urls(url: str) -> tuple[str, str]:
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return (
        parsed.render_as_string(hide_password=False),
        parsed.set(database="postgres").render_as_string(hide_password=False),
    )


@pytest.fixture(scope="session")
def _postgres_urls(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(test database URL, admin URL) of the external server or of a freshly started cluster."""
    external = os.environ.get(URL_ENV)
    if external:
        # Explicitly asked for: an unreachable server is an error, never a skip.
        test_url, admin_url = _external_urls(external)
        engine = sa.create_engine(test_url)
        try:
            with engine.connect() as conn:
                conn.scalar(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            pytest.fail(f"{URL_ENV} is set, but the server does not answer: {exc}", pytrace=False)
        finally:
            engine.dispose()
        return test_url, admin_url

    try:
        cluster = _started_cluster(request)
    except ClusterError as exc:
        # Reported outside the except block: the reason and the log, not a chained traceback.
        failure = exc
    else:
        return cluster.test_url(), cluster.admin_url()
    unavailable(f"no throwaway PostgreSQL cluster: {failure}", failure.log)


def _interrupt_on_sigterm() -> None:
    """Make SIGTERM (a CI timeout, ``kill``) interrupt pytest like Ctrl-C, so teardown runs.

    Left alone if someone else already handles SIGTERM.
    """
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def _started_cluster(request: pytest.FixtureRequest) -> Cluster:
    cluster = Cluster(find_bindir())
    # atexit as well as the finalizer: the finalizer may never run if the session is torn down
    # abnormally; stop() is idempotent.
    atexit.register(cluster.stop)
    request.addfinalizer(cluster.stop)
    _interrupt_on_sigterm()
    try:
        cluster.start()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClusterError(str(exc), cluster.log()) from exc
    except ClusterError:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def postgres_url(_postgres_urls: tuple[str, str]) -> str:
    """SQLAlchemy URL of the empty ``registry_test`` database."""
    return _postgres_urls[0]


@pytest.fixture(scope="session")
def postgres_admin_url(_postgres_urls: tuple[str, str]) -> str:
    """SQLAlchemy URL of the same server's ``postgres`` database, for CREATE/DROP DATABASE."""
    return _postgres_urls[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the server ``postgres``, so ``-m "not postgres"`` leaves it out."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in FIXTURES):
            item.add_marker(pytest.mark.postgres)
