"""The public pages in a real headless chromium on a 360-pixel phone (SQLite only).

Screenshots go to the test's tmp_path; a human looks at them when the design changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import PHONE_VIEWPORT, no_horizontal_scroll
from tests.live_server import serve

# Browser tests run on one backend: the database is not what they test.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MakeEnvelope = Callable[..., dict[str, Any]]
NUMBER = "CQC-ASS-2024-000123"
USCC = "91330100MA2H3B4C5X"
#: A long unbroken string: the layout must wrap it, not scroll sideways.
LONG_WORD = "家用电器" * 20 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 3


@pytest.fixture
def base_url(app: Flask, client: FlaskClient, make_envelope: MakeEnvelope) -> Iterator[str]:
    """The app with two versions of one certificate (the second a suspension), served live."""
    envelopes = [
        make_envelope(scope=f"家用电器的销售及售后服务\n{LONG_WORD}"),
        make_envelope(
            version=2,
            status="suspended",
            status_reason="年度监督审核未按期进行",
            status_effective_date="2026-02-01",
            scope=f"家用电器的销售及售后服务\n{LONG_WORD}",
            sites=[{"name": "宁波服务中心", "address": "浙江省宁波市江北区", "scope": "维修"}],
        ),
    ]
    response = client.post("/api/v1/records", json=envelopes)
    assert response.get_json()["accepted"] == 2
    with serve(app) as url:
        yield url


def csp_violations(page: Page) -> list[str]:
    found: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", listen)
    return found


def test_open_a_certificate_on_a_phone(phone: Page, base_url: str, tmp_path: Path) -> None:
    violations = csp_violations(phone)
    phone.goto(f"{base_url}/c/{NUMBER}")
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(phone.get_by_role("heading", level=1)).to_have_text(NUMBER)
    verdict = phone.locator(".verdict")
    expect(verdict).to_contain_text("暂停")
    expect(verdict).to_contain_text("年度监督审核未按期进行")
    # Amber, not the green of a valid certificate: the stylesheet was applied.
    colour = verdict.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(255, 243, 224)"
    expect(phone.locator(".timeline__item")).to_have_count(2)
    expect(phone.get_by_role("link", name="杭州海川电器有限公司")).to_be_visible()
    no_horizontal_scroll(phone)
    phone.screenshot(path=tmp_path / "certificate-zh.png", full_page=True)
    assert violations == []


def test_switch_language_keeps_the_page_and_sticks(
    phone: Page, base_url: str, tmp_path: Path
) -> None:
    phone.goto(f"{base_url}/c/{NUMBER}?at=2026-01-15")
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    assert re.search(rf"/c/{NUMBER}\?at=2026-01-15&lang=en$", phone.url)
    expect(phone.locator(".verdict")).to_contain_text("Suspended")
    expect(phone.locator(".at-answer")).to_contain_text("Status on 2026-01-15:")
    no_horizontal_scroll(phone)
    phone.screenshot(path=tmp_path / "certificate-en.png", full_page=True)
    # The choice is remembered: a later page without ?lang stays English.
    phone.goto(f"{base_url}/o/{USCC}")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    phone.get_by_role("link", name="中文").click()
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")


def test_an_english_phone_gets_english(phone_en: Page, base_url: str) -> None:
    phone_en.goto(f"{base_url}/")
    expect(phone_en.locator("html")).to_have_attribute("lang", "en")
    expect(phone_en.get_by_role("heading", level=1)).to_have_text("Check a service certificate")


def test_status_on_a_date_without_javascript(
    browser: Browser, base_url: str, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, locale="zh-CN", java_script_enabled=False, is_mobile=True
    )
    try:
        page = context.new_page()
        page.goto(f"{base_url}/c/{NUMBER}")
        page.get_by_label("日期").fill("2026-01-15")
        page.get_by_role("button", name="查询该日状态").click()
        answer = page.locator(".at-answer")
        expect(answer).to_contain_text("2026-01-15 当天的状态：")
        expect(answer.locator(".tag--valid")).to_be_visible()  # suspended only from 02-01
        assert "at=2026-01-15" in page.url
        no_horizontal_scroll(page)
    finally:
        context.close()


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "查询服务认证证书"),
        (f"/o/{USCC}", "杭州海川电器有限公司"),
        ("/c/CQC-ASS-2099-000001", "本站没有编号为 CQC-ASS-2099-000001 的证书"),
        ("/no-such-page", "找不到该页面"),
    ],
    ids=["home", "organisation", "not-found", "error"],
)
def test_every_page_fits_a_phone(
    phone: Page, base_url: str, tmp_path: Path, path: str, heading: str
) -> None:
    violations = csp_violations(phone)
    phone.goto(base_url + path)
    expect(phone.get_by_role("heading", level=1)).to_have_text(heading)
    no_horizontal_scroll(phone)
    phone.screenshot(path=tmp_path / "page.png", full_page=True)
    assert violations == []


def test_not_found_lists_who_publishes_here(phone: Page, base_url: str) -> None:
    response = phone.goto(f"{base_url}/c/CQC-ASS-2099-000001")
    assert response is not None
    assert response.status == 404
    table = phone.locator("table.publishers")
    expect(table).to_contain_text("测试认证中心")
    expect(table).to_contain_text("2026-03-01 16:00 北京时间")


def test_search_box_on_the_home_page_finds_the_certificate(phone: Page, base_url: str) -> None:
    phone.goto(f"{base_url}/")
    box = phone.get_by_label("证书编号、企业名称或统一社会信用代码")
    box.fill(NUMBER)
    box.press("Enter")
    phone.wait_for_url(re.compile(rf"/c/{NUMBER}"))
    expect(phone.locator(".verdict")).to_contain_text("暂停")
    no_horizontal_scroll(phone)


def test_a_name_search_lists_the_organisation(phone: Page, base_url: str, tmp_path: Path) -> None:
    phone.goto(f"{base_url}/")
    phone.get_by_label("证书编号、企业名称或统一社会信用代码").fill("海川")
    phone.get_by_role("button", name="查询").click()
    expect(phone.get_by_role("link", name=NUMBER)).to_be_visible()
    no_horizontal_scroll(phone)
    phone.screenshot(path=tmp_path / "search.png", full_page=True)
    phone.get_by_role("link", name=NUMBER).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(NUMBER)
