"""The scan page in headless chromium on a 360-pixel phone, as a consumer sees it (SQLite only).

Screenshots go to the test's tmp_path (and SCAN_SCREENSHOTS, if set, for a human to look at).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from registry.crypto.keys import PrivateKey
from registry.crypto.scantoken import ScanToken, sign_token
from tests.browser.conftest import PHONE_VIEWPORT, no_horizontal_scroll
from tests.live_server import serve

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MakeEnvelope = Callable[..., dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Labels:
    base_url: str
    genuine: str
    suspended: str
    mismatch: str
    counterfeit: str
    malformed: str
    not_found: str


@pytest.fixture
def labels(
    app: Flask, client: FlaskClient, make_envelope: MakeEnvelope, issuer_key: PrivateKey
) -> Iterator[Labels]:
    first = make_envelope()
    suspended_v1 = make_envelope(certificate_number="CQC-ASS-2024-000200")
    renewed_v1 = make_envelope(certificate_number="CQC-ASS-2024-000300")
    unpushed = make_envelope(certificate_number="CQC-ASS-2024-000999")
    pushed = [
        first,
        suspended_v1,
        make_envelope(
            certificate_number="CQC-ASS-2024-000200",
            version=2,
            status="suspended",
            status_reason="年度监督审核未按期进行",
            status_effective_date="2026-02-01",
        ),
        renewed_v1,
        make_envelope(certificate_number="CQC-ASS-2024-000300", version=2, tier="四星级",
                      score={"value": 91, "scale": 100}),
    ]  # fmt: skip
    assert client.post("/api/v1/records", json=pushed).get_json()["accepted"] == 5
    stranger = PrivateKey.from_seed(b"counterfeiter-key-00000000000000")
    fake = sign_token(ScanToken.from_text(first["qr"]).claims, stranger).to_text()
    with serve(app) as url:
        yield Labels(
            url,
            first["qr"],
            suspended_v1["qr"],
            renewed_v1["qr"],
            fake,
            first["qr"][:-20],
            unpushed["qr"],
        )


def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=tmp_path / name, full_page=True)
    keep = os.environ.get("SCAN_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(keep) / name, full_page=True)


def background(page: Page) -> str:
    return str(page.locator(".scan-verdict").evaluate("e => getComputedStyle(e).backgroundColor"))


@pytest.mark.parametrize(
    ("which", "status", "headline", "colour"),
    [
        ("genuine", 200, "真实标签 · 证书有效", "rgb(0, 112, 60)"),
        ("suspended", 200, "真实标签 · 证书暂停", "rgb(255, 243, 224)"),
        ("mismatch", 409, "标签与登记信息不符", "rgb(255, 247, 191)"),
        ("counterfeit", 422, "假冒标签", "rgb(177, 14, 30)"),
        ("malformed", 400, "假冒标签", "rgb(177, 14, 30)"),
        ("not_found", 404, "本站未登记此证书", "rgb(80, 90, 95)"),
    ],
)
def test_each_verdict_on_a_phone(
    phone: Page,
    labels: Labels,
    tmp_path: Path,
    which: str,
    status: int,
    headline: str,
    colour: str,
) -> None:
    violations: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    phone.on("console", listen)
    response = phone.goto(f"{labels.base_url}/v/{getattr(labels, which)}")
    assert response is not None
    assert response.status == status
    expect(phone.get_by_role("heading", level=1)).to_have_text(headline)
    assert background(phone) == colour  # scan.css applied, not blocked
    no_horizontal_scroll(phone)
    screenshot(phone, tmp_path, f"scan-{which}-zh.png")
    assert violations == []


def test_genuine_in_english_shows_what_to_compare(phone_en: Page, labels: Labels) -> None:
    phone_en.goto(f"{labels.base_url}/v/{labels.genuine}")
    expect(phone_en.get_by_role("heading", level=1)).to_have_text(
        "Genuine label · certificate valid"
    )
    facts = phone_en.locator(".facts")
    for text in (
        "杭州海川电器有限公司",
        "家用电器的销售及售后服务",
        "Five-star",
        "Test Certification Centre",
    ):
        expect(facts).to_contain_text(text)
    no_horizontal_scroll(phone_en)


def test_mismatch_names_the_difference(phone_en: Page, labels: Labels, tmp_path: Path) -> None:
    phone_en.goto(f"{labels.base_url}/v/{labels.mismatch}")
    expect(phone_en.locator(".panel--error")).to_contain_text(
        "Tier: label Five-star, registry Four-star"
    )
    screenshot(phone_en, tmp_path, "scan-mismatch-en.png")


def test_report_a_label_without_javascript(browser: Browser, labels: Labels) -> None:
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, locale="zh-CN", java_script_enabled=False, is_mobile=True
    )
    try:
        page = context.new_page()
        page.goto(f"{labels.base_url}/v/{labels.counterfeit}")
        page.get_by_label("原因").select_option("looks-fake")
        page.get_by_label("补充说明（可选）").fill("包装上的字体模糊")
        page.get_by_label("购买地点（可选）").fill("某路边摊")
        page.get_by_role("button", name="提交举报").click()
        expect(page.get_by_role("status").last).to_contain_text("谢谢，举报已转给认证机构。")
        assert page.url.endswith("?reported=1#report")
        no_horizontal_scroll(page)
    finally:
        context.close()
