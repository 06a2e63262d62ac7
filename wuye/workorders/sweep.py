"""The SLA sweep: run every minute by the scheduler; touches only orders whose next
check has come (partial index on ``sla_next_check``) and is safe to run twice or in
two processes at once (rows are locked with SKIP LOCKED on PostgreSQL).

Each batch is one transaction: one locking read, one bulk update, one bulk insert of
events, then the notifications with audiences resolved once per community.
"""

from django.db import transaction
from django.utils import timezone

from wuye.workorders.models import EventType, WorkOrder, WorkOrderEvent
from wuye.workorders.notices import announce, remembered_audiences
from wuye.workorders.sla import evaluate

BATCH = 500


def sweep_sla(*, now=None, batch: int = BATCH) -> int:
    """Advance the clocks of every due order; returns how many orders it updated."""
    now = now or timezone.now()
    done = 0
    with remembered_audiences():
        while True:
            with transaction.atomic():
                orders = list(
                    WorkOrder.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(sla_next_check__lte=now)
                    .select_related("category", "assignee")
                    .order_by("sla_next_check")[:batch]
                )
                if not orders:
                    return done
                events = []
                for order in orders:
                    for kind, note, payload in evaluate(order, now=now):
                        if kind == EventType.SLA_ESCALATED:
                            order.priority += 1
                        events.append(
                            WorkOrderEvent(
                                order=order,
                                type=kind,
                                note=str(note),
                                payload=payload,
                                is_public=False,
                                created_at=now,
                            )
                        )
                WorkOrder.objects.bulk_update(
                    orders, ["sla", "sla_state", "sla_next_check", "priority"]
                )
                for event in WorkOrderEvent.objects.bulk_create(events):
                    announce(event)
                done += len(orders)
