"""GB 32100-2015 unified social credit codes."""

import pytest

from registry.domain.uscc import (
    USCCInvalid,
    check_character,
    is_valid_uscc,
    looks_like_uscc,
    organisation_code_check_digit,
    validate_uscc,
)

# Codes published by the organisations themselves (business licences, annual reports).
REAL_CODES = [
    "91110000802100433B",
    "91440300708461136T",
    "9131000005587870XB",
    "914403001922038216",
    "91110108551385082Q",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_also_satisfy_gb_11714(code: str) -> None:
    # We don't enforce it (see the module docstring), but the generator relies on the rule.
    assert organisation_code_check_digit(code[8:16]) == code[16]


@pytest.mark.parametrize(
    ("code", "expected", "message"),
    [
        ("91110000802100433C", "B", "check character should be 'B', not 'C'"),
        ("91440300708461136U", "T", "check character should be 'T', not 'U'"),
        ("91110000802100433", None, "a USCC has 18 characters, not 17"),
        ("91110000802100433BB", None, "a USCC has 18 characters, not 19"),
        ("", None, "a USCC has 18 characters, not 0"),
        ("91110000802100433b", None, "character 18 'b' is not allowed in a USCC"),
        ("9111000080210O433B", None, "character 14 'O' is not allowed in a USCC"),
        ("911100008021004 3B", None, "character 16 ' ' is not allowed in a USCC"),
        ("９1110000802100433B", None, "character 1 '９' is not allowed in a USCC"),
        ("911A0000802100433B", None, "characters 3-8 are the administrative division code"),
    ],
)
def test_invalid_codes(code: str, expected: str | None, message: str) -> None:
    with pytest.raises(USCCInvalid, match=message) as caught:
        validate_uscc(code)
    assert caught.value.expected == expected
    assert not is_valid_uscc(code)


def test_a_single_substitution_is_always_caught() -> None:
    code = REAL_CODES[0]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for position in range(17):
        for char in alphabet:
            if char == code[position]:
                continue
            mutated = code[:position] + char + code[position + 1 :]
            assert check_character(mutated[:17]) != code[17]


def test_is_valid_uscc_rejects_non_strings() -> None:
    assert not is_valid_uscc(None)
    assert not is_valid_uscc(91110000802100433)


@pytest.mark.parametrize(
    ("text", "looks"),
    [
        ("91110000802100433B", True),
        ("91110000802100433C", True),  # wrong check character still looks like a code
        ("91110000802100433b", True),  # typed in lower case
        ("9111000080210043", False),
        ("海尔智家股份有限公司", False),
        ("91110000802100433I", False),
    ],
)
def test_looks_like_uscc(text: str, looks: bool) -> None:
    assert looks_like_uscc(text) is looks


def test_check_character_rejects_wrong_input() -> None:
    with pytest.raises(USCCInvalid):
        check_character("123")
    with pytest.raises(USCCInvalid):
        check_character("9111000080210043I")


@pytest.mark.parametrize(("body", "digit"), [("80210043", "3"), ("05587870", "X")])
def test_organisation_code_check_digit(body: str, digit: str) -> None:
    assert organisation_code_check_digit(body) == digit


def test_organisation_code_check_digit_rejects_wrong_input() -> None:
    with pytest.raises(USCCInvalid):
        organisation_code_check_digit("8021004")


def test_the_fast_path_agrees_with_the_character_by_character_rules() -> None:
    """validate_uscc checks well-formed codes with one regex; every character it could meet
    (the alphabet, its lowercase, the letters GB 32100 leaves out, and others) is judged
    exactly as the per-character rules and check_character judge it."""
    import random

    base = REAL_CODES[0]
    extra = "IOSVZ" + "abcdefghjklmnpqrtuwxy" + "-0 \u0660\uff10中"
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    rng = random.Random(32100)  # noqa: S311 -- test inputs, not cryptography
    for _ in range(3000):
        chars = list(base)
        for position in rng.sample(range(18), rng.randrange(1, 3)):
            chars[position] = rng.choice(alphabet + extra)
        code = "".join(chars)
        well_formed = (
            all(c in alphabet for c in code) and code[2:8].isascii() and code[2:8].isdigit()
        )
        expected_ok = well_formed and check_character(code[:17]) == code[17]
        try:
            assert validate_uscc(code) == code
        except USCCInvalid:
            assert not expected_ok, code
        else:
            assert expected_ok, code
