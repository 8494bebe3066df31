"""The migrations: one linear history that builds exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import registry.store.receipts
import registry.store.scans
import registry.store.search
from registry.store import schema
from registry.store.db import make_engine
from registry.store.models import Base

#: Objects only migrations create: the prefix-search index on certificate numbers is an
#: expression index (COLLATE "C") on PostgreSQL, which the models cannot declare portably.
MIGRATION_ONLY = {"ix_search_certificate_number"}


def declared_in_models(
    obj: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    return name not in MIGRATION_ONLY


def test_the_history_is_linear() -> None:
    assert len(ScriptDirectory.from_config(schema.alembic_config()).get_heads()) == 1
    del registry.store.receipts, registry.store.scans


def test_migrations_build_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert schema.current_revision(engine) == schema.head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": declared_in_models}
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()
