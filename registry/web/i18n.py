"""Languages of the public pages: Chinese (``zh``, the default) and English (``en``).

Instead of compiled gettext catalogues the messages are Python data, small enough to review in a
diff: every module in :mod:`registry.web.messages` defines ``MESSAGES: dict[str, tuple[str, str]]``
mapping a msgid to its ``(zh, en)`` texts. Msgids are dotted keys whose first part names the
feature (``cert.verdict``, ``scan.title``). To add a feature's strings, add a module
``registry/web/messages/<feature>.py`` with its ``MESSAGES``; it is found and merged at import. A
msgid defined by two modules is an error (:class:`CatalogueError`) at import, so features cannot
silently overwrite each other. tests/web/test_i18n.py checks that every ``_("...")`` used in a
template exists here with both texts.

Templates are compiled once per language (:class:`PageEnvironment`): ``_("msgid")`` with no
values, ``locale()`` and ``html_lang()`` become constants of that language when the template
compiles, so the page's fixed text is static HTML, escaped once, instead of about a hundred
calls per render. What stays dynamic (``_`` with values, ``pick``) is bound to the request's
language through a context processor, so a page resolves its language once rather than once per
message; macros imported without context use the globals of the same names, which give the
same texts.

The language of a request (:func:`locale`) comes from, in order: ``?lang=zh|en`` (which also
sets a ``lang`` cookie for later pages), the ``lang`` cookie, the best match in
``Accept-Language``, and finally ``zh``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from types import MappingProxyType, ModuleType
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, has_request_context, request
from flask.sansio.app import App
from flask.templating import Environment
from jinja2 import Template, TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from registry.web import messages

#: The languages offered, default first.
LANGUAGES = ("zh", "en")
DEFAULT = "zh"
#: The value of ``<html lang>`` for each language (BCP 47).
HTML_LANG = MappingProxyType({"zh": "zh-CN", "en": "en"})
#: Each language's name in itself, for the language switch.
LANGUAGE_NAMES = MappingProxyType({"zh": "中文", "en": "English"})
COOKIE = "lang"
#: A year: the choice is a preference, not a session.
COOKIE_MAX_AGE = 365 * 24 * 3600
#: What a page's language depends on, besides its URL.
VARY = "Accept-Language, Cookie"
#: Compiled templates kept per language (Jinja's default size).
TEMPLATE_CACHE_SIZE = 400


class CatalogueError(ValueError):
    """The message modules disagree: a msgid is defined twice, or a text is missing."""


def load_catalogue(package: ModuleType = messages) -> Mapping[str, tuple[str, str]]:
    """Merge the ``MESSAGES`` of every module in ``package`` (:mod:`registry.web.messages`).

    Raises:
        CatalogueError: a msgid appears in two modules, or has an empty text.
    """
    merged: dict[str, tuple[str, str]] = {}
    owner: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        table: dict[str, tuple[str, str]] = getattr(module, "MESSAGES", {})
        for msgid, texts in table.items():
            if msgid in merged:
                raise CatalogueError(
                    f"msgid {msgid!r} is defined in both {owner[msgid]} and {info.name}"
                )
            if len(texts) != len(LANGUAGES) or not all(texts):
                raise CatalogueError(f"msgid {msgid!r} in {info.name} needs a zh and an en text")
            merged[msgid] = texts
            owner[msgid] = info.name
    return MappingProxyType(merged)


CATALOGUE = load_catalogue()


def locale() -> str:
    """The language of the current request, ``"zh"`` or ``"en"`` (see the module docstring)."""
    cached: str | None = g.get("locale")
    if cached is not None:
        return cached
    for chosen in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if chosen in LANGUAGES:
            break
    else:
        # Werkzeug falls back from "zh-CN" to the primary tag "zh" when no exact match exists.
        chosen = request.accept_languages.best_match(LANGUAGES) or DEFAULT
    g.locale = chosen
    return chosen


def gettext(msgid: str, **values: object) -> str:
    """The text of ``msgid`` in the request's language, with ``{name}`` fields filled.

    The result is plain text: templates autoescape it, values included.

    Raises:
        KeyError: ``msgid`` is not in the catalogue (a bug the catalogue test catches).
    """
    text = CATALOGUE[msgid][LANGUAGES.index(locale())]
    return text.format(**values) if values else text


def pick(zh: str, en: str | None) -> str:
    """Choose between a Chinese and an English text held as data (``en`` may be missing)."""
    return en if locale() == "en" and en else zh


def _translator(column: int) -> Callable[..., str]:
    def translate(msgid: str, **values: object) -> str:
        text = CATALOGUE[msgid][column]
        return text.format(**values) if values else text

    return translate


def _picker(language: str) -> Callable[[str, str | None], str]:
    def choose(zh: str, en: str | None) -> str:
        return en if language == "en" and en else zh

    return choose


#: ``_`` and ``pick`` bound to each language, so a page resolves its language once, not once
#: per message (a page has about fifty).
TRANSLATORS = MappingProxyType({lang: _translator(n) for n, lang in enumerate(LANGUAGES)})
PICKERS = MappingProxyType({lang: _picker(lang) for lang in LANGUAGES})


def _bound_to_language() -> dict[str, object]:
    """Template context: the request's language, and ``_``/``pick`` bound to it. Templates
    rendered with their context (pages, not imported macros) use these; the globals of the
    same names give the same texts."""
    language = locale()
    return {
        "_": TRANSLATORS[language],
        "pick": PICKERS[language],
        "locale": lambda: language,
        "html_lang": lambda: HTML_LANG[language],
    }


class FoldMessages(Extension):
    """Translates what needs no request when a template compiles, in its environment's language.

    Rewrites the token stream: ``_("msgid")`` (a literal msgid, no values) becomes the text as a
    string literal, ``locale()`` the language code and ``html_lang()`` its BCP 47 tag. Jinja then
    folds ``{{ "text" }}`` into escaped static output. A msgid missing from the catalogue fails
    the compilation (:class:`jinja2.TemplateSyntaxError`).
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        language: str = getattr(self.environment, "page_language", DEFAULT)
        column = LANGUAGES.index(language)
        constants = {"locale": language, "html_lang": HTML_LANG[language]}
        tokens = list(stream)
        previous: Token | None = None
        i = 0
        while i < len(tokens):
            token = tokens[i]
            ahead = [t.type for t in tokens[i + 1 : i + 4]]
            global_call = token.type == "name" and (previous is None or previous.type != "dot")
            if global_call and token.value == "_" and ahead == ["lparen", "string", "rparen"]:
                msgid = tokens[i + 2].value
                if msgid not in CATALOGUE:
                    raise TemplateSyntaxError(
                        f"msgid {msgid!r} is not in the catalogue",
                        token.lineno,
                        stream.name,
                        stream.filename,
                    )
                token, i = Token(token.lineno, "string", CATALOGUE[msgid][column]), i + 4
            elif global_call and token.value in constants and ahead[:2] == ["lparen", "rparen"]:
                token, i = Token(token.lineno, "string", constants[token.value]), i + 3
            else:
                i += 1
            previous = token
            yield token


class PageEnvironment(Environment):
    """Flask's template environment, with every template compiled once per language.

    This environment compiles for :data:`DEFAULT`; an overlay per other language shares its
    loader, globals and filters but has its own template cache. :meth:`get_template` hands a
    request in another language the overlay's template, so ``render_template`` needs no change,
    and a template's ``extends``/``import`` resolve in the same language.
    """

    page_language = DEFAULT

    def __init__(self, app: App, **options: Any) -> None:
        super().__init__(app, **options)
        self.add_extension(FoldMessages)
        self.by_language: dict[str, Environment] = {DEFAULT: self}
        for language in LANGUAGES:
            if language != DEFAULT:
                # A fresh cache: an overlay would otherwise start with copies of this one's
                # templates, compiled in the default language.
                overlay = self.overlay(cache_size=TEMPLATE_CACHE_SIZE)
                overlay.page_language = language
                self.by_language[language] = overlay

    def get_template(
        self,
        name: str | Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> Template:
        # Only a render asks without a parent: a template's own extends/import/include pass
        # their name and are already in the right environment.
        if parent is None and has_request_context():
            language = locale()
            if language != self.page_language:
                return self.by_language[language].get_template(name, parent, globals)
        return super().get_template(name, parent, globals)


def url_in(language: str) -> str:
    """The current URL (path and query) with ``lang`` set to ``language``."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", language))
    return f"{request.path}?{urlencode(args)}"


def _remember(response: Response) -> Response:
    # Runs on every response, the JSON API's too: the WSGI environ answers the common cases
    # (no ?lang=, not a page) without building the request's argument and header maps.
    if "lang=" in request.environ.get("QUERY_STRING", ""):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(
                COOKIE,
                chosen,
                max_age=COOKIE_MAX_AGE,
                samesite="Lax",
                secure=request.is_secure,
                httponly=True,
            )
            # A response that sets a cookie must not be stored by a shared cache.
            response.cache_control.public = False
            response.cache_control.private = True
    if response.mimetype == "text/html":
        response.headers.add("Vary", VARY)
    return response


def init_app(app: Flask) -> None:
    """Offer ``_``, ``pick``, ``locale``, ``html_lang`` and ``url_in`` to templates; remember
    a ``?lang=`` choice in a cookie."""
    if "jinja_env" in app.__dict__:
        raise RuntimeError("i18n.init_app must run before the app's templates are first used")
    app.jinja_environment = PageEnvironment
    app.jinja_env.globals.update(
        _=gettext,
        pick=pick,
        locale=locale,
        url_in=url_in,
        html_lang=lambda: HTML_LANG[locale()],
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
    )
    app.context_processor(_bound_to_language)
    app.after_request(_remember)
