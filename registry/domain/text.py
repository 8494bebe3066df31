"""Text rules for names, addresses and scope texts in signed records.

Signed text must look the same to everyone who reads it, so we require Unicode NFC and reject
characters that hide or reorder what is shown:

- control characters (category Cc), except ``"\\n"`` in multi-line text such as scope;
- bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069), which can
  make a name display differently from its bytes ("Trojan Source");
- zero-width and invisible format characters (U+200B..U+200F, U+2060, U+FEFF);
- surrogates, private-use and unassigned code points (categories Cs, Co, Cn), which render
  unpredictably and may change meaning with a later Unicode version.

The check runs on every text field of every pushed record, so the common cases are fast: pure
ASCII and text made only of CJK ideographs and CJK punctuation skip the per-character
category lookup.
"""

from __future__ import annotations

import re
import unicodedata

from registry.domain.problems import Problem, ProblemCode

__all__ = ["ascii_form", "text_problem"]

# Characters that need no further look: printable ASCII, CJK Symbols and Punctuation without
# the combining tone marks U+302A..U+302F, CJK Unified Ideographs (base block, complete since
# Unicode 14), and the fullwidth ASCII variants, brackets and signs (U+FF01..U+FF60,
# U+FFE0..U+FFE6). Each is assigned, is neither a control nor a format character, has no
# canonical decomposition and combining class 0, so a string made only of them is already NFC.
# (tests/domain/test_text.py re-derives this from unicodedata.)
_SAFE_CLASS = r"\x20-\x7e\u3000-\u3029\u3030-\u303f\u4e00-\u9fff\uff01-\uff60\uffe0-\uffe6"
_SAFE = re.compile(f"[{_SAFE_CLASS}]*")
_SAFE_MULTILINE = re.compile(f"[\n{_SAFE_CLASS}]*")

_FORBIDDEN_FORMAT = frozenset(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0x200B, 0x2010), 0x2060, 0xFEFF]
)
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


def ascii_form(text: str) -> str:
    """``text`` as the ASCII it stands for when its NFKC form is ASCII, else unchanged: a
    number or code typed by an input method in full-width mode, or pasted from a document
    (``ＡＳＳ－０００３``), reads ``ASS-0003``."""
    folded = unicodedata.normalize("NFKC", text)
    return folded if folded.isascii() else text


def text_problem(text: str, field: str, *, multiline: bool = False) -> Problem | None:
    """Check one text value against the rules above.

    Args:
        text: the value to check.
        field: the JSON path to name in the problem, e.g. ``"organisation.name"``.
        multiline: allow ``"\\n"`` (scope texts); ``"\\r"`` and other controls stay forbidden.

    Returns:
        ``None`` if the text is acceptable; else a ``ForbiddenCharacter`` problem naming the
        first bad code point and its position (0-based), e.g. ``"U+202E at position 3"``, or a
        ``NotNFC`` problem. Forbidden characters are reported before normalisation, since a
        forbidden character is the more useful thing to be told.
    """
    if (_SAFE_MULTILINE if multiline else _SAFE).fullmatch(text):
        return None
    for position, char in enumerate(text):
        point = ord(char)
        if 0x20 <= point < 0x7F or 0x4E00 <= point <= 0x9FFF:
            continue
        if point == 0x0A and multiline:
            continue
        if point in _FORBIDDEN_FORMAT or unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return Problem(
                ProblemCode.FORBIDDEN_CHARACTER,
                field,
                f"{field}: character U+{point:04X} at position {position}{_describe(point)}"
                " is not allowed",
            )
    if not unicodedata.is_normalized("NFC", text):
        return Problem(
            ProblemCode.NOT_NFC,
            field,
            f"{field}: text must be in Unicode normalization form NFC",
        )
    return None


def _describe(point: int) -> str:
    """Return ``" (NAME)"`` for a code point that has a Unicode name, else ``""``."""
    name = unicodedata.name(chr(point), "")
    return f" ({name})" if name else ""
