"""Reading activities: attendance figures, the participant list, the timeline, and who
may see a recap photo. Figures are one aggregate query over the sign-ups."""

import dataclasses

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from wuye.activities.models import Activity, ActivityEvent, Signup, SignupStatus

C, W, X = SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, SignupStatus.CANCELLED


@dataclasses.dataclass(frozen=True)
class Figures:
    signed_up_households: int  # confirmed + waitlisted
    signed_up_people: int
    confirmed_households: int
    confirmed_people: int
    waitlisted_households: int
    waitlisted_people: int
    cancelled_households: int
    cancelled_people: int
    checked_in_households: int
    checked_in_people: int  # people who came, as counted at the door
    capacity: int

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.confirmed_people, 0)

    @property
    def attendance_rate(self) -> float | None:
        """Confirmed households that checked in (0..1); None before anyone is confirmed."""
        if not self.confirmed_households:
            return None
        return self.checked_in_households / self.confirmed_households

    @property
    def people_rate(self) -> float | None:
        """People who came over people confirmed."""
        if not self.confirmed_people:
            return None
        return self.checked_in_people / self.confirmed_people

    def as_dict(self) -> dict:
        return {
            **dataclasses.asdict(self),
            "places_left": self.places_left,
            "attendance_rate": self.attendance_rate,
            "people_rate": self.people_rate,
        }


def figures(activity: Activity) -> Figures:
    def people(status):
        return Sum("party_size", filter=Q(status=status), default=0)

    row = Signup.objects.filter(activity=activity).aggregate(
        c=Count("id", filter=Q(status=C)),
        cp=people(C),
        w=Count("id", filter=Q(status=W)),
        wp=people(W),
        x=Count("id", filter=Q(status=X)),
        xp=people(X),
        i=Count("id", filter=Q(status=C, checked_in_at__isnull=False)),
        ip=Sum("attended_people", filter=Q(status=C, checked_in_at__isnull=False), default=0),
    )
    return Figures(
        signed_up_households=row["c"] + row["w"],
        signed_up_people=row["cp"] + row["wp"],
        confirmed_households=row["c"],
        confirmed_people=row["cp"],
        waitlisted_households=row["w"],
        waitlisted_people=row["wp"],
        cancelled_households=row["x"],
        cancelled_people=row["xp"],
        checked_in_households=row["i"],
        checked_in_people=row["ip"],
        capacity=activity.capacity,
    )


PARTICIPANT_STATUSES = ("confirmed", "waitlisted", "cancelled", "checked_in", "not_checked_in")


def participants(activity: Activity, *, status: str = "", search: str = ""):
    """The sign-ups of an activity in queue order, filtered by status ("checked_in" and
    "not_checked_in" among the confirmed) and by house number or contact."""
    qs = Signup.objects.filter(activity=activity).select_related(
        "house__community", "house__building", "house__unit", "checked_in_by"
    )
    if status == "checked_in":
        qs = qs.filter(status=C, checked_in_at__isnull=False)
    elif status == "not_checked_in":
        qs = qs.filter(status=C, checked_in_at__isnull=True)
    elif status in SignupStatus.values:
        qs = qs.filter(status=status)
    search = (search or "").strip()
    if search:
        qs = qs.filter(
            Q(house__number__startswith=search)
            | Q(contact_name__contains=search)
            | Q(contact_mobile__endswith=search)
        )
    return qs.order_by("created_at", "id")


def waitlist_position(signup: Signup) -> int | None:
    """1 for the first waiting party; None unless waitlisted. Uses the ``queue_ahead``
    annotation of ``with_queue_position`` when the row has it (lists), else counts."""
    if signup.status != W:
        return None
    ahead = getattr(signup, "queue_ahead", None)
    if ahead is not None:
        return ahead + 1
    return (
        Signup.objects.filter(activity_id=signup.activity_id, status=W)
        .filter(
            Q(created_at__lt=signup.created_at) | Q(created_at=signup.created_at, id__lt=signup.id)
        )
        .count()
        + 1
    )


def with_queue_position(queryset):
    """Annotate ``queue_ahead``: waiting sign-ups of the same activity ahead of each row
    (one subquery, not one query per row)."""
    ahead = (
        Signup.objects.filter(activity_id=OuterRef("activity_id"), status=W)
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .values("activity_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(queue_ahead=Coalesce(Subquery(ahead), 0))


def timeline(activity: Activity):
    return (
        ActivityEvent.objects.filter(activity=activity)
        .select_related("actor", "signup__house__building", "signup__house__unit")
        .order_by("-id")
    )


def upcoming(queryset, now=None):
    return queryset.filter(ends_at__gt=now or timezone.now())


def past(queryset, now=None):
    return queryset.filter(ends_at__lte=now or timezone.now())


def photo_visible(actor, photo_id: int) -> bool:
    """A recap photo is seen by whoever sees its activity (for ``wuye.core.photos``)."""
    return Activity.objects.visible_to(actor).filter(photos__id=photo_id).exists()
