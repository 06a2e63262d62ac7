"""Online payment orders that were never paid: closed after
``settings.BILLING_ORDER_TTL_MINUTES`` (default 30) by a job every 5 minutes, or at once
when the resident who started one cancels it.

Before closing, the provider is asked about the trade: one it reports paid (its
notification was lost or late) is recorded through the notification's own path
(``providers.settle_from_query``), never closed. A notification that still arrives for a
closed order is not refused: the money goes to the house's prepaid balance (预存), see
``wuye.billing.providers``.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing.models import ProviderOrder
from wuye.billing.providers import get_provider, settle_from_query

logger = logging.getLogger("wuye.billing.orders")

CLOSED = "closed"
# Orders looked at per run of the job; the rest wait for the next run (5 minutes later).
BATCH = 500


def _close(order: ProviderOrder) -> str:
    """Query the provider, record the payment if it was paid, else close the trade there
    and here. Returns an ``Outcome`` of the payment, or ``"closed"``."""
    provider = get_provider(order.provider)
    outcome = settle_from_query(provider, order)
    if outcome is not None:
        return outcome
    if not provider.close_order(order):  # paid between our question and the close
        outcome = settle_from_query(provider, order)
        if outcome is not None:
            return outcome
    with transaction.atomic():
        locked = ProviderOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status == ProviderOrder.Status.CREATED:
            locked.status = ProviderOrder.Status.CLOSED
            locked.save(update_fields=["status"])
        order.status = locked.status
    return CLOSED


def expired(now=None):
    cutoff = (now or timezone.now()) - datetime.timedelta(
        minutes=settings.BILLING_ORDER_TTL_MINUTES
    )
    return ProviderOrder.objects.filter(status=ProviderOrder.Status.CREATED, created_at__lt=cutoff)


def close_expired(now=None) -> dict[str, int]:
    """Close the orders still unpaid ``BILLING_ORDER_TTL_MINUTES`` after they were made
    (the ones paid at the provider are recorded as paid instead). One order failing
    (the provider unreachable) does not stop the others; it is tried again next time.
    Returns how many orders ended how."""
    counts: dict[str, int] = {}
    for order in expired(now).select_related("house__company").order_by("id")[:BATCH]:
        try:
            outcome = _close(order)
        except Exception:
            logger.exception("closing online order %s failed", order.out_trade_no)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def cancel_order(*, actor, order: ProviderOrder) -> ProviderOrder:
    """The resident who started an online payment gives it up: the trade is closed at
    the provider and here, so it can no longer be paid (the bills stay payable with a
    new order). Cancelling a closed order changes nothing; a paid one is refused. If the
    provider reports it paid meanwhile, the payment is recorded and the order is
    returned paid, not cancelled."""
    if not actor.is_authenticated or order.created_by_id != actor.user.pk:
        raise PermissionDenied(_("Only the person who started this payment can cancel it."))
    order.refresh_from_db(fields=["status"])  # a notification may have paid it just now
    if order.status == ProviderOrder.Status.PAID:
        raise ValidationError(
            _("This payment went through; ask the management office if you need a refund.")
        )
    if order.status == ProviderOrder.Status.CREATED:
        _close(order)
        order.refresh_from_db()
    return order
