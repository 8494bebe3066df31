from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.crypto.encoding import b32_decode, b32_encode, b64url_decode, b64url_encode


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\xfb", "-w"),
        (b"\xff\xff", "__8"),
        (b"foob", "Zm9vYg"),
        (b"foobar", "Zm9vYmFy"),
    ],
)
def test_b64url_vectors(data: bytes, text: str) -> None:
    assert b64url_encode(data) == text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Zm9vYg==", "padding"),
        ("Zm9v+g", "standard alphabet +"),
        ("Zm9v/g", "standard alphabet /"),
        ("Zm9 vYg", "space"),
        ("Zm9vY\n", "newline"),
        ("Z", "impossible length"),
        ("Zm9vYh", "non-zero trailing bits"),
        ("-x", "non-zero trailing bits, 1 byte"),
    ],
)
def test_b64url_rejects(text: str, why: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"", ""), (b"f", "MY"), (b"fo", "MZXQ"), (b"foo", "MZXW6"), (b"foobar", "MZXW6YTBOI")],
)
def test_b32_vectors_rfc4648_section10(data: bytes, text: str) -> None:
    assert b32_encode(data) == text
    assert b32_decode(text) == data
    assert b32_decode(text.lower()) == data


@pytest.mark.parametrize(
    "text", ["MY======", "MZ", "M", "MZX", "MY1", "MY8", "M Y", "MZXW6YTBO", "MZ\u0130"]
)
def test_b32_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="base32"):
        b32_decode(text)


@given(st.binary(max_size=80))
def test_round_trips(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data)) == data
    assert b32_decode(b32_encode(data)) == data
