"""docs/formats.md shows the schemes exactly as the code defines them."""

from __future__ import annotations

from pathlib import Path

from registry.domain.scheme_table import BEGIN, END, to_markdown

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def test_the_schemes_table_in_the_docs_is_current() -> None:
    text = FORMATS.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == to_markdown(), "regenerate with registry.domain.scheme_table"
