"""The application factory: it wires settings, the engine, keys and blueprints, nothing more.

It never migrates, calls the network or loops (STYLE rule 1); bad configuration fails here, at
start-up, with a message that names the setting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from registry.crypto.keys import PrivateKey
from registry.log.note import NoteSigner
from registry.services.lookup import PublisherCache
from registry.settings import Settings, SettingsError
from registry.store.db import make_engine, make_sessionmaker
from registry.store.prepared import pg_reader
from registry.web.jsonprovider import OrjsonProvider

#: Top-level folders of the checkout that the app serves from.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT_ROOT / "templates"

LOG_KEY_FILE = "log.pem"

T = TypeVar("T")


def utc_now() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Registry:
    """What the app holds for the length of its life; reached through :func:`registry`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    log_signer: NoteSigner
    #: The registry's own Ed25519 key: it signs checkpoints (through ``log_signer``) and receipts.
    log_key: PrivateKey
    clock: Callable[[], dt.datetime] = utc_now
    #: Sessions for requests that only read (:func:`read_db`); ``sessions`` elsewhere.
    read_sessions: sessionmaker[Session] | None = None
    #: Issuers and key compromises as the lookup shows them, per process.
    publishers: PublisherCache = field(default_factory=PublisherCache)


def load_log_key(settings: Settings) -> PrivateKey:
    """Load the registry's log key from ``keys_path/log.pem``.

    Raises:
        SettingsError: the key file is missing, unreadable or of the wrong kind.
    """
    path = settings.keys_path / LOG_KEY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SettingsError(
            f"no log key at {path}: run `registry init` (or `registry keys generate --log`)"
        ) from exc
    passphrase = settings.log_key_passphrase.encode() if settings.log_key_passphrase else None
    try:
        key = PrivateKey.from_pem(data, passphrase)
    except ValueError as exc:
        raise SettingsError(f"log key {path}: {exc} (REGISTRY_LOG_KEY_PASSPHRASE?)") from exc
    return key


def create_app(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> Flask:
    """Create the registry's Flask app.

    Args:
        overrides: settings that win over the environment (tests pass a dict here).
        environ: the environment to read ``REGISTRY_*`` from (default: ``os.environ``).

    Raises:
        SettingsError: a setting is malformed, the log key is missing, or the templates are.
    """
    settings = Settings.from_env(environ, overrides)
    if not TEMPLATES.is_dir():
        raise SettingsError(
            f"no templates at {TEMPLATES}: the registry runs from its checkout "
            "(pip install -e .), whose templates/ is beside the package"
        )
    app = Flask(
        "registry",
        template_folder=str(TEMPLATES),
        static_folder=str(PROJECT_ROOT / "registry" / "web" / "static"),
        instance_path=str(settings.instance_path),
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json = OrjsonProvider(app)
    engine = make_engine(settings.database_url)
    log_key = load_log_key(settings)
    app.extensions["registry"] = Registry(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        # Bound per request to the engine's autocommit companion (read_db).
        read_sessions=make_sessionmaker(engine) if engine.dialect.name == "postgresql" else None,
        log_signer=NoteSigner(settings.log_origin, log_key),
        log_key=log_key,
    )
    app.teardown_appcontext(_close_session)

    from registry.web import blueprints

    blueprints.init_app(app)
    return app


def registry() -> Registry:
    """The running app's :class:`Registry`."""
    state: Registry = current_app.extensions["registry"]
    return state


def db() -> Session:
    """The session of the current app context (one per request), created on first use."""
    if "db_session" not in g:
        g.db_session = registry().sessions()
    session: Session = g.db_session
    return session


def read_db() -> Session:
    """A session for a request that only reads, created on first use.

    On PostgreSQL its statements run in autocommit mode, each in its own snapshot, as they
    would at PostgreSQL's READ COMMITTED level inside a transaction; there is then no
    ROLLBACK when the request ends, which would make psycopg forget the statements it has
    prepared on the server (and PostgreSQL plan every query again). It reads through the
    engine's companion pool, which does not ping the server at checkout
    (:func:`registry.store.prepared.pg_reader`): use it through :func:`read_with_retry`.
    Never write through it: nothing would make the writes atomic. On SQLite it is the
    request's usual session (a transaction there reads one snapshot).
    """
    state = registry()
    if state.read_sessions is None:
        return db()
    if "db_read_session" not in g:
        g.db_read_session = state.read_sessions(bind=pg_reader(state.engine))
    session: Session = g.db_read_session
    return session


def read_with_retry(work: Callable[[Session], T]) -> T:
    """``work(read_db())``, run once more on a fresh session if its connection was dead.

    The read session's pool does not ping the server at checkout, so a connection the server
    dropped (a restart, a failover) fails the first statement instead. The session's
    connections are then invalidated, the pool's others dropped (a restarted server ended
    them all), and ``work``, which only reads, runs again on a new connection.
    """
    session = read_db()
    try:
        return work(session)
    except Exception as exc:
        state = registry()
        if state.read_sessions is None or not _is_disconnect(session, exc):
            raise
        g.pop("db_read_session", None)
        session.invalidate()
        pg_reader(state.engine).dispose()
        return work(read_db())


def _is_disconnect(session: Session, exc: Exception) -> bool:
    """Whether ``exc`` says the session's database connection is gone: through SQLAlchemy, or
    raised by the driver itself (:class:`registry.store.prepared.Prepared` runs on its
    cursor)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated
    dialect = session.get_bind().dialect
    if not isinstance(exc, dialect.loaded_dbapi.Error):
        return False
    driver = session.connection().connection.dbapi_connection
    return dialect.is_disconnect(exc, driver, None)


def _close_session(_exc: BaseException | None) -> None:
    for name in ("db_session", "db_read_session"):
        session: Session | None = g.pop(name, None)
        if session is not None:
            session.close()
