"""Search: by certificate number (exact, then prefix), by USCC, and by any substring of an
organisation's current or former names, with filters and stable cursor pagination.

How a query is read, in order (docs/search.md has the reasons and the measurements):

1. It looks like a USCC (18 characters of the code alphabet): the organisation with that code.
   A code with a wrong check character answers ``uscc_problem`` with the corrected code.
2. It looks like a certificate number: certificates with exactly that number, else those whose
   number starts with it (an index range scan).
3. Otherwise, and when 1 or 2 find nothing that fits, a name search over the character n-gram
   index (:mod:`registry.services.search_index`): one- and two-character queries read one
   posting list; longer ones walk the posting list of their rarest bigram and check each
   candidate's names for the whole query.

Results are grouped by organisation. A page of a name search is a page of organisations in
index-key order, each with its certificates that pass the filters; an organisation appears only
if at least one passes. Work per page is bounded: a page that must check candidates (a query of
three or more characters, or any filter) examines at most :data:`SCAN_BUDGET` postings, and
may come back short, even empty, with a ``next_cursor`` that continues the scan.

:func:`search_cards` answers an unfiltered name search from the organisations' search cards
(:func:`render_cards`, kept by :mod:`registry.services.search_cards`) as the API's JSON,
without reading certificate rows; :func:`search` answers every search.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    bindparam,
    case,
    exists,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from registry.domain.schemes import SCHEMES, find_scheme
from registry.domain.status import Status, derive_status, status_json
from registry.domain.text import ascii_form
from registry.domain.uscc import USCCInvalid, looks_like_uscc, validate_uscc
from registry.fastjson import dumps_bytes, loads
from registry.services.search_index import normalise
from registry.store.models import Certificate, Organisation, table_of
from registry.store.prepared import Prepared
from registry.store.search import GramCount, NameGram, SearchCard, SearchOrganisation

# Core tables: queries here are prebuilt once per shape and run on the session's connection,
# which keeps a search at a few hundred microseconds of Python (docs/search.md).
_CERT = table_of(Certificate)
_ORG = table_of(Organisation)
_SORG = table_of(SearchOrganisation)
_GRAM = table_of(NameGram)
_COUNT = table_of(GramCount)
_CARD = table_of(SearchCard)

__all__ = [
    "Card",
    "CardPage",
    "CertificateHit",
    "OrganisationHit",
    "SearchError",
    "SearchQuery",
    "SearchResult",
    "USCCProblem",
    "card_holds",
    "card_json",
    "render_cards",
    "search",
    "search_cards",
]

Kind = Literal["number", "uscc", "name", "empty"]

#: The longest query accepted, in characters (after trimming white space).
MAX_QUERY_LENGTH = 100
#: The largest page.
MAX_LIMIT = 100
#: Most parameters in one ``IN`` list.
_CHUNK = 500
#: Postings a page examines before it walks the rest of its budget (see :func:`_names`).
SCAN_FIRST = 256
#: Most postings a page examines when candidates must be checked. At about 1.5 µs a candidate
#: on SQLite this caps such a page at a few milliseconds (docs/search.md).
SCAN_BUDGET = 4096

#: What a certificate number may look like (docs/formats.md), generously long.
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_ISSUER = re.compile(r"[A-Z0-9][A-Z0-9-]{0,19}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,200}")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_TIERS = frozenset(tier.name for scheme in SCHEMES for tier in scheme.tiers)
_LAPSING = frozenset({Status.VALID.value, Status.SUSPENDED.value})


class SearchError(ValueError):
    """The query cannot be answered as asked; the web layers answer 400 with ``code``.

    Codes: ``EmptyQuery``, ``QueryTooLong``, ``InvalidQuery``, ``InvalidLimit``,
    ``UnknownStatus``, ``UnknownScheme``, ``UnknownTier``, ``InvalidIssuer``, ``InvalidCursor``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SearchQuery:
    """A search as asked: the text, optional certificate filters, a cursor and a page size."""

    text: str
    status: str | None = None
    scheme: str | None = None
    tier: str | None = None
    issuer: str | None = None
    cursor: str | None = None
    limit: int = 20


@dataclass(frozen=True)
class CertificateHit:
    """A certificate of an organisation found, with its status on the day asked."""

    certificate_number: str
    issuer_id: str
    scheme: str
    tier: str
    status: Status
    expiry_date: dt.date


@dataclass(frozen=True)
class OrganisationHit:
    """An organisation found, with those of its certificates that pass the filters.

    ``matched_former_name`` is the former name the query matched when the current name does
    not contain it (name searches only).
    """

    uscc: str
    name: str
    former_names: tuple[str, ...]
    matched_former_name: str | None
    certificates: list[CertificateHit]


@dataclass(frozen=True)
class USCCProblem:
    """Why a query shaped like a USCC is not a valid one, and the likely intended code."""

    message: str
    expected_check_character: str | None
    suggestion: str | None


@dataclass(frozen=True)
class SearchResult:
    """One page of results.

    ``kind`` says how the query was read (``empty``: as a name or number, and nothing matched).
    ``next_cursor`` is set when more may follow; pass it back with the same query.
    """

    kind: Kind
    groups: list[OrganisationHit]
    next_cursor: str | None
    uscc_problem: USCCProblem | None = None


@dataclass(frozen=True)
class _Filters:
    """The certificate filters of a query: a shape (which conditions) and their values."""

    status: str | None = None  # None, "lapsing" (valid/suspended), "expired" or "plain"
    scheme: bool = False
    tier: bool = False
    issuer: bool = False

    @property
    def any(self) -> bool:
        return bool(self.status or self.scheme or self.tier or self.issuer)


@dataclass(frozen=True)
class _Plan:
    """A validated query."""

    text: str
    normalised: str
    filters: _Filters
    params: dict[str, object]
    limit: int
    today: dt.date
    tag: str
    cursor_kind: str | None
    after: Any


def search(session: Session, query: SearchQuery, today: dt.date) -> SearchResult:
    """Answer one page of ``query``; statuses are those on ``today``.

    Raises:
        SearchError: the query, a filter, the page size or the cursor is invalid.
    """
    plan = _plan(query, today)
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if plan.cursor_kind == "number":
        found = _number_prefix(connection, postgres, plan, plan.after[2])
        return found or SearchResult("number", [], None)
    if plan.cursor_kind == "name":
        return _name_groups(session, plan)
    if looks_like_uscc(plan.text):
        return _uscc(connection, postgres, plan)
    if _NUMBER.fullmatch(plan.text):
        found = _number(connection, postgres, plan)
        if found is not None:
            return found
    return _name_groups(session, plan)


# --- validation ------------------------------------------------------------------------------


def _plan(query: SearchQuery, today: dt.date) -> _Plan:
    # A number or USCC typed in full-width forms is read as its ASCII; names are matched in
    # NFKC anyway (normalise).
    text = ascii_form(query.text.strip())
    if not text:
        raise SearchError("EmptyQuery", "type a certificate number, a USCC or part of a name")
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchError(
            "QueryTooLong", f"a query has at most {MAX_QUERY_LENGTH} characters, not {len(text)}"
        )
    for position, char in enumerate(text):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise SearchError(
                "InvalidQuery",
                f"the query contains the invisible or control character U+{ord(char):04X} "
                f"at position {position}",
            )
    if isinstance(query.limit, bool) or not 1 <= query.limit <= MAX_LIMIT:
        raise SearchError("InvalidLimit", f"limit must be between 1 and {MAX_LIMIT}")
    filters, params = _filters(query, today)
    tag = _tag(text, query)
    kind, after = (None, None) if query.cursor is None else _decode_cursor(query.cursor, tag)
    return _Plan(text, normalise(text), filters, params, query.limit, today, tag, kind, after)


def _filters(query: SearchQuery, today: dt.date) -> tuple[_Filters, dict[str, object]]:
    """The shape and bound values of the query's certificate filters."""
    params: dict[str, object] = {}
    status_shape = None
    if query.status is not None:
        try:
            status = Status(query.status)
        except ValueError:
            raise SearchError(
                "UnknownStatus",
                f"status must be one of {', '.join(s.value for s in Status)}, not {query.status!r}",
            ) from None
        params["f_today"] = today
        if status is Status.EXPIRED:
            status_shape = "expired"
        else:
            status_shape = "lapsing" if status.value in _LAPSING else "plain"
            params["f_status"] = status.value
    scheme = None
    if query.scheme is not None:
        scheme = find_scheme(query.scheme)
        if scheme is None:
            raise SearchError(
                "UnknownScheme",
                f"scheme must be one of {', '.join(s.id for s in SCHEMES)}, not {query.scheme!r}",
            )
        params["f_scheme"] = scheme.id
    if query.tier is not None:
        known = {t.name for t in scheme.tiers} if scheme else _TIERS
        if query.tier not in known:
            of = f" of {scheme.id}" if scheme else ""
            raise SearchError(
                "UnknownTier", f"tier must be a tier name{of} such as 五星级, not {query.tier!r}"
            )
        params["f_tier"] = query.tier
    if query.issuer is not None:
        if not _ISSUER.fullmatch(query.issuer):
            raise SearchError("InvalidIssuer", f"{query.issuer!r} is not an issuer id")
        params["f_issuer"] = query.issuer
    shape = _Filters(
        status_shape, query.scheme is not None, query.tier is not None, query.issuer is not None
    )
    return shape, params


def _conditions(filters: _Filters) -> list[ColumnElement[bool]]:
    """SQL conditions on ``certificate`` for a filter shape, with named bound values."""
    c = _CERT.c
    out: list[ColumnElement[bool]] = []
    if filters.status == "expired":
        # (Not an IN list: a prepared statement takes no expanding parameters.)
        lapsing = or_(*(c.status == status for status in sorted(_LAPSING)))
        out += [lapsing, c.expiry_date < bindparam("f_today")]
    elif filters.status == "lapsing":
        out += [c.status == bindparam("f_status"), c.expiry_date >= bindparam("f_today")]
    elif filters.status == "plain":
        out.append(c.status == bindparam("f_status"))
    if filters.scheme:
        out.append(c.scheme == bindparam("f_scheme"))
    if filters.tier:
        out.append(c.tier == bindparam("f_tier"))
    if filters.issuer:
        out.append(c.issuer_id == bindparam("f_issuer"))
    return out


# --- cursors ---------------------------------------------------------------------------------


def _tag(text: str, query: SearchQuery) -> str:
    """A short digest of the query and its filters, so a cursor only continues its own query."""
    signature = json.dumps(
        [normalise(text), query.status, query.scheme, query.tier, query.issuer],
        ensure_ascii=False,
    )
    digest = hashlib.sha256(signature.encode()).digest()[:6]
    return base64.urlsafe_b64encode(digest).decode()


def _encode_cursor(kind: str, after: Any, tag: str) -> str:
    payload = json.dumps([kind, after, tag], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _decode_cursor(cursor: str, tag: str) -> tuple[str, Any]:
    """The cursor's kind and last key.

    Raises:
        SearchError: ``InvalidCursor`` if it is not one this module made for this query.
    """
    invalid = SearchError(
        "InvalidCursor", "the cursor is not valid for this query; start again without it"
    )
    if not _CURSOR.fullmatch(cursor):
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not (isinstance(payload, list) and len(payload) == 3 and payload[2] == tag):
        raise invalid
    kind, after = payload[0], payload[1]
    if kind == "name" and type(after) is int and 0 <= after < 2**63:
        return kind, after
    if (
        kind == "number"
        and isinstance(after, list)
        and len(after) == 3
        and all(isinstance(part, str) and len(part) <= 32 for part in after)
        and _NUMBER.fullmatch(after[2])
    ):
        # (last number, last issuer, the spelling whose prefix range is being paged)
        return kind, tuple(after)
    raise invalid


# --- USCC ------------------------------------------------------------------------------------


def _uscc(connection: Connection, postgres: bool, plan: _Plan) -> SearchResult:
    code = plan.text.upper()
    try:
        validate_uscc(code)
    except USCCInvalid as exc:
        number = _number(connection, postgres, plan, prefix=False)
        if number is not None:
            return number
        return SearchResult("uscc", [], None, _uscc_problem(connection, code, exc))
    groups = _groups(connection, plan, [code])
    if not groups and _organisation_name(connection, code) is None:
        # No organisation has this code; an 18-character certificate number is possible.
        number = _number(connection, postgres, plan, prefix=False)
        if number is not None:
            return number
    return SearchResult("uscc", groups, None)


def _organisation_name(connection: Connection, uscc: str) -> str | None:
    name: str | None = connection.execute(
        _statement("organisation", _Filters()), {"uscc": uscc}
    ).scalar()
    return name


def _uscc_problem(connection: Connection, code: str, exc: USCCInvalid) -> USCCProblem:
    if exc.expected is None:
        return USCCProblem(f"{code} is not a valid unified social credit code: {exc}", None, None)
    suggestion = code[:17] + exc.expected
    name = _organisation_name(connection, suggestion)
    message = (
        f"{code} is not a valid unified social credit code: its check character should be "
        f"{exc.expected}, not {code[17]}."
    )
    if name is not None:
        message += f" Did you mean {suggestion}? It is registered here: {name}."
    else:
        message += f" {suggestion} is not registered here either."
    return USCCProblem(message, exc.expected, suggestion)


# --- certificate numbers ---------------------------------------------------------------------


def _number(
    connection: Connection, postgres: bool, plan: _Plan, *, prefix: bool = True
) -> SearchResult | None:
    """Certificates with the number as typed (or upper-cased), else starting with it."""
    spellings = list(dict.fromkeys([plan.text, plan.text.upper()]))
    rows = connection.execute(
        _statement("number", plan.filters), {**plan.params, "numbers": spellings}
    ).all()
    if rows:
        return SearchResult("number", _group_rows(rows, plan), None)
    if not prefix:
        return None
    for spelling in spellings:
        found = _number_prefix(connection, postgres, plan, spelling)
        if found is not None:
            return found
    return None


def _number_prefix(
    connection: Connection, postgres: bool, plan: _Plan, spelling: str
) -> SearchResult | None:
    """A page of certificates whose number starts with ``spelling``, in (number, issuer) order.

    A page here is ``limit`` certificates (grouped by organisation on the page), not ``limit``
    organisations: the order is the numbers', so an organisation may recur on a later page.
    """
    params = {
        **plan.params,
        "low": spelling,
        "high": spelling[:-1] + chr(ord(spelling[-1]) + 1),
        "n": plan.limit + 1,
    }
    shape = "prefix"
    if plan.cursor_kind == "number":
        shape = "prefix_after"
        params["after_number"], params["after_issuer"] = plan.after[0], plan.after[1]
    rows = connection.execute(_statement(shape, plan.filters, postgres), params).all()
    if not rows:
        return None
    cursor = None
    if len(rows) > plan.limit:
        rows = rows[: plan.limit]
        last = rows[-1]
        cursor = _encode_cursor(
            "number", [last.certificate_number, last.issuer_id, spelling], plan.tag
        )
    return SearchResult("number", _group_rows(rows, plan), cursor)


def _group_rows(rows: Sequence[Any], plan: _Plan) -> list[OrganisationHit]:
    """Group certificate rows by organisation, in order of first appearance."""
    groups: dict[str, OrganisationHit] = {}
    for row in rows:
        group = groups.get(row.uscc)
        if group is None:
            group = OrganisationHit(row.uscc, row.name, _former(row.former_names), None, [])
            groups[row.uscc] = group
        group.certificates.append(_hit(row, plan.today))
    return list(groups.values())


def _hit(row: Any, today: dt.date) -> CertificateHit:
    # derive_status is the one expiry rule (lookup.derived_status applies it to ORM rows).
    return CertificateHit(
        row.certificate_number,
        row.issuer_id,
        row.scheme,
        row.tier,
        derive_status(Status(row.status), row.expiry_date, today),
        row.expiry_date,
    )


def _former(stored: str) -> tuple[str, ...]:
    return tuple(name for name in stored.split("\n") if name)


# --- organisation names ----------------------------------------------------------------------


def _names(db: Session | Engine, plan: _Plan) -> _NamePage | SearchResult:
    """A page of the organisations whose names contain the query, in index-key order: their
    postings rows (with their cards) and the cursor, or the answer when nothing can match."""
    query = plan.normalised
    params: dict[str, object] = {
        **plan.params,
        "after": plan.after if plan.cursor_kind == "name" else 0,
        "n": plan.limit + 1,
        "today": plan.today,
    }
    listed = None  # the length of the posting list walked, when known
    if len(query) <= 2:
        params["gram"] = query
    else:
        bigrams = sorted({query[i : i + 2] for i in range(len(query) - 1)})
        counts: dict[str, int] = dict(
            _prepared(("counts", len(bigrams)), _Filters()).all(
                db, **{f"g{i}": gram for i, gram in enumerate(bigrams)}
            )
        )
        if any(counts.get(b, 0) <= 0 for b in bigrams):
            return _no_more(plan)  # a bigram no name contains: nothing can match
        by_count = sorted(bigrams, key=lambda b: (counts[b], b))
        params["gram"], listed = by_count[0], counts[by_count[0]]
        params["needle"] = query
        if len(by_count) > 1:
            # Candidates must have the next rarest bigram too: a probe of its posting list
            # (index only) is cheaper than reading the candidate's names, and where the
            # rarest bigram is common to many names that do not match (a city's 市 and the
            # first character of a firm's name), it turns most candidates away.
            params["second"] = by_count[1]
    checked = len(query) > 2 or plan.filters.any
    # The rarest bigram's whole posting list may be shorter than the budget: then no bound.
    if not checked or (listed is not None and listed <= SCAN_BUDGET):
        stages: tuple[int, ...] = (0,)
    else:
        # Bound the postings this page examines: first a short stretch, which fills most
        # pages, then the rest of the budget. The page is the same as one walk of the whole
        # budget, but finding where a short stretch ends costs a sixteenth as much.
        stages = tuple(sorted({min(SCAN_FIRST, SCAN_BUDGET), SCAN_BUDGET}))
    rows: list[tuple[Any, ...]] = []
    start, until, walked = params["after"], None, 0
    for stage in stages:
        until = None
        if stage:
            # Where the stage's budget runs out (the stage-th posting from the page's start).
            window = _prepared("window", _Filters()).all(
                db, gram=params["gram"], after=start, skip=stage - walked - 1
            )
            until = window[0][0] if window else None
        wanted = {**params, "after": start, "n": plan.limit + 1 - len(rows)}
        if until is not None:
            wanted["until"] = until
        shape = ("postings", len(query) > 2, until is not None, "second" in params)
        rows += sorted(_prepared(shape, plan.filters).all(db, **wanted))
        if len(rows) > plan.limit or until is None:
            break
        start, walked = until, stage
    cursor = None
    if len(rows) > plan.limit:
        rows = rows[: plan.limit]
        cursor = _encode_cursor("name", rows[-1][0], plan.tag)
    elif until is not None:
        cursor = _encode_cursor("name", until, plan.tag)
    return _NamePage(rows, cursor)


@dataclass(frozen=True)
class _NamePage:
    """The postings of one page of a name search and the cursor after it.

    Each row is ``(org_key, uscc, haystack, card)``; ``card`` is None unless the organisation's
    card holds on the day asked.
    """

    rows: list[tuple[Any, ...]]
    cursor: str | None


def _name_groups(session: Session, plan: _Plan) -> SearchResult:
    """A page of a name search as organisations with their certificates."""
    page = _names(session, plan)
    if isinstance(page, SearchResult):
        return page
    connection = session.connection()
    query = plan.normalised
    haystacks = {uscc: haystack for _key, uscc, haystack, _card in page.rows}
    groups = []
    for group in _groups(connection, plan, list(haystacks)):
        former = _matched_former(haystacks[group.uscc], query)
        if former is not None:
            group = dataclasses.replace(group, matched_former_name=group.former_names[former])
        groups.append(group)
    if not groups and page.cursor is None:
        return _no_more(plan)
    return SearchResult("name", groups, page.cursor)


def _groups(connection: Connection, plan: _Plan, usccs: Sequence[str]) -> list[OrganisationHit]:
    """The organisations ``usccs`` (in that order) with their certificates that pass the
    filters; organisations without such a certificate are left out."""
    by_org = _certificates_by_organisation(connection, plan.filters, plan.params, usccs)
    return [_organisation_hit(uscc, by_org[uscc], plan.today) for uscc in usccs if uscc in by_org]


def _certificates_by_organisation(
    connection: Connection, filters: _Filters, params: dict[str, object], usccs: Sequence[str]
) -> dict[str, list[Any]]:
    """The certificate rows (with their organisation's names) of ``usccs`` that pass
    ``filters``, by USCC; organisations without one are absent."""
    by_org: dict[str, list[Any]] = {}
    statement = _statement("certificates", filters)
    for start in range(0, len(usccs), _CHUNK):
        chunk = list(usccs[start : start + _CHUNK])
        for row in connection.execute(statement, {**params, "usccs": chunk}):
            by_org.setdefault(row.uscc, []).append(row)
    return by_org


def _organisation_hit(uscc: str, certs: list[Any], today: dt.date) -> OrganisationHit:
    # Newest expiry first, as the organisation page lists them.
    certs.sort(key=lambda r: (-r.expiry_date.toordinal(), r.certificate_number, r.issuer_id))
    first = certs[0]
    return OrganisationHit(
        uscc, first.name, _former(first.former_names), None, [_hit(r, today) for r in certs]
    )


def _no_more(plan: _Plan) -> SearchResult:
    # A first page with nothing is "empty"; a continuation page that ends the scan is not.
    return SearchResult("name" if plan.cursor_kind else "empty", [], None)


def _matched_former(haystack: str, query: str) -> int | None:
    """Which former name (by position) the query matched, if the current name does not
    contain it: from ``haystack``, the normalised names, current first, one per line."""
    current, *former = haystack.split("\n")
    if query in current:
        return None
    for position, name in enumerate(former):
        if query in name:
            return position
    return None


class _position(FunctionElement[int]):
    """``(haystack, needle)``: where ``needle`` first occurs in ``haystack`` (from 1), else 0;
    SQLite's ``instr``, PostgreSQL's ``strpos``. A plain substring search: both
    sides are normalised already, and unlike ``LIKE`` it has no wildcards to escape and no
    case folding to do (about 15% less time a candidate than ``LIKE '%…%'`` on SQLite)."""

    type = Integer()
    inherit_cache = True


@compiles(_position)
def _instr(element: _position, compiler: Any, **kw: Any) -> str:
    return f"instr{compiler.process(element.clause_expr, **kw)}"


@compiles(_position, "postgresql")
def _strpos(element: _position, compiler: Any, **kw: Any) -> str:
    return f"strpos{compiler.process(element.clause_expr, **kw)}"


# --- cards ----------------------------------------------------------------------------------


def card_json(group: OrganisationHit) -> dict[str, Any]:
    """One result of the search API: the organisation and its certificates."""
    return {
        "organisation": {
            "uscc": group.uscc,
            "name": group.name,
            "former_names": list(group.former_names),
            "matched_former_name": group.matched_former_name,
        },
        "certificates": [
            {
                "certificate_number": c.certificate_number,
                "issuer": c.issuer_id,
                "scheme": c.scheme,
                "tier": c.tier,
                "status": status_json(c.status),
                "expiry_date": c.expiry_date.isoformat(),
                # Numbers and issuer ids are URL-safe by their syntax; the issuer makes the
                # link unambiguous when two issuers use one number.
                "url": f"/api/v1/certificates/{c.certificate_number}?issuer={c.issuer_id}",
            }
            for c in group.certificates
        ],
    }


@dataclass(frozen=True)
class Card:
    """An organisation's result of an unfiltered name search, rendered ahead of time.

    ``text`` is :func:`card_json` of the organisation with every certificate, as JSON, or empty
    when the organisation has no certificate (it is then no result). Its statuses hold on the
    days from ``holds_from`` to ``holds_until`` (None: no bound), the days on which each
    valid or suspended certificate is on the same side of its expiry date as on the day the
    card was rendered.
    """

    uscc: str
    text: str
    holds_from: dt.date | None
    holds_until: dt.date | None


def render_cards(connection: Connection, usccs: Sequence[str], today: dt.date) -> list[Card]:
    """The cards of the organisations ``usccs``, with statuses as of ``today``."""
    by_org = _certificates_by_organisation(connection, _Filters(), {}, usccs)
    cards = []
    for uscc in usccs:
        certs = by_org.get(uscc)
        if not certs:
            cards.append(Card(uscc, "", None, None))
            continue
        group = _organisation_hit(uscc, certs, today)
        lapsing = [r.expiry_date for r in certs if r.status in _LAPSING]
        before = [e for e in lapsing if e < today]
        after = [e for e in lapsing if e >= today]
        cards.append(
            Card(
                uscc,
                dumps_bytes(card_json(group)).decode(),
                max(before) + dt.timedelta(days=1) if before else None,
                min(after) if after else None,
            )
        )
    return cards


def card_holds(today: ColumnElement[dt.date] | dt.date) -> ColumnElement[bool]:
    """Whether a stored card (``search_card``) holds on ``today``: never NULL."""
    k = _CARD.c
    return and_(
        or_(k.holds_from.is_(None), k.holds_from <= today),
        or_(k.holds_until.is_(None), k.holds_until >= today),
    )


@dataclass(frozen=True)
class CardPage:
    """A page of an unfiltered name search as the API's results, each a card's JSON text."""

    kind: Kind
    cards: list[str]
    next_cursor: str | None


def search_cards(db: Session | Engine, query: SearchQuery, today: dt.date) -> CardPage | None:
    """Answer ``query`` from the organisations' cards, if it is an unfiltered name search
    whose page has every card in date; else None, and :func:`search` answers it.

    ``db`` may be an engine: the statements then run outside any transaction (each on its
    own is consistent; a push between them at worst moves where the page ends). The answer
    is the one :func:`search` gives, as JSON (tests compare them).

    Raises:
        SearchError: as :func:`search` does.
    """
    if query.status or query.scheme or query.tier or query.issuer:
        return None
    plan = _plan(query, today)
    if plan.cursor_kind == "number" or (
        plan.cursor_kind is None and (looks_like_uscc(plan.text) or _NUMBER.fullmatch(plan.text))
    ):
        return None
    page = _names(db, plan)
    if isinstance(page, SearchResult):
        return CardPage(page.kind, [], page.next_cursor)
    query_text = plan.normalised
    cards = []
    for _key, _uscc, haystack, card in page.rows:
        if card is None:
            return None  # not rendered yet, or its statuses have changed since
        if not card:
            continue  # an organisation without certificates
        former = _matched_former(haystack, query_text)
        if former is not None:
            result = loads(card)
            organisation = result["organisation"]
            organisation["matched_former_name"] = organisation["former_names"][former]
            card = dumps_bytes(result).decode()
        cards.append(card)
    if not cards and page.cursor is None:
        return CardPage(_no_more(plan).kind, [], None)
    return CardPage("name", cards, page.cursor)


# --- statements ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _prepared(shape: object, filters: _Filters) -> Prepared:
    """:func:`_statement` prepared (for statements without expanding parameters)."""
    return Prepared(_statement(shape, filters))


@lru_cache(maxsize=256)
def _statement(shape: object, filters: _Filters, postgres: bool = False) -> Select[Any]:
    """The prebuilt statement for a query shape; values are bound by name at execution."""
    c, o, s, g = _CERT.c, _ORG.c, _SORG.c, _GRAM.c
    conditions = _conditions(filters)
    certificates = select(
        c.uscc,
        c.certificate_number,
        c.issuer_id,
        c.scheme,
        c.tier,
        c.status,
        c.expiry_date,
        o.name,
        o.former_names,
    ).join(_ORG, o.uscc == c.uscc)
    if shape == "organisation":
        return select(o.name).where(o.uscc == bindparam("uscc"))
    if shape == "number":
        return certificates.where(
            c.certificate_number.in_(bindparam("numbers", expanding=True)), *conditions
        ).order_by(c.certificate_number, c.issuer_id)
    if shape in ("prefix", "prefix_after"):
        # Prefix ranges need bytewise order; PostgreSQL's database collation may not be one
        # (migration 0002 builds the matching index COLLATE "C").
        number = c.certificate_number.collate("C") if postgres else c.certificate_number
        stmt = certificates.where(
            number >= bindparam("low"), number < bindparam("high"), *conditions
        )
        if shape == "prefix_after":
            stmt = stmt.where(
                tuple_(number, c.issuer_id)
                > tuple_(bindparam("after_number"), bindparam("after_issuer"))
            )
        return stmt.order_by(number, c.issuer_id).limit(bindparam("n"))
    if shape == "certificates":
        return certificates.where(c.uscc.in_(bindparam("usccs", expanding=True)), *conditions)
    if isinstance(shape, tuple) and shape[0] == "counts":
        # One bound parameter per gram (g0, g1, ...), so the statement can be prepared.
        grams = [bindparam(f"g{i}", type_=_COUNT.c.gram.type) for i in range(shape[1])]
        return select(_COUNT.c.gram, _COUNT.c.count).where(_COUNT.c.gram.in_(grams))
    if shape == "window":
        return (
            select(g.org_key)
            .where(g.gram == bindparam("gram"), g.org_key > bindparam("after"))
            .order_by(g.org_key)
            .offset(bindparam("skip"))
            .limit(1)
        )
    if isinstance(shape, tuple) and shape[0] == "postings":
        _, verify, bounded, paired = shape
        # The page's postings first, then their organisations' rows. Each posting is checked
        # against its organisation by a correlated scalar subquery, not a JOIN: both databases
        # then walk the posting list in key order and stop at LIMIT. Given a join, PostgreSQL
        # estimates a LIKE or EXISTS on search_organisation as selective and scans that whole
        # table (or merge-joins from its first key) instead: 13 ms at 30k organisations,
        # growing linearly. The join below only meets the LIMITed page.
        checked = _SORG.alias("checked")
        checks: list[ColumnElement[bool]] = []
        if verify:
            checks.append(_position(checked.c.haystack, bindparam("needle")) > 0)
        if conditions:
            checks.append(exists().where(c.uscc == checked.c.uscc, *conditions))
        postings = select(g.org_key).where(
            g.gram == bindparam("gram"), g.org_key > bindparam("after")
        )
        if bounded:
            postings = postings.where(g.org_key <= bindparam("until"))
        if paired:
            # (A scalar subquery, not EXISTS: PostgreSQL would make EXISTS a semi-join, and
            # might hash the whole second posting list.)
            pair = _GRAM.alias("pair")
            second = (
                select(pair.c.org_key)
                .where(pair.c.gram == bindparam("second"), pair.c.org_key == g.org_key)
                .scalar_subquery()
            )
            postings = postings.where(second.is_not(None))
        if checks:
            found = (
                select(checked.c.org_key)
                .where(checked.c.org_key == g.org_key, *checks)
                .scalar_subquery()
            )
            postings = postings.where(found.is_not(None))
        page = postings.order_by(g.org_key).limit(bindparam("n")).subquery("page")
        k = _CARD.c
        holds = card_holds(bindparam("today", type_=k.holds_from.type))
        return (
            select(page.c.org_key, s.uscc, s.haystack, case((holds, k.card), else_=None))
            .join_from(page, _SORG, s.org_key == page.c.org_key)
            .outerjoin(_CARD, k.org_key == page.c.org_key)
        )  # in no order: the caller sorts the page (SQLite would sort it in a temporary B-tree)
    raise AssertionError(f"no statement for {shape!r}")  # pragma: no cover
