"""The browser tooling works: Debian's chromium renders a page in the phone viewport."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect

from tests.live_server import serve

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>证书查询</title>
</head>
<body><h1>证书查询</h1><p>Certificate lookup</p></body>
</html>
"""


def throwaway_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return PAGE

    return app


def test_page_renders_in_phone_viewport(phone: Page, tmp_path: Path) -> None:
    with serve(throwaway_app()) as base_url:
        phone.goto(base_url + "/")
        expect(phone.get_by_role("heading", name="证书查询")).to_be_visible()
        expect(phone.get_by_text("Certificate lookup")).to_be_visible()
        assert phone.evaluate("window.innerWidth") == 360
        assert phone.evaluate("navigator.language") == "zh-CN"
        shot = tmp_path / "smoke.png"
        phone.screenshot(path=shot, full_page=True)

    with Image.open(shot) as image:
        assert image.format == "PNG"
        assert image.width == 720  # 360 CSS pixels at device scale factor 2


def test_phone_en_has_english_locale(phone_en: Page) -> None:
    with serve(throwaway_app()) as base_url:
        phone_en.goto(base_url + "/")
        assert phone_en.evaluate("navigator.language") == "en-US"
        assert phone_en.evaluate("window.innerWidth") == 360
