"""The unified social credit code (统一社会信用代码, USCC) of GB 32100-2015.

A USCC has 18 characters from the 31-character alphabet :data:`ALPHABET` (digits and capitals
without I, O, S, V, Z):

====== ===============================================================
chars  meaning
====== ===============================================================
1      registration authority (登记管理部门), e.g. ``9`` for market regulation
2      organisation type (机构类别), e.g. ``1`` for a company
3-8    administrative division code (登记管理机关行政区划码), digits
9-17   organisation code (主体标识码, GB 11714)
18     check character
====== ===============================================================

The check character: with ``v_i`` the alphabet index of character ``i`` and weights
``w_i = 3^(i-1) mod 31`` for ``i = 1..17``, ``C18 = 31 - (sum(v_i * w_i) mod 31)``, where 31
maps to ``0``.

We deliberately do *not* enforce the GB 11714 check digit inside characters 9-17. It holds for
the codes of ordinary enterprises, but codes issued to some kinds of subject (e.g. individual
businesses) do not promise it, and rejecting a code the State Administration for Market
Regulation issued would be worse than accepting a mistyped one that the GB 32100 check
character already catches with high probability. :func:`organisation_code_check_digit` is
offered for generating realistic data.
"""

from __future__ import annotations

import operator
import re

__all__ = [
    "ALPHABET",
    "USCCInvalid",
    "check_character",
    "is_valid_uscc",
    "looks_like_uscc",
    "organisation_code_check_digit",
    "validate_uscc",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18

_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ALPHABET_SET = frozenset(ALPHABET)
_DIGITS = frozenset("0123456789")
#: 18 characters of the alphabet with digits in positions 3-8; the check character is
#: checked separately.
_WELL_FORMED = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}")
# GB 11714-1997: weights for the eight body characters, modulus 11.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


class USCCInvalid(ValueError):
    """A string is not a valid USCC.

    Attributes:
        expected: the correct check character when only the check character is wrong, else
            ``None`` (wrong length, alphabet or division digits).
    """

    def __init__(self, message: str, expected: str | None = None) -> None:
        super().__init__(message)
        self.expected = expected


def _check_of(well_formed: str) -> str:
    """The check character for a code whose first 17 characters are known to be in the
    alphabet (the arithmetic of :func:`check_character`, without its checks)."""
    total = sum(map(operator.mul, map(_VALUE.__getitem__, well_formed[:17]), _WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def check_character(first17: str) -> str:
    """Compute the GB 32100 check character for the first 17 characters of a USCC.

    Args:
        first17: exactly 17 characters of :data:`ALPHABET`.

    Returns:
        The 18th character.

    Raises:
        USCCInvalid: if ``first17`` is not 17 characters of the alphabet.
    """
    if len(first17) != LENGTH - 1:
        raise USCCInvalid(f"expected 17 characters, got {len(first17)}")
    total = 0
    for position, (char, weight) in enumerate(zip(first17, _WEIGHTS, strict=True), start=1):
        value = _VALUE.get(char)
        if value is None:
            raise USCCInvalid(f"character {position} {char!r} is not allowed in a USCC")
        total += value * weight
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Check a USCC: length, alphabet, digits in the division code, and the check character.

    No normalisation happens here (no upper-casing, no trimming): a signed record must carry the
    code exactly.

    Args:
        code: the candidate code.

    Returns:
        ``code`` unchanged.

    Raises:
        USCCInvalid: with a readable message, e.g. ``"check character should be 'B', not 'C'"``;
            ``expected`` is set only when the check character alone is wrong.
    """
    if _WELL_FORMED.fullmatch(code):  # the usual case: only the check character to compute
        expected = _check_of(code)
        if code[17] != expected:
            raise USCCInvalid(
                f"check character should be {expected!r}, not {code[17]!r}", expected=expected
            )
        return code
    if len(code) != LENGTH:
        raise USCCInvalid(f"a USCC has 18 characters, not {len(code)}")
    for position, char in enumerate(code, start=1):
        if char not in _ALPHABET_SET:
            raise USCCInvalid(f"character {position} {char!r} is not allowed in a USCC")
    for position in range(3, 9):
        if code[position - 1] not in _DIGITS:
            raise USCCInvalid(
                f"characters 3-8 are the administrative division code and must be digits, "
                f"not {code[2:8]!r}"
            )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise USCCInvalid(
            f"check character should be {expected!r}, not {code[17]!r}", expected=expected
        )
    return code


def is_valid_uscc(code: object) -> bool:
    """Return whether ``code`` is a string that :func:`validate_uscc` accepts."""
    if not isinstance(code, str):
        return False
    try:
        validate_uscc(code)
    except USCCInvalid:
        return False
    return True


def looks_like_uscc(text: str) -> bool:
    """Return whether ``text`` has the shape of a USCC (18 alphabet characters), check ignored.

    Meant for the search box, to route a query to a code lookup even if it was mistyped.
    Lower case is accepted here because people type it.
    """
    return len(text) == LENGTH and all(c in _ALPHABET_SET for c in text.upper())


def organisation_code_check_digit(body: str) -> str:
    """Compute the GB 11714 check digit of an 8-character organisation code body.

    Letters count 10..35 (A..Z), digits their value; the result is ``0``-``9`` or ``X``.

    Raises:
        USCCInvalid: if ``body`` is not 8 digits or capital letters.
    """
    if len(body) != 8 or not all(c.isascii() and (c.isdigit() or c.isupper()) for c in body):
        raise USCCInvalid("an organisation code body is 8 digits or capital letters")
    total = sum(
        (int(c) if c.isdigit() else ord(c) - ord("A") + 10) * w
        for c, w in zip(body, _ORG_WEIGHTS, strict=True)
    )
    digit = (11 - total % 11) % 11
    return "X" if digit == 10 else str(digit)
