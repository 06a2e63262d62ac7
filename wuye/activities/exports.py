"""What an activity hands out on paper or in Excel: the participant workbook and the
A4 poster whose QR code takes residents to the sign-up page."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from wuye.activities.models import Activity, SignupStatus
from wuye.core.labels import LATIN, LATIN_BOLD, clean_text, draw_lines, make_qr, text_width
from wuye.core.masking import mask_mobile
from wuye.core.xlsx import new_book, text_cell, time_cell, typed_cell


def participant_headers():
    return [
        _("Queue no."),
        _("House"),
        _("Contact"),
        _("Mobile"),
        _("People"),
        _("Status"),
        _("Signed up at (%(zone)s)") % {"zone": timezone.get_current_timezone_name()},
        _("Checked in at"),
        _("People who came"),
        _("Note"),
    ]


def status_label(signup) -> str:
    if signup.status == SignupStatus.CONFIRMED and signup.checked_in_at:
        return _("Checked in")
    return signup.get_status_display()


def write_participants(*, actor, activity: Activity, signups, out) -> None:
    """The sign-ups in queue order; mobiles masked unless the reader may see them."""
    full = actor.has_perm("people.view_sensitive")
    book, sheet = new_book(_("Participants"), participant_headers())
    for n, signup in enumerate(signups.iterator(chunk_size=1000), start=1):
        mobile = signup.contact_mobile if full else mask_mobile(signup.contact_mobile)
        sheet.append(
            [
                n,
                signup.house.address,
                signup.contact_name,
                text_cell(sheet, mobile),
                signup.party_size,
                str(status_label(signup)),
                time_cell(sheet, signup.created_at),
                time_cell(sheet, signup.checked_in_at),
                typed_cell(sheet, signup.attended_people),
                signup.note,
            ]
        )
    book.save(out)


# --- the poster -------------------------------------------------------------------------
QR_MM = 90


def _centred(c, text, font, size, top, *, bold=False, max_w=170 * mm) -> float:
    text = clean_text(text)
    while size > 8 and text_width(text, font, size) > max_w:
        size -= 1
    page_w = A4[0]
    x = (page_w - min(text_width(text, font, size), max_w)) / 2
    return draw_lines(c, [text], font, size, x, top, bold=bold)


def poster_pdf(activity: Activity, url: str) -> bytes:
    """An A4 poster: title, when and where, places, and a large QR code of ``url``."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle(clean_text(activity.title))
    c.setCreator("Wuye")
    page_w, page_h = A4
    start = timezone.localtime(activity.starts_at)
    end = timezone.localtime(activity.ends_at)
    deadline = timezone.localtime(activity.signup_deadline)
    top = page_h - 28 * mm
    top = _centred(c, activity.community.name, LATIN, 16, top)
    top -= 6 * mm
    top = _centred(c, activity.title, LATIN_BOLD, 34, top, bold=True)
    top -= 8 * mm
    when = (
        f"{start:%Y-%m-%d %H:%M} – {end:%H:%M}"
        if start.date() == end.date()
        else (f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")
    )
    top = _centred(c, _("When: %(when)s") % {"when": when}, LATIN, 15, top)
    top -= 2 * mm
    top = _centred(c, _("Where: %(place)s") % {"place": activity.place}, LATIN, 15, top)
    top -= 2 * mm
    top = _centred(
        c,
        _("%(n)d places · up to %(party)d people per household · sign up by %(deadline)s")
        % {
            "n": activity.capacity,
            "party": activity.max_party_size,
            "deadline": f"{deadline:%m-%d %H:%M}",
        },
        LATIN,
        12,
        top,
    )
    top -= 10 * mm
    matrix = make_qr(url).matrix
    n = len(matrix)
    size = QR_MM * mm
    module = size / (n + 8)
    x0 = (page_w - size) / 2 + 4 * module
    y0 = top - size + 4 * module
    path = c.beginPath()
    for r, row in enumerate(matrix):
        y = y0 + (n - r - 1) * module
        col = 0
        while col < n:
            if row[col]:
                first = col
                while col < n and row[col]:
                    col += 1
                path.rect(x0 + first * module, y, (col - first) * module, module)
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)
    top -= size + 4 * mm
    top = _centred(c, _("Scan to sign up"), LATIN_BOLD, 20, top, bold=True)
    top -= 2 * mm
    _centred(c, url, LATIN, 9, top)
    description = clean_text(activity.description)
    if description:
        lines = []
        rest = description
        while rest and len(lines) < 4:
            cut = len(rest)
            while cut > 1 and text_width(rest[:cut], LATIN, 11) > 160 * mm:
                cut -= 1
            lines.append(rest[:cut])
            rest = rest[cut:]
        draw_lines(c, lines, LATIN, 11, 25 * mm, 25 * mm + len(lines) * 11 * 1.2)
    c.showPage()
    c.save()
    return buffer.getvalue()
