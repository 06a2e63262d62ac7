"""The SLA sweep: run every minute by the scheduler; touches only orders whose next
check has come (partial index on ``sla_next_check``) and is safe to run twice or in
two processes at once (rows are locked with SKIP LOCKED on PostgreSQL).

Each batch is one transaction: one locking read, one bulk update, one bulk insert of
events, then the notifications (``announce_all``: audiences resolved once per community,
recipients' apps read once per batch, one delivery task per batch enqueued at commit).
About a dozen queries per batch of 500, whatever is due.
"""

import datetime
import json

from django.db import connection, transaction
from django.utils import timezone

from wuye.workorders.models import EventType, WorkOrder, WorkOrderEvent
from wuye.workorders.notices import announce_all, remembered_audiences
from wuye.workorders.sla import evaluate

BATCH = 500
SWEPT_FIELDS = ("sla", "sla_state", "sla_next_check", "priority")


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
                _write(orders)
                announce_all(WorkOrderEvent.objects.bulk_create(events))
                done += len(orders)


def _write(orders: list[WorkOrder]) -> None:
    """Save the swept fields of many orders in one statement.

    On PostgreSQL one ``UPDATE … FROM jsonb_to_recordset(%s)``: the new values travel
    as one JSON document. ``bulk_update`` would build a ``CASE WHEN id = … THEN …``
    expression per field and order, which costs Django more time to compile than the
    database takes to run it."""
    if connection.vendor != "postgresql":
        WorkOrder.objects.bulk_update(orders, SWEPT_FIELDS)
        return
    meta = WorkOrder._meta
    fields = [meta.pk, *(meta.get_field(name) for name in SWEPT_FIELDS)]
    quote = connection.ops.quote_name
    rows = [{field.column: field.value_from_object(order) for field in fields} for order in orders]
    record = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields[1:])
    key = quote(meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE t.{key} = v.{key}",
            [json.dumps(rows, default=_iso)],
        )


def _iso(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()  # to the microsecond, as the column keeps it
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
