"""``registry qr`` and ``registry verify``: labels and scan checks without a registry.

``registry qr`` writes the same QR images the registry serves at ``/c/<number>/qr.svg`` (and
the label variants) from a file of signed envelopes, for an issuer's print shop.
``registry verify`` checks a scan token against a saved key set (``registry keys export``, or a
copy of ``/.well-known/jwks.json``) with no network; its exit status is the verdict:

====  =========================================================================
0     genuine: a key of the set verified it, and the key was valid when it was signed
1     invalid: malformed, bad signature, wrong issuer, or signed after its key was
      retired or compromised
2     unknown key: no key in the set has the token's kid (also click's status for a
      usage error, which prints the usage first)
====  =========================================================================
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click

from registry.cli_input import json_items
from registry.crypto.errors import VerificationError
from registry.crypto.jcs import canonicalize, parse_json
from registry.crypto.jwks import parse_jwks
from registry.crypto.scantoken import ScanToken, scan_url, token_text_from_url
from registry.domain.problems import RecordInvalid
from registry.domain.record import Record
from registry.services import labels
from registry.services.ingest import token_disagreements
from registry.services.issuers import KeyEventRejected, parse_iso
from registry.services.scan import ScanKey, verify_token
from registry.settings import public_url_problem

EXIT_GENUINE, EXIT_INVALID, EXIT_UNKNOWN_KEY = 0, 1, 2


@click.command("qr")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the images to (created if missing).",
)
@click.option(
    "--public-url",
    envvar="REGISTRY_PUBLIC_URL",
    default="https://registry.example.cn",
    show_default=True,
    show_envvar=True,
    help="The registry's https origin printed in the codes.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(labels.FORMATS),
    multiple=True,
    help="svg, png or both (the default).",
)
@click.option(
    "--label/--no-label",
    default=True,
    show_default=True,
    help="Also write the label variant (number and tier under the code).",
)
@click.option(
    "--size",
    default=labels.DEFAULT_SIZE,
    show_default=True,
    type=click.IntRange(labels.MIN_SIZE, labels.MAX_SIZE),
    help="Pixels per module.",
)
@click.option(
    "--margin",
    default=labels.DEFAULT_MARGIN,
    show_default=True,
    type=click.IntRange(0, labels.MAX_MARGIN),
    help="Quiet zone in modules.",
)
def qr_command(
    source: Path,
    out: Path,
    public_url: str,
    formats: tuple[str, ...],
    label: bool,
    size: int,
    margin: int,
) -> None:
    """Write QR images for every envelope in SOURCE (the output of `registry sign`).

    Files are named NUMBER-vVERSION.qr.svg, .qr.png, .label.svg and .label.png.
    """
    problem = public_url_problem(public_url)
    if problem is not None:
        raise click.ClickException(f"--public-url {public_url!r} {problem}")
    public_url = public_url.rstrip("/")
    envelopes = json_items(source)
    # Every envelope is checked before any image is written: no half-written folder.
    checked = [
        _label_of(position, envelope, public_url) for position, envelope in enumerate(envelopes)
    ]
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for position, (record, url) in enumerate(checked):
        caption = labels.Caption(record.certificate_number, record.tier, record.tier_def.code)
        stem = f"{record.certificate_number}-v{record.version}"
        for kind in dict.fromkeys(formats or labels.FORMATS):
            try:
                (out / f"{stem}.qr.{kind}").write_bytes(labels.render(kind, url, size, margin))
                if label:
                    data = labels.render(kind, url, size, margin, caption)
                    (out / f"{stem}.label.{kind}").write_bytes(data)
            except labels.LabelTooLarge as exc:
                raise click.ClickException(f"item {position}: {exc}") from exc
            written += 2 if label else 1
    click.echo(f"wrote {written} images for {len(envelopes)} certificates to {out}")


def _label_of(position: int, envelope: object, public_url: str) -> tuple[Record, str]:
    """The record of a signed envelope and the URL its code carries.

    Raises:
        click.ClickException: it is not an envelope, or its scan token is of another record
            (the label prints the record's number and tier under the token's code).
    """
    if not isinstance(envelope, dict):
        raise click.ClickException(f"item {position}: not a signed envelope (not an object)")
    try:
        record = Record.from_json(envelope["record"])
        token = ScanToken.from_text(envelope["qr"])
        digest = hashlib.sha256(canonicalize(envelope["record"])).digest()
    except (KeyError, TypeError, ValueError, VerificationError, RecordInvalid) as exc:
        raise click.ClickException(f"item {position}: not a signed envelope ({exc})") from exc
    wrong = token_disagreements(token.claims, record, digest)
    if wrong:
        raise click.ClickException(
            f"item {position}: the scan token disagrees with the record: {', '.join(wrong)}"
        )
    return record, scan_url(public_url, token)


def load_key_set(path: Path) -> list[ScanKey]:
    """Read a JWKS saved from a registry into the keys a scan check needs.

    Raises:
        click.ClickException: the file is missing or not a registry's JWKS.
    """
    try:
        document = parse_json(path.read_bytes())
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        entries = parse_jwks(document)
        return [
            ScanKey(
                kid=key.thumbprint,
                issuer_id=fields["issuer"],
                public_key=key,
                valid_until=parse_iso(fields["valid_until"], "valid_until")
                if "valid_until" in fields
                else None,
                compromised_at=parse_iso(fields["compromised_from"], "compromised_from")
                if "compromised_from" in fields
                else None,
            )
            for key, fields in entries
        ]
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from exc
    except KeyError as exc:
        raise click.ClickException(f"{path}: a key has no {exc} field") from exc
    except KeyEventRejected as exc:
        raise click.ClickException(f"{path}: {exc.message}") from exc
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


@click.command("verify")
@click.argument("url_or_token")
@click.option(
    "--keys",
    "keys_file",
    default="jwks.json",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A key set saved with `registry keys export` or from /.well-known/jwks.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify_command(url_or_token: str, keys_file: Path, as_json: bool) -> None:
    """Verify a scan token (or its https URL) offline against a saved key set.

    Exit status: 0 genuine, 1 invalid, 2 unknown key. Whether the certificate is still valid,
    and whether the label matches the current record, only the registry can say: scan the URL.
    """
    keys = load_key_set(keys_file)
    result: dict[str, object] = {}
    try:
        token = ScanToken.from_text(token_text_from_url(url_or_token))
    except VerificationError as exc:
        _finish(EXIT_INVALID, "invalid", exc.code, exc.reason, None, result, as_json)
        return
    candidates = [k for k in keys if k.public_key.short_kid == token.short_kid]
    key, _, problem = verify_token(token, candidates)
    if problem == "UnknownKey":
        _finish(
            EXIT_UNKNOWN_KEY,
            "unknown-key",
            problem,
            "no key in the set has this kid",
            token,
            result,
            as_json,
        )
    elif problem is not None or key is None:
        _finish(
            EXIT_INVALID,
            "invalid",
            problem or "BadSignature",
            _PROBLEMS.get(problem or "", ""),
            token,
            result,
            as_json,
        )
    else:
        result["kid"] = key.kid
        note = ""
        if key.compromised_at is not None:
            note = "warning: its key was later reported compromised; check with the issuer"
            result["warning"] = note
        _finish(
            EXIT_GENUINE,
            "genuine",
            "Genuine",
            note or "signed by a key of the issuer",
            token,
            result,
            as_json,
        )


_PROBLEMS = {
    "BadSignature": "the signature does not verify with any key of this kid",
    "IssuerMismatch": "the key belongs to another issuer than the token names",
    "KeyCompromised": "signed after its key was reported compromised",
    "KeyRetired": "signed after its key was retired",
}


def _finish(
    status: int,
    verdict: str,
    code: str,
    message: str,
    token: ScanToken | None,
    extra: dict[str, object],
    as_json: bool,
) -> None:
    claims = token.claims if token is not None else None
    claims_json = (
        {
            "issuer": claims.issuer,
            "certificate_number": claims.certificate_number,
            "scheme": claims.scheme,
            "tier": claims.tier,
            "expiry": claims.expiry.isoformat(),
            "issued_at": claims.issued_at,
            "record_hash": claims.record_hash.hex(),
            "kid": token.short_kid.hex() if token else None,
        }
        if claims is not None
        else None
    )
    if as_json:
        body = {"verdict": verdict, "code": code, "message": message, "claims": claims_json}
        click.echo(json.dumps({**body, **extra}, ensure_ascii=False, indent=2))
    else:
        if claims_json is not None:
            for name, value in claims_json.items():
                click.echo(f"{name:>19}: {value}")
        click.echo(f"{'verdict':>19}: {verdict} ({code}){': ' + message if message else ''}")
    click.get_current_context().exit(status)
