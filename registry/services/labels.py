"""QR label images: the scan URL as a QR code, in SVG or PNG, bare or with a caption.

Every code is built from two explicit segments (ISO/IEC 18004 §7.4): the lowercase URL prefix
``https://<host>/v/`` in byte mode and the uppercase Base32 token in alphanumeric mode, at error
correction level M. :func:`qr_matrix` refuses anything that would need a version above
:data:`MAX_QR_VERSION`, so every label the registry or ``registry qr`` produces can be printed at
the same size (docs/formats.md, "Scan token").

The *label* variant prints the certificate number and the tier under the code. The tier is
printed in Chinese when a CJK font is installed (Debian: ``fonts-noto-cjk``); without one, PNG
labels fall back to the tier's ASCII code and say so once in the log. SVG labels name the font
and leave the glyphs to the viewer.

Rendering is pure (no database, no Flask); fonts are loaded once per process and size. Two
functions at the end find what to render (:func:`find_label`, :func:`label_content`).
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from registry.crypto.scantoken import ScanToken, scan_url
from registry.domain.record import Record
from registry.fastjson import loads
from registry.store.models import Certificate, RecordVersion
from registry.store.prepared import Prepared

log = logging.getLogger(__name__)

#: Every QR code must fit this version at level M (ARCHITECTURE.md, "Formats").
MAX_QR_VERSION = 10
#: The quiet zone ISO/IEC 18004 asks for, in modules.
DEFAULT_MARGIN = 4
#: PNG pixels per module: at :data:`PRINT_DPI` a module is 1.02 mm, a version-10 code with its
#: quiet zone 66 mm wide (shrink on press with ``size``; 3 px ≈ 0.25 mm is the floor we allow).
DEFAULT_SIZE = 12
MIN_SIZE, MAX_SIZE = 3, 40
MAX_MARGIN = 16
#: The resolution written into PNG files (pHYs), so print shops place them at the intended size.
PRINT_DPI = 300

#: Where a CJK font is looked for, with the face index of Simplified Chinese in each collection.
CJK_FONTS: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"), 2),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
)
_SVG_FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
)

SVG = "svg"
PNG = "png"
FORMATS = (SVG, PNG)


class LabelTooLarge(ValueError):
    """The URL does not fit a QR code of version :data:`MAX_QR_VERSION` at level M."""


@dataclass(frozen=True)
class Caption:
    """What the label variant prints under the code.

    Attributes:
        certificate_number: printed as is.
        tier: the tier as written in Chinese, e.g. ``"五星级"``.
        tier_code: its ASCII code (e.g. ``"5S"``), printed when no CJK font is available.
    """

    certificate_number: str
    tier: str
    tier_code: str


@dataclass(frozen=True)
class QRMatrix:
    """A QR code's modules (True = dark), without quiet zone, and its version."""

    version: int
    modules: tuple[tuple[bool, ...], ...]

    @property
    def width(self) -> int:
        return len(self.modules)


def split_url(url: str) -> tuple[str, str]:
    """Split a scan URL into its byte-mode prefix (up to and including ``/v/``) and token.

    Raises:
        ValueError: the URL has no ``/v/`` or the token is not uppercase Base32.
    """
    prefix, sep, token = url.rpartition("/v/")
    if not sep or not token or not all(c in _BASE32 for c in token):
        raise ValueError("a scan URL is <origin>/v/<uppercase Base32 token>")
    return prefix + sep, token


_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def qr_matrix(url: str) -> QRMatrix:
    """Encode a scan URL as a QR code at level M: prefix in byte mode, token alphanumeric.

    Raises:
        ValueError: ``url`` is not a scan URL (see :func:`split_url`).
        LabelTooLarge: the code would need a version above :data:`MAX_QR_VERSION`.
    """
    prefix, token = split_url(url)
    code = qrcode.QRCode(version=None, error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(QRData(prefix.encode("ascii"), mode=MODE_8BIT_BYTE))
    code.add_data(QRData(token.encode("ascii"), mode=MODE_ALPHA_NUM))
    try:
        code.make(fit=True)
    except ValueError as exc:  # qrcode raises a ValueError subclass beyond version 40
        raise LabelTooLarge(f"scan URL of {len(url)} characters does not fit a QR code") from exc
    if code.version > MAX_QR_VERSION:
        raise LabelTooLarge(
            f"scan URL of {len(url)} characters needs QR version {code.version}; "
            f"the registry's codes must fit version {MAX_QR_VERSION} at level M"
        )
    return QRMatrix(code.version, tuple(tuple(bool(m) for m in row) for row in code.modules))


def _check(size: int, margin: int) -> None:
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be {MIN_SIZE} to {MAX_SIZE} pixels per module")
    if not 0 <= margin <= MAX_MARGIN:
        raise ValueError(f"margin must be 0 to {MAX_MARGIN} modules")


def _runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    runs: list[tuple[int, int]] = []
    start = -1
    for x, dark in enumerate((*row, False)):
        if dark and start < 0:
            start = x
        elif not dark and start >= 0:
            runs.append((start, x - start))
            start = -1
    return runs


def render_svg(
    url: str, size: int = DEFAULT_SIZE, margin: int = DEFAULT_MARGIN, caption: Caption | None = None
) -> bytes:
    """The QR code for ``url`` as a standalone SVG document (one path, no scripts, no styles).

    Args:
        url: the scan URL.
        size: pixels per module for the ``width``/``height`` attributes (the drawing is vector).
        margin: quiet zone in modules.
        caption: print the certificate number and tier under the code.
    Raises:
        ValueError: a parameter is out of range or ``url`` is not a scan URL.
        LabelTooLarge: see :func:`qr_matrix`.
    """
    _check(size, margin)
    matrix = qr_matrix(url)
    side = matrix.width + 2 * margin
    height = side + (_CAPTION_MODULES if caption else 0)
    path = "".join(
        f"M{margin + x} {margin + y}h{n}v1h-{n}z"
        for y, row in enumerate(matrix.modules)
        for x, n in _runs(row)
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{side * size}" '
        f'height="{height * size}" viewBox="0 0 {side} {height}" shape-rendering="crispEdges">',
        f"<title>{escape(url)}</title>",
        f'<rect width="{side}" height="{height}" fill="#fff"/>',
        f'<path fill="#000" d="{path}"/>',
    ]
    if caption:
        font = quoteattr(_SVG_FONTS)
        middle = side / 2
        top = side - margin / 2 if margin >= 2 else side
        parts.append(
            f'<text x="{middle}" y="{top + 2.2:.2f}" font-family={font} font-size="2.6" '
            f'text-anchor="middle" fill="#000">{escape(caption.certificate_number)}</text>'
            f'<text x="{middle}" y="{top + 5.4:.2f}" font-family={font} font-size="2.8" '
            f'font-weight="bold" text-anchor="middle" fill="#000">{escape(caption.tier)}</text>'
        )
    parts.append("</svg>\n")
    return "".join(parts).encode()


#: Extra height of a label, in modules, for its two lines of caption.
_CAPTION_MODULES = 6


def render_png(
    url: str, size: int = DEFAULT_SIZE, margin: int = DEFAULT_MARGIN, caption: Caption | None = None
) -> bytes:
    """The QR code for ``url`` as a 1-bit (or, with a caption, greyscale) PNG at 300 dpi.

    Arguments and errors as for :func:`render_svg`; ``size`` is exact here: each module is a
    ``size`` × ``size`` square of pixels.
    """
    _check(size, margin)
    matrix = qr_matrix(url)
    side = (matrix.width + 2 * margin) * size
    extra = _CAPTION_MODULES * size if caption else 0
    image = Image.new("L", (side, side + extra), 255)
    draw = ImageDraw.Draw(image)
    offset = margin * size
    for y, row in enumerate(matrix.modules):
        top = offset + y * size
        for x, n in _runs(row):
            left = offset + x * size
            draw.rectangle((left, top, left + n * size - 1, top + size - 1), fill=0)
    if caption:
        _draw_caption(draw, caption, side, side - (offset // 2 if margin >= 2 else 0), size)
    else:
        image = image.convert("1")
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(PRINT_DPI, PRINT_DPI), optimize=True)
    return out.getvalue()


def _draw_caption(
    draw: ImageDraw.ImageDraw, caption: Caption, width: int, top: int, size: int
) -> None:
    number_font = _font(round(2.6 * size))
    tier_font = _font(round(2.8 * size))
    tier = caption.tier if _cjk_font_file() is not None else caption.tier_code
    draw.text((width / 2, top + 0.4 * size), caption.certificate_number, 0, number_font, "ma")
    draw.text((width / 2, top + 3.0 * size), tier, 0, tier_font, "ma")


@functools.cache
def _cjk_font_file() -> tuple[Path, int] | None:
    """The first CJK font found, or None (logged once: labels then print the tier code)."""
    for path, index in CJK_FONTS:
        if path.is_file():
            return path, index
    log.warning(
        "no CJK font found (tried %s); PNG labels print the tier's ASCII code instead of its "
        "Chinese name; install fonts-noto-cjk",
        ", ".join(str(p) for p, _ in CJK_FONTS),
    )
    return None


@functools.lru_cache(maxsize=64)
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font at ``pixels`` size, loaded once per process and size (never per request): the
    CJK font if there is one (it has Latin glyphs too), else Pillow's built-in font."""
    found = _cjk_font_file()
    if found is not None:
        return ImageFont.truetype(str(found[0]), pixels, index=found[1])
    return ImageFont.load_default(pixels)


def render(
    kind: str,
    url: str,
    size: int = DEFAULT_SIZE,
    margin: int = DEFAULT_MARGIN,
    caption: Caption | None = None,
) -> bytes:
    """Render ``url`` as ``kind`` (:data:`SVG` or :data:`PNG`); see :func:`render_svg`."""
    if kind == SVG:
        return render_svg(url, size, margin, caption)
    if kind == PNG:
        return render_png(url, size, margin, caption)
    raise ValueError(f"image format must be one of {FORMATS}")


MEDIA_TYPES = {SVG: "image/svg+xml", PNG: "image/png"}


# --- what to render ------------------------------------------------------------------------


class LabelNotFound(LookupError):
    """No certificate (or no such version of it) has this number."""


class AmbiguousLabel(LookupError):
    """Several issuers use this number; ``issuers`` lists them (ask with ``?issuer=``)."""

    def __init__(self, number: str, issuers: Sequence[str]) -> None:
        super().__init__(f"{len(issuers)} issuers use certificate number {number}")
        self.issuers = list(issuers)


#: The label lookups: the current version of a number, or a named version, at every issuer.
_CURRENT_LABEL = Prepared(
    select(Certificate.log_index, Certificate.issuer_id)
    .where(Certificate.certificate_number == bindparam("number"))
    .order_by(Certificate.issuer_id)
)
_VERSION_LABEL = Prepared(
    select(RecordVersion.log_index, RecordVersion.issuer_id)
    .where(
        RecordVersion.certificate_number == bindparam("number"),
        RecordVersion.version == bindparam("version"),
    )
    .order_by(RecordVersion.issuer_id)
)


def find_label(bind: Session | Engine, number: str, issuer: str | None, version: int | None) -> int:
    """The log index of the record version whose label is wanted: the current version of the
    certificate, or ``version`` if given. One indexed, prepared query; nothing is parsed.

    Raises:
        LabelNotFound: no such certificate or version.
        AmbiguousLabel: several issuers use ``number`` and ``issuer`` is None.
    """
    if version is None:
        rows = _CURRENT_LABEL.all(bind, number=number)
    else:
        rows = _VERSION_LABEL.all(bind, number=number, version=version)
    if issuer is not None:
        rows = [row for row in rows if row[1] == issuer]
    if not rows:
        raise LabelNotFound(number)
    if len(rows) > 1:
        raise AmbiguousLabel(number, [issuer_id for _, issuer_id in rows])
    index: int = rows[0][0]
    return index


def label_content(session: Session, log_index: int, public_url: str) -> tuple[str, Caption]:
    """The scan URL and caption of the record version at ``log_index``.

    The URL carries the issuer's own token, verbatim from the stored envelope ("qr"), under
    ``public_url``.

    Raises:
        LabelNotFound: no record version has this log index.
    """
    envelope = session.execute(
        select(RecordVersion.envelope).where(RecordVersion.log_index == log_index)
    ).scalar_one_or_none()
    if envelope is None:
        raise LabelNotFound(str(log_index))
    parsed = loads(envelope)
    record = Record.from_stored(parsed["record"])
    url = scan_url(public_url, ScanToken.from_text(parsed["qr"]))
    return url, Caption(record.certificate_number, record.tier, record.tier_def.code)
