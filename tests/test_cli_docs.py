"""docs/cli.md is every command's --help, as the commands now print it."""

from __future__ import annotations

from pathlib import Path

from registry.cli_docs import reference

CLI_DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def test_the_cli_reference_is_current() -> None:
    assert CLI_DOCS.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is out of date: python -m registry.cli_docs > docs/cli.md"
    )
