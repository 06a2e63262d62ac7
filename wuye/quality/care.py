"""The household care score (业主关怀指数): which households are likely to become
unhappy, so someone visits them before they complain.

Score of a house on a day (0–100, capped): the points of its signals below, counted in
the 90 days up to and including that day (open requests and overdue bills as they stand
when the score is taken).

=====================  =====================================================  ========
code                   signal                                                 points
=====================  =====================================================  ========
sla_breached           each open request past an SLA deadline                 20
open_long              each other open request submitted more than 7 days ago 10
low_rating             each rating of 1 or 2 stars (overall)                  15
complaint              each complaint                                         10
repeat_complaints      two or more complaints (once)                          15
arrears                overdue bills (any: once)                              10
long_arrears           a bill more than 90 days overdue (once)                10
unanswered_survey      each open household survey reaching the home that no   5
                       one there has answered
=====================  =====================================================  ========

Proactive visits (上门回访, category ``proactive_visit``) are left out of the request
signals: a visit must not raise the score it answers. "Overdue" is billing's definition
(``wuye.billing.selectors.overdue``): an open or partly paid bill past its due date.
Survey reach is the survey's own (``wuye.surveys.services.reached_residencies``): homes
of its audience with someone living there; anonymous surveys cannot tell who answered and
are left out.

Each signal is one grouped query over one community (``GROUP BY house``); the per-house
counts are merged in Python. ``snapshot_community`` replaces that community's rows of the
day in one transaction (houses without a signal get no row); ``snapshot_all`` runs it for
every community (the daily job ``wuye.quality.tasks.snapshot_care_scores``).
"""

import dataclasses
import datetime
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.billing.models import Bill
from wuye.billing.selectors import overdue
from wuye.core.services import require
from wuye.estates.models import Community, House
from wuye.people.selectors import house_residencies
from wuye.quality.models import CareSnapshot, QualitySettings
from wuye.surveys.models import Kind as SurveyKind
from wuye.surveys.models import RespondentUnit, Survey
from wuye.surveys.models import Status as SurveyStatus
from wuye.surveys.services import reached_residencies
from wuye.workorders import services as orders
from wuye.workorders.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Feedback,
    RequestType,
    SlaState,
    WorkOrder,
)

VIEW = "quality.view"
MANAGE = "quality.manage"

WINDOW_DAYS = 90
OPEN_LONG_DAYS = 7  # the labels below name these numbers
LONG_ARREARS_DAYS = 90
REPEAT_COMPLAINTS = 2
CAP = 100
VISIT_CATEGORY = "proactive_visit"


@dataclasses.dataclass(frozen=True)
class Signal:
    code: str
    label: str
    points: int
    once: bool = False  # points once, however many


SIGNALS = {
    s.code: s
    for s in (
        Signal("sla_breached", gettext_lazy("Open request past its SLA deadline"), 20),
        Signal("open_long", gettext_lazy("Request open for more than 7 days"), 10),
        Signal("low_rating", gettext_lazy("Low rating (1–2 stars)"), 15),
        Signal("complaint", gettext_lazy("Complaint"), 10),
        Signal("repeat_complaints", gettext_lazy("Repeated complaints (2 or more)"), 15, once=True),
        Signal("arrears", gettext_lazy("Overdue bills"), 10, once=True),
        Signal("long_arrears", gettext_lazy("A bill more than 90 days overdue"), 10, once=True),
        Signal("unanswered_survey", gettext_lazy("Open survey not answered"), 5),
    )
}


def care_threshold(company_id: int) -> int:
    """The company's flagging threshold (the model default without a settings row)."""
    stored = (
        QualitySettings.objects.filter(company_id=company_id)
        .values_list("care_threshold", flat=True)
        .first()
    )
    return stored or QualitySettings._meta.get_field("care_threshold").default


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- the signals: one grouped query each ------------------------------------------------
def _orders(community_id: int):
    return WorkOrder.objects.filter(community_id=community_id, house__isnull=False).exclude(
        category__code=VISIT_CATEGORY
    )


def _open_requests(community_id: int, *, until: datetime.datetime) -> dict:
    rows = (
        _orders(community_id)
        .filter(status__in=OPEN_STATUSES)
        .values("house_id")
        .annotate(
            sla_breached=Count("id", filter=Q(sla_state=SlaState.BREACHED)),
            open_long=Count(
                "id",
                filter=~Q(sla_state=SlaState.BREACHED)
                & Q(submitted_at__lt=until - datetime.timedelta(days=OPEN_LONG_DAYS)),
            ),
        )
        .filter(Q(sla_breached__gt=0) | Q(open_long__gt=0))
        .order_by()
    )
    return {row.pop("house_id"): row for row in rows}


def _complaints(community_id: int, *, since, until) -> dict:
    rows = (
        _orders(community_id)
        .filter(request_type=RequestType.COMPLAINT, submitted_at__gte=since, submitted_at__lt=until)
        .values("house_id")
        .annotate(complaint=Count("id"))
        .order_by()
    )
    return {
        row["house_id"]: {
            "complaint": row["complaint"],
            "repeat_complaints": int(row["complaint"] >= REPEAT_COMPLAINTS),
        }
        for row in rows
    }


def _low_ratings(community_id: int, *, since, until) -> dict:
    rows = (
        Feedback.objects.filter(
            order__community_id=community_id,
            order__house__isnull=False,
            overall__lte=2,
            created_at__gte=since,
            created_at__lt=until,
        )
        .values("order__house_id")
        .annotate(low_rating=Count("pk"))
        .order_by()
    )
    return {row["order__house_id"]: {"low_rating": row["low_rating"]} for row in rows}


def _arrears(community_id: int, *, day: datetime.date) -> dict:
    long_ago = day - datetime.timedelta(days=LONG_ARREARS_DAYS)
    rows = (
        overdue(Bill.objects.filter(community_id=community_id), day)
        .values("house_id")
        .annotate(arrears=Count("id"), long_arrears=Count("id", filter=Q(due_date__lt=long_ago)))
        .order_by()
    )
    return {
        row["house_id"]: {"arrears": row["arrears"], "long_arrears": row["long_arrears"]}
        for row in rows
    }


def _open_surveys(community: Community):
    return Survey.objects.filter(
        Q(community_id=community.pk) | Q(audience="company", company_id=community.company_id),
        company_id=community.company_id,
        kind=SurveyKind.SURVEY,
        respondent=RespondentUnit.HOUSEHOLD,
        anonymous=False,
        status=SurveyStatus.OPEN,
    )


def _unanswered_surveys(community: Community) -> dict:
    """One query over the community's houses: per house, the open surveys that reach it
    and that it has not answered (a CASE per open survey; a community has a few)."""
    surveys = list(_open_surveys(community).order_by("id"))
    if not surveys:
        return {}
    missing = [
        When(
            Q(id__in=reached_residencies(survey).values("house_id"))
            & ~Q(id__in=survey.responses.filter(house__isnull=False).values("house_id")),
            then=Value(1),
        )
        for survey in surveys
    ]
    total = sum(
        (Case(when, default=Value(0), output_field=IntegerField()) for when in missing),
        start=Value(0),
    )
    rows = (
        House.objects.filter(community_id=community.pk)
        .annotate(unanswered=total)
        .filter(unanswered__gt=0)
        .values_list("id", "unanswered")
        .order_by()
    )
    return {house_id: {"unanswered_survey": n} for house_id, n in rows}


def signal_counts(community: Community, day: datetime.date) -> dict[int, dict[str, int]]:
    """house id → {signal code: count} for the houses of ``community`` with a signal."""
    until = _midnight(day + datetime.timedelta(days=1))
    since = until - datetime.timedelta(days=WINDOW_DAYS)
    merged: dict[int, dict[str, int]] = defaultdict(dict)
    for part in (
        _open_requests(community.pk, until=until),
        _complaints(community.pk, since=since, until=until),
        _low_ratings(community.pk, since=since, until=until),
        _arrears(community.pk, day=day),
        _unanswered_surveys(community),
    ):
        for house_id, counts in part.items():
            merged[house_id].update({code: n for code, n in counts.items() if n})
    return {house_id: counts for house_id, counts in merged.items() if counts}


def score(counts: dict[str, int]) -> tuple[int, list[dict]]:
    """The capped score and the stored reasons of one house's signal counts."""
    reasons = []
    for code, signal in SIGNALS.items():
        n = counts.get(code, 0)
        if n:
            points = signal.points if signal.once else signal.points * n
            reasons.append({"code": code, "count": n, "points": points})
    return min(CAP, sum(r["points"] for r in reasons)), reasons


def reason_label(reason: dict) -> str:
    signal = SIGNALS.get(reason.get("code"))
    return str(signal.label) if signal else str(reason.get("code", ""))


def labelled(reasons) -> list[dict]:
    """Stored reasons with their label, for pages and the API."""
    return [{**r, "label": reason_label(r)} for r in reasons or ()]


# --- snapshots --------------------------------------------------------------------------
@transaction.atomic
def snapshot_community(community: Community, day: datetime.date | None = None) -> int:
    """Replace ``community``'s care scores of ``day`` (today by default); returns the
    rows written. A proactive visit already linked to a house's row that day stays."""
    day = day or timezone.localdate()
    today = CareSnapshot.objects.filter(community=community, day=day)
    visits = dict(today.filter(visit_order__isnull=False).values_list("house_id", "visit_order_id"))
    today.delete()
    rows = []
    for house_id, counts in signal_counts(community, day).items():
        value, reasons = score(counts)
        rows.append(
            CareSnapshot(
                company_id=community.company_id,
                community_id=community.pk,
                house_id=house_id,
                day=day,
                score=value,
                reasons=reasons,
                visit_order_id=visits.get(house_id),
            )
        )
    CareSnapshot.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def snapshot_all(day: datetime.date | None = None) -> int:
    """Today's care scores of every community of every company; rows written."""
    day = day or timezone.localdate()
    return sum(
        snapshot_community(community, day)
        for community in Community.objects.only("id", "company_id").order_by("id")
    )


def recompute(*, actor, community: Community) -> int:
    """Recompute today's scores of one community of the actor's (quality.manage)."""
    require(actor, MANAGE)
    if community.company_id != actor.staff.company_id or community.pk not in actor.community_ids:
        raise PermissionDenied
    return snapshot_community(community)


# --- reads ------------------------------------------------------------------------------
def visible_houses(actor):
    """Houses of the communities where the actor may see care scores."""
    return House.objects.filter(
        actor.staff_q(community="community_id", company="company_id", perm=VIEW)
    )


def latest_day(snapshots) -> datetime.date | None:
    return snapshots.aggregate(day=Max("day"))["day"]


def ranked(actor, *, community_id=None, threshold: int, q: str = ""):
    """The latest day's snapshots at or above ``threshold``, highest first, and that day."""
    snapshots = CareSnapshot.objects.visible_to(actor)
    if community_id:
        snapshots = snapshots.filter(community_id=community_id)
    day = latest_day(snapshots)
    if day is None:
        return snapshots.none(), None
    snapshots = snapshots.filter(day=day, score__gte=threshold)
    if q:
        snapshots = snapshots.filter(house__number__icontains=q)
    return snapshots, day


def trends(house_ids, *, last: datetime.date, days: int = 28) -> dict[int, list[int]]:
    """house id → its daily scores over ``days`` days up to ``last`` (0 without a row)."""
    first = last - datetime.timedelta(days=days - 1)
    found = CareSnapshot.objects.filter(
        house_id__in=list(house_ids), day__gte=first, day__lte=last
    ).values_list("house_id", "day", "score")
    series = {house_id: [0] * days for house_id in house_ids}
    for house_id, day, value in found:
        series[house_id][(day - first).days] = value
    return series


def visit_orders(house_ids) -> dict[int, WorkOrder]:
    """house id → its latest proactive visit order."""
    latest = (
        WorkOrder.objects.filter(house_id__in=list(house_ids), category__code=VISIT_CATEGORY)
        .values("house_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
        .order_by()
    )
    return {o.house_id: o for o in WorkOrder.objects.filter(id__in=list(latest))}


def house_history(house: House, *, days: int = 180):
    """(day, score) of one house, oldest first."""
    first = timezone.localdate() - datetime.timedelta(days=days)
    return list(
        CareSnapshot.objects.filter(house=house, day__gte=first)
        .order_by("day")
        .values_list("day", "score")
    )


def latest_snapshot(house: House) -> CareSnapshot | None:
    return CareSnapshot.objects.filter(house=house).order_by("-day").first()


def house_visits(actor, house: House, *, limit: int = 10):
    """The house's proactive visits, newest first."""
    return (
        WorkOrder.objects.visible_to(actor)
        .filter(house=house, category__code=VISIT_CATEGORY)
        .select_related("assignee")
        .order_by("-id")[:limit]
    )


def explaining_orders(actor, house: House, *, limit: int = 30):
    """The house's requests behind its score: open ones and those of the window
    (proactive visits are listed on their own)."""
    since = timezone.now() - datetime.timedelta(days=WINDOW_DAYS)
    return (
        WorkOrder.objects.visible_to(actor)
        .filter(house=house)
        .exclude(category__code=VISIT_CATEGORY)
        .filter(Q(status__in=OPEN_STATUSES) | Q(submitted_at__gte=since))
        .select_related("category", "feedback")
        .order_by("-id")[:limit]
    )


# --- proactive visits -------------------------------------------------------------------
class VisitAlreadyOpen(ValidationError):
    """A proactive visit to the house is still open; ``order`` is that visit."""

    def __init__(self, order: WorkOrder):
        self.order = order
        super().__init__(
            {
                "house": _("A proactive visit to this house is still open: %(number)s.")
                % {"number": order.number}
            },
            code="visit_open",
        )


def visit_category(company_id: int) -> Category:
    """The company's 上门回访 category; companies created before it was a default get it
    now (``seed_categories`` creates only what is missing)."""
    category = Category.objects.filter(company_id=company_id, code=VISIT_CATEGORY).first()
    if category is None:
        from wuye.estates.models import Company

        orders.seed_categories(company=Company.objects.get(pk=company_id))
        category = Category.objects.get(company_id=company_id, code=VISIT_CATEGORY)
    return category


def _contact(actor, house: House) -> tuple[str, str]:
    """The first current resident with a mobile (owner first); else the address."""
    tie = house_residencies(actor, house=house).active().exclude(resident__mobile="").first()
    if tie is not None:
        return tie.resident.name, tie.resident.mobile
    return house.address[:50], ""


def _description(house: House, snapshot: CareSnapshot | None, note: str) -> str:
    lines = [_("Proactive visit (上门回访) from the household care score.")]
    if snapshot is not None:
        lines.append(
            _("Care score %(score)d on %(day)s:") % {"score": snapshot.score, "day": snapshot.day}
        )
        lines += [f"- {reason_label(r)} × {r['count']} (+{r['points']})" for r in snapshot.reasons]
    if note:
        lines.append(note.strip())
    return "\n".join(lines)[:2000]


@transaction.atomic
def create_proactive_visit(*, actor, house: House, note: str = "") -> WorkOrder:
    """Record a 上门回访 for ``house`` as a service request (``submit_order``) and link it
    on the house's latest care snapshot. Refused while an earlier visit is still open."""
    require(actor, MANAGE)
    if house.company_id != actor.staff.company_id or house.community_id not in actor.community_ids:
        raise PermissionDenied
    if not actor.has_perm("workorders.create"):
        # The engine records requests only for staff who may take them.
        raise PermissionDenied("workorders.create")
    house = (
        House.objects.select_for_update(of=("self",))
        .select_related("community", "building", "unit")
        .get(pk=house.pk)
    )
    still_open = (
        WorkOrder.objects.filter(
            house=house, category__code=VISIT_CATEGORY, status__in=OPEN_STATUSES
        )
        .order_by("-id")
        .first()
    )
    if still_open is not None:
        raise VisitAlreadyOpen(still_open)
    snapshot = latest_snapshot(house)
    name, mobile = _contact(actor, house)
    order = orders.submit_order(
        actor=actor,
        category=visit_category(house.company_id),
        house=house,
        # Nobody called this in: without a resident's mobile it is recorded like a
        # finding of a round (the only channel that needs no call-back number).
        channel=Channel.STAFF if mobile else Channel.INSPECTION,
        description=_description(house, snapshot, note),
        contact_name=name,
        contact_mobile=mobile,
    )
    if snapshot is not None:
        CareSnapshot.objects.filter(pk=snapshot.pk).update(visit_order=order)
    return order
