"""Read helpers for work orders: what an actor may see and do. Writes live in services."""

import datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.utils import timezone

from wuye.core.models import Photo
from wuye.estates.models import House
from wuye.staff.models import Role, StaffMember
from wuye.workorders import services
from wuye.workorders.models import (
    ASSIGNED_STATUSES,
    URGENCY_RANK,
    Category,
    Channel,
    DispatchMode,
    RequestType,
    ReturnVisitPolicy,
    Status,
    WorkOrder,
    WorkOrderEvent,
)


# --- categories ---------------------------------------------------------------------
def categories_for(actor):
    """Active categories of the companies the actor works for or lives in."""
    return Category.objects.filter(company_id__in=sorted(actor.company_ids), is_active=True)


def category_tree(actor) -> list[Category]:
    """Top-level active categories with their active children prefetched (two queries)."""
    children = categories_for(actor).filter(parent__isnull=False)
    return list(
        categories_for(actor)
        .filter(parent__isnull=True)
        .prefetch_related(Prefetch("children", queryset=children, to_attr="active_children"))
    )


# --- orders -------------------------------------------------------------------------
def orders(houses=None):
    """Orders with everything a list row or a detail shows: the small tables joined,
    the house (and its address parts; ``houses`` narrows what is loaded of it) and the
    common area fetched for the page in two more queries. Joining all ten tables made
    PostgreSQL spend 10–30 ms planning a query that runs in 1 ms (bench/README.md,
    work-order list)."""
    if houses is None:
        houses = House.objects.select_related("community", "building", "unit")
    return WorkOrder.objects.select_related(
        "community", "category__parent", "assignee"
    ).prefetch_related(Prefetch("house", houses), "common_area", "asset")


# What a list row reads (``schemas.list_row``): its own columns, the foreign keys its
# place is built from, and the names of the joined community, category and assignee.
LIST_ROW_FIELDS = (
    "number", "company", "community__name", "house", "common_area", "asset",
    "request_type", "category__name", "category__parent__name", "dispatch_mode",
    "channel", "urgency", "priority", "status", "assignee__name", "description",
    "submitted_at", "urge_count", "sla_state", "close_reason",
)  # fmt: skip


def _place_houses():
    """Houses as an order's place shows them (``House.address``): the number and the
    names of the community, building and unit, not the house's other columns."""
    return House.objects.select_related("community", "building", "unit").only(
        "number", "community__name", "building__name", "unit__name"
    )


def order_rows():
    """``orders()`` loading only what a list row shows. A page of 50 full orders
    decodes ~500 timestamps and 50 SLA documents nobody reads, and building those
    instances was the largest Python cost left of a list page (bench/README.md, CPU
    per request)."""
    return orders(_place_houses()).only(*LIST_ROW_FIELDS)


def order_details():
    """``orders()`` plus the materials and the feedback a detail shows."""
    return (
        orders(_place_houses())
        .prefetch_related("materials")
        .select_related("feedback", "complaint__party_staff")
    )


def order_detail(pk: int) -> WorkOrder:
    return order_details().get(pk=pk)


def assigned_to(actor, queryset):
    """The actor's own orders (assigned to them as staff)."""
    if not actor.staff:
        return queryset.none()
    return queryset.filter(assignee_id=actor.staff.pk)


def in_grab_pool(actor, queryset):
    """Accepted grab-mode orders nobody holds, in the actor's communities; staff with
    trades see the categories of their trades and those without a trade."""
    if not actor.staff or not actor.has_perm("workorders.work"):
        return queryset.none()
    pool = queryset.filter(
        status=Status.ACCEPTED,
        assignee__isnull=True,
        dispatch_mode=DispatchMode.GRAB,
        community_id__in=sorted(actor.community_ids),
    )
    trade_ids = sorted(actor.staff.trades.values_list("id", flat=True))
    if trade_ids:
        pool = pool.filter(Q(category__trade__isnull=True) | Q(category__trade_id__in=trade_ids))
    return pool


def submitted_between(queryset, date_from: datetime.date | None, date_to: datetime.date | None):
    """``submitted_at`` within local calendar days (both ends inclusive), as an
    indexed range rather than a per-row date conversion."""
    zone = timezone.get_current_timezone()
    if date_from:
        start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=zone)
        queryset = queryset.filter(submitted_at__gte=start)
    if date_to:
        end = datetime.datetime.combine(
            date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        queryset = queryset.filter(submitted_at__lt=end)
    return queryset


def colleague(actor, pk: int) -> StaffMember | None:
    """An active staff member of the actor's own company, or None."""
    if not actor.staff:
        return None
    return StaffMember.objects.filter(
        company_id=actor.staff.company_id, is_active=True, pk=pk
    ).first()


def sees_all_events(actor, order: WorkOrder) -> bool:
    """Staff of the order's company see the whole service record; residents the
    public part."""
    return bool(actor.staff) and actor.staff.company_id == order.company_id


def events_for(actor, order: WorkOrder):
    """The timeline the actor may see, with the actors and photos joined in (three
    queries however long it is)."""
    events = (
        WorkOrderEvent.objects.filter(order=order)
        .select_related("actor")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("id")))
    )
    if not sees_all_events(actor, order):
        events = events.filter(is_public=True)
    return events


def photo_visible(actor, photo_id: int) -> bool:
    """A work-order photo is seen by whoever sees the step it is attached to: the
    order must be visible to the actor, and a staff-only step only to staff of the
    order's company (``wuye.core.photos.ATTACHMENT_CHECKS``)."""
    if not actor.is_authenticated:
        return False
    events = WorkOrderEvent.objects.filter(
        photos=photo_id, order__in=WorkOrder.objects.visible_to(actor)
    )
    if actor.staff:
        events = events.filter(Q(is_public=True) | Q(order__company_id=actor.staff.company_id))
    else:
        events = events.filter(is_public=True)
    return events.exists()


def actions_for(actor, order: WorkOrder) -> list[str]:
    """The actions this actor may take on the order now: the transition table
    (``services.allowed_actions``) narrowed by who may do each, plus ``urge``.
    ``close`` and ``expire`` are the system's and never offered."""
    staff = actor.staff
    dispatcher = services.is_desk(actor, order)
    supervisor = services.is_desk(actor, order, "resolve")  # the complaint's outcome
    assignee = bool(staff) and order.assignee_id == staff.pk
    requester = services._is_requester(actor, order)
    may = {
        "accept": dispatcher,
        "dispatch": dispatcher,
        "grab": bool(staff)
        and actor.has_perm("workorders.work")
        and order.dispatch_mode == DispatchMode.GRAB
        and order.assignee_id is None
        and order.community_id in actor.community_ids,
        "take": assignee,
        "return": assignee or dispatcher,
        "transfer": assignee or dispatcher,
        "arrive": assignee,
        "pause": assignee,
        "resume": assignee or dispatcher,
        "complete": assignee,
        "resolve": supervisor and order.request_type != RequestType.REPAIR,
        "expire": False,
        "rate": requester,
        "return_visit": supervisor,
        "close": False,
        "cancel": requester or supervisor,
        "reject": supervisor,
        "reopen": dispatcher or (requester and _recent_enough(order)),
    }
    actions = [name for name in services.allowed_actions(order) if may[name]]
    if requester and order.is_open:
        actions.append("urge")
    return actions


def _recent_enough(order: WorkOrder) -> bool:
    done = order.completed_at or order.closed_at
    return not done or timezone.now() - done <= services.REOPEN_WITHIN


# --- office console ---------------------------------------------------------------
def urgency_rank():
    """Sort key of the dispatch board: urgency first, then priority raised by reopening
    and escalation (``urgency × 100000 + priority``; priority stays far below 100000)."""
    urgency = Case(
        *(When(urgency=code, then=Value(rank * 100000)) for code, rank in URGENCY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    return urgency + F("priority")


def assignable_staff(*, company_id: int, community_ids, trade_id: int | None = None):
    """Active field staff (a role granting ``workorders.work``) working in any of
    ``community_ids``, each annotated with ``load`` (open orders they hold) and, given
    a trade, ``has_trade``; plus a map community id → ids of its staff. Three queries
    however many communities and staff: never a dropdown of the whole company."""
    community_ids = sorted(set(community_ids))
    role_ids = [
        role.id
        for role in Role.objects.filter(company_id=company_id)
        if "workorders.work" in (role.permissions or ())
    ]
    links = StaffMember.communities.through.objects.filter(
        community_id__in=community_ids,
        staffmember__company_id=company_id,
        staffmember__is_active=True,
        staffmember__roles__id__in=role_ids,
    )
    members = StaffMember.objects.filter(id__in=links.values("staffmember_id")).annotate(
        load=Count("work_orders", filter=Q(work_orders__status__in=ASSIGNED_STATUSES))
    )
    if trade_id:
        trades = StaffMember.trades.through.objects.filter(
            staffmember_id=OuterRef("pk"), trade_id=trade_id
        )
        members = members.annotate(has_trade=Exists(trades))
    else:
        members = members.annotate(has_trade=Value(False))
    members = list(members.order_by("load", "name", "id"))
    by_community: dict[int, list[int]] = {}
    for community_id, member_id in links.values_list("community_id", "staffmember_id").distinct():
        by_community.setdefault(community_id, []).append(member_id)
    return members, by_community


def awaiting_return_visit(queryset):
    """Orders waiting for a return visit (回访): rated orders that did not close
    (their category asks for a visit after that rating, a low rating opened service
    recovery, a complaint lacks its root cause), unrated complaints, and completed orders whose
    category always asks for one, or that came by phone or the front desk (nobody
    rates those in the app) unless the category says never."""
    desk = Q(channel__in=[Channel.PHONE, Channel.WALK_IN]) & ~Q(
        category__return_visit=ReturnVisitPolicy.NEVER
    )
    completed = Q(status=Status.COMPLETED) & (
        Q(category__return_visit=ReturnVisitPolicy.ALWAYS)
        | desk
        | Q(request_type=RequestType.COMPLAINT)  # closes only on confirmation or a visit
    )
    return queryset.filter(Q(status=Status.RATED) | completed)


# --- resident H5 and field mobile pages ---------------------------------------------
def reported_or_household(actor, queryset):
    """What the actor reported, and the non-complaint orders of their current houses —
    never the orders they see as staff (the resident pages)."""
    if not actor.is_authenticated:
        return queryset.none()
    mine = Q(reporter_id=actor.user.pk) | (
        actor.resident_q("house_id") & ~Q(request_type=RequestType.COMPLAINT)
    )
    return queryset.filter(mine)


def field_work(actor, queryset):
    """A technician's own orders and their grab pool (the field pages)."""
    return assigned_to(actor, queryset) | in_grab_pool(actor, queryset)


def by_urgency_and_age(queryset):
    """Most urgent first (priority raised by reopening counts), then oldest."""
    return queryset.annotate(rank=urgency_rank()).order_by("-rank", "submitted_at", "id")


def transfer_colleagues(actor, order: WorkOrder):
    """Field staff of the order's community other than the actor (转单 targets)."""
    members, _by_community = assignable_staff(
        company_id=order.company_id, community_ids=[order.community_id]
    )
    me = actor.staff.pk if actor.staff else None
    ids = [member.pk for member in members if member.pk != me]
    return StaffMember.objects.filter(pk__in=ids).order_by("name", "id")
