"""Certificate status: what a record says, and what it means on a given day.

Issuers push four statuses: ``valid`` 有效, ``suspended`` 暂停, ``withdrawn`` 撤销 and
``cancelled`` 注销. The fifth, ``expired`` 过期, is never taken from input: it is derived from
the expiry date. A valid or suspended certificate reads ``expired`` after its expiry date (a
suspension does not outlive the certificate). A withdrawn or cancelled one keeps that status,
because it says more than "expired" does: the certificate was ended, not merely left to lapse.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registry.domain.record import Record

__all__ = [
    "PUSHABLE_STATUSES",
    "Status",
    "derive_status",
    "status_json",
    "status_of",
    "status_on",
]


class Status(StrEnum):
    """The status of a certificate; values are the words used in records and the API."""

    VALID = "valid"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def label_zh(self) -> str:
        """The Chinese label, e.g. ``"有效"``."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The English label, e.g. ``"Valid"``."""
        return _LABELS[self][1]

    @property
    def is_good(self) -> bool:
        """Whether a holder may rely on the certificate (only ``valid``)."""
        return self is Status.VALID


_LABELS = {
    Status.VALID: ("有效", "Valid"),
    Status.SUSPENDED: ("暂停", "Suspended"),
    Status.WITHDRAWN: ("撤销", "Withdrawn"),
    Status.CANCELLED: ("注销", "Cancelled"),
    Status.EXPIRED: ("过期", "Expired"),
}

#: The statuses an issuer may put in a record (``expired`` is derived, never pushed).
PUSHABLE_STATUSES = frozenset({Status.VALID, Status.SUSPENDED, Status.WITHDRAWN, Status.CANCELLED})

# Statuses that turn into EXPIRED once the expiry date has passed.
_LAPSING = frozenset({Status.VALID, Status.SUSPENDED})


def status_of(record: Record, day: date) -> Status:
    """Return the status ``record`` gives its certificate on ``day``.

    Args:
        record: one version of a certificate.
        day: the day asked about.

    Returns:
        ``EXPIRED`` if ``day`` is after ``record.expiry_date`` and the record is valid or
        suspended; otherwise the record's own status. The expiry date itself is still within
        validity.
    """
    return derive_status(Status(record.status), record.expiry_date, day)


def status_json(status: Status | None) -> dict[str, str] | None:
    """A status as the API writes it: ``{"code", "zh", "en"}`` (None stays None)."""
    if status is None:
        return None
    return {"code": status.value, "zh": status.label_zh, "en": status.label_en}


def derive_status(signed: Status, expiry_date: date, day: date) -> Status:
    """Return the status on ``day`` of a certificate signed ``signed``, expiring ``expiry_date``.

    The one place the expiry rule lives: valid and suspended certificates read ``EXPIRED`` after
    their expiry date; withdrawn and cancelled ones keep their status.
    """
    if day > expiry_date and signed in _LAPSING:
        return Status.EXPIRED
    return signed


def status_on(records: Sequence[Record], day: date) -> tuple[Status, Record] | None:
    """Return a certificate's status on ``day`` from its version history.

    The rule: among the versions whose ``effective_from`` (the status effective date, else the
    issue date) is on or before ``day``, the highest version number wins, and its status on
    ``day`` (see :func:`status_of`) is the answer. So a later version can correct an earlier one
    retroactively, and a reinstatement must carry its ``status_effective_date``, or it would
    cover the suspension it ends.

    A history may start after the certificate was first issued (e.g. the first version pushed
    is a renewal). For a day between ``original_issue_date`` and the first effective version,
    the certificate is taken as ``valid`` (``expired`` after that version's expiry date) and the
    lowest version is returned as the evidence: a later suspension, withdrawal or cancellation
    is dated, so it did not yet apply.

    Args:
        records: the versions of one certificate, in any order.
        day: the day asked about.

    Returns:
        ``(status, record)`` with the record the answer rests on, or ``None`` if there are no
        records or ``day`` is before the lowest version's ``original_issue_date``.
    """
    if not records:
        return None
    ordered = sorted(records, key=lambda record: record.version)
    if day < ordered[0].original_issue_date:
        return None
    for record in reversed(ordered):
        if record.effective_from <= day:
            return status_of(record, day), record
    first = ordered[0]
    return (Status.EXPIRED if day > first.expiry_date else Status.VALID), first
