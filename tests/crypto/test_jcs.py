from __future__ import annotations

import pathlib

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.crypto.jcs import MAX_SAFE_INTEGER, canonicalize, parse_json


def _jcs_vector_names() -> list[str]:
    from tests.crypto.conftest import SHARED_VECTORS

    folder = SHARED_VECTORS / "jcs" / "input"
    # When the folder is missing, one placeholder case lets the fixture skip or fail loudly.
    return sorted(p.name for p in folder.glob("*.json")) or ["<missing>"]


@pytest.mark.parametrize("name", _jcs_vector_names())
def test_cyberphone_vectors(shared_vectors: pathlib.Path, name: str) -> None:
    source = (shared_vectors / "jcs" / "input" / name).read_bytes()
    expected = (shared_vectors / "jcs" / "output" / name).read_bytes()
    assert canonicalize(parse_json(source)) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (333333333.33333329, "333333333.3333333"),
        (0.1 + 0.2, "0.30000000000000004"),
        (2**53 - 1, "9007199254740991"),
        (-(2**53 - 1), "-9007199254740991"),
        (float(2**60), "1152921504606847000"),
    ],
)
def test_numbers_rfc8785_section_3_2_2_3(value: float, text: str) -> None:
    assert canonicalize(value) == text.encode()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (-float("inf"), ValueError),
        (2**53, ValueError),
        (-(2**53), ValueError),
        ("\ud800", ValueError),
        ({"\udfff": 1}, ValueError),
        (b"bytes", TypeError),
        ({1: "int key"}, TypeError),
        ({"a": {1, 2}}, TypeError),
    ],
)
def test_canonicalize_rejects(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        canonicalize(value)


def test_keys_sorted_by_utf16_code_units() -> None:
    # U+1F602 is the surrogate pair D83D DE02, which sorts before U+FB33 in UTF-16 but not in
    # code points: the RFC 8785 §3.2.3 example.
    assert canonicalize({"\ufb33": 1, "\U0001f602": 2}) == '{"😂":2,"דּ":1}'.encode()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=500)
@given(json_values)
def test_agrees_with_independent_rfc8785_package(value: object) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)  # type: ignore[arg-type]


# JCS prints an integral double such as 2.0**60 as an integer literal, which I-JSON parsing then
# refuses as beyond 2**53-1; so the round trip holds for values without such doubles.
round_trippable = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: not (f.is_integer() and abs(f) > MAX_SAFE_INTEGER)
    )
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(round_trippable)
def test_parse_json_round_trip(value: object) -> None:
    assert canonicalize(parse_json(canonicalize(value))) == canonicalize(value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1, "a": 2}', "duplicate object key"),
        (b'{"x": {"a": 1, "b": 2, "a": 3}}', "duplicate object key"),
        (b"[NaN]", "NaN"),
        (b"[Infinity]", "Infinity"),
        (b"[-Infinity]", "Infinity"),
        (b"[1e400]", "overflows"),
        (b"[9007199254740992]", r"2\*\*53"),
        (b"[-9007199254740992]", r"2\*\*53"),
        (b"[" + b"9" * 5000 + b"]", r"2\*\*53"),
        (b'["\\ud800"]', "lone surrogate"),
        (b'{"\\udc00": 1}', "lone surrogate"),
        (b'"\\ud83d x"', "lone surrogate"),
        (b'"\xff"', "not valid UTF-8"),
        (b'"\xed\xa0\x80"', "not valid UTF-8"),  # a surrogate encoded in UTF-8
        (b"\xef\xbb\xbf{}", "invalid JSON"),  # a BOM
        (b"{'a': 1}", "invalid JSON"),
        (b"[1,]", "invalid JSON"),
        (b"", "invalid JSON"),
        (b"{} {}", "invalid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    ],
)
def test_parse_json_rejects(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_json(data)


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b'"\\ud83d\\ude02"', "\U0001f602"),  # an escaped surrogate pair is one code point
        (b'"\\\\ud800"', "\\ud800"),  # an escaped backslash, not an escape
        (b"[9007199254740991, -9007199254740991]", [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]),
        (b"1.0", 1.0),
        ('{"名称": "售后服务"}', {"名称": "售后服务"}),
    ],
)
def test_parse_json_accepts(data: bytes | str, value: object) -> None:
    assert parse_json(data) == value


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [True, None, "x"]},
        {"s": "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028é中文😀'},
        {"n": [0, -1, 2**53 - 1, -(2**53 - 1)]},
        {"nested": {"z": {"y": [{"x": ""}]}}},
    ],
)
def test_c_encoder_fast_path_matches_the_general_writer(value: object) -> None:
    """canonicalize() hands float-free values with ASCII keys to the C JSON encoder; its bytes
    must equal RFC 8785's as the general writer produces them."""
    from registry.crypto.jcs import _plain, _write

    assert _plain(value)
    out: list[str] = []
    _write(value, out)
    assert canonicalize(value) == "".join(out).encode("utf-8")


@pytest.mark.parametrize(
    ("value", "plain"),
    [({"f": 1.5}, False), ({"ключ": 1}, False), (["tuple", ("x",)], False)],
)
def test_values_the_c_encoder_cannot_take_use_the_general_writer(
    value: object, plain: bool
) -> None:
    from registry.crypto.jcs import _plain, _write

    assert _plain(value) is plain
    out: list[str] = []
    _write(value, out)
    assert canonicalize(value) == "".join(out).encode("utf-8")


@pytest.mark.parametrize("value", [{"big": 2**60}, {"s": "\ud800"}])
def test_unrepresentable_values_are_refused_on_either_path(value: object) -> None:
    with pytest.raises(ValueError, match=r"surrogate|2\*\*53"):
        canonicalize(value)
