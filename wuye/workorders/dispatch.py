"""Who gets an order: candidates, the open-order cap, round-robin and automatic picks.

Each decision is one query with the load and the last-assignment time computed as
aggregates in the database, so it stays fast with 1,000 technicians.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
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


def candidates(order: WorkOrder, *, at=None, exclude=()):
    """On-shift, on-duty staff of the order's community who do field work, have the
    category's trade and are under the cap, annotated with ``load`` and
    ``last_assigned``; never those in ``exclude`` (staff ids)."""
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
    # Correlated subqueries: each candidate costs two small index lookups on
    # (assignee, status) and (assignee, dispatched_at) instead of a join over every
    # order of every candidate.
    open_orders = WorkOrder.objects.filter(
        assignee=OuterRef("pk"), status__in=ASSIGNED_STATUSES
    ).order_by()
    latest = WorkOrder.objects.filter(
        assignee=OuterRef("pk"), dispatched_at__isnull=False
    ).order_by("-dispatched_at")
    return members.annotate(
        load=Coalesce(
            Subquery(open_orders.values("assignee").annotate(n=Count("id")).values("n")[:1]),
            0,
        ),
        last_assigned=Subquery(latest.values("dispatched_at")[:1]),
    ).filter(load__lt=max_open_orders())


def pick(order: WorkOrder, *, at=None, exclude=()) -> StaffMember | None:
    """Automatic: least loaded first; round-robin: longest since the last assignment."""
    longest_idle = F("last_assigned").asc(nulls_first=True)
    if order.dispatch_mode == DispatchMode.ROUND_ROBIN:
        ordering = [longest_idle, "id"]
    else:
        ordering = ["load", longest_idle, "id"]
    return candidates(order, at=at, exclude=exclude).order_by(*ordering).first()


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
