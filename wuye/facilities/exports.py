"""The equipment ledger (设备台账) and its certificates as Excel workbooks.

Written like the service record (``wuye.workorders.exports``): openpyxl's write-only
mode from a chunked query, so memory stays flat however large the ledger is. Dates are
real Excel dates; codes and serial numbers are text so Excel keeps leading zeros.
"""

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from wuye.core.services import require
from wuye.facilities.models import Downtime
from wuye.facilities.selectors_ledger import EXPIRED, EXPIRING, VALID, certificate_state
from wuye.imports.exports import XLSX_TYPE, spooled_file

__all__ = ["XLSX_TYPE", "export_assets", "export_certificates", "spooled_file"]

CHUNK = 2000
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"


def asset_headers() -> list[str]:
    return [
        _("Asset code"),
        _("Name"),
        _("Category"),
        _("Community"),
        _("Building"),
        _("Common area"),
        _("Location"),
        _("Brand"),
        _("Model"),
        _("Serial number"),
        _("Installed on"),
        _("Warranty until"),
        _("Under warranty"),
        _("Maintenance vendor"),
        _("Importance"),
        _("Status"),
        _("Down since (%(zone)s)") % {"zone": settings.TIME_ZONE},
        _("Downtime reason"),
    ]


def certificate_headers() -> list[str]:
    return [
        _("Asset code"),
        _("Asset"),
        _("Community"),
        _("Kind"),
        _("Certificate no."),
        _("Issued by"),
        _("Issued on"),
        _("Expires on"),
        _("Days left"),
        _("State"),
        _("Remind days ahead"),
    ]


def _book(title: str, headers: list[str]):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    bold = Font(bold=True)
    cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    return book, sheet


def _cell(sheet, value, number_format):
    if value is None or value == "":
        return None
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _time(sheet, moment):
    if moment is None:
        return None
    return _cell(sheet, timezone.localtime(moment).replace(tzinfo=None), TIME_FORMAT)


def export_assets(*, actor, assets, out) -> None:
    """Write ``assets`` (already filtered and scoped to the actor) to ``out``."""
    require(actor, "facilities.view")
    today = timezone.localdate()
    book, sheet = _book(_("Equipment ledger"), asset_headers())
    open_downtime = Downtime.objects.filter(asset_id=OuterRef("pk"), ended_at__isnull=True)
    rows = (
        assets.select_related("community", "building", "common_area", "category", "vendor")
        .annotate(
            down_since=Subquery(open_downtime.values("started_at")[:1]),
            down_reason=Subquery(open_downtime.values("reason")[:1]),
        )
        .order_by("id")
    )
    for asset in rows.iterator(chunk_size=CHUNK):
        warranty = None
        if asset.warranty_until is not None:
            warranty = _("Yes") if asset.warranty_until >= today else _("No")
        sheet.append(
            [
                _cell(sheet, asset.code, "@"),
                asset.name,
                asset.category.name,
                asset.community.name,
                asset.building.name if asset.building_id else None,
                asset.common_area.name if asset.common_area_id else None,
                asset.location or None,
                asset.brand or None,
                _cell(sheet, asset.model_no, "@"),
                _cell(sheet, asset.serial_no, "@"),
                _cell(sheet, asset.installed_on, DATE_FORMAT),
                _cell(sheet, asset.warranty_until, DATE_FORMAT),
                warranty,
                asset.vendor.name if asset.vendor_id else None,
                asset.get_importance_display(),
                asset.get_status_display(),
                _time(sheet, asset.down_since),
                asset.down_reason,
            ]
        )
    book.save(out)


def export_certificates(*, actor, certificates, out) -> None:
    require(actor, "facilities.view")
    today = timezone.localdate()
    labels = {EXPIRED: _("Expired"), EXPIRING: _("Expiring"), VALID: _("Valid")}
    book, sheet = _book(_("Certificates"), certificate_headers())
    rows = certificates.select_related("asset__community").order_by("expires_on", "id")
    for certificate in rows.iterator(chunk_size=CHUNK):
        asset = certificate.asset
        state = certificate_state(certificate, today)
        sheet.append(
            [
                _cell(sheet, asset.code, "@"),
                asset.name,
                asset.community.name,
                certificate.get_kind_display(),
                _cell(sheet, certificate.number, "@"),
                certificate.issuer or None,
                _cell(sheet, certificate.issued_on, DATE_FORMAT),
                _cell(sheet, certificate.expires_on, DATE_FORMAT),
                (certificate.expires_on - today).days,
                labels[state],
                certificate.remind_days,
            ]
        )
    book.save(out)
