"""The dunning and late-fee parts of a bill's console page: how a late fee was computed,
the late fees charged on an overdue bill, and the reminders its house had."""

from django import template

from wuye.billing.models import Bill, DunningNotice

register = template.Library()
SHOWN = 5


@register.inclusion_tag("billing/console/_bill_dunning.html", takes_context=True)
def bill_dunning(context, bill):
    actor = context["request"].actor
    notices = list(
        DunningNotice.objects.visible_to(actor)
        .filter(house_id=bill.house_id)
        .select_related("sent_by")
        .order_by("-sent_at", "-id")[: SHOWN + 1]
    )
    is_late_fee = bill.origin == Bill.Origin.LATE_FEE
    return {
        "bill": bill,
        "late_fee": bill.detail if is_late_fee else None,
        "late_fees": [] if is_late_fee else list(bill.late_fees.order_by("period_start", "id")),
        "notices": notices[:SHOWN],
        "more_reminders": len(notices) > SHOWN,
        "house_id": bill.house_id,
    }
