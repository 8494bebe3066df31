"""The `registry` command: the operator's and the issuer's workflows end to end."""

from __future__ import annotations

import http.server
import json
import os
import signal
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from registry.app import Registry, utc_now
from registry.cli import main
from registry.crypto.jwks import jwk_for
from registry.crypto.keys import PrivateKey
from registry.store import schema
from registry.store.models import Certificate, RecordVersion
from registry.store.scans import ScanCount
from registry.store.search import SearchCard
from tests.conftest import push_accepted, record_json
from tests.live_server import serve


@pytest.fixture
def live_app(app: Flask) -> Flask:
    """The app on the real clock: the CLI registers keys at the real time."""
    app.extensions["registry"].clock = utc_now
    return app


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_KEYS_PATH": str(tmp_path / "keys"),
        "REGISTRY_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def refused(result: Result) -> None:
    """The command refused with click's 'Error: …' and exit 1, not a Python traceback."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Error:" in result.output


def run(runner: CliRunner, env: dict[str, str], *args: str) -> str:
    result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_keys_generate_writes_a_private_key_readable_only_by_its_owner(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    output = run(runner, env, "keys", "generate", "issuer-a")
    pem = tmp_path / "keys" / "issuer-a.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    jwk = json.loads((tmp_path / "keys" / "issuer-a.jwk.json").read_text())
    assert jwk["kty"] == "OKP"
    assert jwk["kid"] in output
    again = runner.invoke(main, ["keys", "generate", "issuer-a"], env=env)
    assert again.exit_code != 0
    assert "refusing to overwrite" in again.output


def test_keys_generate_with_a_passphrase(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    env = {**env, "KEY_PASS": "correct horse"}
    run(runner, env, "keys", "generate", "locked", "--passphrase-env", "KEY_PASS")
    pem = (tmp_path / "keys" / "locked.pem").read_bytes()
    assert b"ENCRYPTED" in pem
    source = tmp_path / "records.json"
    source.write_text(json.dumps([record_json()], ensure_ascii=False))
    wrong = runner.invoke(
        main, ["sign", str(source), "--key", str(tmp_path / "keys" / "locked.pem")], env=env
    )
    assert wrong.exit_code != 0


def test_issuer_workflow_sign_and_push(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, live_app: Flask
) -> None:
    """init, generate, register, sign (JSON and CSV), push over HTTP, push again (idempotent)."""
    run(runner, env, "init")
    run(runner, env, "keys", "generate", "issuer")
    keys = tmp_path / "keys"
    run(
        runner,
        env,
        "issuers",
        "add",
        "CNCA-R-2002-001",
        "--name",
        "测试认证中心",
        "--key",
        str(keys / "issuer.jwk.json"),
    )
    source = tmp_path / "records.json"
    source.write_text(
        json.dumps(
            [record_json(), record_json(certificate_number="CQC-ASS-2024-000124")],
            ensure_ascii=False,
        )
    )
    signed = tmp_path / "signed.json"
    run(runner, env, "sign", str(source), "--key", str(keys / "issuer.pem"), "--out", str(signed))
    csv_source = tmp_path / "records.csv"
    csv_source.write_text(
        "certificate_number,issuer,version,organisation_name,uscc,scheme,tier,score,score_scale,"
        "scope,original_issue_date,issue_date,expiry_date,status\n"
        "CQC-CS-2025-000001,CNCA-R-2002-001,1,杭州海川电器有限公司,91330100MA2H3B4C5X,"
        "customer-satisfaction,八星级,870,1000,家用电器的销售服务,2025-01-10,2025-01-10,2028-01-09,valid\n",
        encoding="utf-8",
    )
    signed_csv = tmp_path / "signed-csv.json"
    run(
        runner,
        env,
        "sign",
        str(csv_source),
        "--key",
        str(keys / "issuer.pem"),
        "--out",
        str(signed_csv),
    )
    with serve(live_app) as base_url:
        first = run(runner, env, "push", base_url, str(signed))
        assert json.loads(first.strip().splitlines()[-1]) == {
            "accepted": 2,
            "duplicate": 0,
            "rejected": 0,
        }
        again = run(runner, env, "push", base_url, str(signed))
        assert json.loads(again.strip().splitlines()[-1]) == {
            "accepted": 0,
            "duplicate": 2,
            "rejected": 0,
        }
        run(runner, env, "push", base_url, str(signed_csv))
    with live_app.extensions["registry"].sessions() as session:
        assert session.execute(select(func.count()).select_from(Certificate)).scalar_one() == 3


def test_sign_refuses_a_record_that_breaks_a_rule(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    run(runner, env, "keys", "generate", "issuer")
    source = tmp_path / "bad.json"
    source.write_text(json.dumps([record_json(tier="三星级")], ensure_ascii=False))
    result = runner.invoke(
        main, ["sign", str(source), "--key", str(tmp_path / "keys" / "issuer.pem")], env=env
    )
    assert result.exit_code != 0
    assert "TierScoreMismatch" in result.output or "earns" in result.output


def test_push_reports_rejections_and_exits_non_zero(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, app: Flask
) -> None:
    run(runner, env, "keys", "generate", "stranger")
    source = tmp_path / "records.json"
    source.write_text(json.dumps([record_json()], ensure_ascii=False))
    signed = tmp_path / "signed.json"
    run(
        runner,
        env,
        "sign",
        str(source),
        "--key",
        str(tmp_path / "keys" / "stranger.pem"),
        "--out",
        str(signed),
    )
    with serve(app) as base_url:
        result = runner.invoke(main, ["push", base_url, str(signed)], env=env)
    assert result.exit_code == 1
    assert "UnknownIssuer" in result.output


def test_push_retries_then_gives_up_on_an_unreachable_registry(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    signed = tmp_path / "signed.json"
    signed.write_text("[]")
    result = runner.invoke(
        main, ["push", "http://127.0.0.1:9", str(signed), "--retries", "1"], env=env
    )
    # An empty file pushes nothing; a real one must fail cleanly, not with a traceback.
    assert result.exit_code == 0
    signed.write_text(json.dumps([{"record": {}, "signature": {}, "qr": ""}]))
    result = runner.invoke(
        main, ["push", "http://127.0.0.1:9", str(signed), "--retries", "1"], env=env
    )
    assert result.exit_code != 0
    assert "gave up after 2 attempts" in result.output


def test_keys_export_and_compromise(runner: CliRunner, env: dict[str, str], tmp_path: Path) -> None:
    run(runner, env, "init")
    run(runner, env, "keys", "generate", "issuer")
    run(
        runner,
        env,
        "issuers",
        "add",
        "CNCA-R-2002-001",
        "--name",
        "测试认证中心",
        "--key",
        str(tmp_path / "keys" / "issuer.jwk.json"),
    )
    exported = json.loads(run(runner, env, "keys", "export"))
    (key,) = exported["keys"]
    assert (key["issuer"], key["status"], key["use"]) == ("CNCA-R-2002-001", "active", "sig")
    run(runner, env, "keys", "compromise", key["kid"], "--since", "2026-01-01T00:00:00Z")
    (key,) = json.loads(run(runner, env, "keys", "export"))["keys"]
    assert key["status"] == "compromised"
    listed = run(runner, env, "issuers", "list")
    assert "compromised" in listed


@pytest.mark.parametrize(
    ("seed", "kid"),
    [
        (33, "-d1wGF_MqzyJJo0Amupuq94VtA-5hnOpYu1IwBPXFmk"),
        (1885, "--NXHycuOTytI7u7GH_icD3kHt3CGzfeTcb-ZimLr_Y"),
    ],
)
def test_a_kid_that_starts_with_a_dash_is_taken_as_the_kid(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, seed: int, kid: str
) -> None:
    """A kid is base64url, so one in 64 starts with "-": an operator marking it compromised
    must not be told it is an unknown option."""
    public = PrivateKey.from_seed(seed.to_bytes(32, "big")).public_key
    assert public.thumbprint == kid
    key_file = tmp_path / "issuer.jwk.json"
    key_file.write_text(json.dumps(jwk_for(public)))
    run(runner, env, "init")
    run(runner, env, "issuers", "add", "CNCA-R-2002-001", "--name", "测试", "--key", str(key_file))
    out = run(runner, env, "keys", "compromise", kid, "--since", "2026-01-01T00:00:00Z")
    assert f"key {kid} marked compromised" in out
    (key,) = json.loads(run(runner, env, "keys", "export"))["keys"]
    assert key["status"] == "compromised"


def test_demo_loads_realistic_data_through_the_api(runner: CliRunner, env: dict[str, str]) -> None:
    output = run(runner, env, "demo", "--no-serve", "--count", "120")
    assert "120 records accepted" in output
    assert "demo data present" in run(runner, env, "demo", "--no-serve", "--count", "120")


def test_the_demo_server_writes_its_scan_counts_when_it_stops(
    runner: CliRunner, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``registry demo`` and ``registry serve`` count scans as gunicorn's workers do: a writer
    thread, and what is left written when the server stops, on SIGTERM too."""
    served: list[str] = []
    before = signal.getsignal(signal.SIGTERM)

    def run_until_terminated(app: Flask, **_: Any) -> None:
        with app.extensions["registry"].sessions() as session:
            envelope = session.execute(select(RecordVersion.envelope).limit(1)).scalar_one()
        token = json.loads(envelope)["qr"]
        assert app.test_client().get(f"/v/{token}").status_code == 200
        assert app.extensions["scan"].writer is not None
        served.append(token)
        # Only with the server's own handler in place: the default would end the test run.
        assert signal.getsignal(signal.SIGTERM) not in (before, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        served.append("not stopped")

    monkeypatch.setattr(Flask, "run", run_until_terminated)
    run(runner, env, "demo", "--count", "20")
    assert len(served) == 1
    assert signal.getsignal(signal.SIGTERM) == before
    engine = create_engine(env["REGISTRY_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            total = connection.execute(select(func.sum(ScanCount.count))).scalar()
    finally:
        engine.dispose()
    assert total == 1


def test_bad_settings_fail_with_the_variable_named(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(main, ["init"], env={**env, "REGISTRY_MAX_BATCH": "lots"})
    assert result.exit_code != 0
    assert "REGISTRY_MAX_BATCH" in result.output


def test_db_upgrade_points_at_vacuum_when_a_rebuild_left_free_space(
    runner: CliRunner,
    env: dict[str, str],
    state: Registry,
    client: FlaskClient,
    make_envelope: Callable[..., dict[str, Any]],
) -> None:
    push_accepted(
        client, *(make_envelope(certificate_number=f"CQC-ASS-2024-{n:06d}") for n in range(150))
    )
    assert "free space" not in run(runner, env, "db", "upgrade")  # nothing to do, nothing freed
    schema.downgrade(state.engine, "0005")
    output = run(runner, env, "db", "upgrade")
    if state.engine.dialect.name == "sqlite":  # 0006 copied the record table
        assert "MiB database file is free space" in output, output
        assert "`VACUUM` returns it" in output
    else:
        assert "free space" not in output, output  # PostgreSQL manages its own space
    assert output.endswith(f"database at revision {schema.head_revision()}\n")


def test_search_reindex_and_refresh_render_the_search_cards(
    runner: CliRunner, env: dict[str, str], app: Flask, client: FlaskClient, make_envelope: Any
) -> None:
    push_accepted(client, make_envelope())
    engine = create_engine(env["REGISTRY_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(SearchCard.__table__.delete())
        assert "rendered 1 search cards" in run(runner, env, "search", "refresh")
        assert "rendered 0 search cards" in run(runner, env, "search", "refresh")
        output = run(runner, env, "search", "reindex")
        assert "indexed 1 organisations" in output
        assert "and 1 search cards" in output
        with engine.connect() as connection:
            cards = connection.execute(select(SearchCard.card)).scalars().all()
    finally:
        engine.dispose()
    [card] = cards
    assert json.loads(card)["certificates"][0]["certificate_number"] == "CQC-ASS-2024-000123"
    assert "CQC-ASS-2024-000123" in run(runner, env, "search", "query", "CQC-ASS")


@pytest.mark.parametrize(
    "args",
    [
        ["push", "http://127.0.0.1:9", "{source}", "--batch-size", "0"],
        ["push", "http://127.0.0.1:9", "{source}", "--batch-size", "-1"],  # pushed nothing, exit 0
        ["push", "http://127.0.0.1:9", "{source}", "--retries", "-1"],
        ["serve", "--port", "99999"],  # werkzeug would listen on 99999 mod 65536
        ["demo", "--count", "-1", "--no-serve"],  # failed half-way, after writing keys
    ],
)
def test_numeric_options_out_of_range_are_usage_errors(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    source = tmp_path / "envelopes.json"
    source.write_text("[]")
    result = runner.invoke(main, [a.format(source=source) for a in args], env=env)
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.output
    assert not (tmp_path / "keys" / "log.pem").exists()


CSV_HEADER = (
    "certificate_number,issuer,version,organisation_name,uscc,scheme,tier,score,score_scale,"
    "scope,original_issue_date,issue_date,expiry_date,status\n"
)
CSV_ROW = (
    "CQC-CS-2025-000001,CNCA-R-2002-001,1,杭州海川电器有限公司,91330100MA2H3B4C5X,"
    "customer-satisfaction,八星级,870,1000,家用电器的销售服务,2025-01-10,2025-01-10,2028-01-09,"
    "valid\n"
)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "missing.csv",
            CSV_HEADER.replace("organisation_name,", "") + CSV_ROW,
            "organisation_name",
        ),
        ("score.csv", CSV_HEADER + CSV_ROW.replace(",870,", ",eighty,"), "row 2"),
        ("scheme.csv", CSV_HEADER + CSV_ROW.replace("customer-satisfaction", "nope"), "row 2"),
        ("gbk.csv", (CSV_HEADER + CSV_ROW).encode("gbk"), "UTF-8"),
        ("truncated.json", '[{"record": ', "JSON"),
        ("empty.json", "", "JSON"),
    ],
)
def test_sign_refuses_malformed_input_with_a_message(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, name: str, content: Any, says: str
) -> None:
    run(runner, env, "keys", "generate", "issuer")
    source = tmp_path / name
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        source.write_text(content, encoding="utf-8")
    key = str(tmp_path / "keys" / "issuer.pem")
    result = runner.invoke(main, ["sign", str(source), "--key", key], env=env)
    refused(result)
    assert says in result.output


def test_sign_reads_json_with_a_byte_order_mark(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    run(runner, env, "keys", "generate", "issuer")
    source = tmp_path / "bom.json"
    source.write_bytes(b"\xef\xbb\xbf[]")
    key = str(tmp_path / "keys" / "issuer.pem")
    assert run(runner, env, "sign", str(source), "--key", key).strip() == "[]"


@pytest.mark.parametrize("command", ["push", "qr"])
def test_push_and_qr_refuse_malformed_json_with_a_message(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, command: str
) -> None:
    source = tmp_path / "truncated.json"
    source.write_text('[{"record": ')
    args = (
        ["push", "http://127.0.0.1:9", str(source)]
        if command == "push"
        else ["qr", str(source), "--out", str(tmp_path / "out")]
    )
    result = runner.invoke(main, args, env=env)
    refused(result)
    assert "JSON" in result.output


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "", "https://x/path"])
def test_qr_refuses_a_public_url_that_is_not_an_origin(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, url: str
) -> None:
    source = tmp_path / "none.json"
    source.write_text("[]")
    result = runner.invoke(
        main, ["qr", str(source), "--out", str(tmp_path / "out"), "--public-url", url], env=env
    )
    assert result.exit_code != 0
    assert "origin" in result.output


class _Answer(http.server.BaseHTTPRequestHandler):
    """Answers every request with the server's ``answer``: (status, content type, body)."""

    def _reply(self) -> None:
        status, kind, body = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def odd_server() -> Iterator[http.server.ThreadingHTTPServer]:
    """A real HTTP server that answers whatever the test sets, as a proxy or portal might."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "answer",
    [
        (200, "text/html", b"<html><body>Welcome to the hotel Wi-Fi</body></html>"),
        (422, "text/html", b"<html>Unprocessable</html>"),
        (200, "application/json", b"[1, 2]"),
        (200, "application/json", b'{"accepted": "x"}'),
    ],
)
def test_push_says_when_the_answer_is_not_the_registrys(
    runner: CliRunner,
    env: dict[str, str],
    tmp_path: Path,
    odd_server: http.server.ThreadingHTTPServer,
    answer: tuple[int, str, bytes],
) -> None:
    odd_server.answer = answer  # type: ignore[attr-defined]
    source = tmp_path / "envelopes.json"
    source.write_text('[{"record": {}, "signature": {}, "qr": ""}]')
    url = f"http://127.0.0.1:{odd_server.server_address[1]}"
    result = runner.invoke(main, ["push", url, str(source), "--retries", "0"], env=env)
    refused(result)


@pytest.mark.parametrize(
    ("issuer", "answer"),
    [
        ("华信", (401, "application/json", b'{"error": {"code": "UnknownKey", "message": "x"}}')),
        ("CNCA-R-2002-001", (200, "text/html", b"<html>portal</html>")),
        ("CNCA-R-2002-001", (200, "application/json", b"[1]")),
    ],
)
def test_reports_says_when_it_cannot_read_the_answer(
    runner: CliRunner,
    env: dict[str, str],
    tmp_path: Path,
    odd_server: http.server.ThreadingHTTPServer,
    issuer: str,
    answer: tuple[int, str, bytes],
) -> None:
    odd_server.answer = answer  # type: ignore[attr-defined]
    run(runner, env, "keys", "generate", "issuer")
    url = f"http://127.0.0.1:{odd_server.server_address[1]}"
    key = str(tmp_path / "keys" / "issuer.pem")
    result = runner.invoke(main, ["reports", url, "--issuer", issuer, "--key", key], env=env)
    refused(result)


@pytest.mark.parametrize("name", ["../escape", "/srv/elsewhere/key", ".", "dir/", "a b", ""])
def test_keys_generate_takes_a_plain_name_only(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, name: str
) -> None:
    """A NAME is a file name in the keys folder: it must not write a key anywhere else."""
    result = runner.invoke(main, ["keys", "generate", name], env=env)
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "escape.pem").exists()
    assert not list(tmp_path.glob("**/*.pem"))


def test_keys_generate_refuses_an_empty_passphrase_before_writing(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(
        main, ["keys", "generate", "issuer", "--passphrase-env", "PP"], env={**env, "PP": ""}
    )
    refused(result)
    assert "empty" in result.output
    assert not list(tmp_path.glob("**/*.pem"))


def test_sign_out_to_a_folder_is_an_error_not_a_traceback(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    run(runner, env, "keys", "generate", "issuer")
    source = tmp_path / "none.json"
    source.write_text("[]")
    key = str(tmp_path / "keys" / "issuer.pem")
    result = runner.invoke(main, ["sign", str(source), "--key", key, "--out", str(tmp_path)])
    refused(result)


@pytest.mark.parametrize("args", [["issuers", "list"], ["keys", "export"]])
def test_a_command_on_a_missing_database_says_to_init_and_creates_nothing(
    runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    instance = tmp_path / "instance"
    env = {"REGISTRY_INSTANCE_PATH": str(instance), "REGISTRY_KEYS_PATH": str(tmp_path / "k")}
    result = runner.invoke(main, args, env=env)
    refused(result)
    assert "registry init" in result.output
    assert not (instance / "registry.db").exists()


def test_search_on_an_empty_database_says_to_init(runner: CliRunner, tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    sqlite3.connect(database).close()  # a SQLite file without the registry's tables
    env = {"REGISTRY_DATABASE_URL": f"sqlite:///{database}", "REGISTRY_KEYS_PATH": str(tmp_path)}
    result = runner.invoke(main, ["search", "query", "华信"], env=env)
    refused(result)
    assert "registry init" in result.output


def test_db_upgrade_of_a_file_that_is_no_database_is_an_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    database = tmp_path / "notes.txt"
    database.write_text("not a database, but some notes that matter\n" * 100)
    env = {"REGISTRY_DATABASE_URL": f"sqlite:///{database}", "REGISTRY_KEYS_PATH": str(tmp_path)}
    result = runner.invoke(main, ["db", "upgrade"], env=env)
    refused(result)


@pytest.mark.parametrize(("typo", "meant"), [("adress", "address"), ("last_audit", "x")])
def test_sign_refuses_a_csv_column_it_does_not_know(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, typo: str, meant: str
) -> None:
    """A misspelt column would silently drop its values from every record."""
    run(runner, env, "keys", "generate", "issuer")
    source = tmp_path / "typo.csv"
    source.write_text(
        CSV_HEADER.replace("scope,", f"scope,{typo},") + CSV_ROW.replace(",家用", ",x,家用"),
        encoding="utf-8",
    )
    key = str(tmp_path / "keys" / "issuer.pem")
    result = runner.invoke(main, ["sign", str(source), "--key", key], env=env)
    assert result.exit_code == 1, result.output
    assert f"unknown column {typo!r}" in result.output


@pytest.mark.parametrize(
    "change",
    [{"kid": "not-its-thumbprint"}, {"alg": "RS256"}, {"use": "enc"}],
)
def test_issuers_add_refuses_a_jwk_that_says_something_else(
    runner: CliRunner, env: dict[str, str], tmp_path: Path, change: dict[str, str]
) -> None:
    """The kid an issuer was given must be the kid the registry registers; and an encryption
    or RSA key document is not an Ed25519 signing key, whatever its x holds."""
    run(runner, env, "init")
    jwk = {**jwk_for(PrivateKey.generate().public_key), **change}
    key_file = tmp_path / "other.jwk.json"
    key_file.write_text(json.dumps(jwk))
    result = runner.invoke(
        main,
        ["issuers", "add", "CNCA-R-2002-001", "--name", "某中心", "--key", str(key_file)],
        env=env,
    )
    assert result.exit_code == 1, result.output
    assert next(iter(change)) in result.output


def test_keys_generate_does_not_take_a_name_and_log(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(main, ["keys", "generate", "mine", "--log"], env=env)
    assert result.exit_code == 2, result.output
    assert not list(tmp_path.glob("**/*.pem"))
