"""The cyclic garbage collector is paused for a batch and always resumed after it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from registry import collector
from registry.client import Signer
from registry.crypto.envelope import sign_record
from registry.domain.problems import RecordInvalid
from registry.services import ingest as ingest_module
from registry.web import ingest as web_ingest
from tests.conftest import Clock, record_json


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_stops_collection_and_resumes_it() -> None:
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), collector.paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_nested_pauses_resume_only_at_the_outermost() -> None:
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_in_threads_resume_when_the_last_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collector.paused():
            first_in.set()
            second_in.wait(5)
        seen["after first"] = gc.isenabled()
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector.paused():
            second_in.set()
            first_out.wait(5)
            seen["second, first done"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after first": False, "second, first done": False}
    assert gc.isenabled()


def test_ingest_stores_with_the_collector_paused_and_resumes_it(
    session: Session,
    make_envelope: Callable[..., dict[str, Any]],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    during: list[bool] = []
    store = ingest_module._store

    def watched(*args: Any, **kwargs: Any) -> Any:
        during.append(gc.isenabled())
        return store(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "_store", watched)
    report = ingest_module.ingest(session, [make_envelope()], clock.now)
    assert [r.outcome for r in report.results] == ["accepted"]
    assert during == [False]
    assert gc.isenabled()


def test_a_push_is_parsed_and_committed_with_the_collector_paused(
    client: FlaskClient,
    make_envelope: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    during: list[bool] = []
    parse = web_ingest.json_body

    def watched() -> Any:
        during.append(gc.isenabled())
        return parse()

    monkeypatch.setattr(web_ingest, "json_body", watched)
    response = client.post("/api/v1/records", json=[make_envelope()])
    assert response.status_code == 200, response.text
    assert response.get_json()["accepted"] == 1
    assert during == [False]
    assert gc.isenabled()


def test_rejected_records_leave_no_reference_cycles(
    session: Session, signer: Signer, clock: Clock
) -> None:
    """With the collector paused for a push, garbage in cycles waits for the next collection:
    a rejection must not leave one behind (as an exception kept with its traceback did)."""
    record = record_json(tier="七星级")
    invalid = [
        {"record": record, "signature": sign_record(record, signer.key), "qr": "AAAA"}
        for _ in range(50)
    ]
    gc.collect()
    gc.disable()
    try:
        report = ingest_module.ingest(session, invalid, clock.now)
        assert {r.outcome for r in report.results} == {"rejected"}
        del report
        # Keep what the collection finds, to look at it: other threads' garbage is there too.
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        in_cycles = sum(isinstance(found, RecordInvalid) for found in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert in_cycles == 0
