"""Printable PDF sheets of QR labels (equipment ledger, patrol checkpoints, ...).

Usage::

    from wuye.core.labels import Label, render_sheet

    pdf = render_sheet(
        [Label(url="https://…/q/DT-0003", title="1号客梯",
               subtitle="翠湖花园 3栋 · DT-0003", code="DT-0003")],
        layout="a4-3x8",
    )   # -> bytes of an A4 PDF, labels filled row by row, as many pages as needed

Layouts (``LAYOUTS``), all on A4 portrait, grid centred on the page, no gaps between labels,
matching the common die-cut sticker sheets:

* ``a4-3x8``: 24 labels of 70 × 37 mm, QR box (symbol + quiet zone) 30 mm: symbol 23.5 mm
  for a typical 40-character URL (version 3), never under 21.7 mm;
* ``a4-2x5``: 10 labels of 105 × 57 mm, QR box 49 mm: symbol about 38-41 mm;
* ``a4-2x4``: 8 labels of 105 × 74 mm, QR box 56 mm: symbol about 44-47 mm, for lift cabins
  and plant rooms where people scan from further away.

Each label: the QR code on the left with its full 4-module quiet zone kept inside the label (and
at least ``EDGE_MM`` from the label edge, so a sheet fed slightly askew still leaves it white),
the short code centred under it, the title (bold) and subtitle on the right. Text is shrunk down
to a minimum size, then wrapped, then cut with an ellipsis; it never leaves its box. The QR
modules are drawn as vector rectangles (one filled path per code), so they stay sharp at any
printer resolution. A URL too long to keep modules of at least ``MIN_MODULE_MM`` on the chosen
layout is refused with ``ValueError`` instead of printing a code that phones cannot read.

Dependency choice (why these two):

* **segno** encodes the QR: pure Python, no dependencies, about 100 KB, a complete and
  well-tested ISO/IEC 18004 implementation that picks the smallest version and best mask and
  can raise the error-correction level for free (``boost_error``). We use level M at least.
  We take its module matrix and draw it ourselves, so no image library sits in between.
* **reportlab** writes the PDF. Latin-1 text (codes, numbers, "·") is set in Helvetica, the
  rest in reportlab's built-in Adobe CID font ``STSong-Light`` (Adobe-GB1 collection, Unicode
  ``UniGB-UCS2-H`` encoding): Chinese with no font file in the repository, and PDFs of about
  30-40 KB per 24-label page. Caveat, stated plainly: this font is *referenced*, not embedded;
  like the 14 standard Latin fonts, the reader supplies the glyphs (Acrobat, Preview, pdf.js,
  PDFium, and poppler with any CJK font installed; every Chinese-locale computer has one).
  DESIGN.md allows exactly this ("or ReportLab's built-in CID fonts"). Truly embedding would
  mean fpdf2 + fontTools and a multi-MB Noto Sans SC file shipped in the repo (reportlab
  cannot embed Noto's CFF outlines), for a sticker sheet printed from an office PC. Characters
  outside GBK (emoji, Korean, rare extension-B characters) have no glyph in the Adobe-GB1
  font and are printed as "?".
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

__all__ = ["LAYOUTS", "MIN_MODULE_MM", "Label", "LabelLayout", "make_qr", "render_sheet"]

CJK_FONT = "STSong-Light"
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
ELLIPSIS = "…"
QUIET_MODULES = 4  # ISO/IEC 18004 quiet zone for QR (not Micro QR)
EDGE_MM = 1.5  # white margin between the label edge and the QR quiet zone / text
MIN_MODULE_MM = 0.4  # smaller modules are unreliable for phone cameras at arm's length
MAX_URL_LENGTH = 1000

pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


@dataclass(frozen=True)
class Label:
    url: str  # what the QR encodes
    title: str = ""  # e.g. "1号客梯"
    subtitle: str = ""  # e.g. "翠湖花园 3栋 · DT-0003"
    code: str = ""  # short human-readable code printed under the QR, e.g. "DT-0003"


@dataclass(frozen=True)
class LabelLayout:
    name: str
    cols: int
    rows: int
    width_mm: float
    height_mm: float
    title_pt: float  # largest title size; shrunk down to min_pt
    subtitle_pt: float
    code_pt: float
    min_pt: float = 5.5  # smallest text size before wrapping gives way to an ellipsis
    code_band_mm: float = 4.0  # height reserved for the code under the QR
    title_lines: int = 2
    subtitle_lines: int = 3
    qr_box_max_mm: float = 100.0

    @property
    def per_page(self) -> int:
        return self.cols * self.rows

    @property
    def qr_box_mm(self) -> float:
        """Side of the square holding the QR symbol plus its quiet zone."""
        return min(self.height_mm - 2 * EDGE_MM - self.code_band_mm, self.qr_box_max_mm)


LAYOUTS: dict[str, LabelLayout] = {
    layout.name: layout
    for layout in (
        LabelLayout("a4-3x8", 3, 8, 70, 37, title_pt=11, subtitle_pt=7.5, code_pt=7.5),
        LabelLayout(
            "a4-2x5",
            2,
            5,
            105,
            57,
            title_pt=16,
            subtitle_pt=10,
            code_pt=10,
            min_pt=7,
            code_band_mm=5,
            title_lines=3,
            subtitle_lines=4,
        ),
        LabelLayout(
            "a4-2x4",
            2,
            4,
            105,
            74,
            title_pt=20,
            subtitle_pt=12,
            code_pt=12,
            min_pt=8,
            code_band_mm=6,
            title_lines=3,
            subtitle_lines=5,
            qr_box_max_mm=56,
        ),
    )
}


def make_qr(url: str) -> segno.QRCode:
    """The QR code for ``url``: error correction M or better, never Micro QR."""
    return segno.make(url, error="m", boost_error=True, micro=False)


_SPACES = re.compile(r"\s+")


def _is_latin(ch: str) -> bool:
    """Set in the Latin font (Helvetica, WinAnsi): ASCII and Latin-1 such as "·", "é", "×"."""
    return ord(ch) < 0x100


def _has_cjk_glyph(ch: str) -> bool:
    """STSong-Light maps (via UniGB-UCS2-H) every GBK character; GBK is used as the test."""
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def clean_text(text: str) -> str:
    """One line of printable text: whitespace collapsed, control characters dropped, characters
    that neither font can show (emoji, Korean, rare CJK extension characters) replaced by '?'."""
    text = unicodedata.normalize("NFC", str(text or ""))
    out = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        elif _is_latin(ch) or _has_cjk_glyph(ch):
            out.append(ch)
        else:
            out.append("?")
    return _SPACES.sub(" ", "".join(out)).strip()


def _runs(text: str, latin: str) -> list[tuple[str, str]]:
    """Split ``text`` into (font, run) pairs: Latin-1 in ``latin``, the rest in the CJK font
    (whose half-width Latin glyphs are substituted badly by many readers)."""
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = latin if _is_latin(ch) else CJK_FONT
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


def text_width(text: str, latin: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(run, font, size) for font, run in _runs(text, latin))


def _is_word_char(ch: str) -> bool:
    """Part of a Latin "word" such as "DT-0003" or "400-800-1234" that is not broken."""
    return ch.isascii() and not ch.isspace()


def _wrap(text: str, latin: str, size: float, max_w: float) -> list[str]:
    """Greedy wrap that may break anywhere in CJK text but keeps Latin words together when the
    word fits on a line."""
    lines: list[str] = []
    rest = text
    while rest:
        if text_width(rest, latin, size) <= max_w:
            lines.append(rest)
            break
        cut = 1
        while cut < len(rest) and text_width(rest[: cut + 1], latin, size) <= max_w:
            cut += 1
        if _is_word_char(rest[cut - 1]) and cut < len(rest) and _is_word_char(rest[cut]):
            space = rest.rfind(" ", 0, cut)
            if space > 0:
                cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines


def _ellipsize(line: str, latin: str, size: float, max_w: float) -> str:
    if text_width(line, latin, size) <= max_w:
        return line
    while line and text_width(line.rstrip() + ELLIPSIS, latin, size) > max_w:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS if line else ""


def _fit(
    text: str, latin: str, max_pt: float, min_pt: float, max_w: float, max_lines: int
) -> tuple[float, list[str]]:
    """Largest size in [min_pt, max_pt] at which ``text`` fits in ``max_lines`` lines of
    ``max_w``; one line is preferred down to the middle of the range. At ``min_pt`` the last
    line is cut with an ellipsis."""
    if not text or max_lines < 1:
        return max_pt, []
    sizes = []
    size = max_pt
    while size > min_pt:
        sizes.append(size)
        size -= 0.5
    sizes.append(min_pt)
    one_line_floor = (max_pt + min_pt) / 2
    for size in sizes:  # first try: one line, not too small
        if size < one_line_floor:
            break
        if text_width(text, latin, size) <= max_w:
            return size, [text]
    for size in sizes:
        lines = _wrap(text, latin, size, max_w)
        if len(lines) <= max_lines:
            return size, lines
    lines = _wrap(text, latin, min_pt, max_w)
    kept = lines[:max_lines]
    kept[-1] = _ellipsize(kept[-1] + ELLIPSIS, latin, min_pt, max_w)
    return min_pt, kept


def _draw_qr(c: canvas.Canvas, qr: segno.QRCode, x: float, y: float, module: float) -> None:
    """Dark modules as one path of horizontal runs; (x, y) is the symbol's bottom-left corner."""
    matrix = qr.matrix
    n = len(matrix)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        top = y + (n - r - 1) * module
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(x + start * module, top, (col - start) * module, module)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)


def draw_lines(
    c: canvas.Canvas,
    lines: list[str],
    latin: str,
    size: float,
    x: float,
    top: float,
    *,
    bold: bool = False,
    centre_w: float | None = None,
) -> float:
    """Draw lines downward from ``top`` (first baseline at top - size); returns the new top."""
    leading = size * 1.2
    # q/Q around the lines: reportlab's text objects assume render mode 0 at BT, but the mode
    # ("Tr") is graphics state that would otherwise leak into the next text object.
    c.saveState()
    c.setLineWidth(size * 0.04)
    for line in lines:
        baseline = top - size
        tx = x if centre_w is None else x + (centre_w - text_width(line, latin, size)) / 2
        text = c.beginText(tx, baseline)
        for font, run in _runs(line, latin):
            text.setFont(font, size)
            # STSong-Light has no bold face: fill + thin stroke.
            text.setTextRenderMode(2 if bold and font == CJK_FONT else 0)
            text.textOut(run)
        c.drawText(text)
        top -= leading
    c.restoreState()
    return top


def _draw_label(
    c: canvas.Canvas, label: Label, qr: segno.QRCode, layout: LabelLayout, x0: float, y0: float
) -> None:
    """One label whose bottom-left corner is (x0, y0), in points."""
    w, h = layout.width_mm * mm, layout.height_mm * mm
    edge = EDGE_MM * mm
    box = layout.qr_box_mm * mm
    n = qr.symbol_size(border=0)[0]
    module = box / (n + 2 * QUIET_MODULES)
    # QR box on the left, code band under it, the pair centred vertically.
    band = layout.code_band_mm * mm
    box_x, box_y = x0 + edge, y0 + (h + band - box) / 2
    _draw_qr(c, qr, box_x + QUIET_MODULES * module, box_y + QUIET_MODULES * module, module)

    code = clean_text(label.code)
    if code:
        max_pt = min(layout.code_pt, band / 1.05)
        size, lines = _fit(code, LATIN_BOLD, max_pt, min(layout.min_pt, max_pt), box, 1)
        # Baseline so the glyphs sit inside the band (below the quiet zone).
        top = box_y - (band - size) / 2
        draw_lines(c, lines, LATIN_BOLD, size, box_x, top, bold=True, centre_w=box)

    text_x = box_x + box + 1.0 * mm
    text_w = x0 + w - edge - text_x
    top = y0 + h - edge - 0.5 * mm
    bottom = y0 + edge
    title = clean_text(label.title)
    if title:
        size, lines = _fit(
            title, LATIN_BOLD, layout.title_pt, layout.min_pt, text_w, layout.title_lines
        )
        top = draw_lines(c, lines, LATIN_BOLD, size, text_x, top, bold=True)
        top -= size * 0.3
    subtitle = clean_text(label.subtitle)
    if subtitle:
        size = layout.subtitle_pt
        room = int((top - bottom) // (min(size, layout.min_pt) * 1.2))
        max_lines = max(0, min(layout.subtitle_lines, room))
        size, lines = _fit(subtitle, LATIN, size, layout.min_pt, text_w, max_lines)
        while lines and len(lines) * size * 1.2 > top - bottom:
            lines = lines[:-1]  # belt and braces: never run below the label
        draw_lines(c, lines, LATIN, size, text_x, top)


def _prepare(labels: Iterable[Label], layout: LabelLayout) -> list[tuple[Label, segno.QRCode]]:
    prepared = []
    for i, label in enumerate(labels):
        if not isinstance(label, Label):
            raise TypeError(f"labels[{i}] is {type(label).__name__}, not Label")
        url = (label.url or "").strip()
        if not url:
            raise ValueError(f"labels[{i}] has an empty url")
        if len(url) > MAX_URL_LENGTH:
            raise ValueError(f"labels[{i}] url is longer than {MAX_URL_LENGTH} characters")
        qr = make_qr(url)
        n = qr.symbol_size(border=0)[0]
        module_mm = layout.qr_box_mm / (n + 2 * QUIET_MODULES)
        if module_mm < MIN_MODULE_MM:
            raise ValueError(
                f"labels[{i}] url is too long for layout {layout.name!r}: its QR modules would be "
                f"{module_mm:.2f} mm (< {MIN_MODULE_MM} mm); use a shorter URL or a larger layout"
            )
        prepared.append((label, qr))
    if not prepared:
        raise ValueError("no labels to render: pass at least one Label")
    return prepared


def render_sheet(
    labels: Iterable[Label], *, layout: str = "a4-3x8", outlines: bool = False
) -> bytes:
    """A4 PDF with ``labels`` on the ``layout`` grid, filled row by row, left to right, as many
    pages as needed. ``outlines`` draws light-grey cut lines (for plain paper)."""
    try:
        spec = LAYOUTS[layout]
    except KeyError:
        raise ValueError(
            f"unknown label layout {layout!r}; choose one of: {', '.join(LAYOUTS)}"
        ) from None
    prepared = _prepare(labels, spec)

    buf = io.BytesIO()
    page_w, page_h = A4
    c = canvas.Canvas(buf, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle("QR labels")
    c.setCreator("Wuye")
    w, h = spec.width_mm * mm, spec.height_mm * mm
    left = (page_w - spec.cols * w) / 2
    top = page_h - (page_h - spec.rows * h) / 2
    for start in range(0, len(prepared), spec.per_page):
        if start:
            c.showPage()
        c.setFillGray(0)
        for k, (label, qr) in enumerate(prepared[start : start + spec.per_page]):
            row, col = divmod(k, spec.cols)
            x0, y0 = left + col * w, top - (row + 1) * h
            if outlines:
                c.saveState()
                c.setStrokeGray(0.8)
                c.setLineWidth(0.25)
                c.rect(x0, y0, w, h, stroke=1, fill=0)
                c.restoreState()
            _draw_label(c, label, qr, spec, x0, y0)
    c.showPage()
    c.save()
    return buf.getvalue()


def pdf_response(content: bytes, filename: str):
    """A PDF shown in the browser (to print or save) under ``filename``."""
    from django.http import HttpResponse

    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
