"""Bulk checks as of a tender date, and their registry-signed receipts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from flask.testing import FlaskClient
from nacl.signing import VerifyKey

from registry.crypto.encoding import b64url_decode
from registry.crypto.errors import VerificationError
from registry.crypto.keys import PublicKey
from registry.services.checks import verify_receipt
from tests.conftest import Clock

MakeEnvelope = Callable[..., dict[str, Any]]
NUMBER = "CQC-ASS-2024-000123"
USCC = "91330100MA2H3B4C5X"


@pytest.fixture
def history(client: FlaskClient, make_envelope: MakeEnvelope, clock: Clock) -> None:
    """Valid from 2024; a suspension effective 1 May 2026 pushed late, on 10 May."""
    assert client.post("/api/v1/records", json=make_envelope()).status_code == 201
    clock.now = dt.datetime(2026, 5, 10, 2, 0, tzinfo=dt.UTC)
    suspended = make_envelope(
        version=2,
        status="suspended",
        status_reason="监督审核不合格",
        status_effective_date="2026-05-01",
    )
    assert client.post("/api/v1/records", json=suspended).status_code == 201
    clock.advance(days=1)


def check(client: FlaskClient, **body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/api/v1/checks", json=body)
    return response.status_code, response.get_json()


@pytest.mark.usefixtures("history")
def test_bulk_check_as_of_a_tender_date(client: FlaskClient) -> None:
    status, body = check(
        client,
        queries=[NUMBER, USCC, "CQC-ASS-2024-404404", "91330100MA2H3B4C5D"],
        as_of="2026-05-05",
    )
    assert status == 201
    receipt = body["receipt"]
    assert receipt["as_of"] == "2026-05-05"
    by_number, by_uscc, missing, invalid = receipt["results"]
    (cert,) = by_number["certificates"]
    assert cert["status_on_date"] == "suspended"
    assert cert["status_as_known_then"] == "valid"
    assert cert["known_since"] == "2026-05-10T02:00:00Z"
    assert cert["log_index"] == 2
    assert cert["status_now"] == "suspended"
    assert by_uscc["certificates"][0]["certificate_number"] == NUMBER
    assert missing["outcome"] == "not_found"
    assert invalid["outcome"] == "invalid"
    assert "'X'" in invalid["message"]
    assert receipt["checkpoint"].startswith("registry.example.cn/log\n3\n")


@pytest.mark.usefixtures("history")
def test_the_receipt_verifies_offline_and_is_stored_verbatim(client: FlaskClient) -> None:
    _, body = check(client, queries=[NUMBER], as_of="2026-04-01")
    stored = client.get(body["url"])
    assert stored.status_code == 200
    assert "immutable" in stored.headers["Cache-Control"]
    jwk = client.get("/api/v1/receipts/key").get_json()
    key = PublicKey.from_jwk(jwk)
    receipt = verify_receipt(stored.data, key)
    assert receipt == body["receipt"]
    # An independent check: RFC 8785 bytes by the rfc8785 package, Ed25519 by libsodium.
    signature = b64url_decode(body["signature"]["value"])
    VerifyKey(key.raw).verify(rfc8785.dumps(body["receipt"]), signature)
    tampered = stored.data.replace(b'"valid"', b'"withdrawn"', 1)
    with pytest.raises(VerificationError):
        verify_receipt(tampered, key)


@pytest.mark.usefixtures("history")
def test_a_list_typed_in_full_width_is_read_as_ascii(client: FlaskClient) -> None:
    """Bidder lists pasted from a document often hold full-width forms ("ＣＱＣ－…")."""
    full = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
    status, body = check(client, queries=[NUMBER.translate(full), USCC.translate(full)])
    assert status == 201
    results = body["receipt"]["results"]
    assert [r["query"] for r in results] == [NUMBER, USCC]
    assert [r["outcome"] for r in results] == ["found", "found"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"queries": []}, "EmptyCheck"),
        ({"queries": ["  ", ""]}, "EmptyCheck"),
        ({"queries": ["X"] * 501}, "TooManyQueries"),
        ({"queries": ["A" * 65]}, "InvalidQuery"),
        ({"queries": [7]}, "InvalidQuery"),
        ({"queries": ["X"], "as_of": "05/05/2026"}, "InvalidDate"),
        ({"queries": ["X"], "as_of": "9999-12-31"}, "InvalidDate"),
        ({"queries": ["X"], "as_of": "2026-W19-2"}, "InvalidDate"),
        ({"queries": "X"}, "MalformedCheck"),
        ({"queries": ["X"], "extra": 1}, "MalformedCheck"),
    ],
)
def test_bad_checks_get_clear_errors(client: FlaskClient, body: dict[str, Any], code: str) -> None:
    status, answer = check(client, **body)
    assert status == 400
    assert answer["error"]["code"] == code


def test_unknown_receipt_is_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/receipts/AAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "ReceiptNotFound"


@pytest.mark.usefixtures("history")
def test_the_check_page_works_without_javascript(client: FlaskClient) -> None:
    form = client.get("/check?lang=en")
    assert form.status_code == 200
    assert b'name="queries"' in form.data
    result = client.post("/check", data={"queries": f"{NUMBER}\n{USCC}\n", "as_of": "2026-05-05"})
    assert result.status_code == 201
    text = result.get_data(as_text=True)
    assert "/api/v1/receipts/" in text
    # Times in China Standard Time, as on every other page (the receipt keeps UTC).
    assert "learned of this status only at 2026-05-10 10:00 China Standard Time" in text
    # The tier and the certification body by their names, in the page's language.
    assert "After-sales service · Five-star" in text
    empty = client.post("/check", data={"queries": "", "as_of": ""})
    assert empty.status_code == 400
    assert "EmptyCheck" in empty.get_data(as_text=True)
    assert "Enter at least one certificate number or USCC." in empty.get_data(as_text=True)


@pytest.mark.usefixtures("history")
def test_the_check_page_says_when_the_registry_knew_nothing_that_day(
    client: FlaskClient,
) -> None:
    """Before the first version arrived, a check would have found nothing: the page must not
    say it would have shown 'the earlier status'."""
    result = client.post(
        "/check?lang=en",
        data={"queries": f"{NUMBER}\n91330100MA2H3B4C5D\nnot-a-number-!", "as_of": "2026-02-01"},
    )
    text = result.get_data(as_text=True)
    assert "would have shown the earlier status" not in text
    assert "on 2026-02-01 the registry had not yet received any record" in text
    assert "GET /api/v1/issuers" not in text  # the API's message is for programs
    chinese = client.post(
        "/check?lang=zh", data={"queries": "91330100MA2H3B4C5D", "as_of": "2026-02-01"}
    ).get_data(as_text=True)
    assert "check character" not in chinese
    assert "校验位" in chinese
