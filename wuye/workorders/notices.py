"""Who hears about a work-order event (in-app now; email/SMS/WeChat join through the
notification service's channels). Delivery happens after commit, once per event and
recipient (the dedupe key is the event id).

``announce`` serves one event; ``announce_all`` serves many (an SLA sweep batch) with
the recipients' apps looked up in one query and one delivery task for all of them.
"""

import contextlib
from contextvars import ContextVar

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wuye.notifications.services import delivered_together, notify
from wuye.staff.models import Role, StaffMember
from wuye.staff.policy import FIELD_ROLES
from wuye.workorders.models import EventType, WorkOrderEvent

REPORTER, ASSIGNEE, DESK, MANAGERS = "reporter", "assignee", "desk", "managers"

# event type -> (audiences, title); titles take the order number and category.
ANNOUNCED = {
    EventType.SUBMITTED: ((DESK,), _("New request %(number)s: %(category)s")),
    EventType.DISPATCHED: ((ASSIGNEE,), _("Order %(number)s dispatched to you: %(category)s")),
    EventType.TRANSFERRED: ((ASSIGNEE,), _("Order %(number)s transferred to you: %(category)s")),
    EventType.TAKEN: ((REPORTER,), _("Your request %(number)s has been taken")),
    EventType.GRABBED: ((REPORTER,), _("Your request %(number)s has been taken")),
    EventType.ARRIVED: ((REPORTER,), _("Staff have arrived for %(number)s")),
    EventType.COMPLETED: ((REPORTER,), _("%(number)s is done — please rate the service")),
    EventType.REJECTED: ((REPORTER,), _("Your request %(number)s was closed without action")),
    EventType.RETURNED: ((DESK,), _("Order %(number)s was returned and needs dispatching")),
    EventType.REOPENED: ((DESK, ASSIGNEE), _("Order %(number)s was reopened")),
    EventType.CANCELLED: ((DESK, ASSIGNEE), _("Order %(number)s was cancelled")),
    EventType.URGED: ((ASSIGNEE, DESK), _("The resident urged order %(number)s")),
    EventType.SLA_AT_RISK: ((ASSIGNEE, DESK), _("Order %(number)s is close to its deadline")),
    EventType.SLA_BREACHED: ((ASSIGNEE, DESK), _("Order %(number)s missed its deadline")),
    EventType.SLA_ESCALATED: ((MANAGERS,), _("Order %(number)s escalated: deadline long missed")),
    EventType.DISPATCH_EXPIRED: ((DESK,), _("Order %(number)s was not taken in time")),
    EventType.REPLIED: ((REPORTER,), _("Staff replied to your rating of %(number)s")),
}
LOW_RATING = 2


def announce(event: WorkOrderEvent) -> None:
    """Notify the people an event concerns (never the person who caused it)."""
    title, users = _recipients(event)
    if users:
        _send(event, title, users)


def announce_all(events) -> None:
    """``announce`` each event, with the same notifications, for many events at once:
    desk and managers resolved once per community, the apps of all recipients read in
    one query per company, and one delivery task for all (enqueued when the
    surrounding transaction commits)."""
    with remembered_audiences(), delivered_together():
        plans = [(event, *_recipients(event)) for event in events]
        by_company: dict[int, set[int]] = {}
        for event, _title, users in plans:
            by_company.setdefault(event.order.company_id, set()).update(users)
        for company_id, users in by_company.items():
            _known_surfaces(company_id, users)
        for event, title, users in plans:
            if users:
                _send(event, title, users)


def _recipients(event: WorkOrderEvent):
    """The event's title and the user ids it goes to (empty when nobody)."""
    audiences, title = ANNOUNCED.get(event.type, ((), None))
    if event.type == EventType.RATED and (event.payload or {}).get("overall", 5) <= LOW_RATING:
        audiences, title = (DESK,), _("Low rating on %(number)s: service recovery needed")
    users = set()
    for audience in audiences:
        users |= _audience(event.order, audience)
    users.discard(event.actor_id)
    return title, users


def _send(event: WorkOrderEvent, title, users: set[int]) -> None:
    order = event.order
    text = title % {"number": order.number, "category": order.category.name}
    for surface, ids in _by_surface(order, users).items():
        notify(
            recipients=ids,
            kind=f"workorder.{event.type}",
            title=text,
            body=order.description[:200],
            url=reverse(f"{surface}:order_detail", args=[order.pk]),
            obj=order,
            dedupe_key=f"workorder-event:{event.pk}",
        )


# Within a sweep many orders share a community: resolve its desk and managers once.
_remembered: ContextVar[dict | None] = ContextVar("workorder_audiences", default=None)


@contextlib.contextmanager
def remembered_audiences():
    """Remember audiences and recipients' apps until the block ends (an outer block's
    memory is kept and shared)."""
    if _remembered.get() is not None:
        yield
        return
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def _audience(order, audience: str) -> set[int]:
    if audience == REPORTER:
        return {order.reporter_id} if order.reporter_id else set()
    if audience == ASSIGNEE:
        return {order.assignee.user_id} if order.assignee_id else set()
    cache = _remembered.get()
    key = (audience, order.company_id, order.community_id if audience == DESK else None)
    if cache is not None and key in cache:
        return cache[key]
    users = _staff_audience(order, audience)
    if cache is not None:
        cache[key] = users
    return users


def _staff_audience(order, audience: str) -> set[int]:
    wide_roles = Role.objects.filter(company_id=order.company_id, company_wide=True)
    dispatch_roles = [
        r.id
        for r in Role.objects.filter(company_id=order.company_id)
        if "workorders.dispatch" in (r.permissions or ())
    ]
    staff = StaffMember.objects.filter(
        company_id=order.company_id, is_active=True, roles__in=dispatch_roles
    )
    if audience == DESK:  # the desk of the order's community
        staff = staff.filter(Q(communities=order.community_id) & ~Q(roles__in=wide_roles))
    else:  # MANAGERS: company-wide supervisors
        staff = staff.filter(roles__in=wide_roles)
    return set(staff.values_list("user_id", flat=True))


def _by_surface(order, user_ids: set[int]) -> dict[str, list[int]]:
    """Group recipients by the app they read it in, so each gets a link that opens."""
    if _remembered.get() is not None:
        known = _known_surfaces(order.company_id, user_ids)
        groups: dict[str, list[int]] = {}
        for user_id in sorted(user_ids):
            groups.setdefault(known[user_id], []).append(user_id)
        return groups
    return _surfaces(order, user_ids)


def _known_surfaces(company_id: int, user_ids: set[int]) -> dict[int, str]:
    """The remembered app of each user (in the company), reading the missing ones."""
    known = _remembered.get().setdefault(("surface", company_id), {})
    missing = user_ids - known.keys()
    if missing:
        for surface, ids in _surfaces_in(company_id, missing).items():
            known.update(dict.fromkeys(ids, surface))
    return known


def _surfaces(order, user_ids: set[int]) -> dict[str, list[int]]:
    return _surfaces_in(order.company_id, user_ids)


def _surfaces_in(company_id: int, user_ids: set[int]) -> dict[str, list[int]]:
    """Staff whose roles are all field roles read it in the field app, other staff in
    the console, everyone else (residents) in the H5 app. One query: (user, role code)
    pairs, a member without roles giving one pair with no code."""
    roles: dict[int, set[str]] = {}
    for user_id, code in StaffMember.objects.filter(
        user_id__in=user_ids, company_id=company_id
    ).values_list("user_id", "roles__code"):
        codes = roles.setdefault(user_id, set())
        if code is not None:
            codes.add(code)
    groups: dict[str, list[int]] = {}
    for user_id in sorted(user_ids):
        codes = roles.get(user_id)
        if codes is None:
            surface = "orders_resident"
        elif codes <= FIELD_ROLES:
            surface = "orders_field"
        else:
            surface = "orders_console"
        groups.setdefault(surface, []).append(user_id)
    return groups
