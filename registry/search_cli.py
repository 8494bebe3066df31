"""``registry search``: query and maintain the organisation-name search index.

``registry search reindex`` rebuilds the index from the ``organisation`` table, and renders every
organisation's search card: after a bulk load, or after upgrading a database that holds
organisations from before the index existed. Ingest keeps the index current by itself;
reindexing a current index changes nothing but time.

``registry search refresh`` renders the search cards that are missing or whose statuses no
longer hold today (a certificate expired since): run it daily (docs/operations.md). Searches
are right without it, only slower on pages with such organisations.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TypeVar

import click
from sqlalchemy.orm import Session

from registry.cli_input import ready_engine
from registry.domain.calendar import china_today
from registry.services import search_cards, search_index
from registry.services.search import SearchError, SearchQuery, search
from registry.settings import Settings, SettingsError
from registry.store.db import make_sessionmaker

_T = TypeVar("_T")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("search")
def search_group() -> None:
    """Search certificates, and rebuild the name index."""


def _in_one_transaction(work: Callable[[Session, dt.date], _T]) -> tuple[_T, float]:
    """``work(session, today)`` in one committed transaction on the configured database,
    with today's date in China; its result and the seconds it took."""
    with ready_engine(_settings().database_url) as engine:
        started = time.perf_counter()
        with make_sessionmaker(engine)() as session:
            result = work(session, china_today(dt.datetime.now(dt.UTC)))
            session.commit()
        return result, time.perf_counter() - started


@search_group.command("reindex")
def reindex() -> None:
    """Rebuild the name index from the organisations table (one transaction)."""

    def rebuild(session: Session, today: dt.date) -> tuple[search_index.RebuildReport, int]:
        return search_index.rebuild(session), search_cards.refresh_all(session, today)

    (report, cards), seconds = _in_one_transaction(rebuild)
    click.echo(
        f"indexed {report.organisations:,} organisations: {report.postings:,} postings of "
        f"{report.grams:,} distinct grams, and {cards:,} search cards, in {seconds:.1f} s"
    )


@search_group.command("refresh")
def refresh() -> None:
    """Render the search cards that are missing or out of date today (one transaction)."""
    count, seconds = _in_one_transaction(
        lambda session, today: search_cards.refresh_all(session, today, stale_only=True)
    )
    click.echo(f"rendered {count:,} search cards in {seconds:.1f} s")


@search_group.command("query")
@click.argument("text")
@click.option("--limit", default=20, show_default=True)
def query(text: str, limit: int) -> None:
    """Print the first page of results for TEXT, as the API would find them."""
    with ready_engine(_settings().database_url) as engine:
        try:
            with make_sessionmaker(engine)() as session:
                result = search(
                    session, SearchQuery(text, limit=limit), china_today(dt.datetime.now(dt.UTC))
                )
        except SearchError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    click.echo(f"kind: {result.kind}")
    if result.uscc_problem is not None:
        click.echo(result.uscc_problem.message)
    for group in result.groups:
        former = f" (formerly {group.matched_former_name})" if group.matched_former_name else ""
        click.echo(f"{group.uscc}  {group.name}{former}")
        for cert in group.certificates:
            click.echo(
                f"    {cert.certificate_number}  {cert.issuer_id}  {cert.tier}  "
                f"{cert.status.value}  {cert.expiry_date.isoformat()}"
            )
    if result.next_cursor:
        click.echo(f"more results: GET /api/v1/search with cursor={result.next_cursor}")
