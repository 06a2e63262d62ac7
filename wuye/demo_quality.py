"""The quality part of the demo: a year of service history, then what the quality
officer and the managers would have made of it.

- History: about 3,300 closed work orders of the past year (from 365 to 15 days ago, so
  they never meet the live stories of the last two weeks) in the three 安居 estates,
  written in bulk with their submitted and closed events, ratings and complaint facts —
  the replay through the services is kept for the stories that matter. 锦绣苑 gets slower
  over the last two months (responses and repairs take longer, ratings drop, complaints
  about delays rise): the dashboard's "getting worse" signal has something to show.
- Then the rollups are rebuilt, today's care scores taken, a conduct spot check of a
  guard and a cleaner recorded, the 物业服务意识 course given two days ago with attendance
  and quiz results, and last month's service report of 翠湖花园 generated.
"""

import datetime
import random

from django.utils import timezone

from wuye.accounts.actor import Actor
from wuye.estates.models import House
from wuye.workorders.models import (
    Category,
    Channel,
    CloseReason,
    Complaint,
    ComplaintParty,
    DispatchMode,
    EventType,
    Feedback,
    RequestType,
    RootCause,
    Status,
    Urgency,
    WorkOrder,
    WorkOrderEvent,
)

# Orders per month and estate; the share of each type.
MONTHLY = {"cuihu": 150, "jinxiu": 80, "qianjiang": 40}
TYPES = (
    (RequestType.REPAIR, 70),
    (RequestType.INQUIRY, 12),
    (RequestType.COMPLAINT, 6),
    (RequestType.SUGGESTION, 7),
    (RequestType.PRAISE, 5),
)
CHANNELS = (
    (Channel.RESIDENT_H5, 40),
    (Channel.PHONE, 35),
    (Channel.WALK_IN, 10),
    (Channel.API, 10),
    (Channel.STAFF, 5),
)
RATINGS = ((5, 55), (4, 25), (3, 10), (2, 6), (1, 4))
CAUSES = [c for c in RootCause.values if c != RootCause.UNFOUNDED]
WORSE_DAYS = 60  # 锦绣苑's last two months


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _skewed(rng, low, high, power):
    """Minutes between low and high, most near low (a long tail, as real durations)."""
    return low + (high - low) * rng.random() ** power


class QualityDemo:
    def __init__(self, rng: random.Random, today: datetime.date, communities, staff):
        self.rng, self.today = rng, today
        self.communities = communities
        self.staff = staff
        self.now = timezone.now().replace(second=0, microsecond=0)

    def member(self, username):
        return next(m for m, p in self.staff if p[0] == username)

    def members(self, role, community):
        return [m for m, p in self.staff if p[1] == role and community in p[2]]

    def build(self) -> None:
        from wuye.quality import rollups

        self.history()
        rollups.rebuild()
        self.care_scores()
        self.spot_checks()
        self.training()
        self.monthly_report()

    # --- a year of history --------------------------------------------------------------
    def history(self) -> None:
        orders, extras = [], []
        for code, per_month in MONTHLY.items():
            community = self.communities[code]
            houses = list(
                House.objects.filter(community=community)
                .exclude(kind__in=(House.Kind.PARKING, House.Kind.STORAGE))
                .values_list("id", flat=True)
            )
            technicians = self.members("technician", community) or self.members(
                "technician", self.communities["cuihu"]
            )
            desk = (self.members("dispatcher", community) or [self.member("dispatcher")])[0]
            categories = {}
            for category in Category.objects.filter(
                company=community.company, parent__isnull=False, is_active=True
            ):
                categories.setdefault(category.request_type, []).append(category)
            for _ in range(per_month * 12):
                order, extra = self.history_order(
                    community, houses, technicians, desk, categories, worse=code == "jinxiu"
                )
                order.number = f"history-{len(orders)}"  # the real one needs the id
                orders.append(order)
                extras.append(extra)
        WorkOrder.objects.bulk_create(orders, batch_size=500)
        for order in orders:
            local = timezone.localtime(order.submitted_at)
            order.number = f"{local:%Y%m%d}{order.pk:06d}"
        WorkOrder.objects.bulk_update(orders, ["number"], batch_size=500)
        events, feedback, complaints = [], [], []
        for order, (rating, complaint) in zip(orders, extras, strict=True):
            events.append(
                WorkOrderEvent(
                    order=order,
                    type=EventType.SUBMITTED,
                    actor=order.created_by,
                    to_status=Status.SUBMITTED,
                    created_at=order.submitted_at,
                )
            )
            if order.completed_at:
                events.append(
                    WorkOrderEvent(
                        order=order,
                        type=EventType.COMPLETED,
                        actor=order.assignee.user if order.assignee else None,
                        from_status=Status.IN_PROGRESS,
                        to_status=Status.COMPLETED,
                        created_at=order.completed_at,
                    )
                )
            events.append(
                WorkOrderEvent(
                    order=order,
                    type=EventType.CANCELLED
                    if order.status == Status.CANCELLED
                    else EventType.CLOSED,
                    to_status=order.status,
                    created_at=order.closed_at,
                )
            )
            if rating:
                feedback.append(
                    Feedback(
                        order=order,
                        created_at=order.completed_at + datetime.timedelta(hours=3),
                        **rating,
                    )
                )
            if complaint:
                complaints.append(Complaint(order=order, **complaint))
        WorkOrderEvent.objects.bulk_create(events, batch_size=500)
        Feedback.objects.bulk_create(feedback, batch_size=500)
        Complaint.objects.bulk_create(complaints, batch_size=500)

    def history_order(self, community, houses, technicians, desk, categories, *, worse):
        rng = self.rng
        days_ago = rng.uniform(15, 365)
        submitted = self.now - datetime.timedelta(days=days_ago)
        local_hour = timezone.localtime(submitted).hour
        if local_hour < 7:  # people call in the day
            submitted += datetime.timedelta(hours=9)
        slow = 3 if worse and days_ago < WORSE_DAYS else 1
        request_type = _pick(rng, TYPES)
        if slow > 1 and rng.random() < 0.06:
            request_type = RequestType.COMPLAINT  # delays breed complaints
        category = rng.choice(categories[request_type])
        accepted = submitted + datetime.timedelta(minutes=_skewed(rng, 2, 90 * slow, 3))
        arrived = accepted + datetime.timedelta(minutes=_skewed(rng, 15, 300 * slow, 2))
        completed = arrived + datetime.timedelta(minutes=_skewed(rng, 20, 1800 * slow, 3))
        cancelled = rng.random() < 0.05
        assignee = rng.choice(technicians) if technicians else None
        order = WorkOrder(
            company=community.company,
            community=community,
            house_id=rng.choice(houses),
            request_type=request_type,
            category=category,
            dispatch_mode=DispatchMode.ASSIGN,
            channel=_pick(rng, CHANNELS),
            urgency=Urgency.NORMAL,
            description=category.name,
            contact_name="业主",
            created_by=desk.user,
            status=Status.CANCELLED if cancelled else Status.CLOSED,
            assignee=None if cancelled else assignee,
            submitted_at=submitted,
            accepted_at=accepted,
            dispatched_at=None if cancelled else accepted,
            taken_at=None if cancelled else accepted,
            arrived_at=None if cancelled else arrived,
            completed_at=None if cancelled else completed,
            closed_at=accepted if cancelled else completed + datetime.timedelta(days=2),
            close_reason="" if cancelled else CloseReason.NOT_RATED,
            reopen_count=1 if not cancelled and rng.random() < 0.03 * slow else 0,
            response_due=submitted + datetime.timedelta(minutes=30),
            arrival_due=submitted + datetime.timedelta(hours=4),
            resolution_due=submitted + datetime.timedelta(hours=24),
        )
        rating = None
        if not cancelled and rng.random() < 0.35:
            overall = _pick(rng, RATINGS)
            if slow > 1:
                overall = max(1, overall - rng.choice((0, 1, 2)))
            order.close_reason = CloseReason.RATED
            rating = {"overall": overall} | {
                name: max(1, min(5, overall + rng.choice((-1, 0, 0, 1))))
                for name in Feedback.DIMENSIONS
            }
        complaint = None
        if request_type == RequestType.COMPLAINT:
            cause = RootCause.DELAY if slow > 1 and rng.random() < 0.6 else rng.choice(CAUSES)
            complaint = {
                "party_kind": rng.choice(
                    [ComplaintParty.DEPARTMENT, ComplaintParty.NEIGHBOUR, ComplaintParty.OTHER]
                ),
                "root_cause": cause if rng.random() < 0.9 else "",
            }
        return order, (rating, complaint)

    # --- what the quality team made of it -----------------------------------------------
    def care_scores(self) -> None:
        from wuye.quality.care import snapshot_all

        snapshot_all()

    def spot_checks(self) -> None:
        """The quality officer's rounds in 翠湖花园: the guard at the gate missed two
        lines (no badge, no greeting), the cleaner kept every one."""
        from wuye.quality.models import ConductItem
        from wuye.quality.spot_checks import checklist_marks, record_spot_check

        cuihu = self.communities["cuihu"]
        officer = Actor(self.member("quality").user)
        items = dict(ConductItem.objects.filter(company=cuihu.company).values_list("text", "pk"))
        failed = {
            items["工作服整洁规范,佩戴工作证"]: "未佩戴工作证",
            items["主动问候、致谢、道歉,使用敬语"]: "业主进门时未主动问候",
        }
        for username, place, misses in (
            ("guard", "南门岗亭", failed),
            ("cleaner", "3栋大堂", {}),
        ):
            record_spot_check(
                actor=officer,
                community=cuihu,
                subject=self.member(username),
                marks=checklist_marks(cuihu.company_id, misses),
                place=place,
            )

    def training(self) -> None:
        from wuye.quality import training
        from wuye.quality.models import Course

        cuihu = self.communities["cuihu"]
        manager = Actor(self.member("manager").user)
        course = Course.objects.get(company=cuihu.company, code="service-awareness")
        people = [
            m
            for m, p in self.staff
            if cuihu in p[2] and p[1] in ("technician", "guard", "cleaner", "gardener")
        ][:8]
        scores = (10, 8, 7, 9, 5)
        starts_at = self.now - datetime.timedelta(days=2)
        starts_at = starts_at.replace(hour=6, minute=30)  # 14:30 Beijing time
        training.record_past_session(
            actor=manager,
            course=course,
            community=cuihu,
            starts_at=starts_at,
            place="物业中心二楼会议室",
            staff=people,
            present=people[:6],
            right_answers=dict(zip(people, scores, strict=False)),
        )

    def monthly_report(self) -> None:
        """Last month's service report of 翠湖花园, as the scheduler would have made it."""
        from wuye.billing.money import add_months
        from wuye.quality.reports import generate_report

        month = add_months(self.today.replace(day=1), -1)
        generate_report(
            actor=Actor(self.member("manager").user),
            community=self.communities["cuihu"],
            month=month,
        )
