"""The public pages: home, search, a certificate (now or on a date), an organisation, and an
honest "not found".

Views only translate HTTP to :mod:`registry.services` and render templates; every page works
without JavaScript and is cacheable for a minute (:data:`PAGE_MAX_AGE`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Response, redirect, render_template, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from jinja2 import Environment, pass_environment

from registry.app import db, read_with_retry, registry
from registry.domain.calendar import CST, china_today, parse_day, parse_rfc3339
from registry.domain.schemes import SCHEMES, find_scheme
from registry.domain.status import Status
from registry.domain.uscc import USCCInvalid, is_valid_uscc, validate_uscc
from registry.services import lookup
from registry.services.search import (
    OrganisationHit,
    SearchError,
    SearchQuery,
    SearchResult,
    search,
)
from registry.web import fastpath
from registry.web.i18n import (
    PICKERS,
    TRANSLATORS,
    VARY,
    locale,
    render_plain,
    template_language,
)
from registry.web.limits import search_limit

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

bp = Blueprint("pages", __name__)

#: Pages change when an issuer pushes; a minute of caching matches the JSON API.
PAGE_MAX_AGE = 60

#: The search filters, as GET parameters of /search.
SEARCH_FILTERS = ("status", "scheme", "tier", "issuer")

#: What a certificate number looks like (docs/formats.md); with a digit, so names are not taken.
NUMBER_LIKE = re.compile(r"(?=.*[0-9])[A-Za-z0-9][A-Za-z0-9._-]{0,31}")

#: The verdict banner's colour class per status (see registry.css).
VERDICT_CLASS = {status: f"verdict--{status.value}" for status in Status}


@bp.app_template_filter("cst")
@pass_environment
def cst_time(environment: Environment, moment: dt.datetime | str | None) -> str:
    """``moment`` (or its RFC 3339 text, as a receipt holds it) as ``YYYY-MM-DD HH:MM`` in
    China Standard Time, with the zone named in the language the template was compiled for
    (:class:`registry.web.i18n.PageEnvironment`)."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = parse_rfc3339(moment, "time")
    zone = TRANSLATORS[template_language(environment)]("base.cst")
    return f"{moment.astimezone(CST):%Y-%m-%d %H:%M} {zone}"


@bp.app_template_filter("day")
def iso_day(day: dt.date | None) -> str:
    """A date as ISO 8601 ``YYYY-MM-DD`` (unambiguous in both languages), or a dash."""
    return day.isoformat() if day is not None else "—"


@bp.record_once
def _page_globals(setup: BlueprintSetupState) -> None:
    # Globals rather than a context processor: constants, and fast paths render without one.
    setup.app.jinja_env.globals.update(find_scheme=find_scheme, verdict_class=VERDICT_CLASS)


@bp.after_request
def _cache(response: Response) -> Response:
    # Short public caching; i18n marks the response private when it sets the language cookie.
    if response.status_code in (200, 404):
        response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
    return response


@bp.get("/")
def home() -> str:
    """The search box."""
    return render_template("home.html")


@bp.get("/search")
@search_limit
def search_results() -> ResponseReturnValue:
    """One page of results for the search box, filtered by ``status``, ``scheme``, ``tier`` and
    ``issuer`` and paged by ``cursor``.

    A query that finds exactly one certificate by its number redirects to that certificate's
    page. An empty query shows the form; a query the search cannot take answers 400 with the
    form and the reason.
    """
    args = request.args
    filters = {name: args.get(name) or None for name in SEARCH_FILTERS}
    query = SearchQuery(
        text=args.get("q", "").strip(),
        status=filters["status"],
        scheme=filters["scheme"],
        tier=filters["tier"],
        issuer=filters["issuer"],
        cursor=args.get("cursor") or None,
    )
    context: dict[str, object] = {
        "query": query,
        "filtered": any(filters.values()),
        "options": filter_options(locale()),
        "issuers": lookup.publishers(registry().engine),
        "result": None,
        "next_url": None,
        "number_like": bool(NUMBER_LIKE.fullmatch(query.text)),
    }
    if not query.text:
        return render_template("search.html", **context)
    try:
        today = china_today(registry().clock())
        result = read_with_retry(lambda session: search(session, query, today))
    except SearchError as exc:
        return render_template("search.html", error=exc, **context), 400
    single = _single_certificate(result)
    if single is not None and not context["filtered"] and query.cursor is None:
        number, issuer = single
        return redirect(f"/c/{quote(number, safe='')}?{urlencode({'issuer': issuer})}")
    if result.next_cursor is not None:
        kept = [(k, v) for k, v in args.items(multi=True) if k != "cursor"]
        context["next_url"] = f"/search?{urlencode([*kept, ('cursor', result.next_cursor)])}"
    context["result"] = result
    context["groups"] = _result_lines(result, locale())
    return render_template("search.html", **context)


@dataclass(frozen=True)
class FilterOptions:
    """The search form's choices as ``(value, label)`` pairs in one language; tiers grouped
    under their scheme's label."""

    statuses: tuple[tuple[str, str], ...]
    schemes: tuple[tuple[str, str], ...]
    tiers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


@functools.cache
def filter_options(language: str) -> FilterOptions:
    """The form's fixed choices in ``language``, built once (they are data, not per request)."""
    choose = PICKERS[language]
    return FilterOptions(
        statuses=tuple((s.value, choose(s.label_zh, s.label_en)) for s in Status),
        schemes=tuple(
            (scheme.id, f"{choose(scheme.name_zh, scheme.name_en)} {scheme.standard}")
            for scheme in SCHEMES
        ),
        tiers=tuple(
            (
                choose(scheme.name_zh, scheme.name_en),
                tuple((tier.name, choose(tier.name, tier.name_en)) for tier in scheme.tiers),
            )
            for scheme in SCHEMES
        ),
    )


class HitLine(NamedTuple):
    """A certificate in the search results, its texts already in the page's language."""

    href: str
    number: str
    status: str
    status_label: str
    detail: str


def _result_lines(
    result: SearchResult, language: str
) -> list[tuple[OrganisationHit, list[HitLine]]]:
    """Each organisation found with its certificates as lines of text, built in Python: about
    25 certificates a page, each several Jinja calls otherwise."""
    translate, choose = TRANSLATORS[language], PICKERS[language]
    kinds = _scheme_and_tier_labels(language)
    statuses = _status_labels(language)
    groups = []
    for org in result.groups:
        lines = []
        for hit in org.certificates:
            kind = kinds.get((hit.scheme, hit.tier)) or _kind(hit.scheme, hit.tier, choose)
            expiry = translate("cert.expiry_date", date=iso_day(hit.expiry_date))
            number, issuer = hit.certificate_number, hit.issuer_id
            lines.append(
                HitLine(
                    f"/c/{url_part(number)}?issuer={url_part(issuer)}",
                    number,
                    hit.status.value,
                    statuses[hit.status],
                    f"{kind} · {expiry}",
                )
            )
        groups.append((org, lines))
    return groups


#: What needs no percent-encoding in a URL path or query value (certificate numbers, issuer ids).
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]*")


@bp.app_template_filter("url_part")
def url_part(text: str) -> str:
    """``text`` percent-encoded for a URL path segment or query value: what Jinja's
    ``urlencode`` gives a string, without its work for the usual certificate number or issuer
    id, which needs none."""
    return text if _URL_SAFE.fullmatch(text) else quote(text)


def _kind(scheme_id: str, tier_name: str, choose: Callable[[str, str | None], str]) -> str:
    """``"scheme · tier"`` for a pair the schemes do not list: as much of it as is known."""
    scheme = find_scheme(scheme_id)
    tier = scheme.tier_named(tier_name) if scheme else None
    label = choose(tier_name, tier.name_en if tier else None)
    return f"{choose(scheme.name_zh, scheme.name_en)} · {label}" if scheme else label


@bp.app_template_filter("kind")
@pass_environment
def kind_label(environment: Environment, scheme_id: str, tier_name: str) -> str:
    """``"scheme · tier"`` in the language the template was compiled for."""
    language = template_language(environment)
    return _scheme_and_tier_labels(language).get((scheme_id, tier_name)) or _kind(
        scheme_id, tier_name, PICKERS[language]
    )


@functools.cache
def _scheme_and_tier_labels(language: str) -> dict[tuple[str, str], str]:
    """``"scheme · tier"`` in ``language`` for every known (scheme id, tier name)."""
    choose = PICKERS[language]
    return {
        (scheme.id, tier.name): (
            f"{choose(scheme.name_zh, scheme.name_en)} · {choose(tier.name, tier.name_en)}"
        )
        for scheme in SCHEMES
        for tier in scheme.tiers
    }


@functools.cache
def _status_labels(language: str) -> dict[Status, str]:
    choose = PICKERS[language]
    return {status: choose(status.label_zh, status.label_en) for status in Status}


def _single_certificate(result: SearchResult) -> tuple[str, str] | None:
    """(number, issuer) if a search by number found exactly one certificate."""
    if result.kind != "number" or len(result.groups) != 1:
        return None
    hits = result.groups[0].certificates
    if len(hits) != 1:
        return None
    return hits[0].certificate_number, hits[0].issuer_id


@bp.get("/c/<number>")
def certificate(number: str) -> Response | tuple[str, int]:
    """A certificate's verdict, facts and history; ``?at=YYYY-MM-DD`` adds its status that day;
    ``?issuer=`` picks one issuer when several use the number.

    Answers 404 with the publishers when the number is unknown, and a chooser when it is
    ambiguous.
    """
    state = registry()
    now = state.clock()
    today = china_today(now)
    issuer = request.args.get("issuer") or None
    try:
        cert = lookup.certificate(state.engine, number, issuer, now, today)
    except lookup.CertificateNotFound:
        return not_found("certificate", number)
    except lookup.AmbiguousNumber as exc:
        issuers = [lookup.issuer_info(db(), issuer_id) for issuer_id in exc.issuers]
        return render_template("choose_issuer.html", number=number, issuers=issuers), 200

    at_text = request.args.get("at", "").strip()
    at_answer: lookup.StatusOnDate | None = None
    at_error = False
    if at_text:
        try:
            at_answer = lookup.status_at(cert.history, parse_day(at_text, "at"))
        except ValueError:
            at_error = True
    html = render_template(
        "certificate.html",
        **certificate_context(
            cert, today, issuer, at_text=at_text, at_answer=at_answer, at_error=at_error
        ),
    )
    return html, 400 if at_error else 200


def certificate_context(
    cert: lookup.CertificateState,
    today: dt.date,
    chosen_issuer: str | None = None,
    *,
    at_text: str = "",
    at_answer: lookup.StatusOnDate | None = None,
    at_error: bool = False,
) -> dict[str, object]:
    """What certificate.html renders, for the view and its fast path."""
    record = cert.current.record
    surveillance_overdue = (
        record.surveillance is not None
        and record.surveillance.next_due_date is not None
        and record.surveillance.next_due_date < today
        and cert.status in (Status.VALID, Status.SUSPENDED)
    )
    return {
        "cert": cert,
        "record": record,
        "scheme": record.scheme_def,
        "tier": record.tier_def,
        "chosen_issuer": chosen_issuer,
        "today": today,
        "surveillance_overdue": surveillance_overdue,
        "at_text": at_text,
        "at_answer": at_answer,
        "at_error": at_error,
    }


#: The headers of a page answered 200, as the views' hooks set them.
PAGE_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", f"public, max-age={PAGE_MAX_AGE}"),
    ("Vary", VARY),
)


def certificate_fast_path(app: Flask) -> fastpath.Handler:
    """Answers ``GET /c/<number>`` with no query string as :func:`certificate` does, for
    :class:`registry.web.fastpath.FastPaths`: the same lookup, context and template, in the
    request's language, without Flask's request context. An unknown or ambiguous number goes
    to the view."""
    state = app.extensions["registry"]

    def answer(path: str, environ: WSGIEnvironment) -> fastpath.Answer | None:
        number = fastpath.segment_after(path, "/c/")
        if number is None:
            return None
        now = state.clock()
        today = china_today(now)
        try:
            cert = lookup.certificate(state.engine, number, None, now, today)
        except (lookup.CertificateNotFound, lookup.AmbiguousNumber):
            return None
        context = certificate_context(cert, today)
        body = render_plain(app.jinja_env, "certificate.html", context, path, environ)
        return body, PAGE_HEADERS

    return answer


@bp.get("/o/<uscc>")
def organisation(uscc: str) -> ResponseReturnValue:
    """An organisation by USCC with all its certificates; 404 with the publishers if unknown,
    or with the expected check character if the code itself is wrong. A code typed in lower
    case redirects to the page of the code (one URL per organisation)."""
    if uscc != uscc.upper() and is_valid_uscc(uscc.upper()):
        query = request.query_string.decode("latin-1")
        return redirect(f"/o/{quote(uscc.upper(), safe='')}" + (f"?{query}" if query else ""), 301)
    try:
        validate_uscc(uscc)
    except USCCInvalid as exc:
        return not_found("organisation", uscc, uscc_problem=exc)
    now = registry().clock()
    today = china_today(now)
    view = read_with_retry(lambda session: lookup.organisation(session, uscc, today))
    if view is None:
        return not_found("organisation", uscc)
    return render_template("organisation.html", org=view, checked_at=now)


def not_found(kind: str, wanted: str, uscc_problem: USCCInvalid | None = None) -> tuple[str, int]:
    """The honest 404: what was asked, and who publishes here and when each last pushed, so a
    reader can tell a fake number from one not uploaded yet."""
    html = render_template(
        "not_found.html",
        kind=kind,
        wanted=wanted,
        uscc_problem=uscc_problem,
        publishers=lookup.publishers(registry().engine),
        checked_at=registry().clock(),
    )
    return html, 404
