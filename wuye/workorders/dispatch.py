"""Who gets an order: candidates, the open-order cap, round-robin and automatic picks.

``pick`` reads every eligible candidate's load and last-assignment time in one query
(each a correlated lookup on an index, computed once per candidate), chooses in Python
and then loads the one member chosen: three queries whatever the number of technicians,
about 4 ms of database time with 1,000 of them (bench/workorders.py).
"""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.staff.models import Role, StaffMember
from wuye.staff.selectors import on_shift
from wuye.workorders.models import ASSIGNED_STATUSES, DispatchMode, EventType, WorkOrder

WORK_PERMISSION = "workorders.work"


def max_open_orders() -> int:
    return settings.WORKORDER_MAX_OPEN_PER_ASSIGNEE


def has_capacity(member: StaffMember) -> bool:
    load = WorkOrder.objects.filter(assignee=member, status__in=ASSIGNED_STATUSES).count()
    return load < max_open_orders()


def _field_role_ids(company_id: int) -> list[int]:
    # A company has a handful of roles; reading them beats a JSON query SQLite lacks.
    return [
        role.id
        for role in Role.objects.filter(company_id=company_id)
        if WORK_PERMISSION in (role.permissions or ())
    ]


def _eligible(order: WorkOrder, at, exclude=()):
    """On-shift, on-duty staff of the order's community who do field work and have the
    category's trade (whatever their load), never those in ``exclude`` (staff ids)."""
    members = on_shift(community_id=order.community_id, at=at or timezone.now()).filter(
        id__in=StaffMember.roles.through.objects.filter(
            role_id__in=_field_role_ids(order.company_id)
        ).values("staffmember_id")
    )
    if exclude:
        members = members.exclude(id__in=list(exclude))
    if order.category.trade_id:
        members = members.filter(
            id__in=StaffMember.trades.through.objects.filter(
                trade_id=order.category.trade_id
            ).values("staffmember_id")
        )
    return members


def _load():
    """A member's open assigned orders: a count on the (assignee, status) index that
    needs no table rows."""
    open_orders = WorkOrder.objects.filter(
        assignee=OuterRef("pk"), status__in=ASSIGNED_STATUSES
    ).order_by()
    return Coalesce(
        Subquery(open_orders.values("assignee").annotate(n=Count("*")).values("n")[:1]), 0
    )


def _last_assigned():
    """When a member was last dispatched an order: one backward step on the
    (assignee, dispatched_at) index."""
    latest = WorkOrder.objects.filter(
        assignee=OuterRef("pk"), dispatched_at__isnull=False
    ).order_by("-dispatched_at")
    return Subquery(latest.values("dispatched_at")[:1])


def candidates(order: WorkOrder, *, at=None, exclude=()):
    """On-shift, on-duty staff of the order's community who do field work, have the
    category's trade and are under the cap, annotated with ``load`` and
    ``last_assigned``; never those in ``exclude`` (staff ids)."""
    return (
        _eligible(order, at, exclude)
        .annotate(load=_load(), last_assigned=_last_assigned())
        .filter(load__lt=max_open_orders())
    )


def pick(order: WorkOrder, *, at=None, exclude=()) -> StaffMember | None:
    """Automatic: least loaded first; round-robin: longest since the last assignment;
    never-assigned staff before everyone, then the lowest id. The member returned
    carries ``load`` and ``last_assigned`` like the rows of ``candidates``."""
    # Filtering and ordering on the load in SQL would compute it twice per candidate
    # (WHERE and ORDER BY); reading (id, load, last) for each and choosing here does
    # it once.
    cap = max_open_orders()
    open_rows = [row for row in _loads(order, at, exclude) if row[1] < cap]
    if not open_rows:
        return None

    def longest_idle(row):  # NULLS FIRST, then the oldest, then the lowest id
        member_id, _, last = row
        return (last is not None, last, member_id)

    if order.dispatch_mode == DispatchMode.ROUND_ROBIN:
        chosen = min(open_rows, key=longest_idle)
    else:
        chosen = min(open_rows, key=lambda row: (row[1], *longest_idle(row)))
    member = StaffMember.objects.filter(pk=chosen[0]).first()
    if member is not None:
        member.load, member.last_assigned = chosen[1], chosen[2]
    return member


def _loads(order: WorkOrder, at, exclude) -> list[tuple[int, int, object]]:
    """(id, load, last assigned) of every eligible member, in one statement.

    The eligible members come from the ORM (``_eligible``, ``on_shift``); the two
    correlated lookups of ``_load`` and ``_last_assigned`` are written out around it
    because building and compiling them and converting a thousand annotated rows cost
    the ORM more time (about 1.5 ms) than the database takes to run them."""
    eligible, params = _eligible(order, at, exclude).order_by().values("id").query.sql_with_params()
    meta = WorkOrder._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    assignee, status, dispatched = (
        quote(meta.get_field(name).column) for name in ("assignee", "status", "dispatched_at")
    )
    marks = ", ".join(["%s"] * len(ASSIGNED_STATUSES))
    sql = (
        f"SELECT e.id, "
        f"(SELECT COUNT(*) FROM {table} w WHERE w.{assignee} = e.id AND w.{status} IN ({marks})), "
        f"(SELECT w.{dispatched} FROM {table} w WHERE w.{assignee} = e.id "
        f"AND w.{dispatched} IS NOT NULL ORDER BY w.{dispatched} DESC LIMIT 1) "
        f"FROM ({eligible}) e"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ASSIGNED_STATUSES, *params])
        rows = cursor.fetchall()
    column = meta.get_field("dispatched_at").get_col(meta.db_table)
    converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
    if converters:  # SQLite returns text for the datetime
        for n, (member_id, load, last) in enumerate(rows):
            if last is not None:
                for convert in converters:
                    last = convert(last, column, connection)
                rows[n] = (member_id, load, last)
    return rows


@transaction.atomic
def auto_dispatch(*, order: WorkOrder, exclude=()) -> WorkOrder:
    """Dispatch to the best candidate, or leave the order with the dispatcher, saying why."""
    from wuye.workorders.services import _record, dispatch_order

    member = pick(order, exclude=exclude)
    if member is None:
        _record(
            order,
            EventType.COMMENTED,
            actor=None,
            public=False,
            note=_("No on-duty staff with the right trade and capacity: left for the dispatcher."),
        )
        return order
    return dispatch_order(
        actor=None, order=order, assignee=member, note=_("Assigned automatically.")
    )
