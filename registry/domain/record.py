"""The certificate record: the JSON object an issuer signs, one per certificate version.

Shape (keys are exact; unknown keys are rejected, because a signed record must be exactly this
schema; optional keys may be absent but not ``null``)::

    {
      "type": "certificate-record/1",
      "certificate_number": "CQC-ASS-2024-000123",   # 1..24 of [A-Za-z0-9._-], starts alnum
      "issuer": "CNCA-R-2002-001",                   # 1..16 of [A-Z0-9-]
      "version": 1,                                  # integer >= 1
      "organisation": {"name": ..., "uscc": ..., "address": ...?, "former_names": [...]?},
      "scheme": "after-sales-service",
      "standard": "GB/T 27922-2011",                 # the scheme's standard
      "tier": "五星级",
      "score": {"value": 96, "scale": 100},          # required if the scheme requires scores
      "scope": "...",                                # may contain "\\n"
      "original_issue_date": "2021-03-01", "issue_date": "2024-03-01",
      "expiry_date": "2027-02-28",
      "status": "valid" | "suspended" | "withdrawn" | "cancelled",
      "status_reason": "...", "status_effective_date": "YYYY-MM-DD",  # required unless valid
      "surveillance": {"last_audit_date": ...?, "next_due_date": ...?},  # optional
      "sites": [{"name": ..., "address": ..., "scope": ...}]            # optional
    }

Text limits (in code points): organisation, site and former names 1..200; addresses 1..300;
scope texts 1..2000; status reason 1..500; at most 20 former names and 500 sites. Every text
value obeys :mod:`registry.domain.text`; scope texts and the status reason may contain newlines.

Rules across fields: ``original_issue_date <= issue_date < expiry_date``; the expiry date is at
most ``max_validity_years`` after the issue date (the anniversary itself is allowed, and the
anniversary of 29 February in a common year is 28 February); the status effective date and
the last audit date are not before the original issue date; the next surveillance is due after
the last audit; the tier exists in the scheme and is exactly the highest tier the score earns.

:meth:`Record.from_json` reports every problem it finds, never just the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from registry.domain.problems import Problem, ProblemCode, RecordInvalid
from registry.domain.schemes import Scheme, Tier, find_scheme, tier_for_score
from registry.domain.schemes import unknown_scheme_problem as _unknown_scheme
from registry.domain.status import PUSHABLE_STATUSES, Status
from registry.domain.text import text_problem
from registry.domain.uscc import USCCInvalid, validate_uscc

__all__ = [
    "RECORD_TYPE",
    "Organisation",
    "Record",
    "Score",
    "Site",
    "Surveillance",
]

RECORD_TYPE = "certificate-record/1"

# Lengths are bounded by the QR code: the worst-case scan token must fit version 10-M
# (registry.crypto.scantoken.MAX_TOKEN_BYTES).
CERTIFICATE_NUMBER_MAX = 24
ISSUER_ID_MAX = 16
_CERTIFICATE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,23}")
_ISSUER = re.compile(r"[A-Z0-9-]{1,16}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RECORD_TYPE = re.compile(re.escape(RECORD_TYPE))

NAME_MAX = 200
ADDRESS_MAX = 300
SCOPE_MAX = 2000
REASON_MAX = 500
FORMER_NAMES_MAX = 20
SITES_MAX = 500

_T = TypeVar("_T")


@dataclass(frozen=True)
class Organisation:
    """The certified organisation. ``address`` and ``former_names`` are ``None`` when absent."""

    name: str
    uscc: str
    address: str | None = None
    former_names: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object, omitting absent optional keys."""
        obj: dict[str, Any] = {"name": self.name, "uscc": self.uscc}
        if self.address is not None:
            obj["address"] = self.address
        if self.former_names is not None:
            obj["former_names"] = list(self.former_names)
        return obj


@dataclass(frozen=True)
class Score:
    """An assessment score: ``value`` points out of ``scale``."""

    value: int
    scale: int

    def to_json(self) -> dict[str, Any]:
        """Return ``{"value": ..., "scale": ...}``."""
        return {"value": self.value, "scale": self.scale}


@dataclass(frozen=True)
class Surveillance:
    """Surveillance audit dates; either may be ``None`` (absent)."""

    last_audit_date: date | None = None
    next_due_date: date | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object, omitting absent keys."""
        obj: dict[str, Any] = {}
        if self.last_audit_date is not None:
            obj["last_audit_date"] = self.last_audit_date.isoformat()
        if self.next_due_date is not None:
            obj["next_due_date"] = self.next_due_date.isoformat()
        return obj


@dataclass(frozen=True)
class Site:
    """A site covered by the certificate, with its own scope."""

    name: str
    address: str
    scope: str

    def to_json(self) -> dict[str, Any]:
        """Return ``{"name", "address", "scope"}``."""
        return {"name": self.name, "address": self.address, "scope": self.scope}


@dataclass(frozen=True)
class Record:
    """One version of one certificate, as signed by its issuer.

    Build it with :meth:`from_json`, which validates; the constructor itself does not.
    ``status`` is never ``EXPIRED`` (that is derived, see :mod:`registry.domain.status`).
    Optional fields are ``None`` when the key was absent.
    """

    certificate_number: str
    issuer: str
    version: int
    organisation: Organisation
    scheme: str
    standard: str
    tier: str
    score: Score | None
    scope: str
    original_issue_date: date
    issue_date: date
    expiry_date: date
    status: Status
    status_reason: str | None = None
    status_effective_date: date | None = None
    surveillance: Surveillance | None = None
    sites: tuple[Site, ...] | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``(issuer, certificate_number)``: what identifies the certificate across versions."""
        return (self.issuer, self.certificate_number)

    @property
    def effective_from(self) -> date:
        """The day this version takes effect: the status effective date, else the issue date."""
        if self.status_effective_date is not None:
            return self.status_effective_date
        return self.issue_date

    @property
    def scheme_def(self) -> Scheme:
        """The :class:`Scheme` named by ``scheme``.

        Raises:
            RecordInvalid: if the record was built by hand with an unknown scheme.
        """
        scheme = find_scheme(self.scheme)
        if scheme is None:
            raise RecordInvalid([_unknown_scheme(self.scheme)])
        return scheme

    @property
    def tier_def(self) -> Tier:
        """The :class:`Tier` named by ``tier`` within the scheme.

        Raises:
            RecordInvalid: if the record was built by hand with an unknown scheme or tier.
        """
        tier = self.scheme_def.tier_named(self.tier)
        if tier is None:
            raise RecordInvalid([_unknown_tier(self.scheme_def, self.tier)])
        return tier

    @classmethod
    def from_json(cls, obj: object) -> Record:
        """Validate a decoded JSON value and build the record.

        Args:
            obj: the value from ``json.loads`` (any type is accepted and checked).

        Returns:
            The record.

        Raises:
            RecordInvalid: listing every problem found; wrong JSON types are ``InvalidField``
                problems, never Python exceptions.
        """
        return _RecordReader(obj).read()

    @classmethod
    def from_stored(cls, obj: Mapping[str, Any]) -> Record:
        """Build the record from a JSON object that :meth:`from_json` accepted when it was
        stored, without checking it again.

        Ingest validates every record before it commits the envelope, and stored envelopes
        never change, so the pages and the scan check read them back with this: about a
        fifth of what validating costs. For anything not read from the registry's own store
        (a push, a file), use :meth:`from_json`. Given a valid record's object, the result
        equals :meth:`from_json`'s (tests/domain/test_record.py checks it).

        Raises:
            KeyError, TypeError, ValueError: the object is not a valid record (a damaged
                store); nothing is checked beyond what building the record needs.
        """
        org = obj["organisation"]
        former = org.get("former_names")
        score = obj.get("score")
        effective = obj.get("status_effective_date")
        surveillance = obj.get("surveillance")
        sites = obj.get("sites")
        return cls(
            certificate_number=obj["certificate_number"],
            issuer=obj["issuer"],
            version=obj["version"],
            organisation=Organisation(
                org["name"],
                org["uscc"],
                org.get("address"),
                None if former is None else tuple(former),
            ),
            scheme=obj["scheme"],
            standard=obj["standard"],
            tier=obj["tier"],
            score=None if score is None else Score(score["value"], score["scale"]),
            scope=obj["scope"],
            original_issue_date=date.fromisoformat(obj["original_issue_date"]),
            issue_date=date.fromisoformat(obj["issue_date"]),
            expiry_date=date.fromisoformat(obj["expiry_date"]),
            status=Status(obj["status"]),
            status_reason=obj.get("status_reason"),
            status_effective_date=None if effective is None else date.fromisoformat(effective),
            surveillance=None
            if surveillance is None
            else Surveillance(
                _stored_date(surveillance.get("last_audit_date")),
                _stored_date(surveillance.get("next_due_date")),
            ),
            sites=None
            if sites is None
            else tuple(Site(s["name"], s["address"], s["scope"]) for s in sites),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object; the exact inverse of :meth:`from_json` for valid input."""
        obj: dict[str, Any] = {
            "type": RECORD_TYPE,
            "certificate_number": self.certificate_number,
            "issuer": self.issuer,
            "version": self.version,
            "organisation": self.organisation.to_json(),
            "scheme": self.scheme,
            "standard": self.standard,
            "tier": self.tier,
        }
        if self.score is not None:
            obj["score"] = self.score.to_json()
        obj["scope"] = self.scope
        obj["original_issue_date"] = self.original_issue_date.isoformat()
        obj["issue_date"] = self.issue_date.isoformat()
        obj["expiry_date"] = self.expiry_date.isoformat()
        obj["status"] = self.status.value
        if self.status_reason is not None:
            obj["status_reason"] = self.status_reason
        if self.status_effective_date is not None:
            obj["status_effective_date"] = self.status_effective_date.isoformat()
        if self.surveillance is not None:
            obj["surveillance"] = self.surveillance.to_json()
        if self.sites is not None:
            obj["sites"] = [site.to_json() for site in self.sites]
        return obj


def _stored_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _unknown_tier(scheme: Scheme, name: str) -> Problem:
    known = ", ".join(tier.name for tier in scheme.tiers)
    return Problem(
        ProblemCode.UNKNOWN_TIER,
        "tier",
        f"tier: {name!r} is not a tier of scheme {scheme.id!r} (tiers: {known})",
    )


def is_certificate_number(text: str) -> bool:
    """Whether ``text`` has the form of a certificate number (so one could be stored)."""
    return _CERTIFICATE_NUMBER.fullmatch(text) is not None


def _anniversary(day: date, years: int) -> date:
    """``day`` plus ``years`` years; 29 February falls back to 28 February in common years,
    and a year past the calendar's last (9999) to its last day."""
    if day.year + years > date.max.year:
        return date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _type_name(value: object) -> str:
    """A JSON-ish name for a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _Reader:
    """Reads fields out of JSON objects, collecting problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: ProblemCode, field: str | None, message: str) -> None:
        prefix = f"{field}: " if field else ""
        self.problems.append(Problem(code, field, prefix + message))

    def invalid(self, field: str, message: str) -> None:
        self.add(ProblemCode.INVALID_FIELD, field, message)

    def mapping(
        self, value: object, path: str | None, required: frozenset[str], allowed: frozenset[str]
    ) -> Mapping[str, object] | None:
        """Check ``value`` is an object with the required keys and no unknown ones."""
        if not isinstance(value, dict):
            self.add(
                ProblemCode.INVALID_FIELD, path, f"expected an object, got {_type_name(value)}"
            )
            return None
        keys = value.keys()
        if keys <= allowed and required <= keys:  # the usual case, checked in C
            return value
        prefix = f"{path}." if path else ""
        for key in value:
            if key not in allowed:
                self.add(ProblemCode.UNKNOWN_FIELD, f"{prefix}{key}", "unknown field")
        for key in sorted(required - keys):
            self.add(ProblemCode.MISSING_FIELD, f"{prefix}{key}", "required field is missing")
        return value

    def field(
        self,
        obj: Mapping[str, object],
        key: str,
        path: str,
        parse: Callable[[object, str], _T | None],
    ) -> _T | None:
        """Parse ``obj[key]`` if present (absence was reported by :meth:`object`)."""
        if key not in obj:
            return None
        return parse(obj[key], path)

    def text(self, max_len: int, *, multiline: bool = False) -> Callable[[object, str], str | None]:
        def parse(value: object, path: str) -> str | None:
            if not isinstance(value, str):
                self.invalid(path, f"expected a string, got {_type_name(value)}")
                return None
            if not value.strip():
                self.invalid(path, "must not be empty")
                return None
            if len(value) > max_len:
                self.invalid(path, f"must be at most {max_len} characters, not {len(value)}")
                return None
            problem = text_problem(value, path, multiline=multiline)
            if problem is not None:
                self.problems.append(problem)
                return None
            return value

        return parse

    def pattern(self, regex: re.Pattern[str], rule: str) -> Callable[[object, str], str | None]:
        def parse(value: object, path: str) -> str | None:
            if not isinstance(value, str):
                self.invalid(path, f"expected a string, got {_type_name(value)}")
                return None
            if not regex.fullmatch(value):
                self.invalid(path, f"{value!r} is not {rule}")
                return None
            return value

        return parse

    def integer(self, value: object, path: str) -> int | None:
        # bool is a subclass of int in Python, but true is not a number in JSON.
        if not isinstance(value, int) or isinstance(value, bool):
            self.invalid(path, f"expected an integer, got {_type_name(value)}")
            return None
        return value

    def calendar_date(self, value: object, path: str) -> date | None:
        if not isinstance(value, str):
            self.invalid(path, f"expected a date string YYYY-MM-DD, got {_type_name(value)}")
            return None
        # fromisoformat alone would also take "20240301" and week dates; the record has one form.
        if not _DATE.fullmatch(value):
            self.invalid(path, f"{value!r} is not a date of the form YYYY-MM-DD")
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.invalid(path, f"{value!r} is not a calendar date")
            return None
        if day == date.max:  # it has no end, which "valid on a date" answers need
            self.invalid(path, f"{value!r} is after the last day the registry can judge")
            return None
        return day


_TOP_REQUIRED = frozenset(
    {
        "type",
        "certificate_number",
        "issuer",
        "version",
        "organisation",
        "scheme",
        "standard",
        "tier",
        "scope",
        "original_issue_date",
        "issue_date",
        "expiry_date",
        "status",
    }
)
_TOP_ALLOWED = _TOP_REQUIRED | {
    "score",
    "status_reason",
    "status_effective_date",
    "surveillance",
    "sites",
}
_ORG_REQUIRED = frozenset({"name", "uscc"})
_ORG_ALLOWED = _ORG_REQUIRED | {"address", "former_names"}
_SCORE_KEYS = frozenset({"value", "scale"})
_SURVEILLANCE_KEYS = frozenset({"last_audit_date", "next_due_date"})
_SITE_KEYS = frozenset({"name", "address", "scope"})
_NO_KEYS: frozenset[str] = frozenset()


class _RecordReader(_Reader):
    """Validates one record object; :meth:`read` returns the record or raises."""

    def __init__(self, obj: object) -> None:
        super().__init__()
        self.obj = obj

    def read(self) -> Record:
        top = self.mapping(self.obj, None, _TOP_REQUIRED, _TOP_ALLOWED)
        if top is None:
            raise RecordInvalid(self.problems)
        get = self.field
        get(top, "type", "type", self.pattern(_RECORD_TYPE, repr(RECORD_TYPE)))
        number = get(
            top,
            "certificate_number",
            "certificate_number",
            self.pattern(
                _CERTIFICATE_NUMBER, "1..24 of A-Z a-z 0-9 . _ - starting with a letter or digit"
            ),
        )
        issuer = get(top, "issuer", "issuer", self.pattern(_ISSUER, "1..16 of A-Z 0-9 -"))
        version = get(top, "version", "version", self.integer)
        if version is not None and version < 1:
            self.invalid("version", f"must be at least 1, not {version}")
            version = None
        organisation = get(top, "organisation", "organisation", self.organisation)
        scheme = self.scheme(top)
        standard = get(top, "standard", "standard", self.text(NAME_MAX))
        if scheme is not None and standard is not None and standard != scheme.standard:
            self.invalid(
                "standard",
                f"scheme {scheme.id!r} is certified to {scheme.standard!r}, not {standard!r}",
            )
            standard = None
        tier = self.tier(top, scheme)
        score = get(top, "score", "score", self.score_of(scheme))
        if scheme is not None and scheme.score_required and "score" not in top:
            self.add(ProblemCode.MISSING_FIELD, "score", f"required for scheme {scheme.id!r}")
        if scheme is not None and tier is not None and score is not None:
            self.check_tier_score(scheme, tier, score)
        scope = get(top, "scope", "scope", self.text(SCOPE_MAX, multiline=True))
        original = get(top, "original_issue_date", "original_issue_date", self.calendar_date)
        issued = get(top, "issue_date", "issue_date", self.calendar_date)
        expiry = get(top, "expiry_date", "expiry_date", self.calendar_date)
        self.check_dates(scheme, original, issued, expiry)
        status = self.status(top)
        reason = get(top, "status_reason", "status_reason", self.text(REASON_MAX, multiline=True))
        effective = get(top, "status_effective_date", "status_effective_date", self.calendar_date)
        if original is not None and effective is not None and effective < original:
            self.add(
                ProblemCode.DATE_ORDER,
                "status_effective_date",
                f"{effective} is before the original issue date {original}",
            )
        surveillance = get(top, "surveillance", "surveillance", self.surveillance)
        if original is not None and surveillance is not None:
            last = surveillance.last_audit_date
            if last is not None and last < original:
                self.add(
                    ProblemCode.DATE_ORDER,
                    "surveillance.last_audit_date",
                    f"{last} is before the original issue date {original}",
                )
        sites = get(top, "sites", "sites", self.sites)

        if self.problems:
            raise RecordInvalid(self.problems)
        return Record(
            certificate_number=_known(number),
            issuer=_known(issuer),
            version=_known(version),
            organisation=_known(organisation),
            scheme=_known(scheme).id,
            standard=_known(standard),
            tier=_known(tier).name,
            score=score,
            scope=_known(scope),
            original_issue_date=_known(original),
            issue_date=_known(issued),
            expiry_date=_known(expiry),
            status=_known(status),
            status_reason=reason,
            status_effective_date=effective,
            surveillance=surveillance,
            sites=sites,
        )

    def organisation(self, value: object, path: str) -> Organisation | None:
        obj = self.mapping(value, path, _ORG_REQUIRED, _ORG_ALLOWED)
        if obj is None:
            return None
        before = len(self.problems)
        name = self.field(obj, "name", f"{path}.name", self.text(NAME_MAX))
        uscc = self.field(obj, "uscc", f"{path}.uscc", self.uscc)
        address = self.field(obj, "address", f"{path}.address", self.text(ADDRESS_MAX))
        former = self.field(obj, "former_names", f"{path}.former_names", self.former_names)
        if len(self.problems) > before or name is None or uscc is None:
            return None
        return Organisation(name, uscc, address, former)

    def uscc(self, value: object, path: str) -> str | None:
        if not isinstance(value, str):
            self.invalid(path, f"expected a string, got {_type_name(value)}")
            return None
        try:
            return validate_uscc(value)
        except USCCInvalid as error:
            self.add(ProblemCode.INVALID_USCC, path, str(error))
            return None

    def former_names(self, value: object, path: str) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self.invalid(path, f"expected an array, got {_type_name(value)}")
            return None
        if len(value) > FORMER_NAMES_MAX:
            self.invalid(path, f"at most {FORMER_NAMES_MAX} former names, not {len(value)}")
            return None
        parse = self.text(NAME_MAX)
        names = [parse(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return tuple(name for name in names if name is not None)

    def scheme(self, top: Mapping[str, object]) -> Scheme | None:
        scheme_id = self.field(top, "scheme", "scheme", self.text(NAME_MAX))
        if scheme_id is None:
            return None
        scheme = find_scheme(scheme_id)
        if scheme is None:
            self.problems.append(_unknown_scheme(scheme_id))
        return scheme

    def tier(self, top: Mapping[str, object], scheme: Scheme | None) -> Tier | None:
        name = self.field(top, "tier", "tier", self.text(NAME_MAX))
        if name is None or scheme is None:
            return None
        tier = scheme.tier_named(name)
        if tier is None:
            self.problems.append(_unknown_tier(scheme, name))
        return tier

    def score_of(self, scheme: Scheme | None) -> Callable[[object, str], Score | None]:
        def parse(value: object, path: str) -> Score | None:
            obj = self.mapping(value, path, _SCORE_KEYS, _SCORE_KEYS)
            if obj is None:
                return None
            points = self.field(obj, "value", f"{path}.value", self.integer)
            scale = self.field(obj, "scale", f"{path}.scale", self.integer)
            if scale is None:
                return None
            if scheme is not None and scale not in scheme.scales:
                scales = ", ".join(str(known) for known in scheme.scales)
                self.invalid(
                    f"{path}.scale",
                    f"scheme {scheme.id!r} scores out of {scales}, not {scale}",
                )
                return None
            if points is None:
                return None
            if not 0 <= points <= scale:
                self.invalid(f"{path}.value", f"must be between 0 and {scale}, not {points}")
                return None
            return Score(points, scale)

        return parse

    def check_tier_score(self, scheme: Scheme, tier: Tier, score: Score) -> None:
        if all(known.min_score is None for known in scheme.tiers):
            return  # the scheme grades without thresholds: any tier goes with any score
        earned = tier_for_score(scheme, score.value, score.scale)
        if earned == tier:
            return
        points = f"a score of {score.value} of {score.scale}"
        if earned is None:
            message = f"{points} earns no tier of scheme {scheme.id!r}, so not {tier.name!r}"
        else:
            message = f"{points} earns {earned.name!r}, not {tier.name!r}"
        self.add(ProblemCode.TIER_SCORE_MISMATCH, "tier", message)

    def check_dates(
        self,
        scheme: Scheme | None,
        original: date | None,
        issued: date | None,
        expiry: date | None,
    ) -> None:
        if original is not None and issued is not None and original > issued:
            self.add(
                ProblemCode.DATE_ORDER,
                "original_issue_date",
                f"{original} is after the issue date {issued}",
            )
        if issued is None or expiry is None:
            return
        if expiry <= issued:
            self.add(
                ProblemCode.DATE_ORDER,
                "expiry_date",
                f"{expiry} is not after the issue date {issued}",
            )
        elif scheme is not None:
            latest = _anniversary(issued, scheme.max_validity_years)
            if expiry > latest:
                self.add(
                    ProblemCode.VALIDITY_TOO_LONG,
                    "expiry_date",
                    f"scheme {scheme.id!r} certificates are valid for at most "
                    f"{scheme.max_validity_years} years: expiry {expiry} is after {latest}",
                )

    def status(self, top: Mapping[str, object]) -> Status | None:
        value = top.get("status")
        if "status" not in top:
            return None
        if not isinstance(value, str):
            self.invalid("status", f"expected a string, got {_type_name(value)}")
            return None
        allowed = ", ".join(sorted(PUSHABLE_STATUSES))
        if value == Status.EXPIRED:
            self.add(
                ProblemCode.INVALID_STATUS,
                "status",
                f"'expired' is derived from the expiry date and cannot be pushed (use {allowed})",
            )
            return None
        if value not in PUSHABLE_STATUSES:
            self.add(ProblemCode.INVALID_STATUS, "status", f"{value!r} is not one of {allowed}")
            return None
        status = Status(value)
        if status is not Status.VALID:
            for key in ("status_reason", "status_effective_date"):
                if key not in top:
                    self.add(ProblemCode.MISSING_FIELD, key, f"required when status is {value!r}")
        return status

    def surveillance(self, value: object, path: str) -> Surveillance | None:
        obj = self.mapping(value, path, _NO_KEYS, _SURVEILLANCE_KEYS)
        if obj is None:
            return None
        last = self.field(obj, "last_audit_date", f"{path}.last_audit_date", self.calendar_date)
        due = self.field(obj, "next_due_date", f"{path}.next_due_date", self.calendar_date)
        if last is not None and due is not None and due <= last:
            self.add(
                ProblemCode.DATE_ORDER,
                f"{path}.next_due_date",
                f"{due} is not after the last audit date {last}",
            )
        return Surveillance(last, due)

    def sites(self, value: object, path: str) -> tuple[Site, ...] | None:
        if not isinstance(value, list):
            self.invalid(path, f"expected an array, got {_type_name(value)}")
            return None
        if len(value) > SITES_MAX:
            self.invalid(path, f"at most {SITES_MAX} sites, not {len(value)}")
            return None
        sites = []
        for index, item in enumerate(value):
            site_path = f"{path}[{index}]"
            obj = self.mapping(item, site_path, _SITE_KEYS, _SITE_KEYS)
            if obj is None:
                continue
            name = self.field(obj, "name", f"{site_path}.name", self.text(NAME_MAX))
            address = self.field(obj, "address", f"{site_path}.address", self.text(ADDRESS_MAX))
            scope = self.field(
                obj, "scope", f"{site_path}.scope", self.text(SCOPE_MAX, multiline=True)
            )
            if name is not None and address is not None and scope is not None:
                sites.append(Site(name, address, scope))
        return tuple(sites)


def _known(value: _T | None) -> _T:
    """Narrow a parsed value that must be present because no problem was recorded."""
    if value is None:
        raise RuntimeError("a required value is missing although no problem was recorded")
    return value
