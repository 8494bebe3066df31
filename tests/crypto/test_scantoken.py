from __future__ import annotations

import datetime
import json
import math
import pathlib
from typing import Any

import cbor2
import pytest
import qrcode
import qrcode.constants
from hypothesis import given, settings
from hypothesis import strategies as st
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages.cosemessage import CoseMessage
from pycose.messages.sign1message import Sign1Message
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from registry.crypto.encoding import b32_encode
from registry.crypto.errors import VerificationError
from registry.crypto.keys import PrivateKey
from registry.crypto.scantoken import (
    MAX_INPUT_BYTES,
    MAX_TOKEN_BYTES,
    ScanClaims,
    ScanToken,
    build_sign1,
    scan_url,
    sig_structure,
    sign_token,
    token_text_from_url,
)
from tests.crypto.conftest import RFC8032_TEST1_SEED

CLAIMS = ScanClaims(
    issuer="CNCA-R-2002-001",
    certificate_number="SV-2024-000123",
    scheme="ASS",
    tier="5",
    expiry=datetime.date(2027, 2, 28),
    issued_at=1_735_689_600,
    record_hash=bytes(range(8)),
)
# The registry's worst case: the longest issuer id (16), certificate number (24), scheme code (4)
# and tier code (2) it allows, and the largest issue time that still encodes in 5 bytes.
REFERENCE_CLAIMS = ScanClaims(
    issuer="I" * 16,
    certificate_number="C" * 24,
    scheme="S" * 4,
    tier="T" * 2,
    expiry=datetime.date(2099, 12, 31),
    issued_at=2**32 - 1,
    record_hash=bytes(8),
)
KEY = PrivateKey.from_seed(RFC8032_TEST1_SEED)
TOKEN = sign_token(CLAIMS, KEY)


# --- COSE WG vectors -------------------------------------------------------------------------

COSE_ALG_LABELS = {"alg": 1, "ctyp": 3, "kid": 4}
COSE_ALG_VALUES = {"EdDSA": -8}


def _header(source: dict[str, Any]) -> dict[int, object]:
    header: dict[int, object] = {}
    for name, value in source.items():
        if name == "alg":
            header[1] = COSE_ALG_VALUES[value]
        elif name == "kid":
            header[4] = value.encode()
        else:
            header[COSE_ALG_LABELS[name]] = value
    return header


@pytest.mark.parametrize("name", ["eddsa-sig-01.json", "eddsa-sig-02.json"])
def test_cose_wg_vectors(shared_vectors: pathlib.Path, name: str) -> None:
    vector = json.loads((shared_vectors / "cose" / name).read_text())
    sign0 = vector["input"]["sign0"]
    expected_tbs = bytes.fromhex(vector["intermediates"]["ToBeSign_hex"])
    expected = bytes.fromhex(vector["output"]["cbor"])
    signature_in_vector = cbor2.loads(expected).value[3]

    def sign(tbs: bytes) -> bytes:
        assert tbs == expected_tbs
        if sign0["key"]["crv"] == "Ed25519":  # Ed25519 is deterministic: re-sign with our key
            return PrivateKey.from_seed(bytes.fromhex(sign0["key"]["d_hex"])).sign(tbs)
        return bytes(signature_in_vector)  # Ed448 is not ours; the structure still is

    encoded = build_sign1(
        _header(sign0["protected"]),
        _header(sign0["unprotected"]),
        vector["input"]["plaintext"].encode(),
        sign,
    )
    assert encoded == expected


# --- round trips and independent verification ------------------------------------------------


def test_round_trips() -> None:
    assert ScanToken.from_bytes(TOKEN.to_bytes()) == TOKEN
    assert ScanToken.from_text(TOKEN.to_text()) == TOKEN
    assert ScanToken.from_text(TOKEN.to_text().lower()) == TOKEN
    assert ScanClaims.from_cbor_map(CLAIMS.to_cbor_map()) == CLAIMS
    assert TOKEN.to_text() == TOKEN.to_text().upper()
    assert "=" not in TOKEN.to_text()


def test_sign_and_verify() -> None:
    assert ScanToken.from_text(TOKEN.to_text()).verify(KEY.public_key) == CLAIMS
    assert TOKEN.short_kid == KEY.public_key.short_kid
    assert TOKEN.protected == b"\xa1\x01\x27"
    assert sign_token(CLAIMS, KEY) == TOKEN  # deterministic


def test_payload_is_the_documented_claims_map() -> None:
    assert cbor2.loads(TOKEN.payload) == {
        1: "CNCA-R-2002-001",
        6: 1_735_689_600,
        -1: "SV-2024-000123",
        -2: "ASS",
        -3: "5",
        -4: bytes(range(8)),
        -5: 20270228,
    }


# The profile's bytes are written by hand (cbor2's encoder costs more than the scan page can
# spare); they must be cbor2's deterministic encoding of the same structures, byte for byte.

_TEXT = st.text(min_size=1, max_size=64)
_CODE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=16)


@settings(max_examples=300, deadline=None)
@given(
    issuer=_TEXT,
    number=_TEXT,
    scheme=_CODE,
    tier=_CODE,
    expiry=st.dates(datetime.date(1000, 1, 1), datetime.date(9999, 12, 31)),
    issued_at=st.integers(0, 2**63 - 1),
    record_hash=st.binary(min_size=8, max_size=8),
)
def test_token_bytes_are_cbor2_deterministic_encoding(
    issuer: str,
    number: str,
    scheme: str,
    tier: str,
    expiry: datetime.date,
    issued_at: int,
    record_hash: bytes,
) -> None:
    claims = ScanClaims(issuer, number, scheme, tier, expiry, issued_at, record_hash)
    token = sign_token(claims, KEY)
    assert token.payload == cbor2.dumps(claims.to_cbor_map(), canonical=True)
    assert token.encoded == cbor2.dumps(
        cbor2.CBORTag(18, [token.protected, {4: token.short_kid}, token.payload, token.signature]),
        canonical=True,
    )
    assert ScanToken.from_bytes(token.encoded) == token


_BSTR = st.one_of(st.binary(max_size=300), st.integers(0, 70_000).map(lambda size: b"\x5a" * size))


@settings(max_examples=200, deadline=None)
@given(protected=_BSTR, payload=_BSTR, external_aad=_BSTR)
def test_sig_structure_is_cbor2_deterministic_encoding(
    protected: bytes, payload: bytes, external_aad: bytes
) -> None:
    assert sig_structure(protected, payload, external_aad) == cbor2.dumps(
        ["Signature1", protected, external_aad, payload], canonical=True
    )


def test_independent_verification_with_pycose() -> None:
    message = CoseMessage.decode(TOKEN.encoded)
    assert isinstance(message, Sign1Message)
    message.key = OKPKey(crv=Ed25519, x=KEY.public_key.raw)
    assert message.verify_signature()
    assert message.payload == TOKEN.payload


def test_pycose_made_token_parses_and_verifies() -> None:
    from pycose.algorithms import EdDSA
    from pycose.headers import KID, Algorithm

    message = Sign1Message(
        phdr={Algorithm: EdDSA},
        uhdr={KID: KEY.public_key.short_kid},
        payload=TOKEN.payload,
    )
    message.key = OKPKey(crv=Ed25519, x=KEY.public_key.raw, d=RFC8032_TEST1_SEED)
    encoded = message.encode()
    assert ScanToken.from_bytes(encoded).verify(KEY.public_key) == CLAIMS


def test_wrong_key_is_key_mismatch(other_key: PrivateKey) -> None:
    with pytest.raises(VerificationError) as info:
        TOKEN.verify(other_key.public_key)
    assert info.value.code == "KeyMismatch"


def test_bad_signature() -> None:
    forged = bytes(64)
    encoded = TOKEN.encoded[:-64] + forged
    with pytest.raises(VerificationError) as info:
        ScanToken.from_bytes(encoded).verify(KEY.public_key)
    assert info.value.code == "BadSignature"


# --- tampering, truncation, garbage ----------------------------------------------------------


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_flipped_byte_is_rejected(mask: int) -> None:
    data = TOKEN.encoded
    for index in range(len(data)):
        tampered = data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]
        with pytest.raises(VerificationError):
            ScanToken.from_bytes(tampered).verify(KEY.public_key)


def test_every_truncation_is_malformed() -> None:
    for length in range(len(TOKEN.encoded)):
        with pytest.raises(VerificationError) as info:
            ScanToken.from_bytes(TOKEN.encoded[:length])
        assert info.value.code == "MalformedToken"


@settings(max_examples=2000)
@given(st.binary(max_size=600))
def test_random_bytes_raise_only_malformed_token(data: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        ScanToken.from_bytes(data)
    assert info.value.code == "MalformedToken"


@settings(max_examples=500)
@given(st.binary(max_size=200).map(lambda b: TOKEN.encoded[:40] + b))
def test_random_tails_after_a_valid_head_raise_only_malformed_token(data: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        ScanToken.from_bytes(data)
    assert info.value.code == "MalformedToken"


@settings(max_examples=500)
@given(st.text(max_size=400))
def test_random_text_raises_only_malformed_token(text: str) -> None:
    with pytest.raises(VerificationError) as info:
        ScanToken.from_text(text)
    assert info.value.code == "MalformedToken"


def _sign1(
    protected: object = b"\xa1\x01\x27",
    unprotected: object = None,
    payload: object = None,
    signature: object = None,
    tag: int = 18,
) -> bytes:
    """A token built by hand, signed with KEY when the parts allow, to reach each check."""
    unprotected = {4: KEY.public_key.short_kid} if unprotected is None else unprotected
    payload = TOKEN.payload if payload is None else payload
    if signature is None and isinstance(protected, bytes) and isinstance(payload, bytes):
        signature = KEY.sign(sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(tag, [protected, unprotected, payload, signature]))


def _claims(**changes: object) -> bytes:
    claims: dict[int, object] = CLAIMS.to_cbor_map()
    for key, value in changes.items():
        label = int(key.replace("m", "-").lstrip("c"))
        if value is None:
            del claims[label]
        else:
            claims[label] = value
    return cbor2.dumps(claims, canonical=True)


MALFORMED_BYTES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "not CBOR"),
    ("untagged", cbor2.dumps(cbor2.loads(TOKEN.encoded).value), "tag 18"),
    ("COSE_Sign tag 98", _sign1(tag=98), "tag 18"),
    ("COSE_Mac0 tag 17", _sign1(tag=17), "tag 18"),
    ("3 elements", cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), "4 elements"),
    ("map body", cbor2.dumps(cbor2.CBORTag(18, {1: 2})), "4 elements"),
    ("extra bytes", TOKEN.encoded + b"\x00", "extra bytes"),
    ("truncated", TOKEN.encoded[:-1], "not CBOR"),
    ("too long", TOKEN.encoded + bytes(MAX_INPUT_BYTES), "longer than"),
    ("wrong alg ES256", _sign1(protected=cbor2.dumps({1: -7})), "alg EdDSA"),
    ("empty protected", _sign1(protected=b""), "alg EdDSA"),
    ("extra protected", _sign1(protected=cbor2.dumps({1: -8, 3: 0})), "alg EdDSA"),
    ("protected not bstr", _sign1(protected={1: -8}, signature=bytes(64)), "byte strings"),
    ("kid 7 bytes", _sign1(unprotected={4: b"1234567"}), "8 bytes"),
    ("kid text", _sign1(unprotected={4: "12345678"}), "8 bytes"),
    ("no kid", _sign1(unprotected={}), "exactly {4: kid}"),
    ("extra header", _sign1(unprotected={4: b"12345678", 1: -8}), "exactly {4: kid}"),
    ("float kid label", _sign1(unprotected={4.0: KEY.public_key.short_kid}), "exactly {4: kid}"),
    ("signature 63 bytes", _sign1(signature=bytes(63)), "64 bytes"),
    ("payload not CBOR", _sign1(payload=b"\x1c"), "payload is not CBOR"),
    ("payload array", _sign1(payload=cbor2.dumps([1])), "map of claims"),
    ("missing iss", _sign1(payload=_claims(c1=None)), "missing"),
    ("missing record hash", _sign1(payload=_claims(m4=None)), "missing"),
    ("extra claim", _sign1(payload=_claims(c7=1)), "unknown claims"),
    ("iss not text", _sign1(payload=_claims(c1=b"x")), "must be text"),
    ("iat text", _sign1(payload=_claims(c6="1")), "issued_at"),
    ("iat negative", _sign1(payload=_claims(c6=-1)), "issued_at"),
    ("iat bool", _sign1(payload=_claims(c6=True)), "issued_at"),
    ("scheme non-ASCII", _sign1(payload=_claims(m2="售后")), "ASCII"),
    ("tier empty", _sign1(payload=_claims(m3="")), "ASCII"),
    ("hash 32 bytes", _sign1(payload=_claims(m4=bytes(32))), "8 bytes"),
    ("expiry text", _sign1(payload=_claims(m5="20270228")), "YYYYMMDD"),
    ("expiry 30 Feb", _sign1(payload=_claims(m5=20270230)), "day is out of range"),
    (
        "payload not deterministic",
        _sign1(payload=cbor2.dumps(dict(reversed(list(CLAIMS.to_cbor_map().items()))))),
        "deterministic",
    ),
    (
        "indefinite array",
        b"\xd2\x9f" + cbor2.dumps(cbor2.loads(TOKEN.encoded).value)[1:] + b"\xff",
        "deterministic",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "message"), MALFORMED_BYTES, ids=[c[0] for c in MALFORMED_BYTES]
)
def test_malformed_tokens(name: str, data: bytes, message: str) -> None:
    with pytest.raises(VerificationError, match=message) as info:
        ScanToken.from_bytes(data)
    assert info.value.code == "MalformedToken"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TOKEN.to_text() + "=", "base32"),
        (TOKEN.to_text()[:-1] + "1", "base32"),
        (TOKEN.to_text()[:-1] + "!", "base32"),
        (TOKEN.to_text()[:-2], "base32|not CBOR"),
        (TOKEN.to_text() + "AA", "extra bytes|base32"),
        (" " + TOKEN.to_text(), "base32"),
        ("", "not CBOR"),
        ("A" * 2000, "longer than"),
        (b32_encode(b"\xd2\x84"), "not CBOR"),
    ],
)
def test_malformed_text(text: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message) as info:
        ScanToken.from_text(text)
    assert info.value.code == "MalformedToken"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issuer": ""}, "issuer"),
        ({"certificate_number": "x" * 65}, "certificate_number"),
        ({"scheme": "S" * 17}, "scheme"),
        ({"tier": "五星级"}, "tier"),
        ({"expiry": datetime.datetime(2027, 1, 1)}, "datetime.date"),
        ({"issued_at": 1.5}, "issued_at"),
        ({"record_hash": bytes(32)}, "8 bytes"),
    ],
)
def test_claims_reject_bad_values(changes: dict[str, Any], message: str) -> None:
    fields = {**CLAIMS.__dict__, **changes}
    with pytest.raises(ValueError, match=message):
        ScanClaims(**fields)


# --- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("public_url", ["https://r.example.cn", "https://r.example.cn/"])
def test_scan_url(public_url: str) -> None:
    url = scan_url(public_url, TOKEN)
    assert url == "https://r.example.cn/v/" + TOKEN.to_text()
    assert token_text_from_url(url) == TOKEN.to_text()


@pytest.mark.parametrize(
    "given_text",
    [
        "https://r.example.cn/v/{t}",
        "https://r.example.cn/registry/v/{t}",
        "https://r.example.cn/v/{t}/",
        "https://r.example.cn/v/{t}?utm=label#x",
        "HTTPS://R.EXAMPLE.CN/V/{t}",
        "  {t}\n",
        "{t}",
    ],
)
def test_token_text_from_url(given_text: str) -> None:
    assert token_text_from_url(given_text.format(t=TOKEN.to_text())) == TOKEN.to_text()


@pytest.mark.parametrize("url", ["https://r.example.cn/", "https://r.example.cn/x/ABC", "/v/"])
def test_token_text_from_url_rejects(url: str) -> None:
    with pytest.raises(VerificationError) as info:
        token_text_from_url(url)
    assert info.value.code == "MalformedToken"


# --- size -------------------------------------------------------------------------------------

PREFIX_32 = "https://registry.example.cn/v/xx"[:29] + "/v/"  # a 32-character URL prefix


def _qr_version(prefix: str, token_text: str) -> int:
    """The QR version the URL needs at ECC M, prefix in byte mode and token in alphanumeric."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(QRData(prefix.encode(), mode=MODE_8BIT_BYTE))
    code.add_data(QRData(token_text.encode(), mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    return int(code.version)


def test_max_token_bytes_is_the_qr_version_10_m_limit() -> None:
    assert len(PREFIX_32) == 32
    fits = "A" * math.ceil(MAX_TOKEN_BYTES * 8 / 5)
    too_big = "A" * math.ceil((MAX_TOKEN_BYTES + 1) * 8 / 5)
    assert _qr_version(PREFIX_32, fits) == 10
    assert _qr_version(PREFIX_32, too_big) == 11


def test_typical_token_fits_qr_version_10_m() -> None:
    assert len(TOKEN.encoded) <= MAX_TOKEN_BYTES
    assert _qr_version(PREFIX_32, TOKEN.to_text()) <= 10


def test_worst_case_token_size() -> None:
    # 85 bytes of COSE framing, kid and signature plus a 78-byte claims map.
    token = sign_token(REFERENCE_CLAIMS, KEY)
    assert (len(token.encoded), len(token.payload)) == (163, 78)


def test_worst_case_token_fits_qr_version_10_m() -> None:
    token = sign_token(REFERENCE_CLAIMS, KEY)
    assert len(token.encoded) <= MAX_TOKEN_BYTES
    assert _qr_version(PREFIX_32, token.to_text()) == 10
