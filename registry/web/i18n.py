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

The WSGI fast paths (:mod:`registry.web.fastpath`) render the certificate and scan pages
outside Flask's request context with :func:`render_plain`, which gives a template what the
context processors would, in the language :func:`language_of` reads off the WSGI environ.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jinja2
from flask import Flask, Response, g, has_request_context, request
from flask.sansio.app import App
from flask.templating import Environment
from jinja2 import Template, TemplateSyntaxError, pass_environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

from registry.web import messages
from registry.web.escaping import OutputCodeGenerator, escape_output

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
    """The language of the current request, ``"zh"`` or ``"en"`` (see the module docstring).

    Outside a request (a fast path rendering a page, :func:`_rendering_in`), the language that
    render was given.
    """
    if not has_request_context():
        return _OUTSIDE_REQUEST.get()
    cached: str | None = g.get("locale")
    if cached is not None:
        return cached
    environ = request.environ
    chosen = language_of(environ, request.args.get("lang") if environ.get("QUERY_STRING") else None)
    g.locale = chosen
    return chosen


def language_of(environ: WSGIEnvironment, lang_arg: str | None) -> str:
    """The language of a request from ``?lang=`` (``lang_arg``), else its WSGI environ: the
    ``lang`` cookie, else the best match in ``Accept-Language``, else ``zh``.

    Reads only the headers it needs, so a request with no cookie and a common
    ``Accept-Language`` costs a dictionary lookup.
    """
    if lang_arg in LANGUAGES:
        return lang_arg
    cookie = environ.get("HTTP_COOKIE")
    if cookie and COOKIE in cookie:
        chosen = parse_cookie(cookie).get(COOKIE)
        if chosen in LANGUAGES:
            return chosen
    return _accepted(environ.get("HTTP_ACCEPT_LANGUAGE", ""))


@functools.lru_cache(maxsize=256)
def _accepted(header: str) -> str:
    # Browsers send a handful of distinct values, so the parse is cached per value. Werkzeug
    # falls back from "zh-CN" to the primary tag "zh" when no exact match exists.
    if not header:
        return DEFAULT
    return parse_accept_header(header, LanguageAccept).best_match(LANGUAGES) or DEFAULT


#: The language of a page rendered outside a request (see :func:`_rendering_in`).
_OUTSIDE_REQUEST: ContextVar[str] = ContextVar("page_language", default=DEFAULT)


@contextmanager
def _rendering_in(language: str) -> Iterator[None]:
    """Make :func:`locale` (and so ``gettext``, ``pick`` and the ``cst`` filter) answer
    ``language`` while a page renders outside Flask's request context."""
    token = _OUTSIDE_REQUEST.set(language)
    try:
        yield
    finally:
        _OUTSIDE_REQUEST.reset(token)


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
    def translate(msgid: str, /, **values: object) -> str:
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


def _bound(language: str) -> dict[str, object]:
    return {
        "_": TRANSLATORS[language],
        "pick": PICKERS[language],
        "locale": lambda: language,
        "html_lang": lambda: HTML_LANG[language],
    }


#: Per language, the template context that binds a page to it (see :func:`_bound_to_language`).
BOUND = MappingProxyType({language: _bound(language) for language in LANGUAGES})


def _bound_to_language() -> dict[str, object]:
    """Template context: the request's language, and ``_``/``pick`` bound to it. Templates
    rendered with their context (pages, not imported macros) use these; the globals of the
    same names give the same texts. (Flask copies a processor's answer into the context, so
    the shared dict is never changed.)"""
    return BOUND[locale()]


def render_plain(
    environment: Environment,
    name: str,
    context: Mapping[str, object],
    path: str,
    environ: WSGIEnvironment,
) -> bytes:
    """Render template ``name`` as ``render_template`` would for a GET of ``path`` with no query
    string, outside Flask's request context (for the WSGI fast paths), in the request's
    language, as UTF-8.

    ``environment`` is the app's :class:`PageEnvironment`. Instead of the context processors,
    the page gets the language bindings and a ``url_in`` giving what :func:`url_in` would;
    ``locale()`` answers the language meanwhile (:func:`_rendering_in`).
    """
    language = language_of(environ, None)
    overlays: dict[str, Environment] = environment.by_language  # type: ignore[attr-defined]
    template = overlays[language].get_template(name)
    with _rendering_in(language):
        html: str = template.render(
            context, **BOUND[language], url_in=lambda code: f"{path}?lang={code}"
        )
    return html.encode()


class FoldMessages(Extension):
    """Translates what needs no request when a template compiles, in its environment's language.

    Rewrites the token stream:

    - ``_("msgid")`` (a literal msgid, no values) becomes the text as a string literal, and
      ``locale()`` and ``html_lang()`` the language code and its BCP 47 tag; Jinja then folds
      ``{{ "text" }}`` into escaped static output;
    - ``_("msgid", name=value, ...)`` becomes ``("text" | fill(name=value, ...))``: a filter is
      a plain Python call, where a call of a context function goes through Jinja's
      ``Context.call`` (a few microseconds, a few dozen times a page);
    - ``_(expression, ...)``, a msgid known only at render time, becomes
      ``((expression) | msg(...))``, a filter that reads the language off the environment;
    - ``pick(zh, en)`` becomes ``(zh)`` in Chinese and ``((en) or (zh))`` in English.

    A msgid missing from the catalogue fails the compilation
    (:class:`jinja2.TemplateSyntaxError`).
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        folder = _Folder(template_language(self.environment), stream)
        yield from folder.rewrite(list(stream))


_OPEN = frozenset({"lparen", "lbracket", "lbrace"})
_CLOSE = frozenset({"rparen", "rbracket", "rbrace"})


class _Folder:
    """One template's token rewrite for :class:`FoldMessages`."""

    def __init__(self, language: str, stream: TokenStream) -> None:
        self.language = language
        self.column = LANGUAGES.index(language)
        self.constants = {"locale": language, "html_lang": HTML_LANG[language]}
        self.stream = stream

    def text(self, token: Token) -> str:
        msgid: str = token.value
        if msgid not in CATALOGUE:
            raise TemplateSyntaxError(
                f"msgid {msgid!r} is not in the catalogue",
                token.lineno,
                self.stream.name,
                self.stream.filename,
            )
        return CATALOGUE[msgid][self.column]

    def rewrite(self, tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            types = [t.type for t in tokens[i + 1 : i + 4]]
            global_call = (
                token.type == "name"
                and types[:1] == ["lparen"]
                and (not out or out[-1].type != "dot")
            )
            if not global_call:
                out.append(token)
                i += 1
                continue
            line = token.lineno
            close, commas = _call_extent(tokens, i + 1)
            if token.value == "_" and types == ["lparen", "string", "rparen"]:
                out.append(Token(line, "string", self.text(tokens[i + 2])))
            elif token.value == "_" and types == ["lparen", "string", "comma"]:
                values = self.rewrite(tokens[i + 4 : close])
                out += [
                    Token(line, "lparen", "("),
                    Token(line, "string", self.text(tokens[i + 2])),
                    Token(line, "pipe", "|"),
                    Token(line, "name", "fill"),
                    Token(line, "lparen", "("),
                    *values,
                    Token(line, "rparen", ")"),
                    Token(line, "rparen", ")"),
                ]
            elif token.value == "_" and types[:1] == ["lparen"] and close > i + 2:
                # A msgid computed at render time: the language's text through the msg filter.
                ends = [*commas, close]
                msgid = self.rewrite(tokens[i + 2 : ends[0]])
                values = self.rewrite(tokens[ends[0] + 1 : close]) if commas else []
                out += [
                    Token(line, "lparen", "("),
                    *_parenthesised(line, msgid),
                    Token(line, "pipe", "|"),
                    Token(line, "name", "msg"),
                    *_parenthesised(line, values),
                    Token(line, "rparen", ")"),
                ]
            elif token.value in self.constants and types[:2] == ["lparen", "rparen"]:
                out.append(Token(line, "string", self.constants[token.value]))
            elif token.value == "pick" and len(commas) == 1:
                zh = self.rewrite(tokens[i + 2 : commas[0]])
                en = self.rewrite(tokens[commas[0] + 1 : close])
                out += _parenthesised(
                    line,
                    zh
                    if self.language == DEFAULT
                    else [
                        *_parenthesised(line, en),
                        Token(line, "name", "or"),
                        *_parenthesised(line, zh),
                    ],
                )
            else:
                out.append(token)
                i += 1
                continue
            i = close + 1
        return out


def _call_extent(tokens: list[Token], opening: int) -> tuple[int, list[int]]:
    """The index of the parenthesis closing the one at ``opening``, and of the commas
    between them at the top level."""
    depth = 0
    commas: list[int] = []
    for j in range(opening, len(tokens)):
        kind = tokens[j].type
        if kind in _OPEN:
            depth += 1
        elif kind in _CLOSE:
            depth -= 1
            if depth == 0:
                return j, commas
        elif kind == "comma" and depth == 1:
            commas.append(j)
    return len(tokens), commas  # unbalanced: the parser reports it


def _parenthesised(line: int, tokens: list[Token]) -> list[Token]:
    return [Token(line, "lparen", "("), *tokens, Token(line, "rparen", ")")]


def template_language(environment: jinja2.Environment) -> str:
    """The language a template of ``environment`` was compiled for (:class:`PageEnvironment`
    and its overlays; the default for any other environment)."""
    language: str = getattr(environment, "page_language", DEFAULT)
    return language


@pass_environment
def msg(environment: jinja2.Environment, msgid: str, /, **values: object) -> str:
    """The ``msg`` filter: the text of a msgid known only at render time, in the language the
    template was compiled for, with its ``{name}`` fields filled (see :class:`FoldMessages`).

    Raises:
        KeyError: ``msgid`` is not in the catalogue.
    """
    return TRANSLATORS[template_language(environment)](msgid, **values)


def fill(text: str, /, **values: object) -> str:
    """The ``fill`` filter: a message's text with its ``{name}`` fields filled (see
    :class:`FoldMessages`)."""
    return text.format(**values)


class PageEnvironment(Environment):
    """Flask's template environment, with every template compiled once per language.

    This environment compiles for :data:`DEFAULT`; an overlay per other language shares its
    loader, globals and filters but has its own template cache. :meth:`get_template` hands a
    request in another language the overlay's template, so ``render_template`` needs no change,
    and a template's ``extends``/``import`` resolve in the same language.
    """

    page_language = DEFAULT
    # Autoescaped output without a Markup per value (registry/web/escaping.py).
    code_generator_class = OutputCodeGenerator
    escape_output = staticmethod(escape_output)

    def __init__(self, app: App, **options: Any) -> None:
        super().__init__(app, **options)
        self.add_extension(FoldMessages)
        # What FoldMessages turns _("msgid", name=value) and _(expression) into.
        self.filters.update(fill=fill, msg=msg)
        self.by_language: dict[str, Environment] = {DEFAULT: self}
        for language in LANGUAGES:
            if language != DEFAULT:
                # A fresh cache: an overlay would otherwise start with copies of this one's
                # templates, compiled in the default language.
                overlay = self.overlay(cache_size=TEMPLATE_CACHE_SIZE)
                overlay.page_language = language
                self.by_language[language] = overlay

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as a plain dict, where Jinja makes a ChainMap over the
        environment's: every render copies them into its context, and copying a ChainMap costs
        a Python-level lookup per name. So globals are read when a template loads: the app sets
        them all before its first render (``init_app`` refuses to run after one)."""
        return {**self.globals, **(d or {})}

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


def static_url(root: str | None, filename: str) -> str:
    """The URL of a file under ``static/`` (what ``url_for("static", ...)`` gives for an app
    served at the root, as every link in the templates assumes), without a request."""
    return f"{root}/{filename}"


def url_in(language: str) -> str:
    """The current URL (path and query) with ``lang`` set to ``language``."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", language))
    return f"{request.path}?{urlencode(args)}"


def _remember(response: Response) -> Response:
    # Runs on every response, the JSON API's too: the WSGI environ answers the common cases
    # (no ?lang=, not a page) without building the request's argument and header maps.
    # Only a page remembers the choice: the JSON API has one language, and the cookie would
    # make its shared-cacheable answers private.
    if response.mimetype == "text/html" and "lang=" in request.environ.get("QUERY_STRING", ""):
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
    """Offer ``_``, ``pick``, ``locale``, ``html_lang``, ``url_in`` and ``static_url`` to
    templates; remember a ``?lang=`` choice in a cookie."""
    if "jinja_env" in app.__dict__:
        raise RuntimeError("i18n.init_app must run before the app's templates are first used")
    app.jinja_environment = PageEnvironment
    app.jinja_env.globals.update(
        _=gettext,
        pick=pick,
        locale=locale,
        url_in=url_in,
        html_lang=lambda: HTML_LANG[locale()],
        static_url=functools.partial(static_url, app.static_url_path),
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
    )
    app.context_processor(_bound_to_language)
    app.after_request(_remember)
