"""Writing checklists and checkpoints from the office console.

Checklist templates are company master data: anyone with ``facilities.manage`` in the
company writes them. Items are validated by the model (``ChecklistItem.clean`` and its
constraints) and kept in order by ``position``; an item with answers on record is never
deleted (the answers keep pointing at it). Checkpoints belong to one community, written
by those who manage facilities there.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from wuye.core.services import full_clean, require
from wuye.facilities.models import Answer, ChecklistItem, ChecklistTemplate, Checkpoint

MANAGE = "facilities.manage"
TEMPLATE_FIELDS = ("name", "kind", "asset_category", "is_active")
ITEM_FIELDS = (
    "label",
    "type",
    "unit",
    "min_value",
    "max_value",
    "choices",
    "abnormal_choices",
    "required",
    "photo_required",
    "creates_order",
    "order_category",
)


def _require_company(actor, company_id: int) -> None:
    require(actor, MANAGE)
    if actor.staff.company_id != company_id:
        raise PermissionDenied


def _require_community(actor, community_id: int) -> None:
    require(actor, MANAGE)
    if community_id not in actor.community_ids:
        raise PermissionDenied


def _assign(instance, fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


# --- templates --------------------------------------------------------------------------
def _check_template(template: ChecklistTemplate) -> None:
    category = template.asset_category
    if category is not None and category.company_id != template.company_id:
        raise ValidationError({"asset_category": _("Choose a category of this company.")})
    full_clean(template)


@transaction.atomic
def create_template(*, actor, **fields) -> ChecklistTemplate:
    require(actor, MANAGE)
    template = ChecklistTemplate(company_id=actor.staff.company_id)
    _assign(template, fields, TEMPLATE_FIELDS)
    _check_template(template)
    template.save()
    return template


@transaction.atomic
def update_template(*, actor, template: ChecklistTemplate, **fields) -> ChecklistTemplate:
    _require_company(actor, template.company_id)
    locked = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    _assign(locked, fields, TEMPLATE_FIELDS)
    _check_template(locked)
    locked.save()
    return locked


# --- items ------------------------------------------------------------------------------
def _check_item(item: ChecklistItem, company_id: int) -> None:
    category = item.order_category
    if category is not None and (
        category.company_id != company_id or not category.is_active or category.children.exists()
    ):
        raise ValidationError(
            {"order_category": _("Choose an active sub-category of this company.")}
        )
    if not item.creates_order:
        item.order_category = None
    full_clean(item)


@transaction.atomic
def add_item(*, actor, template: ChecklistTemplate, **fields) -> ChecklistItem:
    """A new item at the end of the checklist."""
    _require_company(actor, template.company_id)
    locked = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    last = locked.items.aggregate(last=Max("position"))["last"] or 0
    item = ChecklistItem(template=locked, position=last + 1)
    _assign(item, fields, ITEM_FIELDS)
    _check_item(item, locked.company_id)
    item.save()
    return item


@transaction.atomic
def update_item(*, actor, item: ChecklistItem, **fields) -> ChecklistItem:
    _require_company(actor, item.template.company_id)
    locked = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    _assign(locked, fields, ITEM_FIELDS)
    _check_item(locked, item.template.company_id)
    locked.save()
    return locked


@transaction.atomic
def remove_item(*, actor, item: ChecklistItem) -> None:
    _require_company(actor, item.template.company_id)
    if Answer.objects.filter(item=item).exists():
        raise ValidationError(
            _("“%(item)s” has answers on record and cannot be removed; edit it instead.")
            % {"item": item.label}
        )
    item.delete()


@transaction.atomic
def move_item(*, actor, item: ChecklistItem, step: int) -> None:
    """Move an item ``step`` places (−1 up, +1 down); positions become 1…n."""
    _require_company(actor, item.template.company_id)
    ChecklistTemplate.objects.select_for_update().get(pk=item.template_id)
    items = list(ChecklistItem.objects.filter(template_id=item.template_id))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = min(max(index + step, 0), len(items) - 1)
    items.insert(target, items.pop(index))
    for position, other in enumerate(items, start=1):
        other.position = position
    ChecklistItem.objects.bulk_update(items, ["position"])


# --- checkpoints ------------------------------------------------------------------------
def _check_checkpoint(checkpoint: Checkpoint) -> None:
    area = checkpoint.common_area
    if area is not None and area.community_id != checkpoint.community_id:
        raise ValidationError({"common_area": _("Choose one of this community.")})
    full_clean(checkpoint)


@transaction.atomic
def create_checkpoint(*, actor, community, name: str, **fields) -> Checkpoint:
    _require_community(actor, community.pk)
    checkpoint = Checkpoint(company_id=community.company_id, community=community)
    _assign(checkpoint, {"name": name, **fields}, ("name", "common_area", "is_active"))
    _check_checkpoint(checkpoint)
    checkpoint.save()
    return checkpoint


@transaction.atomic
def update_checkpoint(*, actor, checkpoint: Checkpoint, **fields) -> Checkpoint:
    _require_community(actor, checkpoint.community_id)
    locked = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
    _assign(locked, fields, ("name", "common_area", "is_active"))
    _check_checkpoint(locked)
    locked.save()
    return locked
