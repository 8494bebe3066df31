"""Scanning a label: the verdict on a scan token, label reports, and scan counts.

A token is checked in this order, and the first failure decides the verdict:

1. it parses as our COSE_Sign1 profile, else ``malformed``;
2. some registered key with its short kid verifies the signature, and that key belongs to the
   issuer the claims name, and the key was usable when the token says it was signed (``iat``
   before a retired key's ``valid_until``; before a compromised key's ``compromised_at``), else
   ``counterfeit``;
3. the issuer has a certificate with that number, else ``not-found``;
4. the certificate's current status: anything but valid is ``not-valid`` (the consumer must not
   rely on it, whatever else the label says);
5. the label agrees with the registry: its record hash is that of *some* stored version, and
   its scheme, tier and expiry are the current version's, else ``mismatch`` (copied or altered,
   or an old label after a renewal);
6. otherwise ``genuine``.

A token from a key later marked compromised, signed before the compromise, still gets its
verdict, with :attr:`ScanResult.key_warning` set.

Keys are looked up by short kid through :class:`KeyCache` (a small per-process cache with a
short TTL, so a key marked compromised is honoured within :data:`KEY_CACHE_TTL` seconds), and
:class:`ScanCache` also keeps verification outcomes for as long and parsed records for ever (a
log index's bytes never change); the certificate is one indexed query.
"""

from __future__ import annotations

import datetime as dt
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from registry.crypto.errors import VerificationError
from registry.crypto.keys import PublicKey
from registry.crypto.scantoken import ScanClaims, ScanToken
from registry.domain.calendar import rfc3339
from registry.domain.record import Record
from registry.domain.status import Status, status_of
from registry.domain.text import text_problem
from registry.fastjson import loads
from registry.store.bulk import add_rows
from registry.store.models import Certificate, Issuer, IssuerKey, RecordVersion, table_of
from registry.store.prepared import Prepared
from registry.store.scans import LabelReport, ScanCount

#: Seconds a key lookup is reused. Short, because marking a key compromised must take effect.
KEY_CACHE_TTL = 10.0
#: Short kids kept in the cache at most (an attacker can make up any number of kids).
KEY_CACHE_SIZE = 4096


class Verdict(StrEnum):
    """What the scan page says about a label; values are stable (API, reports, CSS classes)."""

    GENUINE = "genuine"  # signed by the issuer, matches the registry, certificate valid
    NOT_VALID = "not-valid"  # genuine, but suspended, withdrawn, cancelled or expired
    MISMATCH = "mismatch"  # signed by the issuer, but tier, expiry or record differ
    COUNTERFEIT = "counterfeit"  # bad signature, unknown key, or a key not usable then
    NOT_FOUND = "not-found"  # properly signed, but the registry has no such certificate
    MALFORMED = "malformed"  # not a scan token at all (a counterfeit to the consumer)

    @property
    def http_status(self) -> int:
        """The scan page's HTTP status for this verdict (docs/api-scan.md)."""
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    Verdict.GENUINE: 200,
    Verdict.NOT_VALID: 200,
    Verdict.MISMATCH: 409,
    Verdict.COUNTERFEIT: 422,
    Verdict.NOT_FOUND: 404,
    Verdict.MALFORMED: 400,
}


@dataclass(frozen=True)
class ScanKey:
    """What the scan check needs of an issuer key (a snapshot, safe to cache across sessions)."""

    kid: str
    issuer_id: str
    public_key: PublicKey
    valid_until: dt.datetime | None
    compromised_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ScanKey:
        """From a row of :data:`_KEYS`."""
        kid, issuer_id, public_key, valid_until, compromised_at = row
        return cls(kid, issuer_id, PublicKey(public_key), valid_until, compromised_at)


#: The keys with one short kid, as :class:`ScanKey` needs them.
_KEYS = Prepared(
    select(
        IssuerKey.kid,
        IssuerKey.issuer_id,
        IssuerKey.public_key,
        IssuerKey.valid_until,
        IssuerKey.compromised_at,
    ).where(IssuerKey.short_kid == bindparam("short_kid"))
)


def key_problem(key: ScanKey, issued_at: int) -> str | None:
    """Why ``key`` could not have signed a token issued at ``issued_at`` (a code), or None.

    ``KeyCompromised``: ``iat`` is at or after the key's compromise; ``KeyRetired``: at or after
    the end of its validity (a rollover). Earlier tokens stand: labels outlive rollovers.
    """
    moment = dt.datetime.fromtimestamp(issued_at, dt.UTC)
    if key.compromised_at is not None and moment >= key.compromised_at:
        return "KeyCompromised"
    if key.valid_until is not None and moment >= key.valid_until:
        return "KeyRetired"
    return None


def verify_token(
    token: ScanToken, candidates: Sequence[ScanKey]
) -> tuple[ScanKey | None, ScanClaims | None, str | None]:
    """Try every key with the token's short kid; the pure part of the check (offline too).

    Returns:
        ``(key, claims, problem)``: the key that verified (or None), the verified claims (or
        None), and None or a problem code: ``UnknownKey``, ``BadSignature``, ``IssuerMismatch``,
        ``KeyCompromised``, ``KeyRetired``.
    """
    if not candidates:
        return None, None, "UnknownKey"
    for key in candidates:
        try:
            claims = token.verify(key.public_key)
        except VerificationError:
            continue
        return _judged(key, claims)
    return None, None, "BadSignature"


def _judged(
    key: ScanKey, claims: ScanClaims
) -> tuple[ScanKey | None, ScanClaims | None, str | None]:
    """The outcome for claims whose signature ``key`` verified: whether the key may vouch for
    them (its issuer, its compromise or retirement at ``iat``)."""
    if claims.issuer != key.issuer_id:
        return key, None, "IssuerMismatch"
    return key, claims, key_problem(key, claims.issued_at)


class KeyCache:
    """Issuer keys by short kid, reused for :data:`KEY_CACHE_TTL` seconds; thread-safe.

    One per app (app.extensions): tests run many apps on different databases in one process.
    Times come from the caller (the app's clock), so tests can expire entries.
    """

    def __init__(self, ttl: float = KEY_CACHE_TTL, size: int = KEY_CACHE_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[bytes, tuple[dt.datetime, tuple[ScanKey, ...]]] = {}
        self._lock = threading.Lock()

    def get(self, db: Session | Engine, short_kid: bytes, now: dt.datetime) -> tuple[ScanKey, ...]:
        """The keys whose short kid is ``short_kid`` (usually one, possibly none), read through
        ``db`` (a session or an engine) when they are not cached."""
        with self._lock:
            entry = self._entries.get(short_kid)
        if entry is not None and entry[0] > now:
            return entry[1]
        keys = tuple(ScanKey.from_row(row) for row in _KEYS.all(_reader(db), short_kid=short_kid))
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()  # crude, but bounded; a full cache is an attack or a bug
            self._entries[short_kid] = (now + dt.timedelta(seconds=self.ttl), keys)
        return keys

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class CertificateView:
    """The registry's side of a scan: the certificate's current version and status."""

    record: Record
    status: Status
    issuer_name: str
    issuer_name_en: str | None
    received_at: dt.datetime


@dataclass(frozen=True)
class ScanResult:
    """The outcome of checking one scan token.

    Attributes:
        verdict: see :class:`Verdict`.
        reason: a stable code for why (``Genuine``, ``MalformedToken``, ``UnknownKey``,
            ``BadSignature``, ``IssuerMismatch``, ``KeyCompromised``, ``KeyRetired``,
            ``NotInRegistry``, the status for ``not-valid``, ``LabelMismatch``).
        message: for people, in English (logs and the report API); pages use their own texts.
        token: the token text as given.
        claims: the claims if the token parsed; trustworthy only if ``verified``.
        verified: a registered key of the claimed issuer verified the signature.
        key: the key that verified it.
        key_warning: that key was later marked compromised (from a time after ``iat``).
        certificate: the registry's record, when the certificate was found.
        mismatches: the claims that disagree: ``record``, ``scheme``, ``tier``, ``expiry``.
    """

    verdict: Verdict
    reason: str
    message: str
    token: str
    claims: ScanClaims | None = None
    verified: bool = False
    key: ScanKey | None = None
    key_warning: bool = False
    certificate: CertificateView | None = None
    mismatches: tuple[str, ...] = ()

    @property
    def identifies_certificate(self) -> bool:
        """Whether the scan is counted: a verified token naming a stored certificate."""
        return self.verified and self.certificate is not None


_COUNTERFEIT_MESSAGES = {
    "UnknownKey": "no registered key has this token's kid",
    "BadSignature": "the signature does not verify with any registered key of that kid",
    "IssuerMismatch": "the signing key belongs to another issuer than the token names",
    "KeyCompromised": "the token was signed after its key was reported compromised",
    "KeyRetired": "the token was signed after its key was retired",
}


class ScanCache:
    """Everything the scan page may reuse between requests; one per app, thread-safe.

    * keys by short kid, for :data:`KEY_CACHE_TTL` seconds (:class:`KeyCache`);
    * a token text parsed, with the outcome of verifying it for as long as the keys it used;
    * parsed records by log index, for ever: the bytes at a log index never change.
    """

    def __init__(self, ttl: float = KEY_CACHE_TTL, size: int = KEY_CACHE_SIZE) -> None:
        self.keys = KeyCache(ttl, size)
        self.size = size
        self._tokens: dict[str, tuple[dt.datetime, ScanToken, _Outcome]] = {}
        self._records: OrderedDict[int, Record] = OrderedDict()
        self._lock = threading.Lock()

    def token(self, text: str, now: dt.datetime) -> tuple[ScanToken, _Outcome | None]:
        """``text`` parsed, with the outcome of verifying it if that is still cached.

        A text once parsed is not parsed again while it is cached: the token is a function of
        the text alone. Only the outcome, which depends on the keys as they stand, expires.

        Raises:
            VerificationError: ``MalformedToken`` (malformed texts are not cached).
        """
        with self._lock:
            hit = self._tokens.get(text)
        if hit is None:
            return ScanToken.from_text(text), None
        expires, token, outcome = hit
        return token, (outcome if expires > now else None)

    def remember(self, text: str, token: ScanToken, outcome: _Outcome, now: dt.datetime) -> None:
        """Keep the outcome of verifying ``text`` for as long as the keys it used."""
        expires = now + dt.timedelta(seconds=self.keys.ttl)
        with self._lock:
            if len(self._tokens) >= self.size:
                self._tokens.clear()
            self._tokens[text] = (expires, token, outcome)

    def record(self, log_index: int, envelope: bytes) -> Record:
        """The record of ``envelope``, the one stored at ``log_index``, parsed once."""
        with self._lock:
            found = self._records.get(log_index)
        if found is not None:
            return found
        record = Record.from_stored(loads(envelope)["record"])
        with self._lock:
            self._records[log_index] = record
            while len(self._records) > self.size:
                self._records.popitem(last=False)
        return record


_Outcome = tuple[ScanKey | None, ScanClaims | None, str | None]

#: The certificate a verified token names, as it stands: one indexed, prepared query.
_CURRENT = Prepared(
    select(
        Certificate.log_index,
        RecordVersion.record_hash,
        RecordVersion.received_at,
        Issuer.name,
        Issuer.name_en,
        RecordVersion.envelope,
        RecordVersion.kid,
    )
    .select_from(Certificate)
    .join(RecordVersion, RecordVersion.log_index == Certificate.log_index)
    .join(Issuer, Issuer.id == Certificate.issuer_id)
    .where(
        Certificate.issuer_id == bindparam("issuer"),
        Certificate.certificate_number == bindparam("number"),
    )
)


def check(
    db: Session | Engine, text: str, cache: ScanCache, now: dt.datetime, today: dt.date
) -> ScanResult:
    """Check a scan token (Base32 text) against the registry; see the module docstring.

    Reads through ``db``: the caller's session, or an engine, on which the check needs no
    session at all (its reads are prepared statements, :func:`_reader`).

    Never raises for bad input: every token, however broken, gets a verdict. On a warm cache
    this is one indexed query and no parsing or signature check.
    """
    try:
        token, outcome = cache.token(text, now)
    except VerificationError as exc:
        return ScanResult(Verdict.MALFORMED, "MalformedToken", exc.reason, text)
    rows: Sequence[tuple[Any, ...]] | None = None
    if outcome is None:
        candidates = cache.keys.get(db, token.short_kid, now)
        if candidates:
            # Looked up by the claims before they are verified: a token identical to the one
            # stored with the current version needs no signature check (_vouched_by_ingest).
            rows = _current(db, token.claims)
        outcome = _vouched_by_ingest(text, token, candidates, rows) or verify_token(
            token, candidates
        )
        cache.remember(text, token, outcome, now)
    key, claims, problem = outcome
    if key is None or claims is None or problem is not None:
        code = problem or "BadSignature"
        return ScanResult(
            Verdict.COUNTERFEIT, code, _COUNTERFEIT_MESSAGES[code], text, token.claims, key=key
        )
    warning = key.compromised_at is not None
    if rows is None:
        rows = _current(db, claims)
    if not rows:
        return ScanResult(
            Verdict.NOT_FOUND,
            "NotInRegistry",
            "the issuer signed this label, but has not published the certificate here",
            text,
            claims,
            True,
            key,
            warning,
        )
    ((log_index, record_hash, received_at, issuer_name, issuer_name_en, envelope, _),) = rows
    record = cache.record(log_index, envelope)
    status = status_of(record, today)
    view = CertificateView(record, status, issuer_name, issuer_name_en, received_at)
    mismatches = _mismatches(db, claims, record, record_hash)
    found = (claims, True, key, warning, view, mismatches)
    if view.status is not Status.VALID:
        return ScanResult(
            Verdict.NOT_VALID, view.status.value, f"the certificate is {view.status}", text, *found
        )
    if mismatches:
        return ScanResult(
            Verdict.MISMATCH,
            "LabelMismatch",
            f"the label disagrees with the registry: {', '.join(mismatches)}",
            text,
            *found,
        )
    return ScanResult(Verdict.GENUINE, "Genuine", "genuine and valid", text, *found)


def _current(db: Session | Engine, claims: ScanClaims) -> Sequence[tuple[Any, ...]]:
    """The current version of the certificate ``claims`` name (no row, or one)."""
    return _CURRENT.all(_reader(db), issuer=claims.issuer, number=claims.certificate_number)


def _vouched_by_ingest(
    text: str,
    token: ScanToken,
    candidates: Sequence[ScanKey],
    rows: Sequence[tuple[Any, ...]] | None,
) -> _Outcome | None:
    """What :func:`verify_token` would answer, without the signature check, for the very token
    the issuer pushed with the certificate's current version; None for any other token.

    Ingest verified that token under the key that signed the record (and that its claims agree
    with the record) before it stored the envelope, whose canonical bytes begin with it: the
    bytes are the same, so is the signature. Which key that was, and whether it may vouch for a
    token issued when this one says it was, is still read from the keys as they stand now.
    """
    if not rows:
        return None
    envelope, kid = rows[0][-2:]
    # ``token`` parsed from ``text``, so the text is base32 in the one spelling of its bytes
    # (b32_decode is strict), give or take the case: uppercase, it is the stored form.
    if not envelope.startswith(b'{"qr":"' + text.upper().encode("ascii") + b'",'):
        return None
    for key in candidates:
        if key.kid == kid:
            return _judged(key, token.claims)
    return None


def _reader(db: Session | Engine) -> Session | Engine:
    """Where the check's prepared reads run: on a connection of their own if ``db`` is an
    engine, or a session with no transaction open (no Session bookkeeping, about 0.1 ms),
    else in the session's transaction, begun by the caller's own statements."""
    if isinstance(db, Engine):
        return db
    bind = db.get_bind()
    if isinstance(bind, Engine) and not db.in_transaction():
        return bind
    return db


#: The record hashes of every stored version of one certificate.
_VERSION_HASHES = Prepared(
    select(RecordVersion.record_hash).where(
        RecordVersion.issuer_id == bindparam("issuer"),
        RecordVersion.certificate_number == bindparam("number"),
    )
)


def _mismatches(
    db: Session | Engine, claims: ScanClaims, record: Record, current_hash: bytes
) -> tuple[str, ...]:
    wrong: list[str] = []
    size = len(claims.record_hash)
    if current_hash[:size] != claims.record_hash:
        # Not the current version: any stored version will do (the label predates an update).
        hashes = _VERSION_HASHES.all(
            _reader(db), issuer=claims.issuer, number=claims.certificate_number
        )
        if all(h[:size] != claims.record_hash for (h,) in hashes):
            wrong.append("record")
    if claims.scheme != record.scheme_def.code:
        wrong.append("scheme")
    if claims.tier != record.tier_def.code:
        wrong.append("tier")
    if claims.expiry != record.expiry_date:
        wrong.append("expiry")
    return tuple(wrong)


# --- scan counts ---------------------------------------------------------------------------


class ScanCounter:
    """Counts scans in memory and writes them in batches with one upsert per certificate-day.

    Counting in memory keeps a database write off the scan page's hot path. The batch is
    written by the first scan ``interval`` seconds or more after it began, by a worker's
    writer thread once it is due (:func:`registry.web.scan.start_count_writer`), and when a
    worker stops (:func:`registry.web.scan.flush_scan_counts`); a process killed outright
    loses what it holds. ``interval`` 0 writes on every scan.
    """

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self._pending: dict[tuple[str, str, dt.date], int] = {}
        self._due: dt.datetime | None = None
        self._lock = threading.Lock()

    def note(self, issuer_id: str, number: str, day: dt.date, now: dt.datetime) -> bool:
        """Count one scan; return whether the batch is due (then call :meth:`flush`)."""
        with self._lock:
            key = (issuer_id, number, day)
            self._pending[key] = self._pending.get(key, 0) + 1
            if self._due is None:
                self._due = now + dt.timedelta(seconds=self.interval)
            return now >= self._due

    def due(self, now: dt.datetime) -> bool:
        """Whether counts are pending and their batch is due."""
        with self._lock:
            return self._due is not None and now >= self._due

    def flush(self, session: Session) -> int:
        """Add the pending counts to ``scan_count`` and commit; return the rows written.

        If that fails, the session is rolled back, the counts stay pending for the next flush,
        and the error is raised.
        """
        with self._lock:
            pending, due = self._pending, self._due
            self._pending, self._due = {}, None
        if not pending:
            return 0
        try:
            add_scan_counts(session, pending)
            session.commit()
        except BaseException:
            session.rollback()
            with self._lock:
                for key, n in pending.items():
                    self._pending[key] = self._pending.get(key, 0) + n
                if self._due is None or (due is not None and due < self._due):
                    self._due = due
            raise
        return len(pending)


def add_scan_counts(session: Session, counts: Mapping[tuple[str, str, dt.date], int]) -> None:
    """Add ``counts`` ((issuer, number, day) -> n) with INSERT … ON CONFLICT DO UPDATE, in
    bulk (:func:`registry.store.bulk.add_rows`): a worker's batch can be thousands of rows."""
    rows = [
        {"issuer_id": issuer, "certificate_number": number, "day": day, "count": n}
        for (issuer, number, day), n in sorted(counts.items())
    ]
    add_rows(
        session,
        table_of(ScanCount),
        rows,
        keys=("issuer_id", "certificate_number", "day"),
        add="count",
    )


def scan_counts(session: Session, issuer_id: str, since: dt.date) -> list[tuple[str, dt.date, int]]:
    """An issuer's scan counts from ``since`` on: (certificate number, day, count)."""
    rows = session.execute(
        select(ScanCount.certificate_number, ScanCount.day, ScanCount.count)
        .where(ScanCount.issuer_id == issuer_id, ScanCount.day >= since)
        .order_by(ScanCount.day, ScanCount.certificate_number)
    )
    return [(number, day, count) for number, day, count in rows]


# --- label reports -------------------------------------------------------------------------

#: Reasons a consumer can give, in the order the form lists them.
REPORT_REASONS = ("looks-fake", "details-differ", "seller-claims", "other")
REPORT_DETAILS_MAX = 500
REPORT_PLACE_MAX = 200
#: The most reports one API response carries.
REPORTS_PAGE = 500


class ReportRejected(ValueError):
    """A label report cannot be stored; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def add_report(
    session: Session,
    result: ScanResult,
    reason: str,
    details: str | None,
    place: str | None,
    now: dt.datetime,
) -> LabelReport:
    """Store a report about the label ``result`` is the verdict on (the caller commits).

    Raises:
        ReportRejected: unknown reason, text too long, or a token that names no registered
            issuer (there is nobody to tell).
    """
    if reason not in REPORT_REASONS:
        raise ReportRejected("reason", f"reason must be one of {', '.join(REPORT_REASONS)}")
    details = _report_text(details, "details", multiline=True)
    place = _report_text(place, "place", multiline=False)
    if details is not None and len(details) > REPORT_DETAILS_MAX:
        raise ReportRejected("details", f"details are at most {REPORT_DETAILS_MAX} characters")
    if place is not None and len(place) > REPORT_PLACE_MAX:
        raise ReportRejected("place", f"the place is at most {REPORT_PLACE_MAX} characters")
    if result.claims is None or session.get(Issuer, result.claims.issuer) is None:
        raise ReportRejected("token", "this label names no issuer registered here")
    report = LabelReport(
        issuer_id=result.claims.issuer,
        certificate_number=result.claims.certificate_number,
        token=result.token,
        verdict=result.verdict.value,
        reason=reason,
        details=details,
        place=place,
        created_at=now,
    )
    session.add(report)
    session.flush()
    return report


def _report_text(text: str | None, field: str, *, multiline: bool) -> str | None:
    """A consumer's text as the issuer will read it: trimmed, in NFC, with line feeds only
    (a textarea sends CRLF), and held to the records' text rules (no controls, no bidi
    overrides; :func:`registry.domain.text.text_problem`). None if empty.

    Raises:
        ReportRejected: the text holds a character those rules forbid.
    """
    text = unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n").strip())
    if not text:
        return None
    problem = text_problem(text, field, multiline=multiline)
    if problem is not None:
        raise ReportRejected(field, problem.message)
    return text


def reports(
    session: Session, issuer_id: str, since: dt.datetime | None, after: int | None
) -> list[LabelReport]:
    """An issuer's reports, oldest first: created at or after ``since`` and with an id above
    ``after`` (the cursor: pass the last id seen), at most :data:`REPORTS_PAGE`."""
    query = select(LabelReport).where(LabelReport.issuer_id == issuer_id)
    if since is not None:
        query = query.where(LabelReport.created_at >= since)
    if after is not None:
        query = query.where(LabelReport.id > after)
    return list(session.execute(query.order_by(LabelReport.id).limit(REPORTS_PAGE)).scalars())


def report_json(report: LabelReport) -> dict[str, object]:
    """A report as the reports API returns it."""
    return {
        "id": report.id,
        "created_at": rfc3339(report.created_at),
        "certificate_number": report.certificate_number,
        "verdict": report.verdict,
        "reason": report.reason,
        "details": report.details,
        "place": report.place,
        "token": report.token,
    }
