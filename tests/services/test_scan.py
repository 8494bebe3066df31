"""The scan service's parts: key rules, candidate keys, the key cache, counts and reports."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.crypto.keys import PrivateKey
from registry.crypto.scantoken import ScanClaims, ScanToken, sign_token
from registry.services import scan
from registry.services.issuers import register_issuer
from registry.store.scans import ScanCount
from tests.conftest import ISSUER_ID, Clock

KEY = PrivateKey.from_seed(b"scan-service-tests-key-000000001")
OTHER = PrivateKey.from_seed(b"scan-service-tests-key-000000002")
T0 = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
CLAIMS = ScanClaims(
    issuer=ISSUER_ID,
    certificate_number="CQC-ASS-2024-000123",
    scheme="ASS",
    tier="5S",
    expiry=dt.date(2027, 2, 28),
    issued_at=int(T0.timestamp()),
    record_hash=bytes(8),
)


def scan_key(
    key: PrivateKey = KEY,
    issuer: str = ISSUER_ID,
    valid_until: dt.datetime | None = None,
    compromised_at: dt.datetime | None = None,
) -> scan.ScanKey:
    public = key.public_key
    return scan.ScanKey(public.thumbprint, issuer, public, valid_until, compromised_at)


SECOND = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("valid_until", "compromised_at", "problem"),
    [
        (None, None, None),
        (T0 + SECOND, None, None),
        (T0, None, "KeyRetired"),
        (T0 - SECOND, None, "KeyRetired"),
        (None, T0 + SECOND, None),
        (None, T0, "KeyCompromised"),
        (None, T0 - SECOND, "KeyCompromised"),
        (T0 - SECOND, T0 - SECOND, "KeyCompromised"),
    ],
)
def test_key_problem(
    valid_until: dt.datetime | None, compromised_at: dt.datetime | None, problem: str | None
) -> None:
    key = scan_key(valid_until=valid_until, compromised_at=compromised_at)
    assert scan.key_problem(key, CLAIMS.issued_at) == problem


def test_every_candidate_key_is_tried() -> None:
    token = sign_token(CLAIMS, KEY)
    key, claims, problem = scan.verify_token(token, [scan_key(OTHER), scan_key(KEY)])
    assert (key, claims, problem) == (scan_key(KEY), CLAIMS, None)


@pytest.mark.parametrize(
    ("candidates", "problem"),
    [
        ([], "UnknownKey"),
        ([scan_key(OTHER)], "BadSignature"),
        ([scan_key(KEY, issuer="CNCA-R-2003-002")], "IssuerMismatch"),
        ([scan_key(KEY, compromised_at=T0)], "KeyCompromised"),
    ],
)
def test_verify_token_problems(candidates: list[scan.ScanKey], problem: str) -> None:
    assert scan.verify_token(sign_token(CLAIMS, KEY), candidates)[2] == problem


def test_http_status_of_each_verdict() -> None:
    assert {v: v.http_status for v in scan.Verdict} == {
        scan.Verdict.GENUINE: 200,
        scan.Verdict.NOT_VALID: 200,
        scan.Verdict.MISMATCH: 409,
        scan.Verdict.COUNTERFEIT: 422,
        scan.Verdict.NOT_FOUND: 404,
        scan.Verdict.MALFORMED: 400,
    }


def test_key_cache_reuses_a_lookup_until_it_expires(session: Session, clock: Clock) -> None:
    cache = scan.KeyCache(ttl=10)
    short_kid = KEY.public_key.short_kid
    assert cache.get(session, short_kid, clock.now) == ()
    register_issuer(session, ISSUER_ID, "测试", None, KEY.public_key, clock.now)
    session.flush()
    assert cache.get(session, short_kid, clock.now + dt.timedelta(seconds=9)) == ()
    found = cache.get(session, short_kid, clock.now + dt.timedelta(seconds=10))
    assert [k.kid for k in found] == [KEY.public_key.thumbprint]


def test_key_cache_is_bounded(session: Session, clock: Clock) -> None:
    cache = scan.KeyCache(size=3)
    for n in range(10):
        cache.get(session, bytes([n]) * 8, clock.now)
    assert len(cache._entries) <= 3


def test_scan_cache_parses_a_text_once_and_judges_it_again_after_the_ttl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parsing is a function of the text alone: it outlives the verdict, which depends on
    the keys as they stand and is cached only for as long as they are."""
    text = sign_token(CLAIMS, KEY).to_text()
    parsed: list[str] = []
    from_text = ScanToken.from_text

    def counting(text: str) -> ScanToken:
        parsed.append(text)
        return from_text(text)

    monkeypatch.setattr(ScanToken, "from_text", counting)
    cache = scan.ScanCache(ttl=10)
    token, outcome = cache.token(text, T0)
    assert outcome is None
    judged = scan.verify_token(token, [scan_key()])
    cache.remember(text, token, judged, T0)
    assert cache.token(text, T0 + 9 * SECOND) == (token, judged)
    assert cache.token(text, T0 + 10 * SECOND) == (token, None)
    assert parsed == [text]


def test_counter_batches_until_due(clock: Clock) -> None:
    counter = scan.ScanCounter(interval=5)
    day = dt.date(2026, 3, 1)
    assert not counter.due(clock.now)
    assert not counter.note(ISSUER_ID, "A", day, clock.now)
    assert not counter.note(ISSUER_ID, "A", day, clock.advance(seconds=4))
    assert not counter.due(clock.now)
    assert counter.note(ISSUER_ID, "B", day, clock.advance(seconds=1))
    assert counter.due(clock.now)


def test_a_failed_flush_keeps_the_counts_for_the_next(
    session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_issuer(session, ISSUER_ID, "测试", None, KEY.public_key, clock.now)
    counter = scan.ScanCounter(interval=5)
    day = dt.date(2026, 3, 1)
    counter.note(ISSUER_ID, "A", day, clock.now)
    add = scan.add_scan_counts

    def failing(session: Session, counts: object) -> None:
        raise RuntimeError("database away")

    monkeypatch.setattr(scan, "add_scan_counts", failing)
    with pytest.raises(RuntimeError):
        counter.flush(session)
    assert counter.due(clock.now + 5 * SECOND)  # still due from the first scan
    counter.note(ISSUER_ID, "A", day, clock.now)
    monkeypatch.setattr(scan, "add_scan_counts", add)
    assert counter.flush(session) == 1
    assert not counter.due(clock.now + 5 * SECOND)
    assert scan.scan_counts(session, ISSUER_ID, day) == [("A", day, 2)]


def test_scan_counts_upsert_adds_up(session: Session, clock: Clock) -> None:
    register_issuer(session, ISSUER_ID, "测试", None, KEY.public_key, clock.now)
    day = dt.date(2026, 3, 1)
    scan.add_scan_counts(session, {(ISSUER_ID, "A", day): 2, (ISSUER_ID, "B", day): 1})
    scan.add_scan_counts(session, {(ISSUER_ID, "A", day): 3})
    session.commit()
    rows = session.execute(select(ScanCount).order_by(ScanCount.certificate_number)).scalars()
    assert [(r.certificate_number, r.count) for r in rows] == [("A", 5), ("B", 1)]
    assert scan.scan_counts(session, ISSUER_ID, day) == [("A", day, 5), ("B", day, 1)]
    assert scan.scan_counts(session, ISSUER_ID, day + dt.timedelta(days=1)) == []


def _result(claims: ScanClaims | None) -> scan.ScanResult:
    return scan.ScanResult(scan.Verdict.COUNTERFEIT, "UnknownKey", "", "TOKEN", claims)


@pytest.mark.parametrize(
    ("reason", "details", "place", "field"),
    [
        ("nonsense", None, None, "reason"),
        ("other", "x" * 501, None, "details"),
        ("other", None, "x" * 201, "place"),
        # Text an issuer reads must not reorder itself (a bidi override) or hide controls.
        ("other", "包装\u202e粗糙", None, "details"),
        ("other", None, "某\x07平台", "place"),
        ("other", None, "第一行\n第二行", "place"),
    ],
)
def test_report_rules(
    session: Session, clock: Clock, reason: str, details: str | None, place: str | None, field: str
) -> None:
    with pytest.raises(scan.ReportRejected) as caught:
        scan.add_report(session, _result(CLAIMS), reason, details, place, clock.now)
    assert caught.value.field == field


def test_report_text_is_kept_as_typed_in_nfc_with_line_feeds(
    session: Session, clock: Clock
) -> None:
    """A browser's textarea sends CRLF line ends, and a keyboard may send decomposed text."""
    register_issuer(session, ISSUER_ID, "测试", None, KEY.public_key, clock.now)
    report = scan.add_report(
        session, _result(CLAIMS), "other", "第一行\r\n第二行 e\u0301", " 某平台 ", clock.now
    )
    assert (report.details, report.place) == ("第一行\n第二行 \u00e9", "某平台")


def test_report_needs_a_registered_issuer(session: Session, clock: Clock) -> None:
    for claims in (None, dataclasses.replace(CLAIMS, issuer="NOBODY")):
        with pytest.raises(scan.ReportRejected) as caught:
            scan.add_report(session, _result(claims), "other", None, None, clock.now)
        assert caught.value.field == "token"


def test_reports_page_by_id_and_time(session: Session, clock: Clock) -> None:
    register_issuer(session, ISSUER_ID, "测试", None, KEY.public_key, clock.now)
    made = []
    for n in range(3):
        made.append(
            scan.add_report(
                session, _result(CLAIMS), "other", f"  #{n}  ", "", clock.advance(hours=1)
            )
        )
    session.commit()
    assert [r.details for r in scan.reports(session, ISSUER_ID, None, None)] == ["#0", "#1", "#2"]
    assert made[0].place is None  # blank optional fields are stored as nothing
    assert [r.id for r in scan.reports(session, ISSUER_ID, None, made[0].id)] == [
        made[1].id,
        made[2].id,
    ]
    assert [r.id for r in scan.reports(session, ISSUER_ID, made[2].created_at, None)] == [
        made[2].id
    ]
    assert scan.reports(session, "CNCA-R-2003-002", None, None) == []
