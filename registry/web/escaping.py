"""Autoescaped template output, escaped as markupsafe does at a third of the cost.

Jinja compiles each ``{{ value }}`` of an autoescaped template into ``escape(value)``:
markupsafe's escape, which returns a new :class:`~markupsafe.Markup` through a Python-level
constructor, about 0.45 µs a value. A page has forty or so such values, and the output is
only joined into one string, so the ``Markup`` wrapper buys nothing there.
:class:`OutputCodeGenerator` writes those outputs as ``environment.escape_output(value)``
instead: the same text as ``markupsafe.escape`` (tests/web/test_escaping.py checks it), as a
plain ``str``, and no copy at all for the usual value with nothing to escape.

Only direct output changes. ``{% set %}`` blocks, macros and filters still produce ``Markup``
through Jinja's own code, and a template whose autoescaping can change at run time (an
``{% autoescape %}`` block) keeps Jinja's code.
"""

from __future__ import annotations

from typing import Any

from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Expr
from markupsafe import escape

__all__ = ["OutputCodeGenerator", "escape_output"]


def escape_output(value: object) -> str:
    """``str(markupsafe.escape(value))``: ``value.__html__()`` for a value that has it,
    else its text with ``&``, ``<``, ``>``, ``'`` and ``"`` escaped."""
    if type(value) is not str:
        html = getattr(value, "__html__", None)
        if html is not None:
            text: str = html()
            return text
        value = str(value)
    if "&" in value or "<" in value or ">" in value or "'" in value or '"' in value:
        return str(escape(value))
    return value


class OutputCodeGenerator(CodeGenerator):
    """Jinja's code generator, with autoescaped output through :func:`escape_output`.

    The environment must have ``escape_output`` (``PageEnvironment`` has): the compiled
    template reads it from ``environment``, a global of every template module.
    """

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escape_output(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)
