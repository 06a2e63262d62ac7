"""Writes of the facilities domain: the equipment ledger, status changes with downtime,
certificates, documents kept with assets, and reading checklist answers.

Every function takes ``actor=`` and checks ``facilities.manage`` (ledger, certificates)
in the asset's community; ``parse_answer`` is pure: it turns what a phone sent for one
checklist item into a typed value and says whether it is abnormal, or names the mistake.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core import uploads
from wuye.core.seeding import create_missing
from wuye.core.services import full_clean, require
from wuye.facilities.models import (
    ABSURD,
    MAX_REMIND_DAYS,
    Asset,
    AssetAttachment,
    AssetCategory,
    Certificate,
    ChecklistItem,
    Downtime,
    ItemType,
    Vendor,
)

MANAGE = "facilities.manage"

# code: (name, asset code prefix)
DEFAULT_CATEGORIES = {
    "elevator": ("电梯", "DT"),
    "water_pump": ("供水泵", "SB"),
    "power": ("配电", "PD"),
    "fire": ("消防", "XF"),
    "cctv": ("监控", "JK"),
    "access": ("门禁", "MJ"),
    "lighting": ("照明", "ZM"),
    "hvac": ("中央空调", "KT"),
    "generator": ("发电机", "FD"),
    "other": ("其他", "QT"),
}


def seed_asset_categories(*, company) -> None:
    """The default asset categories of a company (idempotent)."""
    create_missing(
        AssetCategory,
        company=company,
        key="code",
        rows={
            code: {"name": name, "code_prefix": prefix, "sort_order": position}
            for position, (code, (name, prefix)) in enumerate(DEFAULT_CATEGORIES.items())
        },
    )


def _require_community(actor, community) -> None:
    require(actor, MANAGE)
    if community.id not in actor.community_ids:
        raise PermissionDenied


def _next_code(category: AssetCategory) -> str:
    """DT-0001, DT-0002 …: one more than the highest code of the prefix."""
    pattern = re.compile(rf"^{re.escape(category.code_prefix)}-(\d+)$")
    codes = Asset.objects.filter(
        company_id=category.company_id, code__startswith=f"{category.code_prefix}-"
    ).values_list("code", flat=True)
    numbers = [int(m.group(1)) for code in codes if (m := pattern.match(code))]
    return f"{category.code_prefix}-{max(numbers, default=0) + 1:04d}"


@transaction.atomic
def create_asset(*, actor, community, category: AssetCategory, name: str, **fields) -> Asset:
    """Register an asset; without ``code`` the next code of its category's prefix."""
    _require_community(actor, community)
    _check_links(community, {**fields, "category": category})
    code = (fields.pop("code", "") or "").strip() or _next_code(category)
    asset = Asset(
        company_id=community.company_id,
        community=community,
        category=category,
        name=(name or "").strip(),
        code=code,
        **fields,
    )
    full_clean(asset)
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError as exc:  # two registrations took the same next code at once
        raise ValidationError({"code": _("This code was just taken; save again.")}) from exc
    return asset


@transaction.atomic
def change_status(
    *, actor, asset: Asset, status: str, reason: str = "", work_order=None, at=None
) -> Asset:
    """运行 / 停用 / 维修中 / 报废. Leaving 运行 opens a downtime interval, returning to it
    closes the open one; a scrapped asset stays scrapped."""
    _require_community(actor, asset.community)
    if status not in Asset.Status.values:
        raise ValidationError({"status": _("Choose one of the listed statuses.")})
    at = at or timezone.now()
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    if locked.status == Asset.Status.SCRAPPED:
        raise ValidationError({"status": _("A scrapped asset cannot change status.")})
    if status == locked.status:
        raise ValidationError({"status": _("The asset already has this status.")})
    reason = (reason or "").strip()
    if status != Asset.Status.RUNNING and not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    open_interval = Downtime.objects.filter(asset=locked, ended_at__isnull=True).first()
    if open_interval is not None:
        if at < open_interval.started_at:
            raise ValidationError({"at": _("The change cannot be before the last one.")})
        open_interval.ended_at = at
        open_interval.save(update_fields=["ended_at"])
    if status != Asset.Status.RUNNING:
        Downtime.objects.create(
            asset=locked,
            status=status,
            started_at=at,
            ended_at=at if status == Asset.Status.SCRAPPED else None,
            reason=reason[:200],
            work_order=work_order,
            recorded_by=actor.user,
        )
    locked.status = status
    locked.save(update_fields=["status"])
    return locked


@transaction.atomic
def add_certificate(*, actor, asset: Asset, kind: str, expires_on: datetime.date, **fields):
    _require_community(actor, asset.community)
    certificate = Certificate(asset=asset, kind=kind, expires_on=expires_on, **fields)
    full_clean(certificate)
    certificate.save()
    return certificate


def certificates_to_remind(*, today: datetime.date) -> list[Certificate]:
    """Certificates whose reminder window (``remind_days`` before expiry, at most a year)
    has opened and that were not reminded today."""
    horizon = today + datetime.timedelta(days=MAX_REMIND_DAYS)
    candidates = (
        Certificate.objects.current()
        .filter(expires_on__lte=horizon)
        .exclude(reminded_on=today)
        .select_related("asset__community")
    )
    return [c for c in candidates if c.expires_on - datetime.timedelta(days=c.remind_days) <= today]


# --- checklist answers ----------------------------------------------------------------
YES = {"1", "true", "yes", "ok", "normal", "正常"}
NO = {"0", "false", "no", "abnormal", "异常"}
NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([^\d\s].*)?$")


def parse_answer(item: ChecklistItem, raw, *, field: str = "value"):
    """(value, abnormal) for what was sent for ``item``; a ValidationError naming
    ``field`` for a missing, malformed, wrong-unit or absurd answer."""
    empty = raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []
    if empty:
        if item.required and item.type != ItemType.PHOTO:
            raise ValidationError({field: _("Answer “%(item)s”.") % {"item": item.label}})
        return None, False
    if item.type == ItemType.OK_ABNORMAL:
        text = str(raw).strip().lower()
        if isinstance(raw, bool):
            value = raw
        elif text in YES:
            value = True
        elif text in NO:
            value = False
        else:
            raise ValidationError({field: _("Answer normal or abnormal.")})
        return value, item.judge(value)
    if item.type in (ItemType.NUMBER, ItemType.METER):
        value = _number(item, raw, field)
        return value, item.judge(value)
    if item.type == ItemType.SINGLE:
        value = str(raw).strip()
        if value not in item.choices:
            raise ValidationError({field: _("Choose one of the listed answers.")})
        return value, item.judge(value)
    if item.type == ItemType.MULTIPLE:
        values = [str(v).strip() for v in (raw if isinstance(raw, list | tuple) else [raw])]
        if not set(values) <= set(item.choices):
            raise ValidationError({field: _("Choose among the listed answers.")})
        values = [c for c in item.choices if c in values]
        return values, item.judge(values)
    if item.type == ItemType.TEXT:
        text = str(raw).strip()
        if len(text) > 500:
            raise ValidationError({field: _("Keep it under 500 characters.")})
        return text, False
    return None, False  # photos travel separately


def _number(item: ChecklistItem, raw, field: str) -> Decimal:
    match = NUMBER.match(str(raw))
    if not match:
        raise ValidationError({field: _("Enter a number, e.g. 0.45.")})
    unit = (match.group(2) or "").strip()
    if unit and item.unit and unit.lower() != item.unit.lower():
        raise ValidationError(
            {
                field: _("Enter the value in %(unit)s, not %(given)s.")
                % {"unit": item.unit, "given": unit}
            }
        )
    if unit and not item.unit:
        raise ValidationError({field: _("Enter the number without a unit.")})
    try:
        value = Decimal(match.group(1))
    except InvalidOperation as exc:
        raise ValidationError({field: _("Enter a number, e.g. 0.45.")}) from exc
    if abs(value) >= ABSURD:
        raise ValidationError({field: _("This number is far too large; check it.")})
    return value.quantize(Decimal("0.001"))


# --- ledger console: editing assets and vendors ---------------------------------------
ASSET_EDITABLE = (
    "category",
    "code",
    "name",
    "building",
    "common_area",
    "location",
    "brand",
    "model_no",
    "serial_no",
    "installed_on",
    "warranty_until",
    "vendor",
    "importance",
    "notes",
)
VENDOR_EDITABLE = (
    "name",
    "contact_name",
    "contact_mobile",
    "phone",
    "contract_no",
    "contract_start",
    "contract_end",
    "scope",
    "is_active",
)


def _check_links(community, fields: dict) -> None:
    """Category and vendor of the community's company; building and common area of
    the community itself."""
    category = fields.get("category")
    if category is not None and category.company_id != community.company_id:
        raise ValidationError({"category": _("Choose a category of this company.")})
    for field in ("building", "common_area", "vendor"):
        related = fields.get(field)
        if related is None:
            continue
        owner = related.company_id if field == "vendor" else related.community_id
        if owner != (community.company_id if field == "vendor" else community.id):
            raise ValidationError({field: _("Choose one of this community.")})


@transaction.atomic
def update_asset(*, actor, asset: Asset, **fields) -> Asset:
    """Edit an asset's ledger fields; its community, status and QR token stay."""
    _require_community(actor, asset.community)
    unknown = set(fields) - set(ASSET_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    _check_links(asset.community, fields)
    locked = Asset.objects.select_for_update().get(pk=asset.pk)
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    full_clean(locked)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("Another asset already has this code.")}) from exc
    return locked


def _require_company_manager(actor) -> None:
    require(actor, MANAGE)
    if not actor.staff:
        raise PermissionDenied


@transaction.atomic
def create_vendor(*, actor, **fields) -> Vendor:
    """A vendor of the actor's company (vendors serve several communities)."""
    _require_company_manager(actor)
    unknown = set(fields) - set(VENDOR_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    vendor = Vendor(company_id=actor.staff.company_id, **fields)
    full_clean(vendor)
    vendor.save()
    return vendor


@transaction.atomic
def update_vendor(*, actor, vendor: Vendor, **fields) -> Vendor:
    _require_company_manager(actor)
    if vendor.company_id != actor.staff.company_id:
        raise PermissionDenied
    unknown = set(fields) - set(VENDOR_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    locked = Vendor.objects.select_for_update().get(pk=vendor.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    full_clean(locked)
    locked.save()
    return locked


# --- documents kept with an asset ---------------------------------------------------
DWG = re.compile(rb"^AC1\d{3}")  # AutoCAD's version tag: AC1015 (2000) … AC1032 (2018)

# extension: (MIME type stored and sent, content check (first bytes, upload) -> bool)
ATTACHMENT_TYPES = {
    **uploads.DOCUMENT_TYPES,
    "dwg": ("image/vnd.dwg", lambda head, upload: bool(DWG.match(head))),
    "txt": uploads.TEXT_TYPE,
}


def _attachment_type(upload, name: str) -> tuple[str, str]:
    """(extension, MIME type) when both the name and the content say one allowed type;
    a ValidationError naming the file otherwise."""
    return uploads.check_document(
        upload,
        name,
        types=ATTACHMENT_TYPES,
        limit_mb=settings.FACILITY_ATTACHMENT_MAX_MB,
        refused=_(
            "“%(name)s” cannot be kept with an asset: upload a PDF, JPEG or PNG image, "
            "Word or Excel document, DWG drawing or text file."
        ),
    )


@transaction.atomic
def add_attachment(*, actor, asset: Asset, upload, description: str = "") -> AssetAttachment:
    """Keep a document (manual, contract, inspection report, drawing, photo) with an
    asset. The type must agree by name and by content; nothing is stored on error."""
    _require_community(actor, asset.community)
    name = uploads.original_name(upload)
    extension, content_type = _attachment_type(upload, name)
    attachment = AssetAttachment(
        asset=asset,
        name=name,
        content_type=content_type,
        size=upload.size,
        description=(description or "").strip(),
        uploaded_by=actor.user,
    )
    full_clean(attachment, exclude=["file"])
    upload.seek(0)
    attachment.file.save(f"upload.{extension}", upload, save=False)
    try:
        with transaction.atomic():
            attachment.save()
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def remove_attachment(*, actor, attachment: AssetAttachment) -> None:
    """Delete the row now and the stored file once that is committed (a rollback
    keeps both)."""
    _require_community(actor, attachment.asset.community)
    deleted, _counts = AssetAttachment.objects.filter(pk=attachment.pk).delete()
    if deleted:
        storage, stored = attachment.file.storage, attachment.file.name
        transaction.on_commit(lambda: storage.delete(stored))
