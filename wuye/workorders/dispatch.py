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


def _field_roles(company_id: int):
    """The company's field-work roles: ids read in Python, or on PostgreSQL a subquery
    (JSON containment on the permission list), which saves ``pick`` a round trip."""
    if connection.vendor == "postgresql":
        return Role.objects.filter(
            company_id=company_id, permissions__contains=[WORK_PERMISSION]
        ).values("id")
    return _field_role_ids(company_id)


def _eligible(order: WorkOrder, at, exclude=()):
    """On-shift, on-duty staff of the order's community who do field work and have the
    category's trade (whatever their load), never those in ``exclude`` (staff ids)."""
    members = on_shift(community_id=order.community_id, at=at or timezone.now()).filter(
        id__in=StaffMember.roles.through.objects.filter(
            role_id__in=_field_roles(order.company_id)
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
    carries ``load`` and ``last_assigned`` like the rows of ``candidates``.

    ``candidates(...).order_by(...).first()`` decides the same (tests hold them equal)
    but computes each member's load twice, for the cap in WHERE and for ORDER BY. Here
    one statement computes load and last assignment once per member, in a
    materialised CTE, and orders that. The eligible members still come from the ORM
    (``_eligible``, ``on_shift``); only the two correlated lookups of ``_load`` and
    ``_last_assigned`` are written out, because building, compiling and converting
    them costs the ORM more time than the database takes to run them."""
    eligible, params = _eligible(order, at, exclude).order_by().values("id").query.sql_with_params()
    meta, staff = WorkOrder._meta, StaffMember._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    assignee, status, dispatched = (
        quote(meta.get_field(name).column) for name in ("assignee", "status", "dispatched_at")
    )
    load, last = quote("load"), quote("last_assigned")
    marks = ", ".join(["%s"] * len(ASSIGNED_STATUSES))
    idle = f"c.{last} ASC NULLS FIRST, c.id ASC"
    ordering = idle if order.dispatch_mode == DispatchMode.ROUND_ROBIN else f"c.{load}, {idle}"
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    sql = (
        f"WITH c AS {materialized}(SELECT e.id, "
        f"(SELECT COUNT(*) FROM {table} w WHERE w.{assignee} = e.id AND w.{status} IN ({marks}))"
        f" AS {load}, "
        f"(SELECT w.{dispatched} FROM {table} w WHERE w.{assignee} = e.id "
        f"AND w.{dispatched} IS NOT NULL ORDER BY w.{dispatched} DESC LIMIT 1) AS {last} "
        f"FROM ({eligible}) e) "
        f"SELECT s.*, t.{load}, t.{last} "
        f"FROM (SELECT * FROM c WHERE c.{load} < %s ORDER BY {ordering} LIMIT 1) t "
        f"INNER JOIN {quote(staff.db_table)} s ON s.{quote(staff.pk.column)} = t.id"
    )
    found = list(StaffMember.objects.raw(sql, [*ASSIGNED_STATUSES, *params, max_open_orders()]))
    if not found:
        return None
    member = found[0]
    if member.last_assigned is not None:  # SQLite gives the datetime as text
        column = meta.get_field("dispatched_at").get_col(meta.db_table)
        for convert in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            member.last_assigned = convert(member.last_assigned, column, connection)
    return member


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
