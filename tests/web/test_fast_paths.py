"""The WSGI fast paths (plain lookups, just-rendered QR images, certificate pages, scan pages
with a 200 verdict) answer exactly as the views do, and leave every other request to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from werkzeug.test import Client, TestResponse

from registry.app import Registry
from registry.client import Signer
from registry.sample import records
from registry.services import lookup
from registry.store.scans import ScanCount
from registry.store.search import SearchCard
from registry.web import search as search_api
from registry.web.blueprints import SecurityHeaders
from registry.web.fastpath import FastPaths
from registry.web.limits import Limits
from registry.web.scan import IMAGE_ANSWER_TTL
from tests.conftest import ISSUER_ID, SECOND_ISSUER_ID, Clock, record_json

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


def push_under_two_issuers(
    client: FlaskClient, make_envelope: MakeEnvelope, second_signer: Signer
) -> None:
    """The test number, pushed by two issuers."""
    second = second_signer.envelope(record_json(issuer=SECOND_ISSUER_ID))
    for envelope in (make_envelope(), second):
        assert client.post("/api/v1/records", json=[envelope]).get_json()["accepted"] == 1


def test_an_ambiguous_number_gets_the_views_409(
    client: FlaskClient, make_envelope: MakeEnvelope, second_signer: Signer, view: Counting
) -> None:
    push_under_two_issuers(client, make_envelope, second_signer)
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


# --- pages ---------------------------------------------------------------------------------

PAGE = f"/c/{NUMBER}"
#: (Accept-Language, the lang cookie, the page's <html lang>)
LANGUAGES = [
    (None, None, "zh-CN"),
    ("en-GB,en;q=0.9", None, "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh-CN"),
    ("fr", None, "zh-CN"),
    (None, "en", "en"),
    ("zh-CN", "en", "en"),
    ("en", "zh", "zh-CN"),
    ("en", "fr", "en"),
]


def get_page(
    client: Client, path: str, accept_language: str | None, cookie: str | None
) -> TestResponse:
    if cookie is not None:
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    return client.get(path, headers=headers)


def html_lang(response: TestResponse) -> str:
    text = response.get_data(as_text=True)
    return text[text.index('<html lang="') + 12 :].split('"')[0]


@pytest.mark.usefixtures("pushed")
@pytest.mark.parametrize(("accept_language", "cookie", "language"), LANGUAGES)
def test_a_certificate_page_comes_from_the_fast_path_as_the_view_renders_it(
    client: FlaskClient,
    view: Counting,
    accept_language: str | None,
    cookie: str | None,
    language: str,
) -> None:
    direct = get_page(Client(SecurityHeaders(view.app)), PAGE, accept_language, cookie)
    fast = get_page(client, PAGE, accept_language, cookie)
    assert view.calls == 0
    same_answer(fast, direct)
    assert html_lang(fast) == language
    assert NUMBER in fast.get_data(as_text=True)


@pytest.mark.usefixtures("pushed")
@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{PAGE}?lang=en", 200),
        (f"{PAGE}?at=2026-03-01", 200),
        (f"{PAGE}?issuer=CNCA-R-2002-001", 200),
        ("/c/CQC-NO-SUCH-1", 404),
        (f"{PAGE}/", 404),
    ],
)
def test_other_page_requests_reach_the_view(
    client: FlaskClient, view: Counting, path: str, status: int
) -> None:
    response = client.get(path)
    assert view.calls == 1
    assert response.status_code == status


def test_an_ambiguous_page_gets_the_views_chooser(
    client: FlaskClient, make_envelope: MakeEnvelope, second_signer: Signer, view: Counting
) -> None:
    push_under_two_issuers(client, make_envelope, second_signer)
    view.calls = 0
    response = client.get(PAGE)
    assert view.calls == 1
    assert response.status_code == 200
    assert f"{PAGE}?issuer=" in response.get_data(as_text=True)


def scan_counts(state: Registry) -> dict[tuple[str, str, dt.date], int]:
    with state.sessions() as session:
        rows = session.execute(
            select(
                ScanCount.issuer_id, ScanCount.certificate_number, ScanCount.day, ScanCount.count
            )
        )
        return {(issuer, number, day): n for issuer, number, day, n in rows}


@pytest.mark.parametrize(("accept_language", "cookie", "language"), LANGUAGES[:5])
def test_a_genuine_scan_page_comes_from_the_fast_path_and_is_counted(
    app: Flask,
    client: FlaskClient,
    view: Counting,
    pushed: dict[str, Any],
    state: Registry,
    accept_language: str | None,
    cookie: str | None,
    language: str,
) -> None:
    app.extensions["scan"].counter.interval = 0  # write every count at once
    view.calls = 0  # the push
    path = f"/v/{pushed['qr']}"
    direct = get_page(Client(SecurityHeaders(view.app)), path, accept_language, cookie)
    fast = get_page(client, path, accept_language, cookie)
    assert view.calls == 0
    same_answer(fast, direct)
    assert html_lang(fast) == language
    assert "scan-verdict--genuine" in fast.get_data(as_text=True)
    assert scan_counts(state) == {(ISSUER_ID, NUMBER, dt.date(2026, 3, 1)): 2}


def test_a_scan_page_of_a_certificate_no_longer_valid_comes_from_the_fast_path(
    client: FlaskClient, view: Counting, make_envelope: MakeEnvelope
) -> None:
    first = make_envelope()
    withdrawn = make_envelope(
        version=2,
        status="withdrawn",
        status_reason="整改未完成",
        status_effective_date="2026-02-20",
    )
    assert client.post("/api/v1/records", json=[first, withdrawn]).get_json()["accepted"] == 2
    view.calls = 0
    path = f"/v/{withdrawn['qr']}"
    direct = Client(SecurityHeaders(view.app)).get(path)
    fast = client.get(path)
    assert view.calls == 0
    same_answer(fast, direct)
    assert "scan-verdict--not-valid" in fast.get_data(as_text=True)


@pytest.mark.parametrize(
    ("token", "status"),
    [("GARBAGE", 400), ("AAAA", 400)],
)
def test_a_malformed_scan_reaches_the_view_uncounted(
    app: Flask, client: FlaskClient, view: Counting, state: Registry, token: str, status: int
) -> None:
    app.extensions["scan"].counter.interval = 0
    response = client.get(f"/v/{token}")
    assert view.calls == 1
    assert response.status_code == status
    assert scan_counts(state) == {}


def test_other_scan_verdicts_reach_the_view(
    app: Flask, client: FlaskClient, view: Counting, signer: Signer, state: Registry
) -> None:
    app.extensions["scan"].counter.interval = 0
    never_pushed = signer.envelope(record_json(certificate_number="CQC-ASS-2024-000999"))
    response = client.get(f"/v/{never_pushed['qr']}")
    assert view.calls == 1
    assert response.status_code == 404
    assert scan_counts(state) == {}  # names no certificate stored: not counted, as by the view


@pytest.mark.usefixtures("pushed")
def test_a_reported_scan_reaches_the_view(
    app: Flask, client: FlaskClient, view: Counting, pushed: dict[str, Any], state: Registry
) -> None:
    app.extensions["scan"].counter.interval = 0
    response = client.get(f"/v/{pushed['qr']}?reported=1")
    assert view.calls == 1
    assert response.status_code == 200
    assert scan_counts(state) == {}  # the page after a report is not another scan


# --- search ------------------------------------------------------------------------------------


@pytest.fixture
def names(client: FlaskClient, signer: Signer, clock: Clock) -> list[str]:
    """Forty sample records pushed; the names of their organisations."""
    rows = list(records(40, [ISSUER_ID], seed=3, today=clock.now.date()))
    envelopes = [signer.envelope(row, issued_at=1_767_225_600) for row in rows]
    response = client.post("/api/v1/records", json=envelopes)
    assert response.get_json()["accepted"] == len(envelopes), response.get_json()
    return sorted({row["organisation"]["name"] for row in rows})


def search_url(text: str, **params: str) -> str:
    return "/api/v1/search?" + urlencode({"q": text, **params})


def test_a_name_search_comes_from_the_fast_path_as_the_view_answers_it(
    client: FlaskClient, view: Counting, names: list[str]
) -> None:
    urls = [
        search_url(names[0][2]),
        search_url(names[1][2:4]),
        search_url(names[2][1:5], limit="3"),
        search_url("有限", limit="2"),
        search_url("不存在的"),
        search_url(names[3][2:4]) + "&q=ignored",  # the first value counts, as in the view
    ]
    cursor = client.get(search_url("公司", limit="3")).get_json()["next_cursor"]
    assert cursor
    urls.append(search_url("公司", limit="3", cursor=cursor))
    view.calls = 0
    for url in urls:
        direct = Client(SecurityHeaders(view.app)).get(url)
        calls = view.calls
        fast = client.get(url)
        assert view.calls == calls, url  # answered without the view
        same_answer(fast, direct)
    assert client.get(urls[0]).get_json()["results"]


@pytest.mark.usefixtures("names")
@pytest.mark.parametrize(
    ("url", "status"),
    [
        (search_url("公司", status="valid"), 200),  # a filter
        (search_url("公司", scheme=""), 200),  # any other parameter, even empty
        (search_url("CQC"), 200),  # shaped like a certificate number
        (search_url("公司", limit="0"), 400),
        (search_url("公司", cursor="bad"), 400),
        ("/api/v1/search?q=%FF", 200),  # not UTF-8: the view reads it as werkzeug does
        ("/api/v1/search?limit=3", 400),
    ],
)
def test_other_searches_reach_the_view(
    client: FlaskClient, view: Counting, url: str, status: int
) -> None:
    response = client.get(url)
    assert view.calls == 1
    assert response.status_code == status


@pytest.mark.usefixtures("names")
def test_a_page_whose_card_is_missing_is_answered_by_the_view(
    client: FlaskClient, view: Counting, state: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = search_url("公司")
    fast = client.get(url)
    with state.sessions() as session:
        session.execute(delete(SearchCard))
        session.commit()
    assert view.calls == 0
    asked: list[str] = []
    real = search_api.search_cards

    def counted(*args: Any) -> Any:
        asked.append("cards")
        return real(*args)

    monkeypatch.setattr(search_api, "search_cards", counted)
    slow = client.get(url)
    assert view.calls == 1
    assert asked == ["cards"]  # the view did not ask the cards again
    same_answer(fast, slow)


def test_the_fast_path_counts_each_search_once(
    fresh_app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed: list[bool] = []
    original = Limits.allow

    def counting(self: Limits, rate: Any, scope: str, client: str | None) -> bool:
        allowed.append(original(self, rate, scope, client))
        return allowed[-1]

    monkeypatch.setattr(Limits, "allow", counting)
    app = fresh_app_factory(search_rate_limit="3/minute")
    fast = fast_paths_of(app)
    counting_view = fast.app = Counting(fast.app)
    client = app.test_client()
    try:
        codes = [client.get(search_url(q)).status_code for q in ("公司", "CQC", "有限", "公司")]
    finally:
        app.extensions["registry"].engine.dispose()
    assert codes == [200, 200, 200, 429]
    assert allowed == [True, True, True, False]  # one count a request, wherever answered
    assert counting_view.calls == 2  # the number-shaped query, and the 429
