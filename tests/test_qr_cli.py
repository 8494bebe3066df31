"""`registry qr` and `registry verify`, and the worked example of docs/formats.md section 4."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import cairosvg
import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from pycose.keys import OKPKey
from pycose.messages import Sign1Message

from registry.cli import main
from registry.client import Signer
from registry.crypto.encoding import b32_decode, b32_encode
from registry.crypto.jwks import jwk_for
from registry.crypto.keys import PrivateKey
from registry.crypto.scantoken import ScanToken, sign_token
from tests.conftest import ISSUER_ID, record_json
from tests.vectors import make_scan_example

VECTORS = Path(make_scan_example.__file__).resolve().parent
EXAMPLE = json.loads((VECTORS / "scan-token-example.json").read_text())
KEY = PrivateKey.from_seed(b"issuer-one-seed-for-tests-000001")


def decode(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.suffix == ".svg":
        data = cairosvg.svg2png(bytestring=data, output_width=800)
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def key_set(path: Path, **fields: str) -> Path:
    path.write_text(json.dumps({"keys": [jwk_for(KEY.public_key, issuer=ISSUER_ID, **fields)]}))
    return path


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(main, list(args), catch_exceptions=False)


# --- registry qr ---------------------------------------------------------------------------


def test_qr_writes_every_image_for_a_signed_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "records.json").write_text(
        json.dumps([record_json(), record_json(certificate_number="CQC-ASS-2024-000124")])
    )
    (tmp_path / "issuer.pem").write_bytes(KEY.to_pem())
    signed = tmp_path / "signed.json"
    result = run(
        runner, "sign", str(tmp_path / "records.json"), "--key", str(tmp_path / "issuer.pem"),
        "--out", str(signed),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / "labels"
    result = run(
        runner, "qr", str(signed), "--out", str(out), "--public-url", "https://reg.example.cn/"
    )
    assert result.exit_code == 0, result.output
    envelopes = json.loads(signed.read_text())
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 8
    for envelope in envelopes:
        number = envelope["record"]["certificate_number"]
        for name in ("qr.svg", "qr.png", "label.svg", "label.png"):
            path = out / f"{number}-v1.{name}"
            assert decode(path) == [f"https://reg.example.cn/v/{envelope['qr']}"], path.name


def test_qr_refuses_a_public_url_too_long_for_version_10(runner: CliRunner, tmp_path: Path) -> None:
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps([Signer(KEY).envelope(record_json())]))
    result = run(
        runner, "qr", str(signed), "--out", str(tmp_path), "--public-url", "https://" + "a" * 30
    )
    assert result.exit_code == 1
    assert "version 10-M" in result.output


def test_qr_refuses_what_is_not_an_envelope(runner: CliRunner, tmp_path: Path) -> None:
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps([{"record": record_json(), "qr": "NOTATOKEN"}]))
    result = run(runner, "qr", str(signed), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "item 0: not a signed envelope" in result.output


@pytest.mark.parametrize(
    "change",
    [
        {"certificate_number": "FAKE-999"},  # the label would print another number
        {"tier": "四星级", "score": {"value": 91, "scale": 100}},  # and another tier
        {"scope": "另一范围"},  # the token's record hash no longer matches
    ],
)
def test_qr_refuses_a_record_its_token_disagrees_with(
    runner: CliRunner, tmp_path: Path, change: dict[str, Any]
) -> None:
    """A label prints the record's number and tier under a code that carries the token: the
    two must be of the same record, as the registry itself checks on a push."""
    good = Signer(KEY).envelope(record_json(certificate_number="CQC-ASS-2024-000124"))
    envelope = Signer(KEY).envelope(record_json())
    envelope["record"].update(change)
    signed = tmp_path / "swapped.json"
    signed.write_text(json.dumps([good, envelope]))
    result = run(runner, "qr", str(signed), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1, result.output
    assert "item 1: the scan token disagrees with the record" in result.output
    assert not (tmp_path / "o").exists()  # checked before anything is written


# --- registry verify -----------------------------------------------------------------------


@pytest.fixture
def token() -> str:
    return str(Signer(KEY).envelope(record_json(), issued_at=1_767_225_600)["qr"])


@pytest.mark.parametrize("form", ["token", "url"])
def test_verify_genuine(runner: CliRunner, tmp_path: Path, token: str, form: str) -> None:
    arg = token if form == "token" else f"https://registry.example.cn/v/{token}"
    result = run(runner, "verify", arg, "--keys", str(key_set(tmp_path / "k.json")))
    assert result.exit_code == 0, result.output
    assert "CQC-ASS-2024-000123" in result.output
    assert "verdict: genuine" in result.output


def test_verify_json_output(runner: CliRunner, tmp_path: Path, token: str) -> None:
    result = run(runner, "verify", token, "--keys", str(key_set(tmp_path / "k.json")), "--json")
    body = json.loads(result.output)
    assert body["verdict"] == "genuine"
    assert body["claims"]["issuer"] == ISSUER_ID
    assert body["claims"]["expiry"] == "2027-02-28"


def test_verify_unknown_key(runner: CliRunner, tmp_path: Path, token: str) -> None:
    other = tmp_path / "other.json"
    stranger = PrivateKey.from_seed(b"z" * 32).public_key
    other.write_text(json.dumps({"keys": [jwk_for(stranger, issuer=ISSUER_ID)]}))
    result = run(runner, "verify", token, "--keys", str(other))
    assert result.exit_code == 2
    assert "unknown-key" in result.output


@pytest.mark.parametrize("position", [0, 5, 20, 100, -1])
def test_verify_tampered_or_malformed_is_invalid(
    runner: CliRunner, tmp_path: Path, token: str, position: int
) -> None:
    data = bytearray(b32_decode(token))
    data[position] ^= 0x04
    keys = key_set(tmp_path / "k.json")
    result = run(runner, "verify", b32_encode(bytes(data)), "--keys", str(keys))
    # A flipped kid byte names no key (2); any other flip is malformed or a bad signature (1).
    assert result.exit_code == (2 if 6 <= position < 14 else 1), result.output


def test_verify_garbage_is_invalid(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "verify", "https://x.cn/v/!!", "--keys", str(key_set(tmp_path / "k")))
    assert result.exit_code == 1
    assert "MalformedToken" in result.output


@pytest.mark.parametrize(
    ("fields", "issued_at", "exit_code", "words"),
    [
        ({"valid_until": "2026-02-01T00:00:00Z"}, 1_767_225_600, 0, "genuine"),
        ({"valid_until": "2026-02-01T00:00:00Z"}, 1_769_904_000, 1, "KeyRetired"),
        ({"compromised_from": "2026-02-01T00:00:00Z"}, 1_767_225_600, 0, "compromised"),
        ({"compromised_from": "2026-02-01T00:00:00Z"}, 1_769_904_000, 1, "KeyCompromised"),
    ],
)
def test_verify_honours_key_validity(
    runner: CliRunner,
    tmp_path: Path,
    token: str,
    fields: dict[str, str],
    issued_at: int,
    exit_code: int,
    words: str,
) -> None:
    claims = dataclasses.replace(ScanToken.from_text(token).claims, issued_at=issued_at)
    text = sign_token(claims, KEY).to_text()
    result = run(runner, "verify", text, "--keys", str(key_set(tmp_path / "k.json", **fields)))
    assert result.exit_code == exit_code, result.output
    assert words in result.output


def test_verify_without_a_key_file(runner: CliRunner, tmp_path: Path, token: str) -> None:
    result = run(runner, "verify", token, "--keys", str(tmp_path / "missing.json"))
    assert result.exit_code == 1
    assert "missing.json" in result.output


# --- the worked example --------------------------------------------------------------------


def test_example_is_what_the_script_makes() -> None:
    assert make_scan_example.example() == EXAMPLE


def test_example_verifies_with_our_code_and_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    key = PrivateKey.from_seed(bytes.fromhex(EXAMPLE["seed"]))
    token = ScanToken.from_bytes(bytes.fromhex(EXAMPLE["token"]))
    assert token.to_text() == EXAMPLE["token_base32"]
    assert token.verify(key.public_key).certificate_number == "CQC-ASS-2024-000123"
    keys = tmp_path / "jwks.json"
    entry = {
        **EXAMPLE["public_jwk"],
        "issuer": "CNCA-R-2002-001",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    keys.write_text(json.dumps({"keys": [entry]}))
    assert run(runner, "verify", EXAMPLE["url"], "--keys", str(keys)).exit_code == 0


def test_example_verifies_with_pycose() -> None:
    """An independent COSE implementation accepts the example byte for byte."""
    message = Sign1Message.decode(bytes.fromhex(EXAMPLE["token"]))
    message.key = OKPKey.from_dict(
        {"KTY": "OKP", "CURVE": "ED25519", "X": bytes.fromhex(_raw_public_hex())}
    )
    assert message.verify_signature()
    assert message.payload.hex() == EXAMPLE["payload"]


def _raw_public_hex() -> str:
    return PrivateKey.from_seed(bytes.fromhex(EXAMPLE["seed"])).public_key.raw.hex()


def test_formats_md_quotes_the_example() -> None:
    text = (VECTORS.parents[1] / "docs" / "formats.md").read_text()
    section = text[text.index("## 4. Scan token") : text.index("## 5. Log")]
    flat = section.replace("\n", "")
    for name in ("payload", "sig_structure", "signature", "token", "url"):
        assert EXAMPLE[name] in flat, name
    assert EXAMPLE["kid"] in section
