"""The issuer's client reads its label reports and scan counts from a live registry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from registry.cli import main
from registry.client import RegistryClient, RequestFailed
from registry.crypto.keys import PrivateKey
from tests.conftest import ISSUER_ID, Clock
from tests.live_server import serve


@pytest.fixture
def reported(
    client: FlaskClient, make_envelope: Callable[..., dict[str, Any]], clock: Clock
) -> dict[str, Any]:
    """A pushed certificate, scanned once and reported twice an hour apart."""
    envelope = make_envelope()
    assert client.post("/api/v1/records", json=[envelope]).get_json()["accepted"] == 1
    client.get(f"/v/{envelope['qr']}")
    for details in ("第一份", "第二份"):
        form = {"token": envelope["qr"], "reason": "looks-fake", "details": details}
        assert client.post("/label-reports", data=form).status_code == 303
        clock.advance(hours=1)
    return envelope


def registry_client(base_url: str, clock: Clock) -> RegistryClient:
    return RegistryClient(base_url, retries=0, clock=lambda: clock.now.timestamp())


def test_reports_and_scans_through_the_client(
    app: Flask, reported: dict[str, Any], issuer_key: PrivateKey, clock: Clock
) -> None:
    with serve(app) as base_url:
        client = registry_client(base_url, clock)
        found = list(client.reports(ISSUER_ID, issuer_key))
        assert [r["details"] for r in found] == ["第一份", "第二份"]
        assert {r["certificate_number"] for r in found} == {
            reported["record"]["certificate_number"]
        }
        later = list(client.reports(ISSUER_ID, issuer_key, clock.now - dt.timedelta(hours=1.5)))
        assert [r["details"] for r in later] == ["第二份"]
        scans = client.scans(ISSUER_ID, issuer_key, clock.now.date() - dt.timedelta(days=1))
        assert [s["count"] for s in scans] == [1]


def test_a_key_the_registry_does_not_know_is_refused(
    app: Flask, reported: dict[str, Any], clock: Clock
) -> None:
    stranger = PrivateKey.from_seed(b"not-a-key-of-this-issuer-0000000")
    with serve(app) as base_url, pytest.raises(RequestFailed, match=r"401.*UnknownKey"):
        list(registry_client(base_url, clock).reports(ISSUER_ID, stranger))


def test_reports_command_prints_json_lines(
    app: Flask,
    reported: dict[str, Any],
    issuer_key: PrivateKey,
    clock: Clock,
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "issuer.pem"
    key_file.write_bytes(issuer_key.to_pem())
    clock.now = dt.datetime.now(dt.UTC)  # the command signs with the real time
    with serve(app) as base_url:
        done = CliRunner().invoke(
            main, ["reports", base_url, "--issuer", ISSUER_ID, "--key", str(key_file)]
        )
        assert done.exit_code == 0, done.output
        lines = [json.loads(line) for line in done.output.splitlines()]
        assert [line["details"] for line in lines] == ["第一份", "第二份"]
        command = ["reports", base_url, "--issuer", ISSUER_ID, "--key", str(key_file)]
        bad = CliRunner().invoke(main, [*command, "--since", "x"])
        assert bad.exit_code == 2
        assert "--since is not RFC 3339" in bad.output
        local = CliRunner().invoke(main, [*command, "--since", "2026-03-01T08:00:00"])
        assert local.exit_code == 2
        assert "--since needs a UTC offset, e.g. 2026-03-01T00:00:00Z" in local.output
        day = CliRunner().invoke(main, [*command, "--scans", "--since", "2026-13-01"])
        assert day.exit_code == 2
        assert "e.g. 2026-03-01" in day.output
