"""Tables of the organisation-name search index (see docs/search.md).

The index is derived state, like ``certificate`` and ``organisation``: ``registry search
reindex`` rebuilds it from ``organisation`` at any time. It has three tables:

- ``search_organisation`` gives every organisation a small integer key. Posting lists are kept
  in key order, and pages of results are pages of keys, so the key order is the result order.
  ``haystack`` holds the organisation's names, normalised (NFKC, case-folded), one per line: the
  text a longer query is verified against.
- ``name_gram`` is the inverted index: one row per distinct unigram and bigram of an
  organisation's normalised names. Its primary key ``(gram, org_key)`` *is* the posting list.
- ``gram_count`` holds the length of each posting list, so a query picks its rarest bigram (and
  knows a gram that no name contains) with one primary-key lookup per gram.
- ``search_card`` holds each organisation's search result as the API writes it (JSON, kept by
  ingest), with the days its statuses hold, so a page of an unfiltered name search reads no
  certificate rows (:mod:`registry.services.search_cards`). It is a table of its own so that
  ``search_organisation`` stays small: a longer query checks thousands of its rows a page.

There are no foreign keys from ``name_gram``: it is written in bulk and only ever read through
``search_organisation``, and a missing key would merely drop a candidate.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.models import Base

#: The longest gram the index holds, in characters.
GRAM_LENGTH = 2


class SearchOrganisation(Base):
    """An organisation's search key and its normalised names."""

    __tablename__ = "search_organisation"

    key: Mapped[int] = mapped_column("org_key", Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    #: The normalised current name, then the normalised former names, newline-separated.
    haystack: Mapped[str] = mapped_column(Text)


class NameGram(Base):
    """One posting: the organisation ``org_key`` has ``gram`` in one of its names."""

    __tablename__ = "name_gram"
    # Without a rowid, SQLite stores the table as its primary-key B-tree: a posting list is one
    # contiguous range, read in key order without a second lookup.
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(GRAM_LENGTH), primary_key=True)
    org_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class GramCount(Base):
    """How many organisations have ``gram`` (the length of its posting list)."""

    __tablename__ = "gram_count"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(GRAM_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class SearchCard(Base):
    """An organisation's result of an unfiltered name search, rendered ahead of the search."""

    __tablename__ = "search_card"

    key: Mapped[int] = mapped_column("org_key", Integer, primary_key=True, autoincrement=False)
    #: The organisation with its certificates as the search API writes one result (JSON), or
    #: empty for an organisation without certificates (no result).
    card: Mapped[str] = mapped_column(Text)
    #: The first and last day (in China) the card's statuses hold; None: no bound.
    holds_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    holds_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
