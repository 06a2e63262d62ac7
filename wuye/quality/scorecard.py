"""The staff scorecard (员工综合评分): what residents, the SLA, conduct spot checks and
training say about each staff member over a range of days (the last 90 by default).

Every figure comes from one grouped query per component (``GROUP BY`` the member), never
from a query per member:

- *rating* — the resident ratings (``Feedback.overall``, 1–5) given in the range to
  orders the member was the assignee of: how many, and their average. Its score is the
  average ÷ 5 × 100.
- *SLA* — the orders assigned to the member and completed in the range: the response
  clock (accepted by ``response_due``) and the resolution clock (completed by
  ``resolution_due``), each met or missed (the same expressions as the quality
  rollups, ``wuye.quality.rollups.order_measures``). Its score is the clocks met ÷ the
  clocks met or missed × 100.
- *conduct* — the member's spot checks in the range: how many and their average score.
- *training* — the active courses of the company the member has passed a quiz of by the
  end of the range (its score: passed ÷ active courses × 100), and the training
  sessions in the range they attended (shown, not scored).

Orders and spot checks count only in the reader's communities; training is company-wide.

The combined score weighs the four: rating 40 %, SLA 30 %, conduct 20 %, training 10 %
(``WEIGHTS``). A part with nothing to go on (no rating, no order with a deadline, no spot
check, no active course) is left out and the others are re-weighted to add up to 100 %;
a member with no rating, SLA or spot check in the range has no combined score (training
alone does not rank anyone).
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.quality.models import Attendance, Course, QuizAttempt, SpotCheck
from wuye.quality.rollups import order_measures
from wuye.quality.spot_checks import ONE_DECIMAL, day_range, score_of
from wuye.staff.models import StaffMember
from wuye.workorders.models import WorkOrder

DEFAULT_DAYS = 90
# Percent; a missing part's weight is shared out over the others.
WEIGHTS = {"rating": 40, "sla": 30, "conduct": 20, "training": 10}
PART_LABELS = {
    "rating": _("Resident rating"),
    "sla": _("SLA"),
    "conduct": _("Conduct spot checks"),
    "training": _("Training"),
}
SLA_MEASURES = ("response_met", "response_missed", "resolution_met", "resolution_missed")
Sort = Literal["combined", "-combined", "name"]


@dataclasses.dataclass
class Scorecard:
    member: StaffMember
    rated: int = 0
    rating_average: Decimal | None = None
    response_met: int = 0
    response_missed: int = 0
    resolution_met: int = 0
    resolution_missed: int = 0
    spot_checks: int = 0
    conduct_average: Decimal | None = None
    courses_passed: int = 0
    courses_active: int = 0
    sessions_attended: int = 0
    sessions_listed: int = 0

    @property
    def response_rate(self) -> Decimal | None:
        return score_of(self.response_met, self.response_met + self.response_missed)

    @property
    def resolution_rate(self) -> Decimal | None:
        return score_of(self.resolution_met, self.resolution_met + self.resolution_missed)

    @property
    def parts(self) -> dict[str, Decimal | None]:
        """Each part's score (0–100), None when there is nothing to go on."""
        met = self.response_met + self.resolution_met
        due = met + self.response_missed + self.resolution_missed
        return {
            "rating": None
            if self.rating_average is None
            else (self.rating_average * 20).quantize(ONE_DECIMAL, ROUND_HALF_UP),
            "sla": score_of(met, due),
            "conduct": self.conduct_average,
            "training": score_of(self.courses_passed, self.courses_active),
        }

    @property
    def combined(self) -> Decimal | None:
        present = {name: score for name, score in self.parts.items() if score is not None}
        if set(present) <= {"training"}:
            return None
        weight = sum(WEIGHTS[name] for name in present)
        if not weight:
            return None
        total = sum(WEIGHTS[name] * score for name, score in present.items())
        return (total / weight).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def default_range() -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    return today - datetime.timedelta(days=DEFAULT_DAYS - 1), today


def scorecard_members(actor, *, community=None, query: str = ""):
    """Active staff of the actor's communities (all of the company's when company-wide),
    of one community and matching a name or username when given."""
    if not actor.staff or not actor.has_perm("quality.view"):
        return StaffMember.objects.none()
    members = StaffMember.objects.filter(company_id=actor.staff.company_id, is_active=True)
    if community is not None:
        members = members.filter(communities=community)
    if not actor.company_wide:
        members = members.filter(
            pk__in=StaffMember.communities.through.objects.filter(
                community_id__in=sorted(actor.community_ids)
            ).values("staffmember_id")
        )
    query = query.strip()
    if query:
        members = members.filter(Q(name__icontains=query) | Q(user__username__icontains=query))
    return members.order_by("name", "id")


def scorecards(
    actor, members, first: datetime.date, last: datetime.date, *, community=None, sort=""
) -> list[Scorecard]:
    """One ``Scorecard`` per member of ``members`` (a queryset from
    ``scorecard_members``) for the local days ``first``–``last``; six grouped queries
    whatever the number of members. ``community`` narrows the orders and checks."""
    starts, ends = day_range(first, last)
    cards = {member.pk: Scorecard(member=member) for member in members}
    if not cards:
        return []
    ids = members.values("pk")

    orders = WorkOrder.objects.filter(
        actor.staff_q(community="community_id", company="company_id", perm="quality.view"),
        assignee_id__in=ids,
    )
    if community is not None:
        orders = orders.filter(community=community)
    measures = order_measures(now=timezone.now())
    rated = (
        orders.filter(feedback__created_at__gte=starts, feedback__created_at__lt=ends)
        .values("assignee_id")
        .annotate(rated=measures["rated"], rating_average=Avg("feedback__overall"))
    )
    for row in rated:
        card = cards[row["assignee_id"]]
        card.rated = row["rated"]
        card.rating_average = Decimal(row["rating_average"]).quantize(Decimal("0.01"))
    completed = (
        orders.filter(completed_at__gte=starts, completed_at__lt=ends)
        .values("assignee_id")
        .annotate(**{name: measures[name] for name in SLA_MEASURES})
    )
    for row in completed:
        card = cards[row["assignee_id"]]
        for name in SLA_MEASURES:
            setattr(card, name, row[name])

    checks = SpotCheck.objects.visible_to(actor).filter(
        subject_id__in=ids, checked_at__gte=starts, checked_at__lt=ends
    )
    if community is not None:
        checks = checks.filter(community=community)
    for row in checks.values("subject_id").annotate(n=Count("id"), average=Avg("score")):
        card = cards[row["subject_id"]]
        card.spot_checks = row["n"]
        card.conduct_average = Decimal(row["average"]).quantize(ONE_DECIMAL, ROUND_HALF_UP)

    company_id = actor.staff.company_id
    active = Course.objects.filter(company_id=company_id, is_active=True)
    courses_active = active.count()
    passed = (
        QuizAttempt.objects.filter(
            company_id=company_id,
            staff_id__in=ids,
            passed=True,
            submitted_at__lt=ends,
            course__in=active,
        )
        .values("staff_id")
        .annotate(n=Count("course_id", distinct=True))
    )
    for card in cards.values():
        card.courses_active = courses_active
    for row in passed:
        cards[row["staff_id"]].courses_passed = row["n"]
    attended = (
        Attendance.objects.filter(
            staff_id__in=ids,
            session__company_id=company_id,
            session__starts_at__gte=starts,
            session__starts_at__lt=ends,
        )
        .values("staff_id")
        .annotate(listed=Count("id"), present=Count("id", filter=Q(present=True)))
    )
    for row in attended:
        card = cards[row["staff_id"]]
        card.sessions_listed = row["listed"]
        card.sessions_attended = row["present"]
    return sort_cards(list(cards.values()), sort)


def sort_cards(cards: list[Scorecard], sort: str) -> list[Scorecard]:
    """By combined score, highest first (``combined``, the default) or lowest first
    (``-combined``), members without one last; or by name."""
    if sort == "name":
        return cards
    low_first = sort == "-combined"

    def key(card):
        score = card.combined
        if score is None:
            return (1, 0, card.member.name)
        return (0, score if low_first else -score, card.member.name)

    return sorted(cards, key=key)
