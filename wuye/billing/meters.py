"""Meter readings (抄表): recorded on the phone, in the console or from a workbook, all
through ``record_reading``.

Rules, in the order they are checked:

- the house must be charged for the metered fee item, in the actor's communities;
- one reading per house, item and day;
- a reading lower than the previous one is an error, unless the meter was replaced:
  then ``start_value`` (the new meter's reading when fitted) is where usage counts from;
- a usage more than ``SPIKE_FACTOR`` times the median of the house's last
  ``SPIKE_HISTORY`` usages (at least ``SPIKE_MIN_HISTORY`` of them) is kept but held for
  review: bill runs skip it until someone confirms it (``confirm_reading``) or a
  corrected reading replaces it.
"""

import datetime
import statistics
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing.models import Charging, FeeItem, MeterReading
from wuye.core.services import require

METERS = "billing.meters"
SPIKE_FACTOR = 3
SPIKE_HISTORY = 12
SPIKE_MIN_HISTORY = 3
MAX_READING = Decimal("999999999999.99")


def _decimal(raw, field: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("Enter the reading as a number, e.g. 1234.5.")}) from exc
    if not value.is_finite() or value < 0 or value > MAX_READING:
        raise ValidationError({field: _("Enter a reading between 0 and 999,999,999,999.99.")})
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError({field: _("Enter at most two decimals.")})
    return value


def _last_reading(house, fee_item, before: datetime.date) -> MeterReading | None:
    return (
        MeterReading.objects.filter(house=house, fee_item=fee_item, reading_date__lt=before)
        .order_by("-reading_date", "-id")
        .first()
    )


def _usual_usage(house, fee_item, before: datetime.date) -> Decimal | None:
    """The median of the house's last usages, or None without enough history."""
    past = list(
        MeterReading.objects.filter(
            house=house, fee_item=fee_item, reading_date__lt=before, needs_review=False
        )
        .order_by("-reading_date", "-id")
        .values_list("value", "previous")[:SPIKE_HISTORY]
    )
    if len(past) < SPIKE_MIN_HISTORY:
        return None
    return statistics.median(value - previous for value, previous in past)


@transaction.atomic
def record_reading(
    *,
    actor,
    house,
    fee_item: FeeItem,
    reading_date: datetime.date,
    value,
    replaced: bool = False,
    start_value=None,
) -> MeterReading:
    require(actor, METERS)
    if house.community_id not in actor.community_ids:
        raise PermissionDenied(METERS)
    if fee_item.kind != FeeItem.Kind.METERED or fee_item.community_id != house.community_id:
        raise ValidationError({"fee_item": _("Choose a metered fee item of this community.")})
    if not Charging.objects.filter(house=house, fee_item=fee_item).exists():
        raise ValidationError({"house": _("This house is not charged for %s.") % fee_item.name})
    if reading_date > timezone.localdate():
        raise ValidationError({"reading_date": _("A reading cannot be dated in the future.")})
    value = _decimal(value, "value")
    if MeterReading.objects.filter(
        house=house, fee_item=fee_item, reading_date=reading_date
    ).exists():
        raise ValidationError({"reading_date": _("This meter already has a reading that day.")})
    last = _last_reading(house, fee_item, reading_date)
    if replaced:
        if start_value in (None, ""):
            raise ValidationError(
                {"start_value": _("Give the new meter's reading when it was fitted.")}
            )
        previous = _decimal(start_value, "start_value")
    else:
        previous = last.value if last else value  # the first reading starts the meter
    if value < previous:
        raise ValidationError(
            {
                "value": _(
                    "%(value)s is lower than the previous reading %(previous)s. If the meter "
                    "was replaced, say so and give the new meter's starting reading."
                )
                % {"value": value, "previous": previous}
            }
        )
    usage = value - previous
    usual = _usual_usage(house, fee_item, reading_date)
    held = usual is not None and usage > usual * SPIKE_FACTOR
    return MeterReading.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=fee_item,
        reading_date=reading_date,
        value=value,
        previous=previous,
        replaced=replaced,
        needs_review=held,
        review_note=(
            _("Usage %(usage)s is over %(factor)d× the usual %(usual)s.")
            % {"usage": usage, "factor": SPIKE_FACTOR, "usual": usual}
            if held
            else ""
        ),
        recorded_by=actor.user,
    )


@transaction.atomic
def confirm_reading(*, actor, reading: MeterReading) -> MeterReading:
    """A person checked the meter: the held reading counts from now on."""
    require(actor, "billing.manage")
    locked = MeterReading.objects.select_for_update().get(pk=reading.pk)
    if locked.community_id not in actor.community_ids:
        raise PermissionDenied("billing.manage")
    if not locked.needs_review:
        raise ValidationError(_("This reading is not waiting for review."))
    locked.needs_review = False
    locked.review_note = _("Confirmed by %(name)s.") % {"name": actor.user.display_name}
    locked.save(update_fields=["needs_review", "review_note"])
    return locked
