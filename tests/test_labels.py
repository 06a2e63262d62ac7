"""wuye.core.labels: PDF sheets of QR labels.

The PDF is parsed back with pypdf: page count and size, the fonts, the text, and the QR modules
drawn in the content stream, which must be exactly segno's matrix for the label's URL (so the code
on paper is the standard QR of that URL), with its quiet zone free of ink and large enough for a
phone camera. When poppler's ``pdftoppm`` is installed, the rasterised page is checked too."""

import io
import re
import shutil
import subprocess

import pypdf
import pytest
from PIL import Image
from pypdf.generic import ContentStream
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from wuye.core import labels as L
from wuye.core.labels import LAYOUTS, Label, make_qr, render_sheet

A4_PT = (595.2756, 841.8898)
URL = "https://wuye.example.cn/q/a/DT-0003"


def _labels(n, **kw):
    return [
        Label(
            url=f"https://wuye.example.cn/q/a/DT-{i:04d}",
            title=kw.get("title", f"{i % 9 + 1}号客梯"),
            subtitle=kw.get("subtitle", f"翠湖花园 3栋 · DT-{i:04d}"),
            code=kw.get("code", f"DT-{i:04d}"),
        )
        for i in range(n)
    ]


def _reader(pdf):
    return pypdf.PdfReader(io.BytesIO(pdf))


def _qr_paths(reader, page=0):
    """The filled paths of a page as lists of (x, y, w, h) rectangles, in drawing order."""
    ops = ContentStream(reader.pages[page].get_contents(), reader).operations
    paths, current = [], []
    for operands, op in ops:
        if op == b"re":
            current.append(tuple(float(v) for v in operands))
        elif op in (b"f", b"f*") and current:
            paths.append(current)
            current = []
        elif op in (b"S", b"n", b"B"):
            current = []
    return paths


def _matrix(rects):
    """Rebuild the module matrix from the drawn rectangles; returns (matrix, module, bbox)."""
    module = min(h for _, _, _, h in rects)
    left = min(x for x, _, _, _ in rects)
    right = max(x + w for x, _, w, _ in rects)
    top = max(y + h for _, y, _, h in rects)
    bottom = min(y for _, y, _, _ in rects)
    n = round((right - left) / module)
    assert n == round((top - bottom) / module)
    grid = [[False] * n for _ in range(n)]
    for x, y, w, h in rects:
        assert abs(h - module) < 1e-3
        r = round((top - y - h) / module)
        c0 = round((x - left) / module)
        for c in range(c0, c0 + round(w / module)):
            grid[r][c] = True
    return [tuple(row) for row in grid], module, (left, bottom, right, top)


def _text_spans(reader, page=0):
    """(x_start, x_end, baseline, size, text) of each text object, widths from the fonts."""
    fonts = {
        name: ref.get_object()["/BaseFont"][1:]
        for name, ref in reader.pages[page]["/Resources"]["/Font"].items()
    }
    ops = ContentStream(reader.pages[page].get_contents(), reader).operations
    spans = []
    x = y = x0 = size = 0.0
    font, text = None, ""
    for operands, op in ops:
        if op == b"BT":
            text = ""
        elif op == b"Tm":
            x0 = x = float(operands[4])
            y = float(operands[5])
        elif op == b"Tf":
            font, size = fonts[operands[0]], float(operands[1])
        elif op == b"Tj":
            raw = operands[0]
            raw = getattr(raw, "original_bytes", raw)
            s = raw.decode("utf-16-be") if font == L.CJK_FONT else raw.decode("cp1252")
            x += pdfmetrics.stringWidth(s, font, size)
            text += s
        elif op == b"ET" and text:
            spans.append((x0, x, y, size, text))
    return spans


def _label_boxes(layout):
    spec = LAYOUTS[layout]
    w, h = spec.width_mm * mm, spec.height_mm * mm
    left = (A4_PT[0] - spec.cols * w) / 2
    top = A4_PT[1] - (A4_PT[1] - spec.rows * h) / 2
    return [
        (left + c * w, top - (r + 1) * h, left + (c + 1) * w, top - r * h)
        for r in range(spec.rows)
        for c in range(spec.cols)
    ]


# --- the PDF ---------------------------------------------------------------------------------


def test_one_label_is_a_one_page_a4_pdf_with_chinese_text():
    pdf = render_sheet(
        [Label(url=URL, title="1号客梯", subtitle="翠湖花园 3栋 · DT-0003", code="DT-0003")]
    )
    assert pdf.startswith(b"%PDF-")
    reader = _reader(pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_PT, abs=0.01)
    text = reader.pages[0].extract_text()
    assert "1号客梯" in text
    assert "翠湖花园 3栋 · DT-0003" in text
    assert "DT-0003" in text


def test_chinese_uses_the_cid_font_and_latin_the_standard_fonts():
    reader = _reader(render_sheet(_labels(1)))
    fonts = {
        ref.get_object()["/BaseFont"]: ref.get_object()
        for ref in reader.pages[0]["/Resources"]["/Font"].values()
    }
    assert set(fonts) == {"/STSong-Light", "/Helvetica", "/Helvetica-Bold"}
    assert fonts["/STSong-Light"]["/Encoding"] == "/UniGB-UCS2-H"
    spans = _text_spans(reader)
    # The Latin part of the subtitle is set in Helvetica, not in the CID font's half-width glyphs.
    assert any(t.endswith(" · DT-0000") for *_, t in spans)


@pytest.mark.parametrize(
    ("layout", "count", "pages"),
    [
        ("a4-3x8", 1, 1),
        ("a4-3x8", 24, 1),
        ("a4-3x8", 25, 2),
        ("a4-3x8", 48, 2),
        ("a4-3x8", 49, 3),
        ("a4-2x5", 10, 1),
        ("a4-2x5", 11, 2),
        ("a4-2x4", 8, 1),
        ("a4-2x4", 17, 3),
    ],
)
def test_page_count(layout, count, pages):
    pdf = render_sheet(_labels(count), layout=layout)
    assert len(_reader(pdf).pages) == pages
    # Independent of pypdf: one /Type /Page object per page.
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)) == pages
    per_page = LAYOUTS[layout].per_page
    last = count - (pages - 1) * per_page
    assert len(_qr_paths(_reader(pdf), pages - 1)) == last


def test_accepts_any_iterable_and_is_deterministic():
    pdf = render_sheet(iter(_labels(3)))
    assert pdf == render_sheet(_labels(3))
    assert len(_reader(pdf).pages) == 1


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [[], (), iter([])])
def test_no_labels_is_a_clear_error(empty):
    with pytest.raises(ValueError, match="no labels"):
        render_sheet(empty)


def test_unknown_layout_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown label layout 'a5'.*a4-3x8.*a4-2x5.*a4-2x4"):
        render_sheet(_labels(1), layout="a5")


def test_empty_url_and_non_labels_are_refused():
    with pytest.raises(ValueError, match=r"labels\[1\] has an empty url"):
        render_sheet([Label(url=URL), Label(url="  ")])
    with pytest.raises(TypeError, match=r"labels\[0\] is dict"):
        render_sheet([{"url": URL}])


def test_url_too_long_for_readable_modules_is_refused_not_printed_tiny():
    long_url = "https://wuye.example.cn/q/a/" + "x" * 300
    with pytest.raises(ValueError, match="too long for layout 'a4-3x8'"):
        render_sheet([Label(url=long_url, title="t")])
    # The same URL fits a larger label with modules of at least MIN_MODULE_MM.
    pdf = render_sheet([Label(url=long_url, title="t")], layout="a4-2x4")
    _, module, _ = _matrix(_qr_paths(_reader(pdf))[0])
    assert module / mm >= L.MIN_MODULE_MM
    with pytest.raises(ValueError, match="longer than 1000"):
        render_sheet([Label(url="https://x.cn/" + "y" * 1000)], layout="a4-2x4")


# --- the QR code -----------------------------------------------------------------------------


def test_error_correction_is_at_least_m_and_never_micro():
    for url in (URL, "https://x.cn/a", "https://wuye.example.cn/q/" + "z" * 120):
        qr = make_qr(url)
        assert qr.error in ("M", "Q", "H")
        assert not qr.is_micro


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_drawn_qr_is_segnos_matrix_with_quiet_zone_and_scannable_size(layout):
    labels = _labels(LAYOUTS[layout].per_page, title="地下二层东侧消防水泵房一号主用消防喷淋泵" * 3)
    reader = _reader(render_sheet(labels, layout=layout))
    paths = _qr_paths(reader)
    boxes = _label_boxes(layout)
    spans = _text_spans(reader)
    assert len(paths) == len(labels)
    for label, rects, (bx0, by0, bx1, by1) in zip(labels, paths, boxes, strict=True):
        expected = [tuple(bool(v) for v in row) for row in make_qr(label.url).matrix]
        matrix, module, (left, bottom, right, top) = _matrix(rects)
        assert matrix == expected
        assert (right - left) / mm >= 18  # phone cameras: symbol at least 18 mm
        assert module / mm >= L.MIN_MODULE_MM
        # Quiet zone: 4 modules (and the edge margin) to the label edge...
        quiet = L.QUIET_MODULES * module
        assert left - bx0 >= quiet + L.EDGE_MM * mm - 0.01
        assert top + quiet <= by1 - L.EDGE_MM * mm + 0.01
        assert bottom - quiet >= by0
        # ...and no text of this label inside it.
        zone = (left - quiet, bottom - quiet, right + quiet, top + quiet)
        for x0, x1, y, size, _ in spans:
            if bx0 <= x0 < bx1 and by0 <= y < by1:
                above = y + size * 0.8 <= zone[1] or y - size * 0.25 >= zone[3]
                beside = x0 >= zone[2] or x1 <= zone[0]
                assert above or beside


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_rasterised_qr_matches_the_matrix(tmp_path):
    dpi = 300
    pdf = render_sheet([Label(url=URL, title="1号客梯", subtitle="翠湖花园", code="DT-0003")])
    (tmp_path / "s.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", "s.pdf", "s"],
        cwd=tmp_path,
        check=True,
    )
    img = Image.open(tmp_path / "s.png").convert("L")
    _, module, (left, _, _, top) = _matrix(_qr_paths(_reader(pdf))[0])
    scale = dpi / 72
    expected = make_qr(URL).matrix
    n = len(expected)
    q = L.QUIET_MODULES
    for r in range(-q, n + q):
        for c in range(-q, n + q):
            px = (left + (c + 0.5) * module) * scale
            py = (A4_PT[1] - top + (r + 0.5) * module) * scale
            dark = img.getpixel((int(px), int(py))) < 128
            inside = 0 <= r < n and 0 <= c < n
            assert dark == (inside and bool(expected[r][c])), (r, c)


# --- text fitting ----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_long_texts_do_not_crash_and_stay_inside_their_label(layout):
    labels = _labels(
        LAYOUTS[layout].per_page,
        title="一号楼地下二层东侧消防水泵房主用消防喷淋泵（备用泵见旁边标签）" * 5,
        subtitle="Main water pump for building 3 with a really long English subtitle " * 5,
        code="DT-000000000009-LONG-CODE-THAT-GOES-ON-AND-ON",
    )
    reader = _reader(render_sheet(labels, layout=layout))
    spans = _text_spans(reader)
    assert any(t.endswith("…") for *_, t in spans)
    for x0, x1, y, size, _ in spans:
        box = next(b for b in _label_boxes(layout) if b[0] <= x0 < b[2] and b[1] <= y < b[3])
        assert x1 <= box[2] - L.EDGE_MM * mm + 0.01
        assert y - size * 0.25 >= box[1]  # descenders stay on the label
        assert y + size <= box[3]
        assert size >= 5


def test_fit_shrinks_then_wraps_then_ellipsizes():
    w = 100
    size, lines = L._fit("1号客梯", L.LATIN_BOLD, 11, 5.5, w, 2)
    assert (size, lines) == (11, ["1号客梯"])
    size, lines = L._fit("翠湖花园三栋二单元", L.LATIN, 12, 6, w, 2)
    assert lines == ["翠湖花园三栋二单元"] and 9 <= size < 12  # shrunk, one line
    size, lines = L._fit("翠湖花园" * 8, L.LATIN, 12, 6, w, 3)
    assert len(lines) > 1 and "".join(lines) == "翠湖花园" * 8
    size, lines = L._fit("翠湖花园" * 40, L.LATIN, 12, 6, w, 2)
    assert size == 6 and len(lines) == 2 and lines[-1].endswith("…")
    for line in lines:
        assert L.text_width(line, L.LATIN, size) <= w


def test_wrap_keeps_latin_codes_whole():
    lines = L._wrap("翠湖花园 12栋 DT-0003 400-800-1234", L.LATIN, 10, 60)
    assert "DT-0003" in " ".join(lines).split()
    assert all("DT-" not in line or "DT-0003" in line for line in lines)
    assert all(L.text_width(line, L.LATIN, 10) <= 60 for line in lines)


def test_clean_collapses_whitespace_and_replaces_glyphless_characters():
    assert L.clean_text("  1号\n客梯\t ") == "1号 客梯"
    assert L.clean_text("电梯😀坏了") == "电梯?坏了"
    assert L.clean_text("a\x00b\u200bc") == "abc"
    assert L.clean_text("翠湖 · Café ×2") == "翠湖 · Café ×2"
    assert L.clean_text("한국") == "??"
    assert L.clean_text(None) == ""


def test_label_with_only_a_url_renders():
    reader = _reader(render_sheet([Label(url=URL)]))
    assert len(_qr_paths(reader)) == 1
    assert _text_spans(reader) == []
