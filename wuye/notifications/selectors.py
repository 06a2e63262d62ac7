"""Reading notifications: always the actor's own."""

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from wuye.notifications.models import Delivery, MessageTemplate, Notification

BADGE_CAP = 99


def notifications_for(actor, *, unread_only: bool = False):
    qs = Notification.objects.visible_to(actor)
    return qs.unread() if unread_only else qs


def unread_count(actor) -> int:
    """One COUNT over the (recipient, read_at, id) index."""
    if not actor.is_authenticated:
        return 0
    return notifications_for(actor, unread_only=True).count()


def badge_text(count: int) -> str:
    """What a badge shows: nothing for 0, the number, or ``99+``."""
    if count <= 0:
        return ""
    return f"{BADGE_CAP}+" if count > BADGE_CAP else str(count)


# --- the delivery log and message templates: a company's administrators -------------
MANAGE = "company.manage"


def _managed_company(actor) -> int | None:
    if not actor.is_authenticated or not actor.staff or not actor.has_perm(MANAGE):
        return None
    return actor.staff.company_id


def company_user_ids(company_id: int):
    """A subquery-ready union of the company's staff and resident logins."""
    from wuye.people.models import Resident
    from wuye.staff.models import StaffMember

    staff = StaffMember.objects.filter(company_id=company_id).values("user_id")
    residents = Resident.objects.filter(company_id=company_id, user__isnull=False).values("user_id")
    return staff, residents


class DeliveryQuerySet(models.QuerySet):
    def visible_to(self, actor):
        """A company administrator (``company.manage``) sees the deliveries to the
        company's staff and residents; nobody else sees any."""
        company_id = _managed_company(actor)
        if company_id is None:
            return self.none()
        staff, residents = company_user_ids(company_id)
        return self.filter(
            Q(notification__recipient_id__in=staff) | Q(notification__recipient_id__in=residents)
        )


class TemplateQuerySet(models.QuerySet):
    def visible_to(self, actor):
        company_id = _managed_company(actor)
        if company_id is None:
            return self.none()
        return self.filter(company_id=company_id)


def deliveries():
    return DeliveryQuerySet(model=Delivery)


def message_templates():
    return TemplateQuerySet(model=MessageTemplate)


def delivery_log(actor, *, channel="", status="", date_from=None, date_to=None, query=""):
    """The actor's delivery log, filtered; search is exact on the address, the
    recipient's mobile, username or name (indexed lookups, no LIKE scans)."""
    qs = deliveries().visible_to(actor).select_related("notification__recipient")
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    zone = timezone.get_current_timezone()
    if date_from:
        start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=zone)
        qs = qs.filter(created_at__gte=start)
    if date_to:
        end = datetime.datetime.combine(
            date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        qs = qs.filter(created_at__lt=end)
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(address=query)
            | Q(notification__recipient__mobile=query)
            | Q(notification__recipient__username=query)
            | Q(notification__recipient__first_name=query)
        )
    return qs
