"""The app's JSON provider (orjson): what jsonify writes and request.get_json reads."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pytest
from flask import Flask, jsonify, request
from markupsafe import Markup

from registry.fastjson import dumps_bytes, loads
from registry.web.jsonprovider import OrjsonProvider


@pytest.fixture
def app() -> Flask:
    app = Flask("jsontest")
    app.json = OrjsonProvider(app)

    @app.post("/echo")
    def echo() -> object:
        return jsonify(request.get_json())

    return app


def test_compact_utf8_in_insertion_order() -> None:
    body = dumps_bytes({"z": "五星级", "a": [1, 2.5, None, True]})
    assert body == '{"z":"五星级","a":[1,2.5,null,true]}'.encode()


def test_values_the_standard_library_cannot_write() -> None:
    moment = dt.datetime(2026, 11, 22, 8, 30, tzinfo=dt.UTC)
    value = {
        1: "int key",
        "day": dt.date(2026, 11, 22),
        "at": moment,
        "amount": decimal.Decimal("95.5"),
        "html": Markup("<b>x</b>"),
    }
    assert json.loads(dumps_bytes(value)) == {
        "1": "int key",
        "day": "2026-11-22",
        "at": "2026-11-22T08:30:00+00:00",
        "amount": "95.5",
        "html": "<b>x</b>",
    }


def test_unknown_types_fail_loudly() -> None:
    with pytest.raises(TypeError, match="set"):
        dumps_bytes({"x": {1, 2}})


def test_loads_rejects_what_is_not_json() -> None:
    assert loads(b'{"a": [1]}') == {"a": [1]}
    for bad in (b"{", b"NaN", b'{"a": 1,}', b"\xff"):
        with pytest.raises(ValueError, match=r"\w"):
            loads(bad)


def test_jsonify_and_get_json_round_trip(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/echo", json={"名称": "上海", "n": [1, 2]})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"名称": "上海", "n": [1, 2]}
    assert "上海".encode() in response.data  # UTF-8, not \\u escapes


def test_malformed_request_body_is_a_client_error(app: Flask) -> None:
    response = app.test_client().post("/echo", data=b'{"a": ', content_type="application/json")
    assert response.status_code == 400
