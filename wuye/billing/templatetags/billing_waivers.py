"""Waivers (减免) where the fees console shows them: a rate as a percentage, and the
waivers of a bill's house and fee item that cover its months (on the bill's page)."""

from django import template

from wuye.billing import waivers
from wuye.billing.models import Waiver

register = template.Library()


@register.filter
def percent(value) -> str:
    """``Decimal("0.0500")`` → ``5%``."""
    if value in (None, ""):
        return "—"
    return waivers.percent(value)


@register.inclusion_tag("billing/console/_bill_waivers.html")
def bill_waivers(bill):
    """Pending and approved waivers overlapping the bill's period (one query)."""
    found = (
        Waiver.objects.filter(
            house_id=bill.house_id,
            fee_item_id=bill.fee_item_id,
            status__in=waivers.LIVE,
            start__lte=bill.period_end,
            end__gte=bill.period_start,
        )
        .select_related("rule", "proposed_by", "decided_by")
        .order_by("start", "id")
    )
    return {"bill": bill, "waivers": list(found)}
