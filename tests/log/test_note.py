"""C2SP signed notes with Ed25519: the specification's example, round trips, rejections."""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib

import nacl.exceptions
import nacl.signing
import pytest

from registry.crypto.errors import VerificationError
from registry.crypto.keys import PrivateKey
from registry.log.note import MAX_SIGNATURES, NoteSigner, NoteVerifier, open_note, sign_note

TEXT = "registry.example.cn/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
SIGNER = NoteSigner("registry.example.cn/log", PrivateKey.from_seed(bytes(range(32))))
WITNESS = NoteSigner("witness.example/w1", PrivateKey.from_seed(bytes(32)))
# Same name as SIGNER, another key: its key ID differs, so its signatures are "unknown".
IMPOSTOR = NoteSigner("registry.example.cn/log", PrivateKey.from_seed(b"\xff" * 32))


def test_specification_example_verifies(vectors: pathlib.Path) -> None:
    case = json.loads((vectors / "signed-note.json").read_text())
    verifier = NoteVerifier.from_verifier_key(case["verifier_key"])
    assert open_note(case["note"], [verifier]) == case["text"]


def test_specification_verifier_key_round_trips(vectors: pathlib.Path) -> None:
    key = json.loads((vectors / "signed-note.json").read_text())["verifier_key"]
    assert NoteVerifier.from_verifier_key(key).to_verifier_key() == key


def test_signer_verifier_key_round_trips() -> None:
    verifier = NoteVerifier.from_verifier_key(SIGNER.verifier_key)
    assert verifier == SIGNER.verifier
    assert verifier.to_verifier_key() == SIGNER.verifier_key
    assert SIGNER.verifier_key.startswith("registry.example.cn/log+")


def test_sign_then_open_round_trips() -> None:
    note = sign_note(TEXT, SIGNER)
    assert note.startswith(TEXT + "\n\N{EM DASH} registry.example.cn/log ")
    assert note.count("\n\N{EM DASH} ") == 1
    assert open_note(note, [SIGNER.verifier]) == TEXT


def test_text_with_blank_lines_round_trips() -> None:
    text = "first\n\nthird\n\n"
    assert open_note(sign_note(text, SIGNER), [SIGNER.verifier]) == text


def test_pynacl_verifies_our_signature_line() -> None:
    """An independent Ed25519 implementation and the key ID computed by hand agree."""
    line = sign_note(TEXT, SIGNER).split("\n\n")[-1]
    name, signature_b64 = line.removeprefix("\N{EM DASH} ").removesuffix("\n").split(" ")
    signature = base64.b64decode(signature_b64)
    public_key = SIGNER.verifier.public_key.raw
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]
    assert signature[:4] == key_id
    nacl.signing.VerifyKey(public_key).verify(TEXT.encode(), signature[4:])
    with pytest.raises(nacl.exceptions.BadSignatureError):
        nacl.signing.VerifyKey(public_key).verify(b"other\n", signature[4:])


def test_several_signers_and_unknown_signatures_are_ignored() -> None:
    note = sign_note(TEXT, [WITNESS, IMPOSTOR, SIGNER])
    assert open_note(note, [SIGNER.verifier]) == TEXT
    assert open_note(note, [WITNESS.verifier]) == TEXT
    assert open_note(note, [SIGNER.verifier, WITNESS.verifier]) == TEXT


def flip_signature(note: str) -> str:
    head, _, line = note.rpartition("\N{EM DASH} ")
    name, signature_b64 = line.rstrip("\n").split(" ")
    signature = bytearray(base64.b64decode(signature_b64))
    signature[-1] ^= 1
    return f"{head}\N{EM DASH} {name} {base64.b64encode(bytes(signature)).decode()}\n"


SIGNED = sign_note(TEXT, SIGNER)
SIGNATURE_LINE = SIGNED.split("\n\n")[-1]

REJECTED = [
    ("tampered-text", SIGNED.replace("\n5\n", "\n6\n"), "BadNoteSignature"),
    ("tampered-signature", flip_signature(SIGNED), "BadNoteSignature"),
    ("truncated-signature", SIGNED[:-10] + "\n", "MalformedNote"),
    ("only-unknown-key", sign_note(TEXT, WITNESS), "UnknownNoteKey"),
    ("same-name-other-key", sign_note(TEXT, IMPOSTOR), "UnknownNoteKey"),
    ("good-then-bad-known", SIGNED + flip_signature(SIGNED).split("\n\n")[-1], "BadNoteSignature"),
    ("no-blank-line", TEXT + SIGNATURE_LINE, "MalformedNote"),
    ("no-final-newline", SIGNED[:-1], "MalformedNote"),
    ("trailing-blank-line", SIGNED + "\n", "MalformedNote"),
    ("no-signatures", TEXT + "\n", "MalformedNote"),
    ("hyphen-not-em-dash", TEXT + "\n- " + SIGNATURE_LINE[2:], "MalformedNote"),
    ("missing-space", SIGNED.replace("\N{EM DASH} ", "\N{EM DASH}"), "MalformedNote"),
    ("extra-field", SIGNED[:-1] + " x\n", "MalformedNote"),
    ("bad-base64", SIGNED[:-3] + "!=\n", "MalformedNote"),
    ("key-id-only", TEXT + "\n\N{EM DASH} registry.example.cn/log AAAAAA==\n", "MalformedNote"),
    ("control-character", SIGNED.replace("5", "5\t", 1), "MalformedNote"),
    ("carriage-return", SIGNED.replace("\n", "\r\n", 1), "MalformedNote"),
    ("lone-surrogate", SIGNED.replace("5", "\udc80", 1), "MalformedNote"),
    ("plus-in-name", SIGNED.replace("cn/log ", "cn/lo+ "), "MalformedNote"),
    (
        "too-many-signatures",
        TEXT + "\n" + sign_note(TEXT, WITNESS).split("\n\n")[-1] * MAX_SIGNATURES + SIGNATURE_LINE,
        "MalformedNote",
    ),
]


@pytest.mark.parametrize(("note", "code"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_bad_notes_are_rejected(note: str, code: str) -> None:
    with pytest.raises(VerificationError) as caught:
        open_note(note, [SIGNER.verifier])
    assert caught.value.code == code
    assert caught.value.reason


def test_sixteen_signatures_are_accepted() -> None:
    note = sign_note(TEXT, [WITNESS] * 15 + [SIGNER])
    assert open_note(note, [SIGNER.verifier]) == TEXT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no newline", "end with a newline"),
        ("tab\there\n", "control character"),
        ("\udc80\n", "UTF-8"),
    ],
)
def test_sign_note_rejects_bad_text(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sign_note(text, SIGNER)


def test_sign_note_needs_a_signer() -> None:
    with pytest.raises(ValueError, match="at least one signer"):
        sign_note(TEXT, [])


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "ideographic\u3000space"])
def test_signer_rejects_bad_key_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid note key name"):
        NoteSigner(name, PrivateKey.from_seed(bytes(32)))


GOOD_KEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"


@pytest.mark.parametrize(
    ("verifier_key", "message"),
    [
        ("example.com/foo+530d903a", "<name>"),
        (GOOD_KEY + "+extra", "base64"),
        (GOOD_KEY.replace("530d903a", "530D903A"), "lowercase hex"),
        (GOOD_KEY.replace("530d903a", "530d903"), "lowercase hex"),
        (GOOD_KEY.replace("530d903a", "530d903b"), "does not match"),
        (GOOD_KEY.replace("example.com/foo", "example.com/bar"), "does not match"),
        (GOOD_KEY.replace("+Aeky", "+Aky"), "base64|Ed25519"),
        (GOOD_KEY.replace("+Aeky", "+Aqky"), "type 0x01"),
        (GOOD_KEY[:-4], "Ed25519"),
        ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "invalid note key name"),
    ],
)
def test_malformed_verifier_keys_are_rejected(verifier_key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NoteVerifier.from_verifier_key(verifier_key)


def test_signer_repr_shows_no_private_key() -> None:
    assert repr(SIGNER) == f"NoteSigner({SIGNER.verifier_key!r})"
