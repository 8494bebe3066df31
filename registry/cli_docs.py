"""Write docs/cli.md, the reference of the ``registry`` command: every command's ``--help``.

``python -m registry.cli_docs > docs/cli.md`` after changing a command; a test fails while
the file and the commands disagree.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from registry.cli import main

HEADER = """\
# The `registry` command

Every command's `--help`, generated from the commands themselves (`python -m registry.cli_docs >
docs/cli.md`; `tests/test_cli_docs.py` fails while they disagree). Settings come from the
`REGISTRY_*` environment variables (docs/operations.md).
"""


def _commands(
    command: click.Command, parent: click.Context | None, path: str
) -> Iterator[tuple[str, click.Context]]:
    context = click.Context(command, info_name=path, parent=parent, max_content_width=96)
    context.terminal_width = 96
    yield path, context
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(context)):
            child = command.get_command(context, name)
            if child is not None and not child.hidden:
                yield from _commands(child, context, name)


def reference() -> str:
    """docs/cli.md's text."""
    parts = [HEADER]
    for _name, context in _commands(main, None, "registry"):
        title = context.command_path
        parts.append(f"\n## `{title}`\n\n```text\n{context.get_help()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    print(reference(), end="")
