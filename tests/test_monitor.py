"""The monitor watching a live registry (on both databases), and raising the alarm when the
operator tampers with the database behind the registry's back."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from registry.app import Registry
from registry.cli import main
from registry.client import Signer
from registry.crypto.jcs import canonicalize, parse_json
from registry.crypto.keys import PrivateKey
from registry.domain.calendar import rfc3339
from registry.services import transparency
from registry.services.issuers import mark_compromised
from registry.store.models import Checkpoint as CheckpointRow
from registry.store.models import LogEntry, LogHash, LogState, RecordVersion
from tests.conftest import ISSUER_ID, ISSUER_KEY, Clock, record_json
from tests.live_server import serve

MakeEnvelope = Callable[..., dict[str, Any]]


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture
def watch(base_url: str, tmp_path: Path, runner: CliRunner) -> Callable[..., Result]:
    """Run ``registry monitor`` against the live registry with one state file."""
    state_file = tmp_path / "monitor.json"

    def run(*extra: str) -> Result:
        return runner.invoke(
            main, ["monitor", base_url, "--state", str(state_file), "--json", *extra]
        )

    return run


def report(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def saved_bundle(client: FlaskClient, tmp_path: Path) -> Path:
    """The offline proof bundle of CQC-ASS-2024-000123, as served, in tmp_path/bundle.json."""
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_bytes(client.get("/c/CQC-ASS-2024-000123/proof.json").data)
    return bundle_file


def push(client: FlaskClient, clock: Clock, *envelopes: dict[str, Any]) -> None:
    response = client.post("/api/v1/records", json=list(envelopes))
    assert response.status_code == 200
    assert response.get_json()["accepted"] == len(envelopes), response.text
    clock.advance(seconds=2)  # past the checkpoint interval: the next read signs a checkpoint


def test_monitor_reports_new_changed_and_revoked_certificates_and_key_events(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    signer: Signer,
    state: Registry,
    watch: Callable[..., Result],
) -> None:
    push(client, clock, make_envelope(), make_envelope(certificate_number="CQC-ASS-2024-000124"))
    first = report(watch())
    assert (first["old_size"], first["new_size"]) == (0, 3)
    assert first["new"] == [
        f"{ISSUER_ID} CQC-ASS-2024-000123 v1 (valid)",
        f"{ISSUER_ID} CQC-ASS-2024-000124 v1 (valid)",
    ]
    assert first["key_events"][0].startswith(f"entry 0: {ISSUER_ID} registered key")

    push(
        client,
        clock,
        make_envelope(
            version=2,
            status="withdrawn",
            status_reason="证书持有者申请撤销",
            status_effective_date="2026-02-01",
        ),
    )
    new_key = PrivateKey.from_seed(b"issuer-one-second-key-0000000002")
    rollover = signer.rollover(ISSUER_ID, new_key.public_key, clock.now, clock.now)
    assert client.post("/api/v1/keys/rollover", json=rollover).status_code == 201
    push(
        client,
        clock,
        Signer(new_key).envelope(
            {**make_envelope()["record"], "certificate_number": "CQC-ASS-2024-000200"},
            issued_at=1_767_225_600,
        ),
    )
    with state.sessions() as session:
        mark_compromised(session, signer.key.public_key.thumbprint, clock.now, clock.now)
        session.commit()
    clock.advance(seconds=2)

    second = report(watch())
    assert (second["old_size"], second["new_size"]) == (3, 7)
    assert second["changed"] == [f"{ISSUER_ID} CQC-ASS-2024-000123 v1 -> v2 (valid -> withdrawn)"]
    assert second["revoked"] == [f"{ISSUER_ID} CQC-ASS-2024-000123 v2 (withdrawn)"]
    assert second["new"] == [f"{ISSUER_ID} CQC-ASS-2024-000200 v1 (valid)"]
    assert len(second["key_events"]) == 2
    assert "rolled over" in second["key_events"][0]
    assert "compromised" in second["key_events"][1]

    quiet = report(watch())
    assert (quiet["old_size"], quiet["new_size"], quiet["new"]) == (7, 7, [])


def test_monitor_pins_the_log_key(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    state: Registry,
    watch: Callable[..., Result],
) -> None:
    push(client, clock, make_envelope())
    impostor = PrivateKey.from_seed(b"not-the-log-key-0000000000000000")
    from registry.log.note import NoteSigner

    wrong = NoteSigner(state.settings.log_origin, impostor).verifier_key
    result = watch("--log-key", wrong)
    assert result.exit_code == 1
    assert "ALARM BadCheckpointSignature" in result.stderr
    assert report(watch("--log-key", state.log_signer.verifier_key))["new_size"] == 2
    result = watch("--log-key", wrong)  # the state file pinned the real key
    assert result.exit_code == 2
    assert "differs from the key pinned" in result.stderr


# --- tampering: each function is a malicious operator working on the database directly --------


def _resign(state: Registry, clock: Clock) -> None:
    """Publish a checkpoint of the (rewritten) log with the real log key."""
    clock.advance(seconds=5)
    with state.sessions() as session:
        transparency.fresh_checkpoint(
            session, state.log_signer, state.settings.log_origin, 1.0, clock.now
        )
        session.commit()


def edit_record(state: Registry, clock: Clock, last_seen: int) -> None:
    """Change the scope in the stored bytes of the newest record (log entry and record row)."""
    with state.sessions() as session:
        row = session.execute(select(LogEntry).where(LogEntry.idx == last_seen + 1)).scalar_one()
        edited = row.data.replace("家用电器".encode(), "工业设备".encode())
        assert edited != row.data
        row.data = edited
        session.execute(
            update(RecordVersion)
            .where(RecordVersion.log_index == last_seen + 1)
            .values(envelope=edited)
        )
        session.commit()


def delete_entry(state: Registry, clock: Clock, last_seen: int) -> None:
    with state.sessions() as session:
        session.execute(delete(LogEntry).where(LogEntry.idx == last_seen + 1))
        session.commit()


def _truncate_and_append(state: Registry, clock: Clock, keep: int, count: int) -> None:
    """Cut the log back to ``keep`` entries, append ``count`` others, and re-sign."""
    with state.sessions() as session:
        session.execute(delete(LogEntry).where(LogEntry.idx >= keep))
        for level in range(64):
            session.execute(
                delete(LogHash).where(LogHash.level == level, LogHash.idx >= keep >> level)
            )
        session.execute(delete(CheckpointRow).where(CheckpointRow.size > keep))
        session.execute(update(LogState).values(size=keep))
        size = transparency.lock(session)
        forged = [
            canonicalize({"event": {"type": "note", "issuer": "X", "n": n}}) for n in range(count)
        ]
        transparency.append(session, size, [("key", data) for data in forged], clock.now)
        session.commit()
    _resign(state, clock)


def rewrite_history(state: Registry, clock: Clock, last_seen: int) -> None:
    """Truncate below what the monitor saw and re-append more, different entries."""
    _truncate_and_append(state, clock, 1, last_seen + 3)


def rewrite_same_size(state: Registry, clock: Clock, last_seen: int) -> None:
    _truncate_and_append(state, clock, 1, last_seen)  # as many entries as the monitor saw


def shrink(state: Registry, clock: Clock, last_seen: int) -> None:
    _truncate_and_append(state, clock, 1, 0)


def forge_checkpoint(state: Registry, clock: Clock, last_seen: int) -> None:
    """Edit the newest checkpoint's root without the log key."""
    with state.sessions() as session:
        row = session.execute(
            select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1)
        ).scalar_one()
        origin, size, _root, rest = row.note.split("\n", 3)
        row.note = "\n".join([origin, size, "A" * 43 + "=", rest])
        session.commit()


def forge_record(state: Registry, clock: Clock, last_seen: int) -> None:
    """Append, properly hashed and checkpointed, a record the issuer never signed as is."""
    with state.sessions() as session:
        data = session.execute(select(LogEntry.data).where(LogEntry.idx == 1)).scalar_one()
        envelope = parse_json(data)
        assert isinstance(envelope, dict)
        envelope["record"]["tier"] = "四星级"
        size = transparency.lock(session)
        transparency.append(session, size, [("record", canonicalize(envelope))], clock.now)
        session.commit()
    _resign(state, clock)


def _compromise(state: Registry, clock: Clock, since: dt.datetime) -> None:
    with state.sessions() as session:
        mark_compromised(session, ISSUER_KEY.public_key.thumbprint, since, clock.now)
        session.commit()
    clock.advance(seconds=1)


def _log_record_of_compromised_key(state: Registry, clock: Clock) -> None:
    """Append a record signed with the issuer's key, round the registry's refusal, and
    re-sign: whoever holds a stolen key could publish what they like."""
    forged = Signer(ISSUER_KEY).envelope(
        record_json(certificate_number="CQC-ASS-2024-000999"), issued_at=1_767_225_600
    )
    with state.sessions() as session:
        size = transparency.lock(session)
        transparency.append(session, size, [("record", canonicalize(forged))], clock.now)
        session.commit()
    _resign(state, clock)


def use_compromised_key(state: Registry, clock: Clock, last_seen: int) -> None:
    """Log the issuer key's compromise, then a record signed with it anyway."""
    _compromise(state, clock, clock.now - dt.timedelta(hours=1))
    _log_record_of_compromised_key(state, clock)


def withdraw_a_compromise(state: Registry, clock: Clock, last_seen: int) -> None:
    """Log the key's compromise, then a second event that moves it a year later, which the
    registry itself refuses: records signed in between would read as trusted again."""
    since = clock.now - dt.timedelta(hours=1)
    _compromise(state, clock, since)
    later = {
        "event": {
            "type": "key-compromise",
            "issuer": ISSUER_ID,
            "kid": ISSUER_KEY.public_key.thumbprint,
            "compromised_from": rfc3339(since + dt.timedelta(days=365)),
            "recorded_at": rfc3339(clock.now),
        }
    }
    with state.sessions() as session:
        size = transparency.lock(session)
        transparency.append(session, size, [("key", canonicalize(later))], clock.now)
        session.commit()
    _resign(state, clock)


@pytest.mark.parametrize(
    ("tamper", "alarm"),
    [
        (edit_record, "RootMismatch"),
        (delete_entry, "EntriesWithheld"),
        (rewrite_history, "InconsistentTree"),
        (rewrite_same_size, "Fork"),
        (shrink, "LogShrank"),
        (forge_checkpoint, "BadCheckpointSignature"),
        (forge_record, "BadEntrySignature"),
        (use_compromised_key, "CompromisedKeyUsed"),
        (withdraw_a_compromise, "CompromiseWithdrawn"),
    ],
)
def test_monitor_raises_the_alarm_on_tampering(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    state: Registry,
    watch: Callable[..., Result],
    tamper: Callable[[Registry, Clock, int], None],
    alarm: str,
) -> None:
    push(client, clock, make_envelope(), make_envelope(certificate_number="CQC-ASS-2024-000124"))
    seen = report(watch())["new_size"]
    assert seen == 3
    push(client, clock, make_envelope(certificate_number="CQC-ASS-2024-000125"))
    tamper(state, clock, seen - 1)
    for _ in range(2):  # the state is not advanced past an alarm: it keeps ringing
        result = watch()
        assert result.exit_code == 1, result.output
        assert f"ALARM {alarm}:" in result.stderr


def test_monitor_remembers_a_compromise_between_runs(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    state: Registry,
    watch: Callable[..., Result],
) -> None:
    push(client, clock, make_envelope())
    _compromise(state, clock, clock.now)
    clock.advance(seconds=2)
    assert "compromised" in report(watch())["key_events"][-1]
    _log_record_of_compromised_key(state, clock)
    result = watch()
    assert result.exit_code == 1, result.output
    assert "ALARM CompromisedKeyUsed:" in result.stderr


def test_monitor_warns_about_records_before_a_compromise_it_was_told_of_in_advance(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    state: Registry,
    watch: Callable[..., Result],
) -> None:
    # A compromise logged before it takes effect: the registry still accepts the key until
    # then, and the entries carry no times, so the monitor can only warn.
    _compromise(state, clock, clock.now + dt.timedelta(days=1))
    push(client, clock, make_envelope())
    seen = report(watch())
    assert seen["new"] == [f"{ISSUER_ID} CQC-ASS-2024-000123 v1 (valid)"]
    assert len(seen["warnings"]) == 1
    assert "marked compromised from" in seen["warnings"][0]


def test_monitor_cannot_check_an_unreachable_registry(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        main, ["monitor", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 2
    assert "could not check" in result.stderr


def test_verify_bundle_command(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    state: Registry,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    push(client, clock, make_envelope())
    bundle_file = saved_bundle(client, tmp_path)
    key = state.log_signer.verifier_key
    ok = runner.invoke(main, ["verify-bundle", str(bundle_file), "--log-key", key])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith(f"OK {ISSUER_ID} CQC-ASS-2024-000123: 1 version(s)")
    bundle = json.loads(bundle_file.read_text())
    bundle["versions"][0]["log_index"] = 0
    bundle_file.write_text(json.dumps(bundle))
    bad = runner.invoke(main, ["verify-bundle", str(bundle_file), "--log-key", key])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("INVALID: ")


def test_verify_bundle_heeds_a_compromised_key(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    state: Registry,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    """As `registry verify` judges a scan token: signed (iat) after the compromise began is
    invalid; before it, genuine with a warning to check with the issuer."""
    push(client, clock, make_envelope())  # its tokens are issued at 2026-01-01T00:00:00Z
    key = state.log_signer.verifier_key

    def verify_after_compromise(since: dt.datetime) -> Result:
        _compromise(state, clock, since)
        bundle_file = saved_bundle(client, tmp_path)
        return runner.invoke(main, ["verify-bundle", str(bundle_file), "--log-key", key])

    later = verify_after_compromise(dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert later.exit_code == 0, later.output
    assert "compromised from 2026-02-01T00:00:00Z" in later.stderr
    earlier = verify_after_compromise(dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert earlier.exit_code == 1
    assert earlier.stderr.startswith("INVALID: ")
    assert "compromised" in earlier.stderr


def _corrupt(state: dict[str, Any], how: str) -> Any:
    if how == "null":
        return None
    if how == "list":
        return [1]
    if how == "keys-list":
        return {**state, "keys": []}
    if how == "log-key":
        return {**state, "log_key": "junk"}
    if how == "root-short":
        return {**state, "root": "AAAA"}
    if how == "size-negative":
        return {**state, "size": -3}
    if how == "size-fraction":
        return {**state, "size": 2.5}
    if how == "frontier-empty":
        return {**state, "frontier": []}
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "null",
        "list",
        "keys-list",
        "log-key",
        "root-short",
        "size-negative",
        "size-fraction",
        "frontier-empty",
    ],
)
def test_a_corrupt_state_file_is_an_error_not_an_alarm(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    watch: Callable[..., Result],
    tmp_path: Path,
    how: str,
) -> None:
    """Exit 1 is the log breaking a promise; a state file damaged on the watcher's own disk
    must not read as one (nor crash): it is exit 2, saying the state is malformed."""
    push(client, clock, make_envelope(), make_envelope(certificate_number="CQC-ASS-2024-000124"))
    report(watch())
    state_file = tmp_path / "monitor.json"
    state_file.write_text(json.dumps(_corrupt(json.loads(state_file.read_text()), how)))
    result = watch()
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "malformed monitor state" in result.stderr
    assert "ALARM" not in result.stderr


def test_a_state_file_in_a_missing_folder_is_an_error(
    base_url: str, runner: CliRunner, tmp_path: Path, client: FlaskClient
) -> None:
    state_file = tmp_path / "no-such-folder" / "monitor.json"
    result = runner.invoke(main, ["monitor", base_url, "--state", str(state_file)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "could not save" in result.stderr


def test_verify_bundle_says_a_bad_log_key_is_the_argument(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    """A junk --log-key is the user's argument (exit 2), not a fault of the bundle (exit 1)."""
    push(client, clock, make_envelope())
    bundle_file = saved_bundle(client, tmp_path)
    result = runner.invoke(main, ["verify-bundle", str(bundle_file), "--log-key", "junk"])
    assert result.exit_code == 2, result.output
    assert "--log-key" in result.output


def test_verify_bundle_says_an_expired_certificate_is_expired(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    """The record says "valid"; past its expiry date the certificate is not."""
    push(client, clock, make_envelope(expiry_date="2026-02-28"))  # the clock reads 2026-03-01
    bundle_file = saved_bundle(client, tmp_path)
    result = runner.invoke(main, ["verify-bundle", str(bundle_file)])
    assert result.exit_code == 0, result.output
    assert "v1 at index 1: expired (signed as valid), expired 2026-02-28" in result.stdout


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b.update(type="certificate-proof-bundle/2"),
        lambda b: b.pop("type"),
        lambda b: b["versions"].append(b["versions"][0]),  # one version proven twice
        lambda b: b["versions"][0].update(log_index=str(b["versions"][0]["log_index"])),
        lambda b: b["versions"][0].update(log_index=b["versions"][0]["log_index"] + 0.5),
    ],
)
def test_verify_bundle_refuses_what_is_not_a_bundle_of_this_kind(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    state: Registry,
    tmp_path: Path,
    runner: CliRunner,
    damage: Callable[[dict[str, Any]], object],
) -> None:
    push(client, clock, make_envelope())
    bundle = client.get("/c/CQC-ASS-2024-000123/proof.json").get_json()
    damage(bundle)
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_text(json.dumps(bundle))
    key = state.log_signer.verifier_key
    result = runner.invoke(main, ["verify-bundle", str(bundle_file), "--log-key", key])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("INVALID: ")
