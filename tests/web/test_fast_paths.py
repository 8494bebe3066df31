"""The WSGI fast paths (plain lookups, just-rendered QR images) answer exactly as the views
do, and leave every other request to them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import Client, TestResponse

from registry.client import Signer
from registry.services import lookup
from registry.web.blueprints import SecurityHeaders
from registry.web.fastpath import FastPaths
from registry.web.scan import IMAGE_ANSWER_TTL
from tests.conftest import SECOND_ISSUER_ID, Clock, record_json

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

MakeEnvelope = Callable[..., dict[str, Any]]
NUMBER = "CQC-ASS-2024-000123"
URL = f"/api/v1/certificates/{NUMBER}"


class Counting:
    """A WSGI app that counts the requests it is handed."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.calls = 0

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.calls += 1
        return self.app(environ, start_response)


def fast_paths_of(app: Flask) -> FastPaths:
    layer: Any = app.wsgi_app
    while not isinstance(layer, FastPaths):
        layer = layer.app
    return layer


@pytest.fixture
def view(app: Flask) -> Iterator[Counting]:
    """The app behind the fast paths, counting what reaches it."""
    fast = fast_paths_of(app)
    counting = Counting(fast.app)
    fast.app = counting
    yield counting
    fast.app = counting.app


@pytest.fixture
def pushed(client: FlaskClient, make_envelope: MakeEnvelope) -> dict[str, Any]:
    envelope = make_envelope()
    response = client.post("/api/v1/records", json=[envelope])
    assert response.get_json()["accepted"] == 1, response.get_json()
    return envelope


def same_answer(fast: TestResponse, direct: TestResponse) -> None:
    assert fast.status == direct.status == "200 OK"
    assert fast.data == direct.data
    assert sorted(fast.headers.items()) == sorted(direct.headers.items())


@pytest.mark.usefixtures("pushed")
def test_the_fast_path_answers_with_the_views_bytes_and_headers(
    app: Flask, client: FlaskClient, view: Counting
) -> None:
    # The view's own answer, with the headers every response gets, for comparison.
    direct = Client(SecurityHeaders(view.app)).get(URL)
    assert view.calls == 0
    fast = client.get(URL)
    assert view.calls == 0  # answered without the view
    same_answer(fast, direct)
    assert fast.get_json()["envelope"]["record"]["certificate_number"] == NUMBER


@pytest.mark.usefixtures("pushed")
@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", f"{URL}?issuer=CNCA-R-2002-001", {}, 200),
        ("GET", f"{URL}?at=2026-03-01", {}, 200),
        ("HEAD", URL, {}, 200),
        ("GET", URL, {"If-Modified-Since": "Sun, 01 Mar 2026 08:00:00 GMT"}, 200),
        ("GET", f"{URL}/history", {}, 200),
        ("GET", f"{URL}/", {}, 404),
        ("GET", "/api/v1/certificates/CQC-NO-SUCH-1", {}, 404),
        ("GET", "/api/v1/certificates/证书-1", {}, 404),
        ("OPTIONS", URL, {}, 200),
    ],
)
def test_other_requests_reach_the_view(
    client: FlaskClient,
    view: Counting,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    response = client.open(path, method=method, headers=headers)
    assert view.calls == 1
    assert response.status_code == status
    if status == 404 and path.endswith("-1"):  # an unknown number: the view's honest 404
        assert response.get_json()["error"]["code"] == "CertificateNotFound"


@pytest.mark.usefixtures("pushed")
def test_a_conditional_request_gets_304_from_the_view(client: FlaskClient, view: Counting) -> None:
    etag = client.get(URL).headers["ETag"]
    assert view.calls == 0
    response = client.get(URL, headers={"If-None-Match": etag})
    assert view.calls == 1
    assert response.status_code == 304


def test_an_ambiguous_number_gets_the_views_409(
    client: FlaskClient, make_envelope: MakeEnvelope, second_signer: Signer, view: Counting
) -> None:
    second = second_signer.envelope(record_json(issuer=SECOND_ISSUER_ID))
    for envelope in (make_envelope(), second):
        assert client.post("/api/v1/records", json=[envelope]).get_json()["accepted"] == 1
    view.calls = 0
    response = client.get(URL)
    assert view.calls == 1
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "AmbiguousNumber"


@pytest.mark.usefixtures("pushed")
def test_a_failed_lookup_is_left_to_the_view(
    client: FlaskClient, view: Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = lookup.current_versions
    failures = [RuntimeError("database went away")]

    def flaky(*args: Any) -> list[lookup.Current]:
        if failures:
            raise failures.pop()
        return real(*args)

    monkeypatch.setattr(lookup, "current_versions", flaky)
    response = client.get(URL)
    assert view.calls == 1  # the fast path failed; the view answered
    assert response.status_code == 200
    assert response.get_json()["certificate_number"] == NUMBER


@pytest.mark.usefixtures("pushed")
@pytest.mark.parametrize("name", ["qr.svg", "qr.png", "label.svg", "label.png"])
def test_an_image_just_rendered_comes_from_the_fast_path(
    client: FlaskClient, view: Counting, name: str
) -> None:
    path = f"/c/{NUMBER}/{name}"
    first = client.get(path)
    assert view.calls == 1  # rendered by the view
    again = client.get(path)
    assert view.calls == 1  # answered from its cache without the view
    same_answer(again, first)
    assert again.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.usefixtures("pushed")
@pytest.mark.parametrize(
    "path",
    [
        f"/c/{NUMBER}/qr.svg?size=12",
        f"/c/{NUMBER}/qr.svg?v=1",
        f"/c/{NUMBER}/qr.gif",
        f"/c/{NUMBER}/x/qr.svg",
        "/c//qr.svg",
        "/c/qr.svg",
    ],
)
def test_other_image_requests_reach_the_view(
    client: FlaskClient, view: Counting, path: str
) -> None:
    client.get(f"/c/{NUMBER}/qr.svg")
    view.calls = 0
    client.get(path)
    assert view.calls == 1


@pytest.mark.usefixtures("pushed")
def test_a_pushed_version_shows_once_the_image_answer_expires(
    client: FlaskClient, view: Counting, make_envelope: MakeEnvelope, clock: Clock
) -> None:
    path = f"/c/{NUMBER}/qr.svg"
    etag = client.get(path).headers["ETag"]
    second = make_envelope(version=2, expiry_date="2027-01-31")
    assert client.post("/api/v1/records", json=[second]).get_json()["accepted"] == 1
    clock.advance(seconds=IMAGE_ANSWER_TTL + 0.1)
    view.calls = 0
    fresh = client.get(path)
    assert view.calls == 1
    assert fresh.headers["ETag"] != etag
