"""The equipment ledger (设备台账) and its certificates as Excel workbooks.

Written like the service record (``wuye.workorders.exports``): openpyxl's write-only
mode from a chunked query, so memory stays flat however large the ledger is. Dates are
real Excel dates; codes and serial numbers are text so Excel keeps leading zeros.
"""

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.services import require
from wuye.core.xlsx import TEXT_FORMAT, date_cell, new_book, time_cell, typed_cell
from wuye.facilities.models import Downtime
from wuye.facilities.selectors_ledger import EXPIRED, EXPIRING, VALID, certificate_state

CHUNK = 2000


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


def export_assets(*, actor, assets, out) -> None:
    """Write ``assets`` (already filtered and scoped to the actor) to ``out``."""
    require(actor, "facilities.view")
    today = timezone.localdate()
    book, sheet = new_book(_("Equipment ledger"), asset_headers())
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
                typed_cell(sheet, asset.code, TEXT_FORMAT),
                asset.name,
                asset.category.name,
                asset.community.name,
                asset.building.name if asset.building_id else None,
                asset.common_area.name if asset.common_area_id else None,
                asset.location or None,
                asset.brand or None,
                typed_cell(sheet, asset.model_no, TEXT_FORMAT),
                typed_cell(sheet, asset.serial_no, TEXT_FORMAT),
                date_cell(sheet, asset.installed_on),
                date_cell(sheet, asset.warranty_until),
                warranty,
                asset.vendor.name if asset.vendor_id else None,
                asset.get_importance_display(),
                asset.get_status_display(),
                time_cell(sheet, asset.down_since),
                asset.down_reason,
            ]
        )
    book.save(out)


def export_certificates(*, actor, certificates, out) -> None:
    require(actor, "facilities.view")
    today = timezone.localdate()
    labels = {EXPIRED: _("Expired"), EXPIRING: _("Expiring"), VALID: _("Valid")}
    book, sheet = new_book(_("Certificates"), certificate_headers())
    rows = certificates.select_related("asset__community").order_by("expires_on", "id")
    for certificate in rows.iterator(chunk_size=CHUNK):
        asset = certificate.asset
        state = certificate_state(certificate, today)
        sheet.append(
            [
                typed_cell(sheet, asset.code, TEXT_FORMAT),
                asset.name,
                asset.community.name,
                certificate.get_kind_display(),
                typed_cell(sheet, certificate.number, TEXT_FORMAT),
                certificate.issuer or None,
                date_cell(sheet, certificate.issued_on),
                date_cell(sheet, certificate.expires_on),
                (certificate.expires_on - today).days,
                labels[state],
                certificate.remind_days,
            ]
        )
    book.save(out)
