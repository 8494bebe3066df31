"""The engine and sessions.

SQLite is configured for a server's life: WAL (readers never block the writer), a busy timeout
(writers queue instead of failing), foreign keys on, and reads through memory-mapped I/O with a
larger page cache (a lookup touches a handful of pages scattered over a file of gigabytes;
mapped, they cost no system call each). PostgreSQL needs nothing special here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: How long a SQLite writer waits for the lock before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How much of a SQLite file is read through mmap (address space, not memory: the pages are
#: the operating system's file cache, shared by every worker). SQLite caps it at its compiled
#: maximum, 2 GiB in Debian's build; the rest of a larger file is read as usual.
SQLITE_MMAP_BYTES = 4 << 30
#: The page cache of each SQLite connection, in KiB (SQLite's default is 2 MiB).
SQLITE_CACHE_KIB = 32 << 10


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, with the SQLite pragmas the registry relies on.

    A relative SQLite path is taken relative to the working directory, and its folder is
    created if it does not exist.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {})
        kwargs["connect_args"].setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        # One connection per thread is what pysqlite wants; the pool keeps them.
        kwargs["connect_args"].setdefault("check_same_thread", False)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode across application crashes
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit (views render after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
