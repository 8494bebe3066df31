from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Any

import nacl.signing
import pytest

from registry.crypto.encoding import b64url_decode, b64url_encode
from registry.crypto.envelope import (
    envelope_bytes,
    record_hash,
    sign_json,
    sign_record,
    verify_json,
    verify_record,
)
from registry.crypto.errors import VerificationError
from registry.crypto.jcs import canonicalize, parse_json
from registry.crypto.keys import PrivateKey, PublicKey
from tests.crypto.conftest import LOCAL_VECTORS

GOLDEN: dict[str, Any] = json.loads(
    (LOCAL_VECTORS / "record-signatures.json").read_text(encoding="utf-8")
)
CASES = {case["name"]: case for case in GOLDEN["cases"]}
GOLDEN_KEY = PrivateKey.from_seed(bytes.fromhex(GOLDEN["seed_hex"]))
RECORD = CASES["after-sales-five-star"]["record"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_signatures(name: str) -> None:
    case = CASES[name]
    assert GOLDEN_KEY.public_key.thumbprint == GOLDEN["kid"]
    assert canonicalize(case["record"]).hex() == case["canonical_hex"]
    assert record_hash(case["record"]).hex() == case["record_hash_hex"]
    assert sign_record(case["record"], GOLDEN_KEY) == case["signature"]
    canonical = verify_record(case["record"], case["signature"], GOLDEN_KEY.public_key)
    assert canonical.hex() == case["canonical_hex"]


def test_golden_vectors_are_reproducible_by_their_script() -> None:
    # The regenerate script is the documented source (STYLE rule 12); its output is committed.
    assert (LOCAL_VECTORS / "regenerate.py").is_file()
    assert GOLDEN["public_jwk"] == GOLDEN_KEY.public_key.to_jwk()


def test_independent_verification_with_pynacl(issuer_key: PrivateKey) -> None:
    signature = sign_json(RECORD, issuer_key)
    verify_key = nacl.signing.VerifyKey(issuer_key.public_key.raw)
    assert verify_key.verify(canonicalize(RECORD), b64url_decode(signature["value"]))


def test_statement_signed_like_a_record(issuer_key: PrivateKey) -> None:
    statement = CASES["key-rollover-statement"]["record"]
    signature = sign_json(statement, issuer_key)
    new_key = PublicKey.from_jwk(statement["new_key"])
    assert new_key != issuer_key.public_key
    assert verify_json(statement, signature, issuer_key.public_key) == canonicalize(statement)


def test_verify_accepts_parsed_json_in_any_member_order(issuer_key: PrivateKey) -> None:
    signature = sign_record(RECORD, issuer_key)
    pushed = json.dumps({k: RECORD[k] for k in reversed(list(RECORD))}, indent=1).encode()
    record = parse_json(pushed)
    assert isinstance(record, dict)
    verify_record(record, signature, issuer_key.public_key)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_every_flipped_byte_of_the_record_is_rejected(issuer_key: PrivateKey) -> None:
    signature = sign_record(RECORD, issuer_key)
    canonical = canonicalize(RECORD)
    rejected = 0
    for index in range(len(canonical)):
        try:
            tampered = parse_json(_flip(canonical, index))
        except ValueError:
            rejected += 1  # no longer JSON: rejected before any signature check
            continue
        assert isinstance(tampered, dict)
        with pytest.raises(VerificationError) as info:
            verify_record(tampered, signature, issuer_key.public_key)
        assert info.value.code == "BadSignature"
        rejected += 1
    assert rejected == len(canonical)


def test_every_flipped_byte_of_the_signature_is_rejected(issuer_key: PrivateKey) -> None:
    signature = sign_record(RECORD, issuer_key)
    raw = b64url_decode(signature["value"])
    for index in range(len(raw)):
        tampered = dict(signature, value=b64url_encode(_flip(raw, index)))
        with pytest.raises(VerificationError) as info:
            verify_record(RECORD, tampered, issuer_key.public_key)
        assert info.value.code == "BadSignature"


def _signature(**changes: object) -> dict[str, object]:
    signature: dict[str, object] = dict(CASES["after-sales-five-star"]["signature"])
    signature.update(changes)
    return {k: v for k, v in signature.items() if v is not None}


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        (_signature(alg="EdDSA"), "UnsupportedAlgorithm"),
        (_signature(alg="ES256"), "UnsupportedAlgorithm"),
        (_signature(kid="kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4K"), "KeyMismatch"),
        (_signature(kid=None), "MalformedSignature"),
        (_signature(extra="x"), "MalformedSignature"),
        (_signature(value=5), "MalformedSignature"),
        (_signature(value="AAAA"), "MalformedSignature"),
        (_signature(value="@@@@"), "MalformedSignature"),
        (_signature(value=b64url_encode(bytes(64)) + "="), "MalformedSignature"),
        (_signature(value=b64url_encode(bytes(64))), "BadSignature"),
        (["Ed25519"], "MalformedSignature"),
        ("signature", "MalformedSignature"),
    ],
)
def test_malformed_signatures(signature: Any, code: str) -> None:
    with pytest.raises(VerificationError) as info:
        verify_record(RECORD, signature, GOLDEN_KEY.public_key)
    assert info.value.code == code
    assert str(info.value)


@pytest.mark.parametrize(
    "record", [{"n": float("nan")}, {"n": 2**60}, {"b": b"bytes"}, ["not", "an", "object"]]
)
def test_uncanonicalizable_record(record: Any) -> None:
    signature = CASES["after-sales-five-star"]["signature"]
    with pytest.raises(VerificationError) as info:
        verify_record(record, signature, GOLDEN_KEY.public_key)
    assert info.value.code == "MalformedRecord"


def test_envelope_bytes_is_jcs_of_the_envelope(issuer_key: PrivateKey) -> None:
    envelope = {"signature": sign_record(RECORD, issuer_key), "record": RECORD, "qr": "ABC"}
    data = envelope_bytes(envelope)
    assert data == canonicalize(envelope)
    assert data.startswith(b'{"qr":"ABC","record":{')
    assert envelope_bytes(parse_json(data)) == data  # type: ignore[arg-type]


def test_record_hash_is_sha256_of_jcs() -> None:
    assert record_hash(RECORD) == hashlib.sha256(canonicalize(RECORD)).digest()
    assert len(record_hash(RECORD)) == 32


def test_local_vectors_folder_exists() -> None:
    assert isinstance(LOCAL_VECTORS, pathlib.Path)
    assert (LOCAL_VECTORS / "README.md").is_file()


def test_envelope_bytes_from_the_record_bytes_equal_the_whole_envelope_canonicalized() -> None:
    from registry.crypto.envelope import envelope_bytes, envelope_bytes_from, sign_record
    from registry.crypto.jcs import canonicalize
    from registry.crypto.keys import PrivateKey

    key = PrivateKey.from_seed(bytes(32))
    record = {"type": "certificate-record/1", "scope": "家用电器\n维修", "version": 3}
    signature = sign_record(record, key)
    envelope = {"record": record, "signature": signature, "qr": "ABCDEF"}
    assert envelope_bytes_from(canonicalize(record), signature, "ABCDEF") == envelope_bytes(
        envelope
    )


@pytest.mark.parametrize(
    ("signature", "qr"),
    [
        ({"alg": "Ed25519", "kid": "k", "value": "v"}, "ABCDEF"),
        ({"alg": "Ed25519", "kid": "k", "value": "v"}, 'quote " and \\ backslash'),
        ({"alg": "Ed25519", "kid": "k", "value": "v"}, "tab\tnewline\n\x7f"),
        ({"alg": "Ed25519", "kid": "k", "value": "v"}, "非 ASCII"),
        ({"alg": "Ed25519", "kid": "k", "value": "v"}, 12),
        ({"alg": "Ed25519", "kid": "k", "value": "v"}, None),
        ({"value": "v", "kid": "k", "alg": "Ed25519"}, "ABC"),  # members in another order
        ({"alg": "Ed25519", "kid": 'k"', "value": "v\\"}, "ABC"),
        ({"alg": "Ed25519", "kid": "k", "value": "v", "extra": "x"}, "ABC"),
        ({"alg": "Ed25519", "kid": "k"}, "ABC"),
        ({"alg": "Ed25519", "kid": ["k"], "value": "v"}, "ABC"),
        ({"alg": "Ed25519", "kid": "密钥", "value": "\u2028"}, "ABC"),
    ],
)
def test_envelope_bytes_from_takes_the_short_cut_only_where_it_is_exact(
    signature: dict[str, object], qr: object
) -> None:
    from registry.crypto.envelope import envelope_bytes, envelope_bytes_from
    from registry.crypto.jcs import canonicalize

    record = {"type": "certificate-record/1", "version": 1}
    envelope = {"record": record, "signature": signature, "qr": qr}
    assert envelope_bytes_from(canonicalize(record), signature, qr) == envelope_bytes(envelope)


@pytest.mark.parametrize(
    "record",
    [
        {"type": "certificate-record/1", "version": 1},
        # Text and keys that look like the envelope's own members.
        {"scope": ',"signature":{"x":1}}', "qr": ',"record":', "version": 2},
        {"organisation": {"a": 1, "signature": "x", "record": {"qr": "y"}}, "version": 3},
        {"scope": '家用电器\n维修 " \\ \u2028', "version": 4},
    ],
)
def test_record_member_is_the_records_canonical_bytes(record: dict[str, object]) -> None:
    from registry.crypto.envelope import envelope_bytes_from, record_member, sign_record
    from registry.crypto.jcs import canonicalize
    from registry.crypto.keys import PrivateKey

    signature = sign_record(record, PrivateKey.from_seed(bytes(32)))
    data = envelope_bytes_from(canonicalize(record), signature, "ABCDEF234567")
    assert record_member(data) == canonicalize(record)


@pytest.mark.parametrize(
    "data",
    [b"", b"{}", b'{"record":{},"signature":{}}', b'{"qr":"A","signature":{}}', b'{"qr":"A"'],
)
def test_record_member_refuses_other_bytes(data: bytes) -> None:
    from registry.crypto.envelope import record_member

    with pytest.raises(ValueError, match="canonical bytes of an envelope"):
        record_member(data)
