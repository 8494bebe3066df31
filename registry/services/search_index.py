"""The organisation-name index for search (character n-grams; see docs/search.md).

Placeholder kept deliberately small until the search work lands: ingest calls
:func:`index_organisations` for every organisation whose names changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session


def index_organisations(session: Session, changed: Sequence[tuple[str, str, tuple[str, ...]]]) -> None:
    """(Re)index the names of organisations ``(uscc, name, former_names)``."""
    del session, changed
