"""Lookups: a certificate's state (now or on a date), its history, an organisation's
certificates, and who publishes here (so "not found" can be honest).

Everything shown is re-derived from the stored signed envelopes, never from the state columns
alone: the state table only finds rows fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from registry.domain.calendar import end_of_day
from registry.domain.record import Record, is_certificate_number
from registry.domain.status import Status, derive_status, status_of, status_on
from registry.fastjson import loads
from registry.store.models import (
    Certificate,
    Issuer,
    IssuerKey,
    LogState,
    Organisation,
    RecordVersion,
)
from registry.store.prepared import Prepared


class CertificateNotFound(LookupError):
    """No certificate has this number (with this issuer, if one was given)."""


class AmbiguousNumber(LookupError):
    """Several issuers use this number; the caller must say which (``?issuer=``)."""

    def __init__(self, number: str, issuers: Sequence[str]) -> None:
        super().__init__(f"{len(issuers)} issuers use certificate number {number}")
        self.number = number
        self.issuers = list(issuers)


@dataclass(frozen=True)
class IssuerInfo:
    id: str
    name: str
    name_en: str | None
    last_push_at: dt.datetime | None
    certificates: int = 0


@dataclass(frozen=True)
class Version:
    """One stored version of a certificate, parsed back from its signed bytes."""

    record: Record
    envelope: dict[str, object]
    received_at: dt.datetime
    log_index: int
    kid: str
    flagged: bool
    key_compromised_at: dt.datetime | None

    @property
    def untrusted(self) -> bool:
        """Signed with a key later marked compromised from a time before this was received."""
        return self.key_compromised_at is not None and self.received_at >= self.key_compromised_at


@dataclass(frozen=True)
class CertificateState:
    """A certificate as the registry knows it now."""

    issuer: IssuerInfo
    current: Version
    status: Status
    history: tuple[Version, ...]
    checked_at: dt.datetime


@dataclass(frozen=True)
class StatusOnDate:
    """What a certificate's status was on a given day.

    Attributes:
        day: the day asked about.
        status: the status that day by everything known now (None: not yet issued that day).
        version: the version that determines it.
        known_since: when the registry received that version; if after ``day``, the registry
            learned of it later (e.g. a suspension pushed late).
        status_as_known: what the registry would have answered at the end of that day, from the
            versions it had received by then (None: it had none).
    """

    day: dt.date
    status: Status | None
    version: Version | None
    known_since: dt.datetime | None
    status_as_known: Status | None


def _version(row: RecordVersion, compromised_at: dt.datetime | None) -> Version:
    return _version_of(
        row.envelope, row.received_at, row.log_index, row.kid, row.flagged, compromised_at
    )


def _version_of(
    stored: bytes,
    received_at: dt.datetime,
    log_index: int,
    kid: str,
    flagged: bool,
    compromised_at: dt.datetime | None,
) -> Version:
    envelope = loads(stored)
    return Version(
        record=Record.from_stored(envelope["record"]),
        envelope=envelope,
        received_at=received_at,
        log_index=log_index,
        kid=kid,
        flagged=flagged,
        key_compromised_at=compromised_at,
    )


def issuers_using(session: Session, number: str) -> list[str]:
    """Ids of the issuers that have a certificate with this number."""
    if not is_certificate_number(number):  # no such row; and PostgreSQL refuses NUL in text
        return []
    return list(
        session.execute(
            select(Certificate.issuer_id)
            .where(Certificate.certificate_number == number)
            .order_by(Certificate.issuer_id)
        ).scalars()
    )


def resolve_issuer(session: Session, number: str, issuer: str | None) -> str:
    """The issuer of ``number``, checking ``issuer`` if given.

    Raises:
        CertificateNotFound: nobody uses the number.
        AmbiguousNumber: several issuers do and ``issuer`` is None.
    """
    issuers = issuers_using(session, number)
    if issuer is not None:
        if issuer not in issuers:
            raise CertificateNotFound(number)
        return issuer
    if not issuers:
        raise CertificateNotFound(number)
    if len(issuers) > 1:
        raise AmbiguousNumber(number, issuers)
    return issuers[0]


def versions(session: Session, issuer: str, number: str) -> list[Version]:
    """Every stored version of a certificate, oldest first."""
    rows = session.execute(
        select(RecordVersion, IssuerKey.compromised_at)
        .join(IssuerKey, IssuerKey.kid == RecordVersion.kid)
        .where(RecordVersion.issuer_id == issuer, RecordVersion.certificate_number == number)
        .order_by(RecordVersion.version)
    ).all()
    return [_version(row, compromised_at) for row, compromised_at in rows]


#: What a certificate's history shows of one version: its issuer, the stored envelope and its
#: receipt, and the key's compromise (if any).
_VERSION_COLUMNS = (
    Issuer.id,
    Issuer.name,
    Issuer.name_en,
    Issuer.last_push_at,
    RecordVersion.envelope,
    RecordVersion.received_at,
    RecordVersion.log_index,
    RecordVersion.kid,
    RecordVersion.flagged,
    IssuerKey.compromised_at,
)

_LOG_SIZE = select(LogState.size).where(LogState.id == 1).scalar_subquery()

#: The lookup's one query: the current version of a number at each issuer that uses it, and
#: the log size. Issuers and keys come from :class:`PublisherCache`, not from joins: the two
#: joins and their two further timestamps were about a third of the query's time.
_CURRENT = Prepared(
    select(
        Certificate.issuer_id,
        RecordVersion.envelope,
        RecordVersion.received_at,
        RecordVersion.log_index,
        RecordVersion.kid,
        RecordVersion.flagged,
        _LOG_SIZE,
    )
    .select_from(Certificate)
    .join(RecordVersion, RecordVersion.log_index == Certificate.log_index)
    .where(Certificate.certificate_number == bindparam("number"))
    .order_by(Certificate.issuer_id)
)

#: Every issuer, as :func:`publishers` and :class:`PublisherCache` show them, with the log size.
_PUBLISHERS = Prepared(
    select(
        Issuer.id,
        Issuer.name,
        Issuer.name_en,
        Issuer.last_push_at,
        Issuer.certificates,
        _LOG_SIZE,
    ).order_by(Issuer.id)
)
_KEY_COMPROMISES = Prepared(select(IssuerKey.kid, IssuerKey.compromised_at, _LOG_SIZE))


@dataclass(frozen=True)
class Publishers:
    """Every issuer and when each key was compromised (None: never), at one log size."""

    log_size: int
    issuers: Mapping[str, IssuerInfo]
    compromised_at: Mapping[str, dt.datetime | None]


def load_publishers(bind: Session | Engine) -> Publishers:
    """Issuers and keys as of one log size (read again if a change came between the two
    statements)."""
    while True:
        issuers = _PUBLISHERS.all(bind)
        keys = _KEY_COMPROMISES.all(bind)
        sizes = {row[-1] for row in issuers} | {row[-1] for row in keys}
        if len(sizes) <= 1:
            break
    return Publishers(
        log_size=sizes.pop() if sizes else 0,
        issuers={row[0]: IssuerInfo(*row[:5]) for row in issuers},
        compromised_at={kid: at for kid, at, _ in keys},
    )


class PublisherCache:
    """A process's copy of :class:`Publishers`, read again when the log size differs.

    Every change the lookup shows of an issuer or a key appends to the log in the same
    transaction: an accepted push (``last_push_at``), a registration, a rollover, a
    compromise. So a copy taken at the log size a lookup's own query read is exactly what a
    join in that query would have read, and a copy taken later is newer still.
    """

    def __init__(self) -> None:
        self._copy: Publishers | None = None

    def at(self, bind: Engine, log_size: int) -> Publishers:
        """Issuers and keys as of ``log_size`` (or later, if the log grew meanwhile).

        Any other size reads them again: a smaller one too, as after a database restore.
        """
        found = self._copy
        if found is None or found.log_size != log_size:
            found = self._copy = load_publishers(bind)
        return found


@dataclass(frozen=True)
class Current:
    """The current version of a certificate with what a lookup shows beside it (the hot path
    of the public lookup)."""

    issuer: IssuerInfo
    envelope: bytes
    received_at: dt.datetime
    log_index: int
    kid: str
    flagged: bool
    key_compromised_at: dt.datetime | None
    log_size: int

    @property
    def untrusted(self) -> bool:
        """Signed with a key marked compromised from a time before this was received."""
        return self.key_compromised_at is not None and self.received_at >= self.key_compromised_at


def current_versions(bind: Engine, number: str, publishers: PublisherCache) -> list[Current]:
    """The current version of ``number`` at each issuer that uses it, in one indexed query,
    with the log size (which grows with every push and key event: a cache key).

    One statement on the engine sees one consistent state; issuers and keys come from
    ``publishers`` as of that state's log size or later.
    """
    rows = _CURRENT.all(bind, number=number)
    if not rows:
        return []
    known = publishers.at(bind, rows[0][6])
    return [
        Current(
            known.issuers[issuer_id],
            envelope,
            received_at,
            log_index,
            kid,
            flagged,
            known.compromised_at[kid],
            log_size,
        )
        for issuer_id, envelope, received_at, log_index, kid, flagged, log_size in rows
    ]


def issuer_info(session: Session, issuer_id: str) -> IssuerInfo:
    row = session.get(Issuer, issuer_id)
    if row is None:  # pragma: no cover - records reference registered issuers
        raise CertificateNotFound(issuer_id)
    return IssuerInfo(row.id, row.name, row.name_en, row.last_push_at)


#: Every version of a number at every issuer that uses it, with the issuer and the key's
#: compromise: what a certificate page or a full lookup shows, in one indexed query.
_HISTORY = Prepared(
    select(*_VERSION_COLUMNS)
    .select_from(Certificate)
    .join(
        RecordVersion,
        (RecordVersion.issuer_id == Certificate.issuer_id)
        & (RecordVersion.certificate_number == Certificate.certificate_number),
    )
    .join(Issuer, Issuer.id == Certificate.issuer_id)
    .join(IssuerKey, IssuerKey.kid == RecordVersion.kid)
    .where(Certificate.certificate_number == bindparam("number"))
    .order_by(Certificate.issuer_id, RecordVersion.version)
)


def certificate(
    bind: Session | Engine, number: str, issuer: str | None, now: dt.datetime, today: dt.date
) -> CertificateState:
    """The current state of a certificate with its history, in one query.

    Raises:
        CertificateNotFound, AmbiguousNumber: see :func:`resolve_issuer`.
    """
    rows = _HISTORY.all(bind, number=number) if is_certificate_number(number) else []
    issuers = sorted({row[0] for row in rows})
    if issuer is not None:
        if issuer not in issuers:
            raise CertificateNotFound(number)
    elif not issuers:
        raise CertificateNotFound(number)
    elif len(issuers) > 1:
        raise AmbiguousNumber(number, issuers)
    else:
        issuer = issuers[0]
    mine = [row for row in rows if row[0] == issuer]
    history = tuple(
        _version_of(envelope, received_at, log_index, kid, flagged, compromised_at)
        for _, _, _, _, envelope, received_at, log_index, kid, flagged, compromised_at in mine
    )
    current = history[-1]
    first = mine[0]
    return CertificateState(
        issuer=IssuerInfo(first[0], first[1], first[2], first[3]),
        current=current,
        status=status_of(current.record, today),
        history=history,
        checked_at=now,
    )


def status_at(history: Sequence[Version], day: dt.date) -> StatusOnDate:
    """The status on ``day`` by what is known now, and by what was known at the end of ``day``."""
    found = status_on([v.record for v in history], day)
    version = None
    status = None
    if found is not None:
        status, record = found
        version = next(v for v in history if v.record.version == record.version)
    known_then = [v for v in history if v.received_at < end_of_day(day)]
    as_known = status_on([v.record for v in known_then], day) if known_then else None
    return StatusOnDate(
        day=day,
        status=status,
        version=version,
        known_since=version.received_at if version else None,
        status_as_known=as_known[0] if as_known else None,
    )


@dataclass(frozen=True)
class CertificateSummary:
    """A certificate as an organisation's list shows it: the state columns, no envelope."""

    certificate_number: str
    issuer_id: str
    scheme: str
    tier: str
    status: str
    expiry_date: dt.date
    version: int
    log_index: int


@dataclass(frozen=True)
class OrganisationView:
    uscc: str
    name: str
    former_names: tuple[str, ...]
    certificates: tuple[tuple[CertificateSummary, Status], ...]


_ORGANISATION = Prepared(
    select(Organisation.uscc, Organisation.name, Organisation.former_names).where(
        Organisation.uscc == bindparam("uscc")
    )
)
_ORGANISATION_CERTIFICATES = Prepared(
    select(
        Certificate.certificate_number,
        Certificate.issuer_id,
        Certificate.scheme,
        Certificate.tier,
        Certificate.status,
        Certificate.expiry_date,
        Certificate.version,
        Certificate.log_index,
    )
    .where(Certificate.uscc == bindparam("uscc"))
    .order_by(Certificate.expiry_date.desc(), Certificate.certificate_number)
)


def organisation(bind: Session | Engine, uscc: str, today: dt.date) -> OrganisationView | None:
    """An organisation and all its certificates (current state, derived status): two
    prepared queries."""
    found = _ORGANISATION.all(bind, uscc=uscc)
    if not found:
        return None
    ((uscc, name, former_names),) = found
    certificates = [
        CertificateSummary(*row) for row in _ORGANISATION_CERTIFICATES.all(bind, uscc=uscc)
    ]
    return OrganisationView(
        uscc=uscc,
        name=name,
        former_names=tuple(n for n in former_names.split("\n") if n),
        certificates=tuple(
            (c, derive_status(Status(c.status), c.expiry_date, today)) for c in certificates
        ),
    )


def derived_status(row: Certificate, today: dt.date) -> Status:
    """The status of a state row on ``today`` (``expired`` derived from the expiry date)."""
    return derive_status(Status(row.status), row.expiry_date, today)


def publishers(bind: Session | Engine) -> list[IssuerInfo]:
    """Every issuer that publishes here, when each last pushed, and how many certificates."""
    return [IssuerInfo(*row[:5]) for row in _PUBLISHERS.all(bind)]
