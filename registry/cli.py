"""The ``registry`` command: operate a registry, and sign and push as an issuer.

It sits outside the app (STYLE rule 15): commands that need the database build settings and an
engine themselves; only ``serve`` and ``demo`` create the Flask app.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry import monitor_cli, qr_cli, search_cli
from registry.app import LOG_KEY_FILE, create_app, utc_now
from registry.cli_input import csv_records, json_items, ready_engine
from registry.crypto.jcs import parse_json
from registry.crypto.jwks import jwk_for, signing_key
from registry.crypto.keys import PrivateKey, PublicKey
from registry.domain.calendar import china_today, parse_rfc3339
from registry.settings import Settings, SettingsError
from registry.store import schema
from registry.store.db import make_engine, make_sessionmaker

if TYPE_CHECKING:
    from flask import Flask


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A session on a private engine, disposed afterwards (a CLI run holds no pool); the
    database must exist and be migrated (:func:`registry.cli_input.ready_engine`)."""
    with ready_engine(settings.database_url) as engine, make_sessionmaker(engine)() as session:
        yield session


#: Free pages above this share of a SQLite file after an upgrade earn a hint to VACUUM.
VACUUM_HINT_SHARE = 0.1


def _upgrade(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        schema.upgrade(engine)
        space = schema.free_space(engine)
    except DBAPIError as exc:  # not a database, or tables that are not the registry's
        raise click.ClickException(f"cannot migrate the database: {exc.orig}") from exc
    except CommandError as exc:  # a revision this registry does not know
        raise click.ClickException(f"cannot migrate the database: {exc}") from exc
    finally:
        engine.dispose()
    if space is not None and space[0] > VACUUM_HINT_SHARE * space[1]:
        free, size = (f"{n / 2**20:,.1f} MiB" for n in space)
        click.echo(
            f"{free} of the {size} database file is free space (a migration rebuilt a table); "
            "`VACUUM` returns it to the disk: see docs/operations.md, 'Upgrades that take time'"
        )


def _passphrase(env_var: str | None) -> bytes | None:
    if not env_var:
        return None
    value = os.environ.get(env_var)
    if value is None:
        raise click.ClickException(f"environment variable {env_var} is not set")
    if not value:
        raise click.ClickException(
            f"environment variable {env_var} is empty: an empty passphrase protects nothing"
        )
    return value.encode()


def write_private_key(path: Path, key: PrivateKey, passphrase: bytes | None) -> None:
    """Write a PEM private key with mode 0600 from the start (never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.to_pem(passphrase))


def _write_out(out: Path, text: str) -> None:
    """Write ``text`` to the file ``--out`` names, or say why it cannot be."""
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"--out {out}: {exc.strerror}") from exc


def load_private_key(path: Path, passphrase_env: str | None) -> PrivateKey:
    try:
        return PrivateKey.from_pem(path.read_bytes(), _passphrase(passphrase_env))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


@click.group()
@click.version_option(package_name="certificate-registry")
def main() -> None:
    """Certificate Registry: a public, verifiable registry of service certificates."""


# --- database ------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    settings = _settings()
    _upgrade(settings)
    click.echo(f"database at revision {schema.head_revision()}")


def initialise(settings: Settings) -> None:
    """Migrate the database and create the log key if there is none."""
    _upgrade(settings)
    log_key = settings.keys_path / LOG_KEY_FILE
    if not log_key.exists():
        passphrase = settings.log_key_passphrase.encode() if settings.log_key_passphrase else None
        write_private_key(log_key, PrivateKey.generate(), passphrase)
        click.echo(f"wrote the registry's log key to {log_key}")


@main.command("init")
def init() -> None:
    """Migrate the database and create the registry's log key if missing."""
    initialise(_settings())
    click.echo("ready")


# --- keys ----------------------------------------------------------------------------------


#: A key's NAME: a plain file name in the keys folder, never a path.
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: A TCP port to listen on.
_PORT = click.IntRange(1, 65535)
#: A key file named on the command line: it must exist and be a file.
_KEY_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.group("keys")
def keys_group() -> None:
    """Generate, export and revoke keys."""


@keys_group.command("generate")
@click.argument("name", required=False)
@click.option("--log", "log_key", is_flag=True, help="Generate the registry's own log key.")
@click.option("--passphrase-env", help="Encrypt the PEM with the passphrase in this variable.")
def keys_generate(name: str | None, log_key: bool, passphrase_env: str | None) -> None:
    """Write keys/NAME.pem (private, mode 0600) and keys/NAME.jwk.json (public)."""
    settings = _settings()
    if log_key and name:
        raise click.UsageError("give a NAME or --log, not both (the log key's name is fixed)")
    if log_key:
        name = LOG_KEY_FILE.removesuffix(".pem")
    if not name:
        raise click.UsageError("give a NAME or --log")
    if not _KEY_NAME.fullmatch(name):
        raise click.BadParameter(
            "a file name in the keys folder: letters, digits, '.', '_' and '-', not starting "
            "with '.' or '-'",
            param_hint="NAME",
        )
    pem = settings.keys_path / f"{name}.pem"
    public = settings.keys_path / f"{name}.jwk.json"
    if pem.exists():
        raise click.ClickException(f"{pem} exists; refusing to overwrite a key")
    passphrase = _passphrase(passphrase_env)
    key = PrivateKey.generate()
    jwk = jwk_for(key.public_key)
    try:
        write_private_key(pem, key, passphrase)
        try:
            public.write_text(json.dumps(jwk, indent=2) + "\n")
        except OSError:
            pem.unlink()  # both files or neither: a private key without its public half
            raise
    except OSError as exc:
        raise click.ClickException(f"{exc.filename}: {exc.strerror}") from exc
    click.echo(f"{pem}\nkid {key.public_key.thumbprint}")


@keys_group.command("export")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Write here instead of stdout.")
def keys_export(out: Path | None) -> None:
    """Export every issuer key as a JWKS, for offline verification (`registry verify --keys`)."""
    from registry.services.issuers import jwk, keys_of

    settings = _settings()
    now = utc_now()
    with _session(settings) as session:
        document = {"keys": [jwk(k, now) for k in keys_of(session)]}
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out:
        _write_out(out, text)
    else:
        click.echo(text, nl=False)


# A kid is base64url: one in 64 starts with "-", which is no option here (the command has no
# short options, and its only long one is --since).
@keys_group.command("compromise", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@click.option("--since", required=True, help="RFC 3339 time from which the key is compromised.")
def keys_compromise(kid: str, since: str) -> None:
    """Mark a key compromised from --since: later pushes are rejected, stored records flagged."""
    from registry.services.issuers import KeyEventRejected, mark_compromised, parse_iso

    settings = _settings()
    with _session(settings) as session:
        try:
            event = mark_compromised(session, kid, parse_iso(since, "--since"), utc_now())
        except KeyEventRejected as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc
        session.commit()
    click.echo(f"key {kid} marked compromised (log index {event.log_index})")


# --- issuers -------------------------------------------------------------------------------


@main.group("issuers")
def issuers_group() -> None:
    """Register certification bodies and their keys (operator actions)."""


def _public_key_from_file(path: Path) -> PublicKey:
    text = path.read_bytes()
    try:
        if text.lstrip().startswith(b"{"):
            jwk = parse_json(text)
            if not isinstance(jwk, dict):
                raise ValueError("not a JWK object")
            return signing_key(jwk)
        return PublicKey.from_pem(text)
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


@issuers_group.command("add")
@click.argument("issuer_id")
@click.option("--name", required=True, help="Registered name (Chinese).")
@click.option("--name-en", help="English name.")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=_KEY_FILE,
    help="The issuer's public key: a JWK (.jwk.json) or a PEM public key.",
)
def issuers_add(issuer_id: str, name: str, name_en: str | None, key_file: Path) -> None:
    """Register ISSUER_ID with its first public key."""
    from registry.services.issuers import KeyEventRejected, register_issuer

    settings = _settings()
    key = _public_key_from_file(key_file)
    with _session(settings) as session:
        try:
            event = register_issuer(session, issuer_id, name, name_en, key, utc_now())
        except KeyEventRejected as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc
        session.commit()
    click.echo(f"registered {issuer_id} with key {event.kid} (log index {event.log_index})")


@issuers_group.command("add-key")
@click.argument("issuer_id")
@click.option("--key", "key_file", required=True, type=_KEY_FILE)
def issuers_add_key(issuer_id: str, key_file: Path) -> None:
    """Register a further public key for ISSUER_ID."""
    from registry.services.issuers import KeyEventRejected, add_key

    settings = _settings()
    with _session(settings) as session:
        try:
            event = add_key(session, issuer_id, _public_key_from_file(key_file), utc_now())
        except KeyEventRejected as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc
        session.commit()
    click.echo(f"added key {event.kid} to {issuer_id} (log index {event.log_index})")


@issuers_group.command("list")
def issuers_list() -> None:
    """List issuers and their keys."""
    from registry.services.issuers import key_status, keys_of

    settings = _settings()
    now = utc_now()
    with _session(settings) as session:
        for key in keys_of(session):
            click.echo(f"{key.issuer_id}\t{key.kid}\t{key_status(key, now)}")


# --- the issuer's tools --------------------------------------------------------------------


@main.command("sign")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=_KEY_FILE)
@click.option("--passphrase-env", help="Variable holding the key's passphrase.")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Default: stdout.")
def sign(source: Path, key_file: Path, passphrase_env: str | None, out: Path | None) -> None:
    """Sign certificates (a JSON array of records, or CSV) into envelopes (a JSON array)."""
    from registry.client import Signer
    from registry.domain.problems import RecordInvalid

    signer = Signer(load_private_key(key_file, passphrase_env))
    records: list[Any] = (
        csv_records(source) if source.suffix.lower() == ".csv" else json_items(source)
    )
    envelopes = []
    for position, record in enumerate(records):
        try:
            envelopes.append(signer.envelope(record))
        except RecordInvalid as exc:
            raise click.ClickException(f"item {position}: {exc}") from exc
        except (KeyError, ValueError, TypeError) as exc:
            raise click.ClickException(f"item {position}: malformed input ({exc})") from exc
    text = json.dumps(envelopes, ensure_ascii=False, indent=1) + "\n"
    if out:
        _write_out(out, text)
    else:
        click.echo(text, nl=False)


@main.command("push")
@click.argument("registry_url")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
@click.option("--retries", default=5, show_default=True, type=click.IntRange(min=0))
def push(registry_url: str, source: Path, batch_size: int, retries: int) -> None:
    """Push signed envelopes (from `registry sign`) to REGISTRY_URL. Safe to re-run."""
    from registry.client import PushError, RegistryClient

    envelopes = json_items(source)
    client = RegistryClient(registry_url, retries=retries)
    totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
    try:
        for offset, report in zip(
            range(0, len(envelopes), batch_size), client.push(envelopes, batch_size), strict=False
        ):
            try:
                for name in totals:
                    totals[name] += int(report.get(name, 0))
                for item in report.get("results", []):
                    if item.get("outcome") == "rejected":
                        errors = "; ".join(
                            f"{e['code']}: {e['message']}" for e in item.get("errors", [])
                        )
                        click.echo(f"item {offset + item['position']} rejected: {errors}", err=True)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise click.ClickException(
                    f"items {offset}-{offset + batch_size - 1}: the answer is not a push report "
                    f"({exc!r}); pushed so far: {json.dumps(totals)}"
                ) from exc
    except PushError as exc:
        raise click.ClickException(f"{exc}; pushed so far: {json.dumps(totals)}") from exc
    click.echo(json.dumps(totals))
    if totals["rejected"]:
        sys.exit(1)


@main.command("reports")
@click.argument("registry_url")
@click.option("--issuer", "issuer_id", required=True, help="Your issuer id.")
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--passphrase-env", help="Variable holding the key's passphrase.")
@click.option("--since", help="Reports since this time (RFC 3339) or scans since this day.")
@click.option("--scans", is_flag=True, help="Scan counts per certificate and day instead.")
def reports(
    registry_url: str,
    issuer_id: str,
    key_file: Path,
    passphrase_env: str | None,
    since: str | None,
    scans: bool,
) -> None:
    """Fetch your label reports (or scan counts) from REGISTRY_URL as JSON lines, signing
    each request with a current key of yours."""
    from registry.client import RegistryClient, RequestFailed

    day: dt.date | None = None
    moment: dt.datetime | None = None
    try:
        if since and scans:
            day = dt.date.fromisoformat(since)
        elif since:
            moment = parse_rfc3339(since, "--since")
    except ValueError as exc:
        example = "2026-03-01" if scans else "2026-03-01T00:00:00Z"
        raise click.BadParameter(f"{exc}, e.g. {example}", param_hint="--since") from exc
    client = RegistryClient(registry_url)
    key = load_private_key(key_file, passphrase_env)
    try:
        rows: Iterable[dict[str, Any]]
        if scans:
            rows = client.scans(issuer_id, key, day)
        else:
            rows = client.reports(issuer_id, key, moment)
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    except RequestFailed as exc:
        raise click.ClickException(str(exc)) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise click.ClickException(f"the answer is not the registry's reports ({exc!r})") from exc


# --- serving -------------------------------------------------------------------------------


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=_PORT)
def serve(host: str, port: int) -> None:
    """Serve an existing database with the development server (production: gunicorn)."""
    try:
        app = create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    _run(app, host, port)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=_PORT)
@click.option(
    "--count",
    default=400,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many certificate records.",
)
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
def demo(host: str, port: int, count: int, no_serve: bool) -> None:
    """Create a demo database with realistic certificates, pushed through the API, and serve it."""
    from registry.demo import load_demo

    settings = _settings()
    initialise(settings)
    try:
        app = create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    summary = load_demo(app, count=count, today=china_today(utc_now()))
    click.echo(summary)
    if no_serve:
        app.extensions["registry"].engine.dispose()
    else:
        click.echo(f"serving on http://{host}:{port}/")
        _run(app, host, port)


def _run(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` with the development server, with a scan-count writer as gunicorn's
    workers have (deploy/gunicorn.conf.py), and write the counts left when it stops (on
    Ctrl-C or SIGTERM)."""
    from registry.web.scan import flush_scan_counts, start_count_writer

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    start_count_writer(app)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        app.run(host=host, port=port, threaded=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        flush_scan_counts(app)


main.add_command(monitor_cli.monitor)
main.add_command(monitor_cli.verify_bundle_command)
main.add_command(qr_cli.qr_command)
main.add_command(qr_cli.verify_command)
main.add_command(search_cli.search_group)
