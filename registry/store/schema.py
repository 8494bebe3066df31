"""Schema management: Alembic migrations, run by `registry db upgrade` before serving.

The app factory never migrates (STYLE rule 1); the CLI and the test fixtures call
:func:`upgrade`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision`` (default: the newest)."""
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database behind ``engine`` back to ``revision``."""
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, action: Callable[[Config, str], None], revision: str) -> None:
    """Run ``action`` to ``revision`` in one transaction.

    On SQLite this follows SQLite's procedure for schema changes that rebuild a table
    (https://sqlite.org/lang_altertable.html#otheralter): foreign keys are not enforced while
    the migrations run (dropping a referenced table would fail on its references before the
    rebuilt one takes its name), every reference is checked before the commit, and an explicit
    ``BEGIN`` puts the DDL in the transaction too (the driver begins one only before DML).
    """
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        try:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
                    raise MigrationError("foreign keys stayed on (a transaction was open)")
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config.attributes["connection"] = connection
            action(config, revision)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(f"the migration broke references: {broken[:5]}")
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


class MigrationError(RuntimeError):
    """A migration left the database inconsistent; it was rolled back."""


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def readiness_problem(engine: Engine) -> str | None:
    """Why the database behind ``engine`` cannot be worked on as it is, or None when it is
    migrated to the newest revision. A SQLite file that does not exist is not created."""
    database = engine.url.database
    if (
        engine.url.get_backend_name() == "sqlite"
        and database not in (None, "", ":memory:")
        and not Path(str(database)).is_file()
    ):
        return f"no database at {database}: run `registry init` (or set REGISTRY_DATABASE_URL)"
    try:
        current = current_revision(engine)
    except DBAPIError as exc:
        return f"cannot read the database: {exc.orig}"
    if current is None:
        return "the database has no registry tables: run `registry init`"
    head = head_revision()
    if current != head:
        return (
            f"the database is at revision {current} and this registry needs {head}: "
            "run `registry db upgrade`"
        )
    return None


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def free_space(engine: Engine) -> tuple[int, int] | None:
    """On SQLite, (bytes in free pages, bytes in the file): what ``VACUUM`` would return to
    the disk. None on other databases, which reuse or reclaim space themselves."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as connection:
        page = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        free = connection.exec_driver_sql("PRAGMA freelist_count").scalar_one()
    return free * page, pages * page
