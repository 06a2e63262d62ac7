"""The SLA sweep: run every minute by the scheduler; touches only orders whose next
check has come (partial index on ``sla_next_check``) and is safe to run twice."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wuye.workorders.models import EventType, WorkOrder
from wuye.workorders.sla import evaluate

BATCH = 500


def sweep_sla(*, now=None, batch: int = BATCH) -> int:
    """Advance the clocks of every due order; returns how many orders it looked at."""
    from wuye.workorders.services import _record

    now = now or timezone.now()
    seen: set[int] = set()
    while True:
        ids = [
            pk
            for pk in WorkOrder.objects.filter(sla_next_check__lte=now)
            .order_by("sla_next_check")
            .values_list("id", flat=True)[:batch]
            if pk not in seen
        ]
        if not ids:
            return len(seen)
        for pk in ids:
            seen.add(pk)
            with transaction.atomic():
                order = (
                    WorkOrder.objects.select_for_update()
                    .filter(pk=pk, sla_next_check__lte=now)
                    .first()
                )
                if order is None:  # another sweep or a transition got there first
                    continue
                events = evaluate(order, now=now)
                fields = ["sla", "sla_state", "sla_next_check"]
                if any(kind == EventType.SLA_ESCALATED for kind, _n, _p in events):
                    order.priority = F("priority") + 1
                    fields.append("priority")
                order.save(update_fields=fields)
                for kind, note, payload in events:
                    _record(order, kind, actor=None, note=str(note), payload=payload, public=False)
