"""Browser fixtures: Playwright (sync API) driving Debian's chromium, never a downloaded browser.

``browser`` is one headless chromium for the session; ``phone`` and ``phone_en`` are fresh pages in
a 360×740 touch phone context (device scale factor 2) with locale zh-CN and en-US. Every test in
this directory carries the ``browser`` marker. Without chromium the tests are skipped, except under
``CI=true``, where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    Error,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from tests.postgres import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
PHONE_VIEWPORT: ViewportSize = {"width": 360, "height": 740}
TIMEOUT_MS = 15_000
HERE = Path(__file__).resolve().parent


def no_horizontal_scroll(page: Page) -> None:
    """The page fits the phone's width: a long word wraps rather than scrolling sideways.

    Waits for the load event first: after a click that navigates, the new document can be
    measured before its (cached) stylesheet applies, and an unstyled page is ~1100 pixels wide.
    """
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"], f"{page.url} is {width}px wide"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The hook sees the whole session's items, so mark only those collected from this directory.
    for item in items:
        if item.path.resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.is_file():
        unavailable(
            f"{CHROMIUM} not found (Debian: apt-get install chromium fonts-noto-cjk); "
            "browser tests never download a browser"
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Error as exc:
        unavailable(f"{CHROMIUM} does not start", str(exc))
    yield browser
    browser.close()


def _phone(browser: Browser, locale: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page on a 360×740 touch phone, locale zh-CN."""
    yield from _phone(browser, "zh-CN")


@pytest.fixture
def phone_en(browser: Browser) -> Iterator[Page]:
    """Like ``phone``, with locale en-US."""
    yield from _phone(browser, "en-US")
