"""The message catalogue: complete for every template, consistent, and strict about owners."""

from __future__ import annotations

import importlib
import re
import string
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import TemplateSyntaxError
from markupsafe import escape

from registry.app import TEMPLATES
from registry.web import i18n

#: ``_("msgid")`` or ``_('msgid')`` in a template, with or without format arguments.
MSGID_CALL = re.compile(r"""\b_\(\s*(["'])([^"']+)\1""")
WEB = Path(i18n.__file__).resolve().parent
TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


def msgids_in_templates() -> set[str]:
    return {m.group(2) for path in TEMPLATE_FILES for m in MSGID_CALL.finditer(path.read_text())}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: p.name)
def test_every_msgid_in_a_template_is_in_the_catalogue(template: Path) -> None:
    used = {m.group(2) for m in MSGID_CALL.finditer(template.read_text())}
    missing = sorted(used - set(i18n.CATALOGUE))
    assert not missing, f"{template.name} uses msgids missing from registry/web/messages: {missing}"


def test_the_scan_finds_the_msgids_of_the_base_template() -> None:
    # Guards the regex itself: a scan that finds nothing would pass the test above vacuously.
    assert {"base.registry_name", "base.footer_api", "error.not_found"} <= msgids_in_templates()


def test_every_msgid_is_used_somewhere() -> None:
    python = "".join(p.read_text() for p in WEB.rglob("*.py") if "messages" not in p.parts)
    unused = sorted(
        msgid
        for msgid in i18n.CATALOGUE
        if msgid not in msgids_in_templates()
        and f'"{msgid}"' not in python
        and f"'{msgid}'" not in python
    )
    assert not unused, f"dead messages, delete them: {unused}"


@pytest.mark.parametrize("msgid", sorted(i18n.CATALOGUE))
def test_both_languages_have_the_same_fields(msgid: str) -> None:
    zh, en = i18n.CATALOGUE[msgid]
    assert zh.strip()
    assert en.strip()
    assert fields(zh) == fields(en), f"{msgid}: {{fields}} differ between zh and en"


def test_msgids_start_with_their_feature() -> None:
    for msgid in i18n.CATALOGUE:
        assert re.fullmatch(r"[a-z]+(\.[a-z0-9_]+)+", msgid), msgid


def write_package(root: Path, name: str, modules: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, body in modules.items():
        (package / f"{module}.py").write_text(body)


def test_a_msgid_defined_twice_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_package(
        tmp_path,
        "dup_messages",
        {
            "alpha": 'MESSAGES = {"alpha.title": ("甲", "A"), "shared.ok": ("好", "OK")}\n',
            "beta": 'MESSAGES = {"shared.ok": ("行", "Fine")}\n',
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(i18n.CatalogueError, match=r"shared\.ok.*alpha.*beta"):
        i18n.load_catalogue(importlib.import_module("dup_messages"))


@pytest.mark.parametrize("texts", [("只有中文",), ("中文", ""), ("", "English only")])
def test_a_message_without_both_texts_is_an_error(
    texts: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"half_messages_{len(texts)}_{len(texts[0])}"
    write_package(tmp_path, name, {"one": f"MESSAGES = {{'one.x': {texts!r}}}\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(i18n.CatalogueError, match=r"one\.x"):
        i18n.load_catalogue(importlib.import_module(name))


def test_separate_modules_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_package(
        tmp_path,
        "ok_messages",
        {
            "alpha": 'MESSAGES = {"alpha.title": ("甲", "A")}\n',
            "scan": 'MESSAGES = {"scan.title": ("扫码", "Scan")}\n',
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    catalogue = i18n.load_catalogue(importlib.import_module("ok_messages"))
    assert dict(catalogue) == {"alpha.title": ("甲", "A"), "scan.title": ("扫码", "Scan")}


@pytest.mark.parametrize(
    ("url", "language", "expected"),
    [
        ("/c/A-1", "en", "/c/A-1?lang=en"),
        ("/c/A-1?at=2025-01-01&lang=zh", "en", "/c/A-1?at=2025-01-01&lang=en"),
        (
            "/search?q=%E6%B5%B7%E5%B7%9D&status=valid&status=suspended",
            "zh",
            "/search?q=%E6%B5%B7%E5%B7%9D&status=valid&status=suspended&lang=zh",
        ),
    ],
)
def test_url_in_keeps_the_current_url(app: Flask, url: str, language: str, expected: str) -> None:
    with app.test_request_context(url):
        assert i18n.url_in(language) == expected


@pytest.mark.parametrize(("url", "expected"), [("/?lang=en", "Reason: x"), ("/", "原因：x")])
def test_gettext_fills_fields_in_the_request_language(app: Flask, url: str, expected: str) -> None:
    with app.test_request_context(url):
        assert i18n.gettext("cert.reason", reason="x") == expected


def test_gettext_of_an_unknown_msgid_fails_loudly(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(KeyError):
        i18n.gettext("nowhere.to_be_found")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_pages_get_translations_bound_to_the_request_language(app: Flask, language: str) -> None:
    """Templates receive ``_`` and ``pick`` bound to the language once per page; they must
    say exactly what the request-aware globals say."""
    with app.test_request_context(f"/?lang={language}"):
        context: dict[str, object] = {}
        app.update_template_context(context)
        bound = context["_"]
        assert callable(bound)
        for msgid, texts in i18n.CATALOGUE.items():
            fields = {name: "X" for _, name, _, _ in string.Formatter().parse(texts[0]) if name}
            assert bound(msgid, **fields) == i18n.gettext(msgid, **fields)
        pick = context["pick"]
        assert callable(pick)
        assert pick("中文", "English") == i18n.pick("中文", "English")
        assert pick("中文", None) == "中文"


# --- templates compiled once per language ----------------------------------------------------


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: p.name)
def test_every_template_compiles_in_every_language(
    app: Flask, template: Path, language: str
) -> None:
    with app.test_request_context(f"/?lang={language}"):
        compiled = app.jinja_env.get_template(template.name)
        assert compiled.environment.page_language == language  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_fixed_texts_become_static_output(app: Flask, language: str) -> None:
    """``_("msgid")``, ``locale()`` and ``html_lang()`` are constants in the compiled code."""
    environment = app.jinja_env.by_language[language]  # type: ignore[attr-defined]
    code = environment.compile(
        '<html lang="{{ html_lang() }}">{{ locale() }}|{{ _("base.skip_to_content") }}',
        raw=True,
    )
    column = i18n.LANGUAGES.index(language)
    text = i18n.CATALOGUE["base.skip_to_content"][column]
    assert f'<html lang="{i18n.HTML_LANG[language]}">{language}|{text}' in code
    assert "context.call" not in code


def test_folded_texts_are_escaped(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = {**i18n.CATALOGUE, "test.markup": ("<b>甲 & 乙</b>", "<i>A & B</i>")}
    monkeypatch.setattr(i18n, "CATALOGUE", catalogue)
    for language, expected in [
        ("zh", "&lt;b&gt;甲 &amp; 乙&lt;/b&gt;"),
        ("en", "&lt;i&gt;A &amp; B"),
    ]:
        environment = app.jinja_env.by_language[language]  # type: ignore[attr-defined]
        rendered = environment.from_string('{{ _("test.markup") }}').render()
        assert rendered.startswith(expected)


def test_only_calls_of_the_global_are_folded(app: Flask) -> None:
    """``x._("…")`` is somebody else's method, and ``_`` with values is formatted at render."""

    class Other:
        def _(self, text: str) -> str:
            return f"other:{text}"

    with app.test_request_context("/?lang=en"):
        app.update_template_context(context := {})
        template = app.jinja_env.get_template("base.html").environment.from_string(
            '{{ other._("base.skip_to_content") }}|{{ _("cert.reason", reason="x") }}'
        )
        assert template.render(other=Other(), **context) == ("other:base.skip_to_content|Reason: x")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_messages_with_values_and_picks_compile_to_plain_calls(app: Flask, language: str) -> None:
    """``_("msgid", name=value)`` becomes the ``fill`` filter on the text, ``pick(zh, en)`` an
    expression of this language; neither goes through ``Context.call``."""
    environment = app.jinja_env.by_language[language]  # type: ignore[attr-defined]
    source = (
        '{{ _("cert.reason", reason=pick(a, b) ~ "!") }}|{{ pick(a, none) }}|'
        '{{ pick(_("cert.json_link"), "x, (y)") }}|{{ pick(f(a, b), [a, b] | join(",")) }}'
    )
    code = environment.compile(source, raw=True)
    assert code.count("context.call(") == 1  # f(a, b), the template's own call
    template = environment.from_string(source)
    rendered = template.render(a="甲<", b="B&", f=lambda x, y: f"{x}+{y}")
    column = i18n.LANGUAGES.index(language)
    reason = i18n.CATALOGUE["cert.reason"][column]
    link = i18n.CATALOGUE["cert.json_link"][column]
    if language == "zh":
        expected = [reason.format(reason="甲<!"), "甲<", link, "甲<+B&"]
    else:
        expected = [reason.format(reason="B&!"), "甲<", "x, (y)", "甲<,B&"]
    assert rendered == "|".join(str(escape(part)) for part in expected)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_a_msgid_known_only_at_render_time_is_translated_by_a_filter(
    app: Flask, language: str
) -> None:
    environment = app.jinja_env.by_language[language]  # type: ignore[attr-defined]
    source = '{{ _(ids[0]) }}|{{ _("cert." ~ ids[1], reason=r) }}'
    assert "context.call(" not in environment.compile(source, raw=True)
    rendered = environment.from_string(source).render(ids=["cert.json_link", "reason"], r="<x>")
    column = i18n.LANGUAGES.index(language)
    reason = i18n.CATALOGUE["cert.reason"][column].format(reason="<x>")
    assert rendered == f"{i18n.CATALOGUE['cert.json_link'][column]}|{escape(reason)}"


def test_a_message_value_may_be_called_text(app: Flask) -> None:
    environment = app.jinja_env.by_language["en"]  # type: ignore[attr-defined]
    catalogue = {**i18n.CATALOGUE, "test.text": ("文：{text}", "Text: {text}")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(i18n, "CATALOGUE", catalogue)
        template = environment.from_string('{{ _("test.text", text=q) }}')
    assert template.render(q="<q>") == "Text: &lt;q&gt;"


def test_an_unknown_msgid_fails_when_the_template_compiles(app: Flask) -> None:
    with pytest.raises(TemplateSyntaxError, match=r"nowhere\.to_be_found"):
        app.jinja_env.from_string('<p>{{ _("nowhere.to_be_found") }}</p>')


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_a_page_extends_and_imports_in_its_own_language(app: Flask, language: str) -> None:
    """home.html extends base.html (the footer) and imports a macro (the search form)."""
    column = i18n.LANGUAGES.index(language)
    other = i18n.LANGUAGES[1 - column]
    html = app.test_client().get(f"/?lang={language}").get_data(as_text=True)
    for msgid in ("home.search_button", "base.footer_note", "home.title"):
        assert i18n.CATALOGUE[msgid][column] in html
        assert i18n.CATALOGUE[msgid][1 - column] not in html, (msgid, other)


def test_the_json_api_ignores_lang_and_stays_publicly_cacheable(client: FlaskClient) -> None:
    """?lang= chooses the pages' language; on the API it must not turn a shared-cacheable
    answer into a private one by setting the cookie."""
    response = client.get("/api/v1/schemes?lang=en")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "private" not in response.headers.get("Cache-Control", "")


def test_the_chinese_error_page_shows_no_english_detail(client: FlaskClient) -> None:
    """The detail is the API's English message; a Chinese page says it with its heading."""
    html = client.get("/no/such/page").get_data(as_text=True)
    assert "找不到该页面" in html
    assert "The requested URL was not found" not in html
    assert "错误代码：<code>NotFound</code>" in html
    english = client.get("/no/such/page?lang=en").get_data(as_text=True)
    assert "The requested URL was not found" in english
