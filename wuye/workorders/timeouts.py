"""The work-order minute job besides the SLA sweep: dispatched orders nobody took in
time, and completed orders nobody rated. Each reads only its due rows through a
partial index (``wo_waiting_take_idx``, ``wo_waiting_rating_idx``) and handles each
order in its own transaction through the service function, which re-checks on the
locked row: safe to run late, twice, or in two processes at once."""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from wuye.workorders import selectors, services
from wuye.workorders.models import RequestType, Status, WorkOrder

BATCH = 500


def overdue_dispatches(now: datetime.datetime):
    """Dispatched orders past their urgency's take timeout."""
    waited_too_long = Q()
    for urgency in settings.WORKORDER_TAKE_TIMEOUT_MINUTES:
        waited_too_long |= Q(
            urgency=urgency, dispatched_at__lte=now - services.take_timeout(urgency)
        )
    return WorkOrder.objects.filter(waited_too_long, status=Status.DISPATCHED)


def unrated_to_close(now: datetime.datetime):
    """Completed orders past the rating window that no return visit waits for."""
    cutoff = now - datetime.timedelta(hours=settings.WORKORDER_AUTO_CLOSE_HOURS)
    completed = WorkOrder.objects.filter(status=Status.COMPLETED, completed_at__lte=cutoff)
    visits = selectors.awaiting_return_visit(completed)
    return completed.exclude(request_type=RequestType.COMPLAINT).exclude(pk__in=visits.values("pk"))


def _each(queryset, handle, now) -> int:
    done = 0
    for order in queryset.order_by("pk")[:BATCH]:
        try:
            handle(order=order, now=now)
        except services.InvalidTransition:
            continue  # someone acted on it meanwhile
        done += 1
    return done


def run_timeouts(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """One pass of both timeouts (at most ``BATCH`` orders each; the next minute takes
    the rest)."""
    now = now or timezone.now()
    return {
        "expired": _each(overdue_dispatches(now), services.expire_dispatch, now),
        "closed": _each(unrated_to_close(now), services.close_unrated, now),
    }
