"""Keeping the search cards: each organisation's search result, rendered ahead of the search.

A page of an unfiltered name search is most of the search API's traffic. Its answer, for each
organisation on the page, is the organisation with all its certificates and their statuses on
the day. :func:`registry.services.search.render_cards` renders that JSON once, and it is kept
by the organisation's search key, so such a page reads the postings and their cards, and no
certificate or organisation rows (docs/search.md has the measurements).

A card says on which days its statuses hold (a valid certificate reads "expired" after its
expiry date). :func:`registry.services.search.search_cards` uses only cards that hold on the
day asked, and leaves a page with any other to :func:`registry.services.search.search`, which
reads the certificate rows. So a card is never wrong; at worst, it is not used. The cards have
a table of their own (``search_card``), keyed by the organisation's search key.

- Ingest calls :func:`refresh` for every organisation a push touches, in the push's
  transaction, after the certificate and search rows are written.
- ``registry search refresh`` (:func:`refresh_all` with ``stale_only``) renders the cards that
  are missing or no longer hold today: run it daily, as cards of certificates that expired
  overnight stop holding. ``registry search reindex`` renders every card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, not_, or_, select
from sqlalchemy.orm import Session

from registry.services.search import card_holds, render_cards
from registry.store.bulk import upsert_rows
from registry.store.models import table_of
from registry.store.search import SearchCard, SearchOrganisation

_SORG = table_of(SearchOrganisation)
_CARD = table_of(SearchCard)
#: Organisations rendered per statement and per write batch.
_BATCH = 2_000


def refresh(
    session: Session,
    usccs: Collection[str],
    today: dt.date,
    known: Mapping[str, int] | None = None,
) -> int:
    """Render and store the cards of the organisations ``usccs`` (those in the search index),
    with statuses as of ``today``; returns how many were rendered. ``known`` may give the
    search keys of some (as :func:`~registry.services.search_index.index_organisations`
    returns them); the others are looked up. The caller commits."""
    ordered = sorted(set(usccs))  # one row a key: an upsert statement updates a row once
    known = known or {}
    connection = session.connection()
    done = 0
    for start in range(0, len(ordered), _BATCH):
        chunk = ordered[start : start + _BATCH]
        keys = {u: known[u] for u in chunk if u in known}
        unknown = [u for u in chunk if u not in keys]
        if unknown:
            keys.update(
                connection.execute(
                    select(_SORG.c.uscc, _SORG.c.org_key).where(_SORG.c.uscc.in_(unknown))
                ).all()
            )
        cards = render_cards(connection, [u for u in chunk if u in keys], today)
        upsert_rows(
            session,
            _CARD,
            [
                {
                    "org_key": keys[c.uscc],
                    "card": c.text,
                    "holds_from": c.holds_from,
                    "holds_until": c.holds_until,
                }
                for c in cards
            ],
            keys=("org_key",),
        )
        done += len(cards)
    return done


def refresh_all(session: Session, today: dt.date, *, stale_only: bool = False) -> int:
    """Render the cards of every organisation in the search index, or with ``stale_only``
    only those missing or not holding on ``today``; returns how many. Cards of organisations
    no longer in the index are deleted. The caller commits."""
    session.execute(delete(_CARD).where(_CARD.c.org_key.not_in(select(_SORG.c.org_key))))
    s, k = _SORG.c, _CARD.c
    stale = or_(k.org_key.is_(None), not_(card_holds(today)))
    after = 0
    done = 0
    while True:
        statement: Any = (
            select(s.org_key, s.uscc)
            .outerjoin(_CARD, k.org_key == s.org_key)
            .where(s.org_key > after)
        )
        if stale_only:
            statement = statement.where(stale)
        rows = session.execute(statement.order_by(s.org_key).limit(_BATCH)).all()
        if not rows:
            return done
        after = rows[-1][0]
        done += refresh(session, [uscc for _, uscc in rows], today, {u: key for key, u in rows})
