from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from registry.web.escaping import escape_output


class Html:
    def __html__(self) -> str:
        return "<b>already safe</b>"


class Text:
    def __str__(self) -> str:
        return "<i>'quoted' & \"double\"</i>"


@settings(max_examples=500)
@given(st.text())
def test_text_is_escaped_as_markupsafe_does(text: str) -> None:
    assert escape_output(text) == str(escape(text))
    assert type(escape_output(text)) is str


@pytest.mark.parametrize(
    "value",
    [
        "",
        "<script>alert('x')</script>",
        "a & b",
        'say "hi"',
        "北京市朝阳区&某某<公司>",
        Markup("<b>kept</b>"),
        Html(),
        Text(),
        0,
        -12,
        3.5,
        None,
        True,
    ],
)
def test_other_values_are_escaped_as_markupsafe_does(value: Any) -> None:
    assert escape_output(value) == str(escape(value))


def test_pages_escape_their_output_through_it(app: Flask) -> None:
    for language, environment in app.jinja_env.by_language.items():  # type: ignore[attr-defined]
        template = environment.from_string("<p title='{{ value }}'>{{ value }}</p>{{ safe }}")
        html = template.render(value="<x> & 'y' \"z\"", safe=Markup("<br>"))
        assert html == (
            "<p title='&lt;x&gt; &amp; &#39;y&#39; &#34;z&#34;'>"
            "&lt;x&gt; &amp; &#39;y&#39; &#34;z&#34;</p><br>"
        ), language
        source = environment.compile("{{ value }}", raw=True, name="t.html", filename="t.html")
        assert "environment.escape_output(" in source


def test_an_autoescape_block_keeps_jinjas_code(app: Flask) -> None:
    template = app.jinja_env.from_string(
        "{% autoescape false %}{{ value }}{% endautoescape %}|{{ value }}"
    )
    assert template.render(value="<b>") == "<b>|&lt;b&gt;"
