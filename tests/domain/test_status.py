"""Status on a day, from one record and from a version history."""

from datetime import date
from typing import Any

import pytest

from registry.domain.record import Record
from registry.domain.status import PUSHABLE_STATUSES, Status, status_of, status_on

BASE: dict[str, Any] = {
    "type": "certificate-record/1",
    "certificate_number": "CQC-ASS-2024-000123",
    "issuer": "CNCA-R-2002-001",
    "version": 1,
    "organisation": {"name": "青岛海尔智家股份有限公司", "uscc": "91110000802100433B"},
    "scheme": "after-sales-service",
    "standard": "GB/T 27922-2011",
    "tier": "四星级",
    "score": {"value": 91, "scale": 100},
    "scope": "家用电器的售后服务",
    "original_issue_date": "2021-03-01",
    "issue_date": "2024-03-01",
    "expiry_date": "2027-02-28",
    "status": "valid",
}


def version(
    number: int, status: str = "valid", effective: str | None = None, **more: Any
) -> Record:
    """A record version; ``effective`` is the status effective date, with a reason if needed."""
    obj = {**BASE, "version": number, "status": status, **more}
    if effective is not None:
        obj["status_effective_date"] = effective
        obj["status_reason"] = "监督审核" if status != "valid" else "恢复"
    return Record.from_json(obj)


@pytest.mark.parametrize(
    ("status", "labels"),
    [
        (Status.VALID, ("有效", "Valid")),
        (Status.SUSPENDED, ("暂停", "Suspended")),
        (Status.WITHDRAWN, ("撤销", "Withdrawn")),
        (Status.CANCELLED, ("注销", "Cancelled")),
        (Status.EXPIRED, ("过期", "Expired")),
    ],
)
def test_labels(status: Status, labels: tuple[str, str]) -> None:
    assert (status.label_zh, status.label_en) == labels
    assert status.is_good is (status is Status.VALID)


def test_expired_cannot_be_pushed() -> None:
    assert Status.EXPIRED not in PUSHABLE_STATUSES
    assert len(PUSHABLE_STATUSES) == 4


@pytest.mark.parametrize(
    ("status", "day", "expected"),
    [
        ("valid", "2027-02-28", Status.VALID),  # the expiry date is still within validity
        ("valid", "2027-03-01", Status.EXPIRED),
        ("suspended", "2026-01-01", Status.SUSPENDED),
        ("suspended", "2027-03-01", Status.EXPIRED),  # a suspension does not outlive expiry
        ("withdrawn", "2027-03-01", Status.WITHDRAWN),  # ended, not lapsed
        ("cancelled", "2030-01-01", Status.CANCELLED),
    ],
)
def test_status_of(status: str, day: str, expected: Status) -> None:
    effective = None if status == "valid" else "2025-01-01"
    assert status_of(version(1, status, effective), date.fromisoformat(day)) is expected


V1 = version(1)
V2_SUSPENDED = version(2, "suspended", "2025-01-10")
V3_REINSTATED = version(3, "valid", "2025-03-01")
V4_WITHDRAWN = version(4, "withdrawn", "2026-06-01")
V2_TYPO_FIX = version(2, scope="家用电器的安装、维修服务")
# A history that starts with a renewal: the certificate was first issued in 2021.
RENEWAL_SUSPENDED = version(1, "suspended", "2025-01-10")

HISTORIES: list[tuple[str, list[Record], str, tuple[Status, int] | None]] = [
    ("no history", [], "2025-01-01", None),
    ("before original issue", [V1], "2021-02-28", None),
    ("on original issue date, before this cycle", [V1], "2021-03-01", (Status.VALID, 1)),
    ("during the cycle", [V1], "2025-01-01", (Status.VALID, 1)),
    ("after expiry", [V1], "2027-03-01", (Status.EXPIRED, 1)),
    ("day before suspension", [V1, V2_SUSPENDED], "2025-01-09", (Status.VALID, 1)),
    ("suspension day", [V1, V2_SUSPENDED], "2025-01-10", (Status.SUSPENDED, 2)),
    ("during suspension", [V1, V2_SUSPENDED, V3_REINSTATED], "2025-02-01", (Status.SUSPENDED, 2)),
    ("reinstated", [V1, V2_SUSPENDED, V3_REINSTATED], "2025-03-01", (Status.VALID, 3)),
    (
        "order does not matter",
        [V3_REINSTATED, V1, V2_SUSPENDED],
        "2025-02-01",
        (Status.SUSPENDED, 2),
    ),
    (
        "withdrawn after reinstatement",
        [V1, V2_SUSPENDED, V3_REINSTATED, V4_WITHDRAWN],
        "2026-06-01",
        (Status.WITHDRAWN, 4),
    ),
    (
        "withdrawn stays withdrawn past expiry",
        [V1, V2_SUSPENDED, V3_REINSTATED, V4_WITHDRAWN],
        "2030-01-01",
        (Status.WITHDRAWN, 4),
    ),
    ("a correction replaces its version", [V1, V2_TYPO_FIX], "2024-06-01", (Status.VALID, 2)),
    ("renewal-first history, before it", [RENEWAL_SUSPENDED], "2022-01-01", (Status.VALID, 1)),
    ("renewal-first history, suspended", [RENEWAL_SUSPENDED], "2025-02-01", (Status.SUSPENDED, 1)),
]


@pytest.mark.parametrize(
    ("records", "day", "expected"),
    [case[1:] for case in HISTORIES],
    ids=[case[0] for case in HISTORIES],
)
def test_status_on(records: list[Record], day: str, expected: tuple[Status, int] | None) -> None:
    answer = status_on(records, date.fromisoformat(day))
    if expected is None:
        assert answer is None
    else:
        assert answer is not None
        status, record = answer
        assert (status, record.version) == expected


def test_status_on_returns_the_record_itself() -> None:
    answer = status_on([V1, V2_SUSPENDED], date(2025, 2, 1))
    assert answer == (Status.SUSPENDED, V2_SUSPENDED)


def test_gap_before_first_version_reads_expired_after_its_expiry() -> None:
    # A cancellation dated after expiry: until then the certificate had simply lapsed.
    late = version(1, "cancelled", "2027-06-01")
    assert status_on([late], date(2027, 4, 1)) == (Status.EXPIRED, late)
    assert status_on([late], date(2027, 6, 1)) == (Status.CANCELLED, late)
