"""The ingest API end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.app import Registry
from registry.client import Signer
from registry.crypto.jcs import parse_json
from registry.crypto.keys import PrivateKey
from registry.services.issuers import mark_compromised
from registry.store.models import Certificate, LogEntry, RecordVersion
from tests.conftest import ISSUER_ID, Clock, record_json

MakeEnvelope = Callable[..., dict[str, Any]]


def push(client: FlaskClient, body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/api/v1/records", json=body)
    return response.status_code, response.get_json()


def codes(report: dict[str, Any], position: int = 0) -> list[str]:
    return [e["code"] for e in report["results"][position].get("errors", [])]


def test_accepts_a_signed_record_and_commits_it(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    status, report = push(client, make_envelope())
    assert status == 201
    assert report["accepted"] == 1
    item = report["results"][0]
    assert item["outcome"] == "accepted"
    assert item["version"] == 1
    assert item["log_index"] == 1  # entry 0 is the issuer's key registration
    with state.sessions() as session:
        stored = session.execute(select(RecordVersion)).scalar_one()
        assert json.loads(stored.envelope)["record"]["certificate_number"] == "CQC-ASS-2024-000123"
        entry = session.get(LogEntry, 1)
        assert entry is not None
        assert entry.data == stored.envelope


def test_stores_the_exact_canonical_bytes(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    from registry.crypto.jcs import canonicalize

    envelope = make_envelope()
    push(client, envelope)
    with state.sessions() as session:
        stored = session.execute(select(RecordVersion.envelope)).scalar_one()
    assert stored == canonicalize(envelope)


def test_duplicate_push_is_idempotent(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    envelope = make_envelope()
    assert push(client, envelope)[0] == 201
    status, report = push(client, envelope)
    assert status == 200
    assert report["results"][0]["outcome"] == "duplicate"
    assert report["results"][0]["log_index"] == 1
    with state.sessions() as session:
        assert session.execute(select(func.count()).select_from(LogEntry)).scalar_one() == 2


def test_higher_version_supersedes(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    push(client, make_envelope())
    status, _ = push(
        client,
        make_envelope(
            version=2,
            status="suspended",
            status_reason="年度监督审核未按期进行",
            status_effective_date="2026-02-01",
        ),
    )
    assert status == 201
    with state.sessions() as session:
        cert = session.execute(select(Certificate)).scalar_one()
        assert (cert.version, cert.status) == (2, "suspended")


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (2, 1, "older"),
        (1, 1, "other content"),
    ],
)
def test_stale_versions_are_rejected(
    client: FlaskClient, make_envelope: MakeEnvelope, first: int, second: int, message: str
) -> None:
    push(client, make_envelope(version=first))
    status, report = push(client, make_envelope(version=second, scope="家用电器的维修服务"))
    assert status == 422
    assert codes(report) == ["StaleVersion"]
    assert message in report["results"][0]["errors"][0]["message"]


def test_batch_answers_per_item(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    good = make_envelope()
    other = make_envelope(certificate_number="CQC-ASS-2024-000124")
    bad = copy.deepcopy(good)
    bad["record"]["scope"] = "被篡改的范围"
    status, report = push(client, [good, bad, other, good])
    assert status == 200
    assert [r["outcome"] for r in report["results"]] == [
        "accepted",
        "rejected",
        "accepted",
        "duplicate",
    ]
    assert codes(report, 1) == ["BadSignature"]
    assert (report["accepted"], report["rejected"], report["duplicate"]) == (2, 1, 1)


def test_dates_at_the_end_of_the_calendar_are_judged_not_crashed_on(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    """Three years after 9998 is past the calendar: such a record is judged by the rules
    (tests/domain/test_record.py), accepted with its batch, and can be read."""
    far = make_envelope(
        certificate_number="CQC-ASS-9998-000001",
        original_issue_date="9998-01-01",
        issue_date="9998-01-01",
        expiry_date="9999-12-30",
        surveillance={"last_audit_date": "9998-06-01", "next_due_date": "9999-01-01"},
    )
    status, report = push(client, [far, make_envelope()])
    assert status == 200
    assert [r["outcome"] for r in report["results"]] == ["accepted", "accepted"]
    for path in [
        "/api/v1/certificates/CQC-ASS-9998-000001",
        "/api/v1/certificates/CQC-ASS-9998-000001?at=9999-12-30",
        "/c/CQC-ASS-9998-000001",
        "/api/v1/search?q=CQC-ASS-9998",
    ]:
        assert client.get(path).status_code == 200, path


def test_versions_in_one_batch_apply_in_order(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    v1 = make_envelope()
    v2 = make_envelope(version=2, tier="四星级", score={"value": 91, "scale": 100})
    _, report = push(client, [v1, v2])
    assert [r["outcome"] for r in report["results"]] == ["accepted", "accepted"]
    with state.sessions() as session:
        assert session.execute(select(Certificate.tier)).scalar_one() == "四星级"


def test_a_bad_signature_is_reported_before_the_record_rules(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    """The record rules run before the signature check (ingest.py), but an envelope whose
    record breaks them and whose signature does not match is rejected for the signature."""
    tampered = make_envelope()
    tampered["record"]["tier"] = "七星级"  # no such tier: the rules would say InvalidTier
    tampered["record"]["surprise"] = True
    status, report = push(client, [make_envelope(), tampered])
    assert status == 200
    assert [r["outcome"] for r in report["results"]] == ["accepted", "rejected"]
    assert codes(report, 1) == ["BadSignature"]


def test_unknown_issuer_and_key(client: FlaskClient, signer: Signer) -> None:
    stranger = Signer(PrivateKey.from_seed(b"a-key-nobody-registered-00000000"))
    _, report = push(
        client,
        [
            stranger.envelope(record_json(issuer="CNCA-R-1999-999")),
            stranger.envelope(record_json()),
        ],
    )
    assert codes(report, 0) == ["UnknownIssuer"]
    assert codes(report, 1) == ["UnknownKey"]


def test_record_rule_violations_come_back_per_field(client: FlaskClient, signer: Signer) -> None:
    from registry.crypto.envelope import sign_record

    record = record_json(tier="三星级", expiry_date="2020-01-01")
    record["organisation"]["uscc"] = "91330100MA2H3B4C5D"
    # Signed without the client's own checks, as a careless issuing system might.
    envelope = {"record": record, "signature": sign_record(record, signer.key), "qr": "AAAA"}
    _, report = push(client, envelope)
    found = {(e["code"], e["field"]) for e in report["results"][0]["errors"]}
    assert ("InvalidUSCC", "organisation.uscc") in found
    assert ("TierScoreMismatch", "tier") in found
    assert any(code == "DateOrder" for code, _ in found)


def test_scan_token_must_agree_with_the_record(client: FlaskClient, signer: Signer) -> None:
    envelope = signer.envelope(record_json())
    other = signer.envelope(record_json(certificate_number="CQC-ASS-2024-999999"))
    envelope["qr"] = other["qr"]
    _, report = push(client, envelope)
    assert codes(report) == ["ScanTokenMismatch"]
    envelope["qr"] = "NOT A TOKEN"
    _, report = push(client, envelope)
    assert codes(report) == ["BadScanToken"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{", "application/json", 400, "MalformedJSON"),
        (b'{"record": 1, "record": 2}', "application/json", 400, "MalformedJSON"),
        (b"[]", "application/json", 400, "EmptyBatch"),
        (b"42", "application/json", 400, "MalformedEnvelope"),
        (b"{}", "text/plain", 415, "UnsupportedMediaType"),
        (b"", "application/json", 400, "MalformedJSON"),
    ],
)
def test_bad_requests_get_clear_errors(
    client: FlaskClient, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = client.post("/api/v1/records", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_envelope_shape_is_checked(client: FlaskClient, signer: Signer) -> None:
    _, report = push(client, [{"record": {}}, {"record": [], "signature": {}, "qr": ""}])
    assert codes(report, 0) == ["MalformedEnvelope"]
    assert codes(report, 1) == ["MalformedEnvelope"]


def test_batch_size_and_body_size_limits(
    fresh_app_factory: Callable[..., Flask], signer: Signer
) -> None:
    app = fresh_app_factory(max_batch=2, max_body_bytes=4096)
    client = app.test_client()
    response = client.post("/api/v1/records", json=[{}, {}, {}])
    assert (response.status_code, response.get_json()["error"]["code"]) == (413, "BatchTooLarge")
    response = client.post(
        "/api/v1/records", data=b"[" + b" " * 5000 + b"]", content_type="application/json"
    )
    assert (response.status_code, response.get_json()["error"]["code"]) == (413, "PayloadTooLarge")
    app.extensions["registry"].engine.dispose()


def test_a_changed_byte_anywhere_is_rejected(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    """Every one-byte change to the pushed bytes is either not JSON (400) or rejected."""
    original = json.dumps(make_envelope(), ensure_ascii=False).encode()
    variants: list[object] = []
    for position in range(len(original)):
        for replacement in {original[position] ^ 0x01, ord("0")}:
            mutated = original[:position] + bytes([replacement]) + original[position + 1 :]
            if mutated == original:
                continue
            try:
                variants.append(parse_json(mutated))
            except ValueError:
                continue  # the API answers 400 MalformedJSON; covered above
    assert len(variants) > 200
    accepted = 0
    for start in range(0, len(variants), 1000):
        status, report = push(client, variants[start : start + 1000])
        assert status == 200
        accepted += report["accepted"] + report["duplicate"]
    # A change inside JSON whitespace or one that re-encodes the same value is no change.
    with state.sessions() as session:
        assert session.execute(select(func.count()).select_from(RecordVersion)).scalar_one() == 0
    assert accepted == 0


def test_key_rollover(
    client: FlaskClient, make_envelope: MakeEnvelope, signer: Signer, clock: Clock
) -> None:
    new_key = PrivateKey.from_seed(b"issuer-one-second-key-for-tests0")
    statement = signer.rollover(
        ISSUER_ID, new_key.public_key, valid_from=clock.now, issued_at=clock.now
    )
    response = client.post("/api/v1/keys/rollover", json=statement)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kid"] == new_key.public_key.thumbprint
    # The old key no longer signs new records; the new one does.
    clock.advance(seconds=1)
    _, report = push(client, make_envelope())
    assert codes(report) == ["UnknownKey"]
    assert "retired" in report["results"][0]["errors"][0]["message"]
    status, _ = push(client, Signer(new_key).envelope(record_json()))
    assert status == 201


def test_rollover_signed_by_a_stranger_is_refused(
    client: FlaskClient, signer: Signer, clock: Clock
) -> None:
    stranger = Signer(PrivateKey.from_seed(b"a-key-nobody-registered-00000000"))
    statement = stranger.rollover(ISSUER_ID, stranger.key.public_key, valid_from=clock.now)
    response = client.post("/api/v1/keys/rollover", json=statement)
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "UnknownKey")
    forged = signer.rollover(ISSUER_ID, stranger.key.public_key, valid_from=clock.now)
    forged["statement"]["valid_from"] = "2020-01-01T00:00:00Z"
    response = client.post("/api/v1/keys/rollover", json=forged)
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "BadSignature")


def test_key_compromise_rejects_later_pushes_and_flags_earlier_records(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    signer: Signer,
    state: Registry,
    clock: Clock,
) -> None:
    push(client, make_envelope())
    with state.sessions() as session:
        mark_compromised(
            session,
            signer.key.public_key.thumbprint,
            since=clock.now - dt.timedelta(hours=1),
            now=clock.now,
        )
        session.commit()
    _, report = push(client, make_envelope(certificate_number="CQC-ASS-2024-000999"))
    assert codes(report) == ["KeyCompromised"]
    with state.sessions() as session:
        assert session.execute(select(RecordVersion.flagged)).scalar_one() is True
    body = client.get("/api/v1/certificates/CQC-ASS-2024-000123").get_json()
    assert body["flagged"] is True
    assert body["key_compromised"] is True  # received after the compromise time


def test_concurrent_pushes_of_one_certificate_cannot_both_win(
    app: Flask,
    make_envelope: MakeEnvelope,
    state: Registry,
) -> None:
    push(app.test_client(), make_envelope())
    contenders = [make_envelope(version=2, scope=f"售后服务（方案{i}）") for i in range(6)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(contenders))

    def run(envelope: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait()
        _, report = push(client, envelope)
        outcomes.append(report["results"][0]["outcome"])

    threads = [threading.Thread(target=run, args=(e,)) for e in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted"] + ["rejected"] * 5
    with state.sessions() as session:
        assert (
            session.execute(
                select(func.count()).select_from(RecordVersion).where(RecordVersion.version == 2)
            ).scalar_one()
            == 1
        )


def test_log_indices_have_no_gaps_under_concurrent_pushes(
    app: Flask,
    make_envelope: MakeEnvelope,
    state: Registry,
) -> None:
    batches = [
        [make_envelope(certificate_number=f"CQC-ASS-2024-{t:02d}{i:04d}") for i in range(5)]
        for t in range(8)
    ]

    def run(batch: list[dict[str, Any]]) -> None:
        status, report = push(app.test_client(), batch)
        assert status == 200
        assert report["accepted"] == len(batch)

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with state.sessions() as session:
        indices = list(session.execute(select(LogEntry.idx).order_by(LogEntry.idx)).scalars())
    assert indices == list(range(1 + 8 * 5))


def test_a_push_committed_stays_acknowledged_when_the_checkpoint_after_it_fails(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    state: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: signing the checkpoint runs after the push's commit; its failure must not
    turn an accepted push into a 5xx (the client would think nothing was stored)."""
    from sqlalchemy.exc import OperationalError

    from registry.services import transparency

    def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO checkpoint", {}, Exception("disk I/O error"))

    monkeypatch.setattr(transparency, "fresh_checkpoint", broken)
    status, report = push(client, make_envelope())
    assert status == 201
    assert report["accepted"] == 1
    with state.sessions() as session:
        assert session.execute(select(func.count()).select_from(RecordVersion)).scalar_one() == 1
