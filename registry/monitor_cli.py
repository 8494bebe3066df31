"""``registry monitor`` and ``registry verify-bundle``: the log checked from outside.

Exit codes: 0 all checks passed, 1 an alarm (the log misbehaved), 2 the check could not be
completed (network, bad arguments or state file).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click

from registry.crypto.errors import VerificationError
from registry.crypto.jcs import parse_json
from registry.domain.calendar import china_today
from registry.domain.status import Status, derive_status
from registry.log.note import NoteVerifier
from registry.monitor import (
    Alarm,
    HttpLog,
    MonitorState,
    MonitorUnavailable,
    VerifiedVersion,
    check,
    dump_state,
    load_state,
    verify_bundle,
)

EXIT_ALARM = 1
EXIT_UNAVAILABLE = 2


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@click.command("monitor")
@click.argument("registry_url")
@click.option(
    "--state",
    "state_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file holding what the monitor saw last; created on first use.",
)
@click.option("--log-key", help="The log's C2SP verifier key (else pinned on first use).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def monitor(registry_url: str, state_file: Path, log_key: str | None, as_json: bool) -> None:
    """Check REGISTRY_URL's log against what was seen before; report new, changed and revoked
    certificates. Exits 1 with an ALARM when the log misbehaves."""
    log = HttpLog(registry_url)
    try:
        if log_key is not None:
            NoteVerifier.from_verifier_key(log_key)
        if state_file.exists():
            state = load_state(state_file.read_bytes())
            if log_key is not None and log_key != state.log_key:
                _fail(
                    f"--log-key differs from the key pinned in {state_file}; refusing to "
                    "switch keys silently (start a new state file to re-pin)",
                    EXIT_UNAVAILABLE,
                )
        else:
            pinned = log_key or log.verifier_key()
            NoteVerifier.from_verifier_key(pinned)
            state = MonitorState(log_key=pinned)
            if log_key is None:
                click.echo(f"pinned log key on first use: {pinned}", err=True)
    except ValueError as exc:
        _fail(f"error: {state_file}: {exc}", EXIT_UNAVAILABLE)
    except MonitorUnavailable as exc:
        _fail(f"could not check: {exc}", EXIT_UNAVAILABLE)
    try:
        new_state, report = check(log, state)
    except Alarm as alarm:
        _fail(f"ALARM {alarm.code}: {alarm.message}", EXIT_ALARM)
    except MonitorUnavailable as exc:
        _fail(f"could not check: {exc}", EXIT_UNAVAILABLE)
    # Write then rename, so an interrupted run never leaves half a state file.
    temporary = state_file.with_name(state_file.name + ".tmp")
    try:
        temporary.write_text(dump_state(new_state), encoding="utf-8")
        os.replace(temporary, state_file)
    except OSError as exc:
        _fail(f"could not save the state to {state_file}: {exc.strerror}", EXIT_UNAVAILABLE)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
        return
    click.echo(f"checkpoint verified: {report.new_size} entries (was {report.old_size})")
    for title, lines in (
        ("key event", report.key_events),
        ("new", report.new),
        ("changed", report.changed),
        ("revoked", report.revoked),
        ("warning", report.warnings),
    ):
        for line in lines:
            click.echo(f"{title}: {line}")


@click.command("verify-bundle")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--log-key", help="The log's verifier key, obtained independently (recommended).")
def verify_bundle_command(bundle_file: Path, log_key: str | None) -> None:
    """Verify an offline proof bundle (from /c/<number>/proof.json) without the network."""
    if log_key is not None:
        try:
            NoteVerifier.from_verifier_key(log_key)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--log-key") from exc
    try:
        bundle = parse_json(bundle_file.read_bytes())
        if not isinstance(bundle, dict):
            raise VerificationError("a bundle is a JSON object", "BadBundle")
        verified = verify_bundle(bundle, log_key)
    except (ValueError, VerificationError) as exc:
        _fail(f"INVALID: {exc}", EXIT_ALARM)
    checkpoint = verified.checkpoint
    click.echo(
        f"OK {verified.issuer} {verified.certificate_number}: "
        f"{len(verified.versions)} version(s) in the log {checkpoint.origin} "
        f"of {checkpoint.size} entries"
    )
    today = china_today(dt.datetime.now(dt.UTC))
    for version in verified.versions:
        click.echo(
            f"  v{version.version} at index {version.log_index}: {_status_line(version, today)}"
        )
        if version.warning is not None:
            click.echo(f"warning: v{version.version} {version.warning}", err=True)
    if log_key is None:
        click.echo(
            "note: checked against the log key inside the bundle; pass --log-key (from "
            "/log/key, obtained independently) to pin it",
            err=True,
        )


def _status_line(version: VerifiedVersion, today: dt.date) -> str:
    """A version's status as of ``today`` in China, and its expiry: a certificate signed as
    valid reads expired after its expiry date (docs/formats.md)."""
    signed, expiry = version.record.get("status"), version.record.get("expiry_date")
    try:
        derived = derive_status(Status(str(signed)), dt.date.fromisoformat(str(expiry)), today)
    except ValueError:  # verified, so well formed; but say only what the record says
        return f"{signed}, expires {expiry}"
    if derived.value == signed:
        return f"{signed}, expires {expiry}"
    return f"{derived.value} (signed as {signed}), expired {expiry}"
