"""The public read API: certificates now and on a date, history, organisations, issuers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.app import Registry
from registry.client import Signer
from registry.crypto.keys import PrivateKey
from registry.services import lookup
from registry.services.issuers import register_issuer
from tests.conftest import Clock, record_json

MakeEnvelope = Callable[..., dict[str, Any]]
NUMBER = "CQC-ASS-2024-000123"


def push(client: FlaskClient, *envelopes: dict[str, Any]) -> None:
    response = client.post("/api/v1/records", json=list(envelopes))
    assert response.status_code == 200
    assert response.get_json()["rejected"] == 0, response.get_json()


def test_lookup_by_number(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    envelope = make_envelope()
    push(client, envelope)
    response = client.get(f"/api/v1/certificates/{NUMBER}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["certificate_number"] == NUMBER
    assert body["status"] == {"code": "valid", "zh": "有效", "en": "Valid"}
    assert body["tier"]["name"] == "五星级"
    assert body["tier"]["meaning_zh"]
    assert body["scheme"]["standard"] == "GB/T 27922-2011"
    assert body["score"] == {"value": 96, "scale": 100}
    assert body["issuer"]["id"] == "CNCA-R-2002-001"
    assert body["version"] == 1
    assert body["log_index"] == 1
    assert body["received_at"] == "2026-03-01T08:00:00Z"
    assert body["envelope"] == envelope  # the client can check the signature itself
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=60" in response.headers["Cache-Control"]


def test_expired_is_derived_from_dates(
    client: FlaskClient, make_envelope: MakeEnvelope, clock: Clock
) -> None:
    push(client, make_envelope())
    clock.now = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    body = client.get(f"/api/v1/certificates/{NUMBER}").get_json()
    assert body["status"]["code"] == "expired"
    assert body["signed_status"] == "valid"


def test_status_on_a_past_date_and_what_was_known_then(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
) -> None:
    push(client, make_envelope())  # received 2026-03-01
    clock.now = dt.datetime(2026, 5, 10, 2, 0, tzinfo=dt.UTC)
    # A suspension effective 1 May, pushed late on 10 May.
    push(
        client,
        make_envelope(
            version=2,
            status="suspended",
            status_reason="监督审核不合格",
            status_effective_date="2026-05-01",
        ),
    )
    tender = client.get(f"/api/v1/certificates/{NUMBER}?at=2026-05-05").get_json()["at"]
    assert tender["status"]["code"] == "suspended"
    assert tender["status_as_known_then"]["code"] == "valid"
    assert tender["known_since"] == "2026-05-10T02:00:00Z"
    assert tender["version"] == 2
    before = client.get(f"/api/v1/certificates/{NUMBER}?at=2026-04-01").get_json()["at"]
    assert before["status"]["code"] == "valid"
    assert before["status_as_known_then"]["code"] == "valid"
    never = client.get(f"/api/v1/certificates/{NUMBER}?at=2020-01-01").get_json()["at"]
    assert never["status"] is None


@pytest.mark.parametrize(
    "value",
    # The last day of the calendar has no end of day; 20260505 and week dates are ISO 8601
    # but not the one form the API promises.
    ["2026-13-01", "yesterday", "2026-5-1x", "9999-12-31", "20260505", "2026-W19-2"],
)
def test_bad_dates_are_400(client: FlaskClient, make_envelope: MakeEnvelope, value: str) -> None:
    push(client, make_envelope())
    response = client.get(f"/api/v1/certificates/{NUMBER}?at={value}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "InvalidDate"


def test_history_lists_every_version_with_reasons(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(
        client,
        make_envelope(),
        make_envelope(
            version=2,
            status="suspended",
            status_reason="监督审核不合格",
            status_effective_date="2026-02-01",
        ),
        make_envelope(
            version=3,
            status="valid",
            status_reason="整改完成，恢复证书",
            status_effective_date="2026-02-20",
        ),
    )
    body = client.get(f"/api/v1/certificates/{NUMBER}/history").get_json()
    assert [v["version"] for v in body["versions"]] == [1, 2, 3]
    assert [v["status"] for v in body["versions"]] == ["valid", "suspended", "valid"]
    assert body["versions"][1]["status_reason"] == "监督审核不合格"
    assert body["versions"][2]["effective_from"] == "2026-02-20"


def test_not_found_is_honest_about_publishers(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    response = client.get("/api/v1/certificates/CQC-ASS-2024-404404")
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "CertificateNotFound"
    (publisher,) = error["details"]["publishers"]
    assert publisher["id"] == "CNCA-R-2002-001"
    assert publisher["last_push_at"] == "2026-03-01T08:00:00Z"
    assert publisher["certificates"] == 1


def test_same_number_from_two_issuers_needs_issuer(
    client: FlaskClient, make_envelope: MakeEnvelope, second_signer: Signer
) -> None:
    push(client, make_envelope())
    push(client, second_signer.envelope(record_json(issuer="CNCA-R-2010-007")))
    response = client.get(f"/api/v1/certificates/{NUMBER}")
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["issuers"] == [
        "CNCA-R-2002-001",
        "CNCA-R-2010-007",
    ]
    body = client.get(f"/api/v1/certificates/{NUMBER}?issuer=CNCA-R-2010-007").get_json()
    assert body["issuer"]["id"] == "CNCA-R-2010-007"


def test_etag_answers_304(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    push(client, make_envelope())
    first = client.get(f"/api/v1/certificates/{NUMBER}")
    again = client.get(
        f"/api/v1/certificates/{NUMBER}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    push(client, make_envelope(version=2, scope="家用电器的安装服务"))
    changed = client.get(
        f"/api/v1/certificates/{NUMBER}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert changed.status_code == 200


def test_organisation_view(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    push(
        client,
        make_envelope(),
        make_envelope(
            certificate_number="CQC-CS-2025-000001",
            scheme="customer-satisfaction",
            standard="GB/T 19039-2009",
            tier="八星级",
            score={"value": 870, "scale": 1000},
        ),
    )
    body = client.get("/api/v1/organisations/91330100MA2H3B4C5X").get_json()
    assert body["name"] == "杭州海川电器有限公司"
    assert sorted(c["certificate_number"] for c in body["certificates"]) == [
        "CQC-ASS-2024-000123",
        "CQC-CS-2025-000001",
    ]
    # A USCC typed in lower case is the same code (search takes it too).
    lower = client.get("/api/v1/organisations/91330100ma2h3b4c5x").get_json()
    assert lower["uscc"] == "91330100MA2H3B4C5X"
    assert lower["certificates"] == body["certificates"]


def test_organisation_with_a_wrong_check_character(client: FlaskClient) -> None:
    response = client.get("/api/v1/organisations/91330100MA2H3B4C5D")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "InvalidUSCC"
    assert error["details"]["expected_check_character"] == "X"


def test_issuers_list(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    push(client, make_envelope())
    (issuer,) = client.get("/api/v1/issuers").get_json()["issuers"]
    assert (issuer["id"], issuer["certificates"]) == ("CNCA-R-2002-001", 1)


def test_schemes_are_published_with_thresholds(client: FlaskClient) -> None:
    schemes = {s["id"]: s for s in client.get("/api/v1/schemes").get_json()["schemes"]}
    after_sales = schemes["after-sales-service"]
    assert after_sales["standard"] == "GB/T 27922-2011"
    five = next(t for t in after_sales["tiers"] if t["name"] == "五星级")
    assert five["min_score"] == {"100": 95, "1000": 950}
    assert schemes["customer-satisfaction"]["standard"] == "GB/T 19039-2009"


def test_a_lookup_never_hides_a_key_compromise(
    client: FlaskClient, make_envelope: MakeEnvelope, signer: Signer, state: Registry, clock: Clock
) -> None:
    """A key event changes the answer at once (it once went through a per-process cache)."""
    from registry.services.issuers import mark_compromised

    push(client, make_envelope())
    before = client.get(f"/api/v1/certificates/{NUMBER}").get_json()
    assert before["key_compromised"] is False
    assert client.get(f"/api/v1/certificates/{NUMBER}").get_json() == before
    with state.sessions() as session:
        mark_compromised(
            session,
            signer.key.public_key.thumbprint,
            since=clock.now - dt.timedelta(hours=1),
            now=clock.now,
        )
        session.commit()
    after = client.get(f"/api/v1/certificates/{NUMBER}").get_json()
    assert after["key_compromised"] is True
    assert after["flagged"] is True


def test_a_cached_lookup_follows_the_date(
    client: FlaskClient, make_envelope: MakeEnvelope, clock: Clock
) -> None:
    push(client, make_envelope())
    assert client.get(f"/api/v1/certificates/{NUMBER}").get_json()["status"]["code"] == "valid"
    clock.now = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert client.get(f"/api/v1/certificates/{NUMBER}").get_json()["status"]["code"] == "expired"


def test_the_envelope_is_the_exact_bytes_the_registry_logged(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    """A client can hash the answer's envelope and find it in the log without re-encoding."""
    from sqlalchemy import select

    from registry.store.models import LogEntry, RecordVersion

    envelope = make_envelope()
    push(client, envelope)
    answer = client.get(f"/api/v1/certificates/{NUMBER}")
    with state.sessions() as session:
        stored, index = session.execute(
            select(RecordVersion.envelope, RecordVersion.log_index).where(
                RecordVersion.certificate_number == NUMBER
            )
        ).one()
        logged = session.get_one(LogEntry, index).data
    assert stored == logged
    assert answer.data.endswith(b',"envelope":' + stored + b"}")
    assert answer.get_json()["envelope"] == envelope


def test_the_issuer_beside_a_lookup_follows_its_later_pushes(
    client: FlaskClient, make_envelope: MakeEnvelope, clock: Clock
) -> None:
    """Issuers come from a per-process copy, read again whenever the log has grown."""
    push(client, make_envelope())
    first = client.get(f"/api/v1/certificates/{NUMBER}").get_json()
    assert first["issuer"]["last_push_at"] == "2026-03-01T08:00:00Z"
    clock.advance(hours=2)
    push(client, make_envelope(certificate_number="CQC-ASS-2024-000124"))
    again = client.get(f"/api/v1/certificates/{NUMBER}").get_json()
    assert again["issuer"]["last_push_at"] == "2026-03-01T10:00:00Z"


def test_a_lookup_finds_an_issuer_registered_after_the_first_lookup(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry, clock: Clock
) -> None:
    push(client, make_envelope())
    assert client.get(f"/api/v1/certificates/{NUMBER}").status_code == 200
    key = PrivateKey.from_seed(b"issuer-three-seed-for-tests-0003")
    with state.sessions() as session:
        register_issuer(session, "CNCA-R-2020-009", "第三认证机构", None, key.public_key, clock.now)
        session.commit()
    other = "CQC-ASS-2024-000999"
    push(
        client,
        Signer(key).envelope(record_json(issuer="CNCA-R-2020-009", certificate_number=other)),
    )
    response = client.get(f"/api/v1/certificates/{other}")
    assert response.status_code == 200
    assert response.get_json()["issuer"]["name"] == "第三认证机构"


def test_the_publisher_copy_is_read_again_at_any_other_log_size(
    state: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A smaller size too, as after a database restore: the copy is never kept for it."""
    sizes = iter([5, 3])
    loads: list[int] = []

    def load(bind: object) -> lookup.Publishers:
        loads.append(size := next(sizes))
        return lookup.Publishers(size, {}, {})

    monkeypatch.setattr(lookup, "load_publishers", load)
    cache = lookup.PublisherCache()
    assert cache.at(state.engine, 5).log_size == 5
    assert cache.at(state.engine, 5).log_size == 5
    assert loads == [5]
    assert cache.at(state.engine, 3).log_size == 3
    assert loads == [5, 3]


def test_publishers_are_read_again_when_the_log_grew_between_two_statements(
    state: Registry, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = lookup._KEY_COMPROMISES.all
    calls: list[int] = []

    def racing(bind: Any, **params: Any) -> list[tuple[Any, ...]]:
        rows = real(bind, **params)
        calls.append(len(rows))
        if len(calls) == 1:  # as if a key event had committed after the issuers were read
            return [(*row[:-1], row[-1] + 1) for row in rows]
        return rows

    monkeypatch.setattr(lookup._KEY_COMPROMISES, "all", racing)
    found = lookup.load_publishers(state.engine)
    assert len(calls) == 2
    assert found.log_size == 1  # the issuer's registration
    assert set(found.issuers) == {"CNCA-R-2002-001"}
    assert found.compromised_at == {signer.key.public_key.thumbprint: None}


def test_the_publisher_copy_is_reused_while_the_log_size_stays(
    client: FlaskClient, make_envelope: MakeEnvelope, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size the lookup's query reads and the copy's compare equal on each database."""
    real = lookup.load_publishers
    loads: list[int] = []

    def counting(bind: Any) -> lookup.Publishers:
        found = real(bind)
        loads.append(found.log_size)
        return found

    monkeypatch.setattr(lookup, "load_publishers", counting)
    push(client, make_envelope())
    for _ in range(3):
        assert client.get(f"/api/v1/certificates/{NUMBER}").status_code == 200
    assert loads == [2]  # the issuer's registration and the record
