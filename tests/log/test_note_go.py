"""Our signed notes against Go's golang.org/x/mod/sumdb/note, the reference implementation.

The Go driver ``tests/log/notego/main.go`` is built once per module, offline, in GOPATH mode
against Debian's ``golang-golang-x-mod-dev`` (source under /usr/share/gocode/src) with
``golang-go``. Without them the tests skip, except under ``CI=true`` where they fail.

Go verifies what we sign (test notes and a checkpoint served by the app), rejects what we
reject, and what Go signs we verify, byte for byte the same note.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from flask.testing import FlaskClient

from registry.crypto.errors import VerificationError
from registry.crypto.keys import PrivateKey
from registry.log.checkpoint import Checkpoint, open_checkpoint
from registry.log.note import NoteSigner, NoteVerifier, open_note, sign_note
from tests.conftest import push_accepted
from tests.log.test_note import IMPOSTOR, REJECTED, SIGNED, SIGNER, TEXT, WITNESS, flip_signature

DRIVER = Path(__file__).resolve().parent / "notego" / "main.go"
GOPATH = Path("/usr/share/gocode")
NOTE_PACKAGE = GOPATH / "src" / "golang.org" / "x" / "mod" / "sumdb" / "note"

ORIGIN = "registry.example.cn/log"
LOG_SEED = bytes(range(32))  # the log key the app fixture writes (tests/conftest.py keys_path)

# Exit codes of `notego verify` and the VerificationError code of ours that each matches.
GO_EXIT = {"MalformedNote": 1, "UnknownNoteKey": 2, "BadNoteSignature": 3}
GO_BAD_KEY = 4


def _missing(reason: str) -> NoReturn:
    """Fail under CI=true, else skip (as ``require_vectors`` in tests/log/conftest.py)."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class GoNote:
    """The built Go driver, with a scratch folder for the files it reads."""

    binary: Path
    scratch: Path
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, timeout=30, check=False
        )

    def file(self, content: str) -> str:
        """Write ``content`` as UTF-8 (lone surrogates as the raw bytes they stand for)."""
        path = self.scratch / f"{next(self._numbers)}.txt"
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
        return str(path)

    def verify(self, verifier_key: str, note: str) -> tuple[int, str, str]:
        """Exit code, stdout (the note text) and stderr of ``notego verify``."""
        result = self.run("verify", self.file(verifier_key), self.file(note))
        return result.returncode, result.stdout.decode(), result.stderr.decode()

    def sign(self, signer_key: str, text: str) -> str:
        result = self.run("sign", signer_key, self.file(text))
        assert result.returncode == 0, result.stderr.decode()
        return result.stdout.decode()

    def keygen(self, name: str, seed: bytes) -> tuple[str, str]:
        """Go's signer key and verifier key for the Ed25519 key with ``seed``."""
        result = self.run("keygen", name, seed.hex())
        assert result.returncode == 0, result.stderr.decode()
        signer_key, verifier_key = result.stdout.decode().splitlines()
        return signer_key, verifier_key


@pytest.fixture(scope="module")
def go_note(tmp_path_factory: pytest.TempPathFactory) -> GoNote:
    """Build the Go driver once, offline (GOPATH mode, no module proxy)."""
    go = shutil.which("go")
    if go is None:
        _missing("the Go compiler is not installed (Debian: golang-go)")
    if not NOTE_PACKAGE.is_dir():
        _missing(f"golang.org/x/mod/sumdb/note not at {NOTE_PACKAGE} (golang-golang-x-mod-dev)")
    folder = tmp_path_factory.mktemp("notego")
    binary = folder / "notego"
    env = {
        **os.environ,
        "GO111MODULE": "off",  # resolve imports from GOPATH, not from modules
        "GOPATH": str(GOPATH),
        "GOCACHE": str(folder / "cache"),
        "GOENV": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",  # no C compiler needed
    }
    build = subprocess.run(
        [go, "build", "-o", str(binary), str(DRIVER)],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    if build.returncode != 0:
        pytest.fail(f"go build of {DRIVER} failed:\n{build.stderr.decode()}")
    scratch = folder / "files"
    scratch.mkdir()
    return GoNote(binary, scratch)


def our_code(note: str, verifier: NoteVerifier) -> str | None:
    """Our verdict on ``note``: None if it opens, else the VerificationError code."""
    try:
        open_note(note, [verifier])
    except VerificationError as error:
        return error.code
    return None


# --- Go verifies what we sign --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [TEXT, "first\n\nthird\n\n", "检查点 \N{EM DASH} 日志\n12\n", "\n"],
    ids=["checkpoint-like", "blank-lines", "cjk", "only-newline"],
)
def test_go_verifies_our_note(go_note: GoNote, text: str) -> None:
    code, stdout, stderr = go_note.verify(SIGNER.verifier_key, sign_note(text, SIGNER))
    assert code == 0, stderr
    assert stdout == text
    assert stderr == f"verified {ORIGIN}+{SIGNER.verifier.key_id.hex()}\n"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the backend is not the point
def test_go_verifies_the_served_checkpoint(
    go_note: GoNote, client: FlaskClient, make_envelope: Callable[..., dict[str, Any]]
) -> None:
    push_accepted(
        client, *(make_envelope(certificate_number=f"CQC-ASS-2024-{n:06d}") for n in range(3))
    )
    note = client.get("/log/checkpoint").text
    key = client.get("/log/key").text
    assert go_note.keygen(ORIGIN, LOG_SEED)[1] + "\n" == key  # Go formats the same key

    code, stdout, stderr = go_note.verify(key, note)
    assert code == 0, stderr
    ours = open_checkpoint(note, NoteVerifier.from_verifier_key(key.strip()), ORIGIN)
    assert Checkpoint.from_text(stdout) == ours
    assert stdout == ours.to_text()
    assert ours.size == 4  # the issuer's key registration and the three records


@pytest.mark.parametrize(
    "signers",
    [[SIGNER, WITNESS], [WITNESS, SIGNER], [IMPOSTOR, SIGNER, WITNESS]],
    ids=["log-then-witness", "witness-then-log", "impostor-log-witness"],
)
def test_go_verifies_a_cosigned_note_by_either_key(
    go_note: GoNote, signers: list[NoteSigner]
) -> None:
    note = sign_note(TEXT, signers)
    for verifier, other in [(SIGNER, WITNESS), (WITNESS, SIGNER)]:
        code, stdout, stderr = go_note.verify(verifier.verifier_key, note)
        assert code == 0, stderr
        assert stdout == TEXT
        assert f"verified {verifier.verifier.name}+{verifier.verifier.key_id.hex()}\n" in stderr
        assert f"unverified {other.verifier.name}+{other.verifier.key_id.hex()}\n" in stderr


# --- Go rejects what we reject -------------------------------------------------------------------

# Our rejections (tests/log/test_note.py) where Go decides otherwise, and why.
GO_DIFFERS = {
    # Go (x/mod 0.7.0) checks only the first signature by each known key and drops repeats
    # unchecked; we check every signature by a known key, as the specification says verifiers
    # MUST, so a bad repeat fails.
    "good-then-bad-known": 0,
}


@pytest.mark.parametrize(("name", "note", "code"), REJECTED, ids=[r[0] for r in REJECTED])
def test_go_rejects_what_we_reject(go_note: GoNote, name: str, note: str, code: str) -> None:
    assert our_code(note, SIGNER.verifier) == code
    go_code, stdout, stderr = go_note.verify(SIGNER.verifier_key, note)
    assert go_code == GO_DIFFERS.get(name, GO_EXIT[code]), stderr
    if go_code:
        assert stdout == ""


def replace_text_byte(note: str) -> str:
    """The note with the size line's digit 5 made 6: same length, one byte changed."""
    return note.replace("\n5\n", "\n6\n", 1)


def replace_key_id_byte(note: str) -> str:
    """The note with the first base64 character of the signature (in the key ID) changed."""
    head, _, line = note.rpartition(" ")
    return f"{head} {'B' if line[0] != 'B' else 'C'}{line[1:]}"


@pytest.mark.parametrize(
    ("note", "code"),
    [
        (replace_text_byte(SIGNED), "BadNoteSignature"),
        (flip_signature(SIGNED), "BadNoteSignature"),
        (replace_key_id_byte(SIGNED), "UnknownNoteKey"),
        (sign_note(TEXT, IMPOSTOR), "UnknownNoteKey"),
        (sign_note(TEXT, [IMPOSTOR, WITNESS]), "UnknownNoteKey"),
        (SIGNED.replace("cn/log ", "cn/log\N{NO-BREAK SPACE}x "), "MalformedNote"),
        (SIGNED.replace("cn/log ", "cn/log\N{IDEOGRAPHIC SPACE}x "), "MalformedNote"),
        (SIGNED.replace("cn/log ", "cn/log\N{LINE SEPARATOR}x "), "MalformedNote"),
        (SIGNED.replace("cn/log ", "cn/log\u0085x "), "MalformedNote"),
    ],
    ids=[
        "text-byte",
        "signature-byte",
        "key-id-byte",
        "same-name-other-key",
        "same-name-other-key-and-witness",
        "nbsp-in-name",
        "ideographic-space-in-name",
        "line-separator-in-name",
        "nel-in-name",
    ],
)
def test_go_rejects_tampered_notes(go_note: GoNote, note: str, code: str) -> None:
    assert our_code(note, SIGNER.verifier) == code
    go_code, stdout, stderr = go_note.verify(SIGNER.verifier_key, note)
    assert go_code == GO_EXIT[code], stderr
    assert stdout == ""


def test_go_rejects_a_checkpoint_signed_by_another_log_key(go_note: GoNote) -> None:
    note = Checkpoint(ORIGIN, 4, bytes(32)).sign(IMPOSTOR)
    assert go_note.verify(SIGNER.verifier_key, note)[0] == GO_EXIT["UnknownNoteKey"]
    assert go_note.verify(IMPOSTOR.verifier_key, note)[0] == 0


# --- verifier keys -------------------------------------------------------------------------------


def bad_key(key: str) -> bool:
    try:
        NoteVerifier.from_verifier_key(key)
    except ValueError:
        return True
    return False


KEY = SIGNER.verifier_key
KEY_NAME, KEY_ID, KEY_B64 = KEY.split("+", 2)


@pytest.mark.parametrize(
    ("key", "go_accepts"),
    [
        (KEY, True),
        (f"{KEY_NAME}+{int(KEY_ID, 16) ^ 1:08x}+{KEY_B64}", False),  # wrong key ID
        (f"other+{KEY_ID}+{KEY_B64}", False),  # key ID of another name
        (f"{KEY_NAME}+{KEY_ID}+{KEY_B64[:-4]}", False),  # short key
        (f"{KEY_NAME} x+{KEY_ID}+{KEY_B64}", False),  # space in name
        (f"{KEY_NAME}+{KEY_ID[:-1]}+{KEY_B64}", False),  # 7 hex digits
        # Go parses the key ID with strconv.ParseUint(…, 16, 32), which takes upper case;
        # we take only lower case, as Go and we write it.
        (f"{KEY_NAME}+{KEY_ID.upper()}+{KEY_B64}", True),
    ],
    ids=["good", "wrong-id", "other-name", "short", "space", "seven-digits", "upper-case-id"],
)
def test_go_and_we_parse_verifier_keys_alike(go_note: GoNote, key: str, go_accepts: bool) -> None:
    go_code, _, stderr = go_note.verify(key, SIGNED)
    assert go_code == (0 if go_accepts else GO_BAD_KEY), stderr
    assert bad_key(key) == (key != KEY)


# --- we verify what Go signs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "seed"),
    [(ORIGIN, LOG_SEED), ("witness.example/w1", bytes(32)), ("日志.example/log", b"\xff" * 32)],
    ids=["log", "witness", "cjk-name"],
)
def test_go_keys_and_signatures_are_ours(go_note: GoNote, name: str, seed: bytes) -> None:
    signer_key, verifier_key = go_note.keygen(name, seed)
    ours = NoteSigner(name, PrivateKey.from_seed(seed))
    assert verifier_key == ours.verifier_key
    assert signer_key.startswith(f"PRIVATE+KEY+{name}+{ours.verifier.key_id.hex()}+")

    for text in [TEXT, "first\n\nthird\n\n", "检查点\n"]:
        go_signed = go_note.sign(signer_key, text)
        assert open_note(go_signed, [NoteVerifier.from_verifier_key(verifier_key)]) == text
        assert go_signed == sign_note(text, ours)  # Ed25519 is deterministic


def test_we_reject_a_go_signed_note_with_a_changed_byte(go_note: GoNote) -> None:
    signer_key, _ = go_note.keygen(ORIGIN, LOG_SEED)
    go_signed = go_note.sign(signer_key, TEXT)
    assert our_code(go_signed, SIGNER.verifier) is None
    assert our_code(replace_text_byte(go_signed), SIGNER.verifier) == "BadNoteSignature"
    assert our_code(go_signed, IMPOSTOR.verifier) == "UnknownNoteKey"
