"""The scan page, label reports and the issuers' reports API, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import gc
import io
import re
import time
from collections.abc import Callable
from typing import Any

import cairosvg
import cbor2
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.app import Registry
from registry.client import Signer
from registry.crypto.encoding import b32_decode, b32_encode
from registry.crypto.keys import PrivateKey
from registry.crypto.scantoken import ScanClaims, ScanToken, build_sign1, sign_token
from registry.services import scan
from registry.services.issuers import mark_compromised, register_issuer, rollover
from registry.services.labels import qr_matrix
from registry.store.scans import LabelReport, ScanCount
from registry.web import scan as wscan
from registry.web.scan import IMAGE_ANSWER_TTL, signed_message
from tests.conftest import ISSUER_ID, Clock, record_json

MakeEnvelope = Callable[..., dict[str, Any]]
NUMBER = "CQC-ASS-2024-000123"
PUBLIC = "https://registry.example.cn"


def push(client: FlaskClient, *envelopes: dict[str, Any]) -> None:
    response = client.post("/api/v1/records", json=list(envelopes))
    report = response.get_json()
    assert report["rejected"] == 0, report


def claims_of(envelope: dict[str, Any]) -> ScanClaims:
    return ScanToken.from_text(envelope["qr"]).claims


def token_with(key: PrivateKey, claims: ScanClaims, **changes: Any) -> str:
    return sign_token(dataclasses.replace(claims, **changes), key).to_text()


def page(client: FlaskClient, token: str, lang: str = "zh") -> tuple[int, str]:
    response = client.get(f"/v/{token}?lang={lang}")
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def envelope(client: FlaskClient, make_envelope: MakeEnvelope) -> dict[str, Any]:
    """Version 1 of the test certificate, pushed."""
    pushed = make_envelope()
    push(client, pushed)
    return pushed


@pytest.fixture
def counting(state: Registry, app: Flask) -> None:
    """Write scan counts on every scan (the default batches them for seconds)."""
    app.extensions["scan"].counter.interval = 0


# --- verdicts ------------------------------------------------------------------------------


def test_genuine_label_shows_the_certificate(client: FlaskClient, envelope: dict[str, Any]) -> None:
    status, html = page(client, envelope["qr"])
    assert status == 200
    assert "真实标签 · 证书有效" in html
    assert "scan-verdict--genuine" in html
    for fact in (
        "杭州海川电器有限公司",
        "家用电器的销售及售后服务",
        "五星级",
        "测试认证中心",
        NUMBER,
    ):
        assert fact in html
    status, html = page(client, envelope["qr"], lang="en")
    assert "Genuine label · certificate valid" in html
    assert "Test Certification Centre" in html


def test_lowercase_token_is_the_same_label(client: FlaskClient, envelope: dict[str, Any]) -> None:
    assert page(client, envelope["qr"].lower())[0] == 200


@pytest.mark.parametrize(
    ("status", "headline"),
    [("suspended", "证书暂停"), ("withdrawn", "证书撤销"), ("cancelled", "证书注销")],
)
def test_genuine_label_of_a_certificate_no_longer_valid(
    client: FlaskClient,
    envelope: dict[str, Any],
    make_envelope: MakeEnvelope,
    status: str,
    headline: str,
) -> None:
    push(
        client,
        make_envelope(
            version=2,
            status=status,
            status_reason="年度监督审核不合格",
            status_effective_date="2026-02-20",
        ),
    )
    code, html = page(client, envelope["qr"])
    assert code == 200
    assert f"真实标签 · {headline}" in html
    assert "原因：年度监督审核不合格" in html
    assert "2026-02-20" in html
    assert "scan-verdict--not-valid" in html


def test_genuine_label_of_an_expired_certificate(
    client: FlaskClient, envelope: dict[str, Any], clock: Clock
) -> None:
    clock.now = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    code, html = page(client, envelope["qr"], lang="en")
    assert code == 200
    assert "Genuine label · certificate expired" in html
    assert "expired on 2027-02-28" in html


@pytest.mark.parametrize(
    ("changes", "differences"),
    [
        ({"expiry_date": "2027-01-31"}, ["有效期至：标签为 2027-02-28，登记为 2027-01-31"]),
        (
            {"tier": "四星级", "score": {"value": 92, "scale": 100}},
            ["等级：标签为 五星级，登记为 四星级"],
        ),
    ],
)
def test_label_that_no_longer_matches_the_record(
    client: FlaskClient,
    envelope: dict[str, Any],
    make_envelope: MakeEnvelope,
    changes: dict[str, Any],
    differences: list[str],
) -> None:
    push(client, make_envelope(version=2, **changes))
    code, html = page(client, envelope["qr"])
    assert code == 409
    assert "标签与登记信息不符" in html
    for difference in differences:
        assert difference in html


def test_label_for_a_record_never_pushed_is_a_mismatch(
    client: FlaskClient, envelope: dict[str, Any], issuer_key: PrivateKey
) -> None:
    forged = token_with(issuer_key, claims_of(envelope), record_hash=b"\x01" * 8)
    code, html = page(client, forged)
    assert code == 409
    assert "标签对应的证书版本不在本站记录中" in html


def test_a_scan_page_leaves_no_reference_cycles(
    client: FlaskClient, envelope: dict[str, Any], issuer_key: PrivateKey
) -> None:
    """A page whose render makes a reference cycle (a macro defined in the page does) leaves
    its whole context, the verdict and the record included, to the garbage collector: on the
    scan page that was most of the collector's work under load."""
    forged = token_with(issuer_key, claims_of(envelope), record_hash=b"\x01" * 8, tier="X")
    client.get(f"/v/{envelope['qr']}")  # compiles the template outside the count
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for path in (f"/v/{envelope['qr']}", f"/v/{forged}", "/v/NOTATOKEN"):
            client.get(path)
        gc.collect()
        left = {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not left & {"Context", "Macro", "ScanResult", "Record"}


def test_old_label_of_an_earlier_version_still_matches(
    client: FlaskClient, envelope: dict[str, Any], make_envelope: MakeEnvelope
) -> None:
    # A new version with the same tier and expiry (e.g. a new address) keeps old labels good.
    push(client, make_envelope(version=2, scope="家用电器的销售及售后服务"))
    assert page(client, envelope["qr"])[0] == 200


def test_only_the_current_versions_own_token_skips_the_signature_check(
    client: FlaskClient,
    envelope: dict[str, Any],
    make_envelope: MakeEnvelope,
    issuer_key: PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ingest verified the token pushed with a record; the very same bytes, scanned while that
    record is current, are not verified again. Any other token is."""
    second = make_envelope(version=2, scope="家用电器的销售及售后服务")
    push(client, second)
    checked: list[str] = []
    verify = ScanToken.verify

    def counting(token: ScanToken, key: Any) -> ScanClaims:
        checked.append(token.to_text())
        return verify(token, key)

    monkeypatch.setattr(ScanToken, "verify", counting)
    assert page(client, second["qr"])[0] == 200
    assert page(client, second["qr"].lower())[0] == 200  # the same bytes, read from lowercase
    assert checked == []
    assert page(client, envelope["qr"])[0] == 200  # version 1's label: verified
    claims = claims_of(second)
    same_claims = token_with(issuer_key, claims, issued_at=claims.issued_at + 1)
    assert page(client, same_claims)[0] == 200  # another token for the record: verified
    assert checked == [envelope["qr"], same_claims]
    tampered = second["qr"][:-3] + ("A" if second["qr"][-3] != "A" else "B") + second["qr"][-2:]
    assert page(client, tampered)[0] in (400, 422)


def test_signature_by_an_unknown_key_is_counterfeit(
    client: FlaskClient, envelope: dict[str, Any]
) -> None:
    stranger = PrivateKey.from_seed(b"not-a-registered-key-0000000000!")
    code, html = page(client, token_with(stranger, claims_of(envelope)))
    assert code == 422
    assert "假冒标签" in html
    assert "scan-verdict--counterfeit" in html
    assert "标签声称" in html  # the unverified claims, marked as such


def test_bad_signature_under_the_issuers_kid_is_counterfeit(
    client: FlaskClient, envelope: dict[str, Any], issuer_key: PrivateKey
) -> None:
    stranger = PrivateKey.from_seed(b"not-a-registered-key-0000000000!")
    claims = claims_of(envelope)
    forged = build_sign1(
        {1: -8},
        {4: issuer_key.public_key.short_kid},
        cbor2.dumps(claims.to_cbor_map(), canonical=True),
        stranger.sign,
    )
    code, html = page(client, b32_encode(forged))
    assert code == 422
    assert "假冒标签" in html


def test_key_of_another_issuer_is_counterfeit(
    client: FlaskClient, envelope: dict[str, Any], state: Registry, clock: Clock
) -> None:
    other = PrivateKey.from_seed(b"second-issuer-key-00000000000000")
    with state.sessions() as session:
        register_issuer(
            session, "CNCA-R-2003-002", "另一认证机构", None, other.public_key, clock.now
        )
        session.commit()
    assert page(client, token_with(other, claims_of(envelope)))[0] == 422


def test_not_in_registry(client: FlaskClient, signer: Signer) -> None:
    unpushed = signer.envelope(record_json(certificate_number="CQC-ASS-2024-999999"))
    code, html = page(client, str(unpushed["qr"]), lang="en")
    assert code == 404
    assert "Certificate not in the registry" in html
    assert "CQC-ASS-2024-999999" in html


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("A", id="one-char"),
        pytest.param("AAAAAAA", id="impossible-length"),
        pytest.param("AAAA1111", id="not-base32"),
        pytest.param("MFRGG", id="not-cbor-sign1"),
        pytest.param(b32_encode(cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""]))), id="tag-17"),
        pytest.param(b32_encode(cbor2.dumps([b"\xa1\x01\x27", {}, b"", b""])), id="untagged"),
        pytest.param(b32_encode(b"\xd2\x84"), id="truncated-array"),
        pytest.param("A" * 5000, id="huge"),
    ],
)
def test_malformed_token_is_a_400_counterfeit_page(
    client: FlaskClient, signer: Signer, token: str
) -> None:
    code, html = page(client, token)
    assert code == 400
    assert "假冒标签" in html
    assert "scan-verdict--malformed" in html
    assert 'name="token"' not in html  # nothing to report to


def test_truncated_real_token_is_malformed(client: FlaskClient, envelope: dict[str, Any]) -> None:
    data = b32_decode(envelope["qr"])
    for cut in (1, 10, 64, len(data) - 1):
        assert page(client, b32_encode(data[:cut]))[0] == 400


def test_tampering_with_any_byte_never_passes_and_never_fails(
    client: FlaskClient, envelope: dict[str, Any]
) -> None:
    data = b32_decode(envelope["qr"])
    statuses: set[int] = set()
    for position in range(len(data)):
        flip = 0x01 if position % 2 else 0x80  # low and high bits, across every byte
        tampered = bytearray(data)
        tampered[position] ^= flip
        code, html = page(client, b32_encode(bytes(tampered)))
        statuses.add(code)
        assert code in (400, 422), (position, flip, code)
        assert "真实标签" not in html
    assert statuses == {400, 422}  # both kinds happen: the test reaches the signature check


# --- key validity over time ----------------------------------------------------------------


def test_retired_key_still_vouches_for_labels_signed_before_the_rollover(
    client: FlaskClient,
    envelope: dict[str, Any],
    state: Registry,
    clock: Clock,
    signer: Signer,
    issuer_key: PrivateKey,
) -> None:
    new_key = PrivateKey.from_seed(b"issuer-one-seed-for-tests-000002")
    when = clock.now
    with state.sessions() as session:
        rollover(session, **signer.rollover(ISSUER_ID, new_key.public_key, when, when), now=when)
        session.commit()
    clock.advance(minutes=1)  # past the key cache's lifetime
    claims = claims_of(envelope)
    assert page(client, envelope["qr"])[0] == 200  # iat 2026-01-01, long before the rollover
    after = token_with(issuer_key, claims, issued_at=int(when.timestamp()) + 1)
    code, html = page(client, after)
    assert code == 422
    assert "已失效" in html


def test_compromised_key(
    client: FlaskClient,
    envelope: dict[str, Any],
    state: Registry,
    clock: Clock,
    issuer_key: PrivateKey,
) -> None:
    since = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    with state.sessions() as session:
        mark_compromised(session, issuer_key.public_key.thumbprint, since, clock.now)
        session.commit()
    code, html = page(client, envelope["qr"])  # signed 2026-01-01, before the compromise
    assert code == 200
    assert "后来被报告自 2026-02-01 08:00 北京时间 起泄露" in html
    forged = token_with(issuer_key, claims_of(envelope), issued_at=int(since.timestamp()))
    code, html = page(client, forged)
    assert code == 422
    assert "真实标签" not in html


def test_key_cache_expires(
    client: FlaskClient,
    envelope: dict[str, Any],
    state: Registry,
    clock: Clock,
    issuer_key: PrivateKey,
) -> None:
    assert page(client, envelope["qr"])[0] == 200  # caches the key
    with state.sessions() as session:
        mark_compromised(session, issuer_key.public_key.thumbprint, clock.now, clock.now)
        session.commit()
    late = token_with(issuer_key, claims_of(envelope), issued_at=int(clock.now.timestamp()) + 5)
    assert page(client, late)[0] == 200  # within the cache's 10 s: the old answer
    clock.advance(seconds=11)
    assert page(client, late)[0] == 422


# --- scan counts ---------------------------------------------------------------------------


def counts(state: Registry) -> dict[tuple[str, str, dt.date], int]:
    with state.sessions() as session:
        rows = session.execute(select(ScanCount)).scalars()
        return {(r.issuer_id, r.certificate_number, r.day): r.count for r in rows}


def test_the_count_writer_writes_a_due_batch_without_another_scan(
    client: FlaskClient,
    app: Flask,
    envelope: dict[str, Any],
    state: Registry,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(wscan, "COUNT_WRITER_PERIOD", 0.05)
    app.extensions["scan"].counter.interval = 0.05
    failures = iter([RuntimeError("database away")] * 3)
    add = scan.add_scan_counts

    def failing_once(session: Session, counts: Any) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        add(session, counts)

    monkeypatch.setattr(scan, "add_scan_counts", failing_once)
    stop = wscan.start_count_writer(app)
    try:
        page(client, envelope["qr"])
        clock.advance(seconds=1)
        page(client, envelope["qr"])  # the batch is due, but the scan leaves it to the writer
        assert app.extensions["scan"].counter.due(clock.now)
        deadline = time.monotonic() + 10
        while "written again" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert counts(state) == {(ISSUER_ID, NUMBER, dt.date(2026, 3, 1)): 2}
    # Three failures in a row: logged once (then at most once a minute), and the recovery.
    logged = [
        (r.levelname, r.getMessage()) for r in caplog.records if "scan counts" in r.getMessage()
    ]
    assert [level for level, _ in logged] == ["ERROR", "WARNING"], logged
    page(client, envelope["qr"])
    clock.advance(seconds=1)
    page(client, envelope["qr"])  # the writer stopped: scans write their batches again
    assert counts(state) == {(ISSUER_ID, NUMBER, dt.date(2026, 3, 1)): 4}


def test_scans_are_counted_per_certificate_and_day(
    client: FlaskClient,
    envelope: dict[str, Any],
    state: Registry,
    clock: Clock,
    counting: None,
    issuer_key: PrivateKey,
) -> None:
    for _ in range(3):
        page(client, envelope["qr"])
    page(client, token_with(PrivateKey.from_seed(b"x" * 32), claims_of(envelope)))  # not counted
    page(client, "GARBAGE")  # not counted
    clock.advance(days=1)
    page(client, envelope["qr"])
    assert counts(state) == {
        (ISSUER_ID, NUMBER, dt.date(2026, 3, 1)): 3,
        (ISSUER_ID, NUMBER, dt.date(2026, 3, 2)): 1,
    }


def test_scan_counts_are_batched(
    client: FlaskClient, envelope: dict[str, Any], state: Registry, clock: Clock
) -> None:
    page(client, envelope["qr"])
    page(client, envelope["qr"])
    assert counts(state) == {}
    clock.advance(seconds=6)
    page(client, envelope["qr"])
    assert counts(state) == {(ISSUER_ID, NUMBER, dt.date(2026, 3, 1)): 3}


# --- reports -------------------------------------------------------------------------------


def report(client: FlaskClient, token: str, **fields: str) -> Any:
    return client.post("/label-reports", data={"token": token, "reason": "looks-fake", **fields})


def test_report_is_stored_for_the_issuer(
    client: FlaskClient, envelope: dict[str, Any], state: Registry
) -> None:
    response = report(client, envelope["qr"], details="包装很粗糙", place="某电商平台")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/v/{envelope['qr']}?reported=1"
    followed = client.get(response.headers["Location"])
    assert "谢谢，举报已转给认证机构。" in followed.get_data(as_text=True)
    with state.sessions() as session:
        stored = session.execute(select(LabelReport)).scalar_one()
    assert (stored.issuer_id, stored.certificate_number) == (ISSUER_ID, NUMBER)
    assert (stored.reason, stored.details, stored.place) == (
        "looks-fake",
        "包装很粗糙",
        "某电商平台",
    )
    assert stored.verdict == "genuine"
    assert stored.token == envelope["qr"]
    columns = set(LabelReport.__table__.columns.keys())
    assert not {"ip", "address", "remote_addr", "user_agent"} & columns


def test_report_of_a_counterfeit_names_the_claimed_issuer(
    client: FlaskClient, envelope: dict[str, Any], state: Registry
) -> None:
    fake = token_with(PrivateKey.from_seed(b"y" * 32), claims_of(envelope))
    assert report(client, fake).status_code == 303
    with state.sessions() as session:
        stored = session.execute(select(LabelReport)).scalar_one()
    assert (stored.issuer_id, stored.verdict) == (ISSUER_ID, "counterfeit")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "because"}, "请检查：原因"),
        ({"details": "字" * 501}, "请检查：补充说明"),
        ({"place": "店" * 201}, "请检查：购买地点"),
    ],
)
def test_bad_report_is_refused(
    client: FlaskClient,
    envelope: dict[str, Any],
    state: Registry,
    fields: dict[str, str],
    message: str,
) -> None:
    response = report(client, envelope["qr"], **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with state.sessions() as session:
        assert session.execute(select(func.count()).select_from(LabelReport)).scalar_one() == 0


def test_a_refused_report_keeps_what_was_typed(
    client: FlaskClient, envelope: dict[str, Any]
) -> None:
    response = client.post(
        "/label-reports",
        data={
            "token": envelope["qr"],
            "reason": "seller-claims",
            "details": "卖家说<是>正品",
            "place": "店" * 201,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<option value="seller-claims" selected>' in html
    assert html.count(" selected>") == 1
    assert ">卖家说&lt;是&gt;正品</textarea>" in html
    assert f'value="{"店" * 201}"' in html


def test_an_empty_report_form_selects_nothing(
    client: FlaskClient, envelope: dict[str, Any]
) -> None:
    html = client.get(f"/v/{envelope['qr']}").get_data(as_text=True)
    assert " selected>" not in html
    assert "></textarea>" in html
    assert 'name="place" type="text" maxlength="200" value=""' in html


def test_the_report_form_offers_every_reason_in_order(
    client: FlaskClient, envelope: dict[str, Any]
) -> None:
    for lang in ("zh", "en"):
        html = client.get(f"/v/{envelope['qr']}?lang={lang}").get_data(as_text=True)
        offered = re.findall(r'<option value="([^"]*)"( selected)?>([^<]+)</option>', html)
        assert [value for value, _, _ in offered] == list(scan.REPORT_REASONS)
        assert all(text.strip() and not selected for _, selected, text in offered)


def test_report_about_a_malformed_token_is_refused(client: FlaskClient, signer: Signer) -> None:
    assert report(client, "NOTATOKEN").status_code == 400


def test_reports_are_rate_limited(
    fresh_app_factory: Callable[..., Flask], make_envelope: MakeEnvelope
) -> None:
    app = fresh_app_factory(report_rate_limit="2/hour")
    client = app.test_client()
    envelope = make_envelope()
    push(client, envelope)
    assert [report(client, envelope["qr"]).status_code for _ in range(3)] == [303, 303, 429]
    assert client.get(f"/v/{envelope['qr']}").status_code == 200  # the page itself is not limited
    app.extensions["registry"].engine.dispose()


# --- the issuers' API ----------------------------------------------------------------------


def signed_get(
    client: FlaskClient,
    path: str,
    key: PrivateKey,
    created: int,
    *,
    signed_path: str | None = None,
) -> Any:
    signature = key.sign(signed_message("GET", signed_path or path, created))
    value = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    header = (
        f'Registry-Signature kid="{key.public_key.thumbprint}", created="{created}", '
        f'signature="{value}"'
    )
    return client.get(path, headers={"Authorization": header})


def test_issuer_fetches_its_reports(
    client: FlaskClient,
    envelope: dict[str, Any],
    issuer_key: PrivateKey,
    clock: Clock,
) -> None:
    report(client, envelope["qr"], details="第一份")
    clock.advance(hours=1)
    report(client, envelope["qr"], details="第二份")
    now = int(clock.now.timestamp())
    path = f"/api/v1/issuers/{ISSUER_ID}/reports"
    body = signed_get(client, path, issuer_key, now).get_json()
    assert [r["details"] for r in body["reports"]] == ["第一份", "第二份"]
    assert body["reports"][0]["created_at"] == "2026-03-01T08:00:00Z"
    assert body["reports"][0]["verdict"] == "genuine"
    assert body["reports"][0]["token"] == envelope["qr"]
    since = f"{path}?since=2026-03-01T08:30:00Z"
    assert [
        r["details"] for r in signed_get(client, since, issuer_key, now).get_json()["reports"]
    ] == ["第二份"]
    after = f"{path}?after={body['reports'][0]['id']}"
    assert [
        r["details"] for r in signed_get(client, after, issuer_key, now).get_json()["reports"]
    ] == ["第二份"]
    # Report ids count every issuer's reports: paging must go on past a million.
    beyond = signed_get(client, f"{path}?after=1000000", issuer_key, now)
    assert beyond.status_code == 200
    assert beyond.get_json()["reports"] == []
    too_big = signed_get(client, f"{path}?after=1{'0' * 18}", issuer_key, now)
    assert too_big.status_code == 400
    assert too_big.get_json()["error"]["code"] == "InvalidParameter"


def test_a_head_request_is_not_a_scan(
    client: FlaskClient, envelope: dict[str, Any], issuer_key: PrivateKey, clock: Clock
) -> None:
    """Link checkers and previews send HEAD; only a page someone sees counts."""
    assert client.head(f"/v/{envelope['qr']}").status_code == 200
    path = f"/api/v1/issuers/{ISSUER_ID}/scans?since=2026-03-01"
    body = signed_get(client, path, issuer_key, int(clock.now.timestamp())).get_json()
    assert body["scans"] == []


def test_issuer_fetches_scan_counts(
    client: FlaskClient, envelope: dict[str, Any], issuer_key: PrivateKey, clock: Clock
) -> None:
    page(client, envelope["qr"])  # batched in memory: the API writes it first
    path = f"/api/v1/issuers/{ISSUER_ID}/scans?since=2026-03-01"
    body = signed_get(client, path, issuer_key, int(clock.now.timestamp())).get_json()
    assert body["scans"] == [{"certificate_number": NUMBER, "day": "2026-03-01", "count": 1}]


@pytest.mark.parametrize(
    ("created", "kid", "code"),
    [
        ("²", None, "MalformedSignature"),  # a digit to str.isdigit, refused by int
        ("9" * 400, None, "MalformedSignature"),  # too large for a float
        ("9" * 5000, None, "MalformedSignature"),  # past int()'s digit limit
        (None, "a\x00b", "UnknownKey"),  # PostgreSQL text cannot hold NUL
    ],
)
def test_a_malformed_signature_header_is_401_not_500(
    client: FlaskClient,
    signer: Signer,
    clock: Clock,
    created: str | None,
    kid: str | None,
    code: str,
) -> None:
    created = created or str(int(clock.now.timestamp()))
    header = f'Registry-Signature kid="{kid or "abc"}", created="{created}", signature="AA"'
    response = client.get(
        f"/api/v1/issuers/{ISSUER_ID}/reports",
        headers=[("Authorization", header.encode("utf-8").decode("latin-1"))],
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("no-header", "MissingSignature"),
        ("other-scheme", "MissingSignature"),
        ("no-created", "MalformedSignature"),
        ("stale", "StaleSignature"),
        ("future", "StaleSignature"),
        ("unknown-key", "UnknownKey"),
        ("other-issuers-key", "UnknownKey"),
        ("other-path-signed", "BadSignature"),
        ("garbage-signature", "BadSignature"),
        ("not-base64url-signature", "MalformedSignature"),
        ("kid-twice", "MalformedSignature"),
    ],
)
def test_reports_api_refuses_unsigned_and_badly_signed_requests(
    client: FlaskClient,
    signer: Signer,
    issuer_key: PrivateKey,
    state: Registry,
    clock: Clock,
    how: str,
    code: str,
) -> None:
    path = f"/api/v1/issuers/{ISSUER_ID}/reports"
    now = int(clock.now.timestamp())
    kid = issuer_key.public_key.thumbprint
    if how == "no-header":
        response = client.get(path)
    elif how == "other-scheme":
        response = client.get(path, headers={"Authorization": "Bearer abc"})
    elif how == "no-created":
        response = client.get(
            path, headers={"Authorization": f'Registry-Signature kid="{kid}", signature="AA"'}
        )
    elif how == "stale":
        response = signed_get(client, path, issuer_key, now - 301)
    elif how == "future":
        response = signed_get(client, path, issuer_key, now + 301)
    elif how == "unknown-key":
        response = signed_get(client, path, PrivateKey.from_seed(b"z" * 32), now)
    elif how == "other-issuers-key":
        other = PrivateKey.from_seed(b"second-issuer-key-00000000000000")
        with state.sessions() as session:
            register_issuer(
                session, "CNCA-R-2003-002", "另一认证机构", None, other.public_key, clock.now
            )
            session.commit()
        response = signed_get(client, path, other, now)
    elif how == "other-path-signed":
        response = signed_get(
            client, path, issuer_key, now, signed_path="/api/v1/issuers/CNCA-R-2003-002/reports"
        )
    elif how == "not-base64url-signature":
        response = client.get(
            path,
            headers={
                "Authorization": f'Registry-Signature kid="{kid}", created="{now}", signature="!!"'
            },
        )
    elif how == "kid-twice":
        header = signed_get(client, path, issuer_key, now).request.headers["Authorization"]
        response = client.get(path, headers={"Authorization": f'{header}, kid="other"'})
    else:
        response = client.get(
            path,
            headers={
                "Authorization": f'Registry-Signature kid="{kid}", created="{now}", '
                f'signature="{"A" * 86}"'
            },
        )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"] == "Registry-Signature"


def test_reports_api_within_the_skew_is_accepted(
    client: FlaskClient, signer: Signer, issuer_key: PrivateKey, clock: Clock
) -> None:
    path = f"/api/v1/issuers/{ISSUER_ID}/reports"
    for offset in (-300, 300):
        response = signed_get(client, path, issuer_key, int(clock.now.timestamp()) + offset)
        assert response.status_code == 200
        assert response.get_json()["reports"] == []


# --- QR images -----------------------------------------------------------------------------


def decode(kind: str, data: bytes) -> list[str]:
    """Decode an image with a real QR decoder; SVG is rasterised from the file itself."""
    if kind.endswith("svg"):
        data = cairosvg.svg2png(bytestring=data, output_width=800)
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


@pytest.mark.parametrize("name", ["qr.svg", "qr.png", "label.svg", "label.png"])
def test_every_image_decodes_to_the_scan_url(
    client: FlaskClient, envelope: dict[str, Any], name: str
) -> None:
    response = client.get(f"/c/{NUMBER}/{name}")
    assert response.status_code == 200
    assert response.mimetype == ("image/svg+xml" if name.endswith("svg") else "image/png")
    assert decode(name, response.data) == [f"{PUBLIC}/v/{envelope['qr']}"]


@pytest.mark.parametrize(("size", "margin"), [(3, 4), (8, 1), (20, 10)])
def test_size_and_margin(
    client: FlaskClient, envelope: dict[str, Any], size: int, margin: int
) -> None:
    response = client.get(f"/c/{NUMBER}/qr.png?size={size}&margin={margin}")
    image = Image.open(io.BytesIO(response.data))
    modules = qr_matrix(f"{PUBLIC}/v/{envelope['qr']}").width
    assert image.size == ((modules + 2 * margin) * size,) * 2
    assert tuple(round(d) for d in image.info["dpi"]) == (300, 300)
    padded = Image.new("L", (image.width + 80, image.height + 80), 255)
    padded.paste(image.convert("L"), (40, 40))  # margin 1 is below what decoders want
    assert [r.text for r in zxingcpp.read_barcodes(padded)] == [f"{PUBLIC}/v/{envelope['qr']}"]


@pytest.mark.parametrize(
    "query",
    # "²" and "٣" are digits to str.isdigit, and int() refuses the first.
    ["size=2", "size=41", "margin=17", "size=abc", "margin=-1", "v=x", "size=²", "v=٣"],
)
def test_bad_image_parameters(client: FlaskClient, envelope: dict[str, Any], query: str) -> None:
    response = client.get(f"/c/{NUMBER}/qr.png?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 400


def test_image_of_an_unknown_certificate(client: FlaskClient, signer: Signer) -> None:
    assert client.get("/c/NOPE-1/qr.svg").status_code == 404


def test_image_caching(
    client: FlaskClient, envelope: dict[str, Any], make_envelope: MakeEnvelope, clock: Clock
) -> None:
    current = client.get(f"/c/{NUMBER}/qr.svg")
    assert current.headers["Cache-Control"] == "public, max-age=300"
    etag = current.headers["ETag"]
    again = client.get(f"/c/{NUMBER}/qr.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304
    # If-None-Match compares weakly (RFC 9110, 13.1.2): a cache may send the tag as W/"…".
    weak = client.get(f"/c/{NUMBER}/qr.svg", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    assert again.data == b""
    pinned = client.get(f"/c/{NUMBER}/qr.svg?v=1")
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(f"/c/{NUMBER}/qr.svg?size=13").headers["ETag"] != etag

    second = make_envelope(version=2, expiry_date="2027-01-31")
    push(client, second)
    # For IMAGE_ANSWER_TTL seconds a process answers from memory, without asking the database
    # which version is current (clients were told they may keep it for five minutes anyway).
    assert client.get(f"/c/{NUMBER}/qr.svg").headers["ETag"] == etag
    clock.advance(seconds=IMAGE_ANSWER_TTL + 0.1)
    changed = client.get(f"/c/{NUMBER}/qr.svg", headers={"If-None-Match": etag})
    assert changed.status_code == 200  # a new version: a new token, a new ETag
    assert decode("svg", changed.data) == [f"{PUBLIC}/v/{second['qr']}"]
    old = client.get(f"/c/{NUMBER}/qr.svg?v=1")
    assert decode("svg", old.data) == [f"{PUBLIC}/v/{envelope['qr']}"]
    assert client.get(f"/c/{NUMBER}/qr.svg?v=3").status_code == 404


def test_svg_is_a_plain_drawing(client: FlaskClient, envelope: dict[str, Any]) -> None:
    response = client.get(f"/c/{NUMBER}/label.svg")
    text = response.get_data(as_text=True)
    assert "<script" not in text
    assert "style=" not in text
    assert "五星级" in text
    assert NUMBER in text
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"


def test_ambiguous_number_asks_for_the_issuer(
    client: FlaskClient, envelope: dict[str, Any], state: Registry, clock: Clock
) -> None:
    other = PrivateKey.from_seed(b"second-issuer-key-00000000000000")
    with state.sessions() as session:
        register_issuer(
            session,
            "CNCA-R-2003-002",
            "另一认证机构",
            None,
            other.public_key,
            clock.now - dt.timedelta(days=1),
        )
        session.commit()
    push(
        client,
        Signer(other).envelope(record_json(issuer="CNCA-R-2003-002"), issued_at=1_767_225_600),
    )
    response = client.get(f"/c/{NUMBER}/qr.png", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["issuers"] == [ISSUER_ID, "CNCA-R-2003-002"]
    chosen = client.get(f"/c/{NUMBER}/qr.png?issuer={ISSUER_ID}")
    assert decode("png", chosen.data) == [f"{PUBLIC}/v/{envelope['qr']}"]
