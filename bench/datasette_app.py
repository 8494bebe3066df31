"""Datasette as an ASGI app factory, for ``uvicorn --factory bench.datasette_app:create``.

Serves the SQLite file named by ``BENCH_DATASETTE_DB`` as immutable (read-only, no locking,
table counts computed once) under the database name ``certs``. Settings favour Datasette:
no suggested facets, and a SQL time limit high enough that a LIKE scan of a million names
finishes instead of failing (the benchmark also asks for ``_nocount=1``).
"""

from __future__ import annotations

import os
from typing import Any

from datasette.app import Datasette
from datasette.database import Database

DATABASE = "certs"


def create() -> Any:
    path = os.environ["BENCH_DATASETTE_DB"]
    datasette = Datasette(
        settings={
            "suggest_facets": False,
            "sql_time_limit_ms": 20_000,
            "default_page_size": 20,
            "num_sql_threads": 3,
        }
    )
    datasette.add_database(Database(datasette, path=path, is_mutable=False), name=DATABASE)
    return datasette.app()
