"""QR label rendering: the version bound over real and worst-case tokens, and real decoding."""

from __future__ import annotations

import datetime as dt
import io

import cairosvg
import pytest
import qrcode
import zxingcpp
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, QRData

from registry.client import Signer
from registry.crypto.keys import PrivateKey
from registry.crypto.scantoken import ScanClaims, ScanToken, scan_url, sign_token
from registry.domain.record import CERTIFICATE_NUMBER_MAX, ISSUER_ID_MAX
from registry.sample import records
from registry.services import labels
from registry.settings import MAX_PUBLIC_URL_LENGTH

KEY = PrivateKey.from_seed(b"label-tests-key-0000000000000000")
#: The longest public URL Settings accepts.
LONGEST_ORIGIN = "https://" + "r" * (MAX_PUBLIC_URL_LENGTH - len("https://.cn")) + ".cn"
CAPTION = labels.Caption("CQC-ASS-2024-000123", "五星级", "5S")


def worst_token(issuer_chars: int, number_chars: int) -> ScanToken:
    """The biggest token for these lengths: 4-char scheme, 2-char tier, 8-byte integers."""
    claims = ScanClaims(
        issuer="C" * issuer_chars,
        certificate_number="9" * number_chars,
        scheme="GASS",
        tier="AP",
        expiry=dt.date(9999, 12, 31),
        issued_at=2**32 - 1,  # the largest 4-byte-argument time; later ones take 8 bytes
        record_hash=b"\xff" * 8,
    )
    return sign_token(claims, KEY)


def decode_png(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def decode_svg(data: bytes) -> list[str]:
    """Rasterise the SVG file itself (cairosvg, libcairo) and decode those pixels."""
    return decode_png(cairosvg.svg2png(bytestring=data, output_width=900))


def test_longest_origin_is_the_settings_limit() -> None:
    assert len(LONGEST_ORIGIN) == MAX_PUBLIC_URL_LENGTH


def test_every_demo_token_fits_version_10_m_at_the_longest_origin() -> None:
    signer = Signer(KEY)
    versions = []
    for record in records(300, ["CNCA-R-2099-001", "CNCA-R-2099-002"], 2026, dt.date(2026, 3, 1)):
        token = ScanToken.from_text(str(signer.envelope(record)["qr"]))
        versions.append(labels.qr_matrix(scan_url(LONGEST_ORIGIN, token)).version)
    assert max(versions) <= labels.MAX_QR_VERSION
    assert len(versions) == 300


def test_worst_case_the_registry_allows_fits_version_10_m() -> None:
    token = worst_token(ISSUER_ID_MAX, CERTIFICATE_NUMBER_MAX)
    matrix = labels.qr_matrix(scan_url(LONGEST_ORIGIN, token))
    assert matrix.version == 10  # exactly at the bound: the limits are tight
    assert decode_png(labels.render_png(scan_url(LONGEST_ORIGIN, token))) == [
        scan_url(LONGEST_ORIGIN, token)
    ]


def test_older_limits_of_20_and_32_characters_do_not_fit_and_say_so() -> None:
    # Why the domain allows 16 and 24 (commit 549c7f1): a 20-char issuer id and 32-char number
    # need version 11.
    url = scan_url(LONGEST_ORIGIN, worst_token(20, 32))
    with pytest.raises(labels.LabelTooLarge, match="needs QR version 11"):
        labels.qr_matrix(url)
    with pytest.raises(labels.LabelTooLarge):
        labels.render_svg(url)


def test_the_token_segment_is_alphanumeric() -> None:
    # In byte mode the worst case needs version 13; only the alphanumeric token gets it to 10.
    token = worst_token(ISSUER_ID_MAX, CERTIFICATE_NUMBER_MAX)
    url = scan_url(LONGEST_ORIGIN, token)
    assert labels.qr_matrix(url).version == 10
    byte_mode = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
    byte_mode.add_data(QRData(url.encode(), mode=MODE_8BIT_BYTE))
    byte_mode.make(fit=True)
    assert byte_mode.version > 10


@pytest.mark.parametrize(
    "url",
    [
        "https://registry.example.cn/c/ABC",
        "https://registry.example.cn/v/",
        "https://registry.example.cn/v/abcd",
        "https://registry.example.cn/v/ABC1",
    ],
)
def test_only_scan_urls_are_rendered(url: str) -> None:
    with pytest.raises(ValueError, match="scan URL"):
        labels.qr_matrix(url)


@pytest.mark.parametrize(("size", "margin"), [(2, 4), (41, 4), (12, -1), (12, 17)])
def test_parameters_out_of_range(size: int, margin: int) -> None:
    url = scan_url("https://registry.example.cn", worst_token(4, 4))
    with pytest.raises(ValueError, match=r"size|margin"):
        labels.render_png(url, size, margin)


@pytest.mark.parametrize("caption", [None, CAPTION], ids=["bare", "label"])
@pytest.mark.parametrize(("size", "margin"), [(4, 4), (12, 4), (12, 2)])
def test_png_and_svg_decode_to_the_exact_url(
    caption: labels.Caption | None, size: int, margin: int
) -> None:
    url = scan_url("https://registry.example.cn", worst_token(15, 19))
    assert decode_png(labels.render_png(url, size, margin, caption)) == [url]
    assert decode_svg(labels.render_svg(url, size, margin, caption)) == [url]


def test_png_is_at_print_resolution() -> None:
    url = scan_url("https://registry.example.cn", worst_token(15, 19))
    image = Image.open(io.BytesIO(labels.render_png(url)))
    assert tuple(round(d) for d in image.info["dpi"]) == (labels.PRINT_DPI,) * 2


def test_label_prints_the_tier_in_chinese_when_a_font_is_installed() -> None:
    if labels._cjk_font_file() is None:
        pytest.skip("no CJK font: apt-get install fonts-noto-cjk")
    url = scan_url("https://registry.example.cn", worst_token(15, 19))
    with_tier = labels.render_png(url, caption=CAPTION)
    other_tier = labels.render_png(
        url, caption=labels.Caption(CAPTION.certificate_number, "四星级", "4S")
    )
    assert with_tier != other_tier  # the glyphs differ, so the tier is really drawn


def test_svg_escapes_its_text() -> None:
    url = scan_url("https://registry.example.cn", worst_token(15, 19))
    svg = labels.render_svg(url, caption=labels.Caption("A<B&C", "<script>", "X")).decode()
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
