"""Text rules: NFC, no controls, no bidi or invisible characters."""

import unicodedata

import pytest

from registry.domain.problems import ProblemCode
from registry.domain.text import _SAFE, text_problem


@pytest.mark.parametrize(
    "text",
    [
        "Haier Smart Home Co., Ltd.",
        "海尔智家股份有限公司",
        "家用电器的销售及售后服务（安装、维修、退换货）",
        "北京市朝阳区建国路８８号",
        "Café Ünïcödé",  # precomposed, so NFC
        "한국어",
        "ｱｲｳ",  # halfwidth katakana: compatibility characters are fine, NFC leaves them
        "𠀀",  # CJK extension B, outside the fast path
        "£€¥",
    ],
)
def test_acceptable_text(text: str) -> None:
    assert text_problem(text, "organisation.name") is None


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ("ab\u202ecd", ProblemCode.FORBIDDEN_CHARACTER, "U+202E at position 2"),
        ("海尔\u2066智家", ProblemCode.FORBIDDEN_CHARACTER, "U+2066 at position 2"),
        ("a\u200bb", ProblemCode.FORBIDDEN_CHARACTER, "U+200B at position 1"),
        ("\ufeff海尔", ProblemCode.FORBIDDEN_CHARACTER, "U+FEFF at position 0"),
        ("a\u2060b", ProblemCode.FORBIDDEN_CHARACTER, "U+2060 at position 1"),
        ("a\u200fb", ProblemCode.FORBIDDEN_CHARACTER, "U+200F at position 1"),
        ("a\x00b", ProblemCode.FORBIDDEN_CHARACTER, "U+0000 at position 1"),
        ("a\tb", ProblemCode.FORBIDDEN_CHARACTER, "U+0009 at position 1"),
        ("a\x7f", ProblemCode.FORBIDDEN_CHARACTER, "U+007F at position 1"),
        ("a\x85", ProblemCode.FORBIDDEN_CHARACTER, "U+0085 at position 1"),
        ("line\nbreak", ProblemCode.FORBIDDEN_CHARACTER, "U+000A at position 4"),
        ("a\ue000", ProblemCode.FORBIDDEN_CHARACTER, "U+E000 at position 1"),
        ("a\ud800", ProblemCode.FORBIDDEN_CHARACTER, "U+D800 at position 1"),
        ("a\u0378", ProblemCode.FORBIDDEN_CHARACTER, "U+0378 at position 1"),  # unassigned
        ("e\u0301", ProblemCode.NOT_NFC, "NFC"),
        ("\uf900", ProblemCode.NOT_NFC, "NFC"),  # CJK compatibility ideograph
        ("\u302b\u302a", ProblemCode.NOT_NFC, "NFC"),  # tone marks out of canonical order
    ],
)
def test_rejected_text(text: str, code: ProblemCode, fragment: str) -> None:
    problem = text_problem(text, "organisation.name")
    assert problem is not None
    assert problem.code is code
    assert problem.field == "organisation.name"
    assert fragment in problem.message
    assert problem.message.startswith("organisation.name: ")


def test_newlines_only_in_multiline_text() -> None:
    assert text_problem("销售\n维修", "scope", multiline=True) is None
    problem = text_problem("销售\r\n维修", "scope", multiline=True)
    assert problem is not None
    assert "U+000D" in problem.message


def test_forbidden_character_is_reported_before_normalisation() -> None:
    problem = text_problem("e\u0301\u202e", "scope")
    assert problem is not None
    assert problem.code is ProblemCode.FORBIDDEN_CHARACTER


def test_fast_path_characters_are_assigned_visible_and_stable_under_nfc() -> None:
    # The fast path skips the per-character checks; this re-derives its safety from unicodedata.
    for point in range(0x110000):
        char = chr(point)
        if not _SAFE.fullmatch(char):
            continue
        assert unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}, hex(point)
        assert unicodedata.combining(char) == 0, hex(point)
        decomposition = unicodedata.decomposition(char)
        assert decomposition == "" or decomposition.startswith("<"), hex(point)
