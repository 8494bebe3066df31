"""C2SP tlog-checkpoint: text round trips, signing, and what open_checkpoint refuses."""

from __future__ import annotations

import base64

import pytest

from registry.crypto.errors import VerificationError
from registry.crypto.keys import PrivateKey
from registry.log.checkpoint import Checkpoint, open_checkpoint
from registry.log.merkle import EMPTY_ROOT, MemoryTree
from registry.log.note import NoteSigner, sign_note

ORIGIN = "registry.example.cn/log"
SIGNER = NoteSigner(ORIGIN, PrivateKey.from_seed(bytes(range(32))))
ROTATED = NoteSigner(ORIGIN, PrivateKey.from_seed(bytes(range(1, 33))))
WITNESS = NoteSigner("witness.example/w1", PrivateKey.from_seed(bytes(32)))
TREE = MemoryTree.from_entries([b"first", b"second", b"third"])
CHECKPOINT = Checkpoint(ORIGIN, TREE.size, TREE.root_hash())
ROOT_B64 = base64.b64encode(TREE.root_hash()).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(b"\xfb" * 32).decode()  # "-" and "_" are not standard


@pytest.mark.parametrize(
    "checkpoint",
    [
        CHECKPOINT,
        Checkpoint(ORIGIN, 0, EMPTY_ROOT),
        Checkpoint("example.com/behind-the-sofa", 20852163, bytes(range(32))),
        Checkpoint(ORIGIN, 2**64 - 1, b"\xff" * 32, ("Timestamp: 1", "extension 二")),
    ],
)
def test_text_round_trips(checkpoint: Checkpoint) -> None:
    assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint


def test_text_layout_is_the_specifications() -> None:
    assert CHECKPOINT.to_text() == f"{ORIGIN}\n3\n{ROOT_B64}\n"


def test_specification_example_text_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.from_text(text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.to_text() == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{ORIGIN}\n3\n{ROOT_B64}", "end with a newline"),
        (f"{ORIGIN}\n3\n", "needs origin, size and root"),
        (f"\n3\n{ROOT_B64}\n", "origin"),
        (f"{ORIGIN}\n03\n{ROOT_B64}\n", "plain decimal"),
        (f"{ORIGIN}\n+3\n{ROOT_B64}\n", "plain decimal"),
        (f"{ORIGIN}\n 3\n{ROOT_B64}\n", "plain decimal"),
        (f"{ORIGIN}\n-1\n{ROOT_B64}\n", "plain decimal"),
        (f"{ORIGIN}\n\N{ARABIC-INDIC DIGIT THREE}\n{ROOT_B64}\n", "plain decimal"),
        (f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n", "uint64"),
        (f"{ORIGIN}\n3\n{ROOT_B64.rstrip('=')}\n", "base64"),
        (f"{ORIGIN}\n3\n{URLSAFE_ROOT}\n", "base64"),
        (f"{ORIGIN}\n3\n{base64.b64encode(bytes(31)).decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "canonical"),
        (f"{ORIGIN}\n3\n{ROOT_B64}\n\n", "extension lines"),
        (f"{ORIGIN}\n3\n{ROOT_B64}\next\n\n", "extension lines"),
    ],
)
def test_malformed_text_is_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Checkpoint.from_text(text)


def test_sign_then_open_round_trips() -> None:
    note = CHECKPOINT.sign(SIGNER)
    assert note.startswith(CHECKPOINT.to_text() + "\n\N{EM DASH} " + ORIGIN + " ")
    assert open_checkpoint(note, SIGNER.verifier, ORIGIN) == CHECKPOINT


def test_witness_cosignature_and_key_rotation_are_accepted() -> None:
    note = sign_note(CHECKPOINT.to_text(), [ROTATED, WITNESS])
    assert open_checkpoint(note, [SIGNER.verifier, ROTATED.verifier], ORIGIN) == CHECKPOINT


def test_sign_requires_key_named_after_origin() -> None:
    with pytest.raises(ValueError, match="not named after origin"):
        CHECKPOINT.sign(WITNESS)


@pytest.mark.parametrize(
    ("note", "origin", "code"),
    [
        (CHECKPOINT.sign(SIGNER), "other.example/log", "BadCheckpoint"),
        (sign_note("not a checkpoint\n", SIGNER), ORIGIN, "BadCheckpoint"),
        (sign_note(f"{ORIGIN}\n03\n{ROOT_B64}\n", SIGNER), ORIGIN, "BadCheckpoint"),
        (CHECKPOINT.sign(SIGNER).replace("\n3\n", "\n4\n"), ORIGIN, "BadNoteSignature"),
        (CHECKPOINT.sign(ROTATED), ORIGIN, "UnknownNoteKey"),
        (sign_note(CHECKPOINT.to_text(), WITNESS), ORIGIN, "UnknownNoteKey"),
        (CHECKPOINT.to_text(), ORIGIN, "MalformedNote"),
    ],
    ids=["wrong-origin", "not-a-checkpoint", "leading-zero", "tampered", "other-key",
         "witness-only", "unsigned"],
)  # fmt: skip
def test_open_checkpoint_rejects(note: str, origin: str, code: str) -> None:
    with pytest.raises(VerificationError) as caught:
        open_checkpoint(note, SIGNER.verifier, origin)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("", 1, EMPTY_ROOT), "origin"),
        (("a\nb", 1, EMPTY_ROOT), "origin"),
        ((ORIGIN, -1, EMPTY_ROOT), "uint64"),
        ((ORIGIN, 1, b"short"), "32 bytes"),
    ],
)
def test_invalid_fields_are_refused(fields: tuple[str, int, bytes], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Checkpoint(*fields)
