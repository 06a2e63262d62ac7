"""Plans and their tasks: recurrence, roster-aware assignment and generation ahead.

``generate_tasks`` is what the scheduler runs: it reads the active plans, the roster
of their communities and the trade teams once, decides each plan's dates in Python,
and writes the tasks with one bulk insert that skips (plan, date) pairs already there,
so running it twice or late changes nothing.
"""

import calendar
import dataclasses
import datetime
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.services import full_clean, require
from wuye.facilities.models import Asset, Plan, PlanStop, Task, Visit
from wuye.staff.models import RosterEntry, StaffMember

DAY = datetime.timedelta(days=1)


# --- recurrence -------------------------------------------------------------------------
def occurs_on(plan: Plan, day: datetime.date, *, last_done: datetime.date | None = None) -> bool:
    """Whether ``plan`` has a task on ``day``. Every-N-days plans counted from the last
    completion start again from the day of that completion (``last_done``)."""
    if day < plan.starts_on or (plan.ends_on and day > plan.ends_on):
        return False
    kind = plan.recurrence
    if kind == Plan.Recurrence.DAILY:
        return True
    if kind == Plan.Recurrence.WEEKDAYS:
        return day.isoweekday() <= 5
    if kind == Plan.Recurrence.WEEKLY:
        return day.isoweekday() in plan.days
    if kind == Plan.Recurrence.MONTHLY:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day in plan.days or (day.day == last and any(d > last for d in plan.days))
    origin = plan.starts_on
    if plan.anchor == Plan.Anchor.COMPLETION and last_done is not None:
        origin = last_done
        if day <= origin:
            return False
    return (day - origin).days % plan.interval_days == 0


# --- who is on shift --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Shift:
    staff_id: int
    date: datetime.date
    start: datetime.time
    end: datetime.time

    def covers(self, day: datetime.date, moment: datetime.time) -> bool:
        overnight = self.end <= self.start
        if self.date == day:
            return self.start <= moment and (overnight or moment < self.end)
        return overnight and self.date == day - DAY and moment < self.end


class Roster:
    """The roster of some communities over some dates, read with one query."""

    def __init__(self, community_ids, start: datetime.date, end: datetime.date):
        self._by_community: dict[int, list[_Shift]] = defaultdict(list)
        entries = RosterEntry.objects.filter(
            community_id__in=sorted(community_ids),
            date__range=(start - DAY, end),
            staff__is_active=True,
        ).values_list("community_id", "staff_id", "date", "shift__start_time", "shift__end_time")
        for community_id, staff_id, day, begins, ends in entries:
            self._by_community[community_id].append(_Shift(staff_id, day, begins, ends))

    def on_shift(self, community_id: int, day: datetime.date, moment: datetime.time) -> set[int]:
        return {s.staff_id for s in self._by_community[community_id] if s.covers(day, moment)}


def _trade_members(trade_ids) -> dict[int, set[int]]:
    members: dict[int, set[int]] = defaultdict(set)
    links = StaffMember.trades.through.objects.filter(trade_id__in=sorted(trade_ids))
    for trade_id, staff_id in links.values_list("trade_id", "staffmember_id"):
        members[trade_id].add(staff_id)
    return members


# --- generation -------------------------------------------------------------------------
def _local(day: datetime.date, moment: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, moment))


def generate_tasks(*, start: datetime.date | None = None, days: int = 2) -> int:
    """Create the tasks of every active plan for ``days`` dates from ``start`` (today by
    default). The assignee works if rostered at the window's opening; otherwise an
    on-shift member of the plan's team (the one given fewest tasks so far in this run),
    else nobody (the supervisor sees an unassigned task). Returns how many were new."""
    start = start or timezone.localdate()
    end = start + (days - 1) * DAY
    plans = list(
        Plan.objects.filter(is_active=True, starts_on__lte=end).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=start)
        )
    )
    if not plans:
        return 0
    plans.sort(key=lambda p: p.assignee_id is None)  # named people first, then team shares
    roster = Roster({p.community_id for p in plans}, start, end)
    teams = _trade_members({p.trade_id for p in plans if p.trade_id})
    last_done = dict(
        Task.objects.filter(
            plan__in=[p.pk for p in plans if p.anchor == Plan.Anchor.COMPLETION],
            status=Task.Status.DONE,
        )
        .values("plan")
        .annotate(last=Max("date"))
        .values_list("plan", "last")
    )
    given: dict[tuple[int, datetime.date], int] = defaultdict(int)
    tasks = []
    for plan in plans:
        for offset in range(days):
            day = start + offset * DAY
            if not occurs_on(plan, day, last_done=last_done.get(plan.pk)):
                continue
            working = roster.on_shift(plan.community_id, day, plan.window_start)
            assignee = _choose(plan, working, teams, given, day)
            tasks.append(
                Task(
                    company_id=plan.company_id,
                    community_id=plan.community_id,
                    plan=plan,
                    kind=plan.kind,
                    date=day,
                    opens_at=_local(day, plan.window_start),
                    closes_at=_local(day, plan.window_end),
                    assignee_id=assignee,
                )
            )
    before = Task.objects.filter(date__range=(start, end)).count()
    Task.objects.bulk_create(tasks, batch_size=2000, ignore_conflicts=True)
    return Task.objects.filter(date__range=(start, end)).count() - before


def _choose(plan, working: set[int], teams, given, day) -> int | None:
    if plan.assignee_id and plan.assignee_id in working:
        chosen = plan.assignee_id
    else:
        team = working & teams.get(plan.trade_id, set()) if plan.trade_id else set()
        if not team:
            return None
        chosen = min(team, key=lambda staff_id: (given[(staff_id, day)], staff_id))
    given[(chosen, day)] += 1
    return chosen


# --- writing plans ----------------------------------------------------------------------
def _require_community(actor, community) -> None:
    require(actor, "facilities.manage")
    if community.id not in actor.community_ids:
        raise PermissionDenied


def _check_links(community, template, fields: dict) -> None:
    """The checklist, assignee and team must be the community's company's (and the
    assignee work in the community)."""
    if template.company_id != community.company_id or not template.is_active:
        raise ValidationError({"template": _("Choose an active checklist of this company.")})
    assignee = fields.get("assignee")
    if assignee is not None and (
        assignee.company_id != community.company_id
        or not assignee.communities.filter(pk=community.pk).exists()
    ):
        raise ValidationError({"assignee": _("This staff member does not work in this community.")})
    trade = fields.get("trade")
    if trade is not None and trade.company_id != community.company_id:
        raise ValidationError({"trade": _("Choose a trade of this company.")})


@transaction.atomic
def create_plan(*, actor, community, template, name: str, **fields) -> Plan:
    _require_community(actor, community)
    _check_links(community, template, fields)
    plan = Plan(
        company_id=community.company_id,
        community=community,
        template=template,
        kind=fields.pop("kind", template.kind),
        name=(name or "").strip(),
        **fields,
    )
    full_clean(plan)
    plan.save()
    return plan


# --- console: editing plans, their stops, previews ---------------------------------------
PLAN_FIELDS = (
    "name",
    "template",
    "recurrence",
    "days",
    "interval_days",
    "anchor",
    "window_start",
    "window_end",
    "assignee",
    "trade",
    "requires_acceptance",
    "starts_on",
    "ends_on",
)
PREVIEW_DATES = 14
PREVIEW_HORIZON = 800  # days searched ahead: a plan on the 31st of the month still finds 14
ROSTER_DAYS = 14  # how far ahead the staffing check reads the roster


@transaction.atomic
def update_plan(*, actor, plan: Plan, **fields) -> Plan:
    """Change a plan's checklist, timing or staff; tasks already generated keep theirs.
    The plan's kind follows its checklist."""
    _require_community(actor, plan.community)
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    locked = (
        Plan.objects.select_for_update().select_related("template", "community").get(pk=plan.pk)
    )
    _check_links(locked.community, fields.get("template", locked.template), fields)
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.kind = locked.template.kind
    full_clean(locked)
    locked.save()
    return locked


@transaction.atomic
def set_plan_active(*, actor, plan: Plan, active: bool) -> Plan:
    """Deactivated plans generate no more tasks; their generated tasks stay."""
    _require_community(actor, plan.community)
    Plan.objects.filter(pk=plan.pk).update(is_active=active)
    plan.is_active = active
    return plan


@transaction.atomic
def set_stops(*, actor, plan: Plan, targets: list) -> list[PlanStop]:
    """Make ``targets`` (assets and checkpoints of the plan's community, in walking
    order) the plan's stops. Stops kept keep their rows (visits point at them); a stop
    with check-ins on record cannot be dropped."""
    _require_community(actor, plan.community)
    Plan.objects.select_for_update().get(pk=plan.pk)
    keys = []
    for target in targets:
        if target.community_id != plan.community_id:
            raise ValidationError(
                {
                    "stops": _("%(place)s is not in %(community)s.")
                    % {"place": target, "community": plan.community}
                }
            )
        key = (target.pk, None) if isinstance(target, Asset) else (None, target.pk)
        if key in keys:
            raise ValidationError({"stops": _("%(place)s is listed twice.") % {"place": target}})
        keys.append(key)
    current = {(s.asset_id, s.checkpoint_id): s for s in plan.stops.all()}
    for key, target in zip(keys, targets, strict=True):
        retired = target.status == Asset.Status.SCRAPPED if key[0] else not target.is_active
        if key not in current and retired:
            raise ValidationError({"stops": _("%(place)s is out of use.") % {"place": target}})
    dropped = [stop for key, stop in current.items() if key not in keys]
    visited = set(Visit.objects.filter(stop__in=dropped).values_list("stop_id", flat=True))
    if visited:
        names = "、".join(str(s) for s in dropped if s.pk in visited)
        raise ValidationError(
            {
                "stops": _("%(places)s have check-ins on record and stay on the plan.")
                % {"places": names}
            }
        )
    PlanStop.objects.filter(pk__in=[s.pk for s in dropped]).delete()
    stops = []
    for position, (asset_id, checkpoint_id) in enumerate(keys, start=1):
        stop = current.get((asset_id, checkpoint_id)) or PlanStop(
            plan=plan, asset_id=asset_id, checkpoint_id=checkpoint_id
        )
        stop.position = position
        stop.save()
        stops.append(stop)
    return stops


def last_completion(plan: Plan) -> datetime.date | None:
    return Task.objects.filter(plan=plan, status=Task.Status.DONE).aggregate(last=Max("date"))[
        "last"
    ]


def next_dates(plan: Plan, *, start: datetime.date, count: int = PREVIEW_DATES) -> list:
    """The next ``count`` dates from ``start`` the plan has a task on (a preview: plans
    counted from the last completion assume it stays the last)."""
    last_done = last_completion(plan) if plan.anchor == Plan.Anchor.COMPLETION else None
    found = []
    for offset in range(PREVIEW_HORIZON):
        day = start + offset * DAY
        if plan.ends_on and day > plan.ends_on:
            break
        if occurs_on(plan, day, last_done=last_done):
            found.append(day)
            if len(found) == count:
                break
    return found


@dataclasses.dataclass(frozen=True)
class Staffing:
    """Who can do a plan's next tasks, read from the roster as ``generate_tasks`` will."""

    checked: list  # the plan's dates within the roster horizon
    unstaffed: list  # of those, the dates nobody eligible is on shift at the window's opening
    assignee_works_here: bool | None  # None: the plan names nobody
    team_size: int | None  # active members of the team in the community; None: no team

    @property
    def nobody(self) -> bool:
        """No one could ever be given the tasks."""
        return not self.assignee_works_here and not self.team_size


def staffing(plan: Plan, *, start: datetime.date) -> Staffing:
    end = start + (ROSTER_DAYS - 1) * DAY
    dates = [d for d in next_dates(plan, start=start, count=ROSTER_DAYS) if d <= end]
    assignee_here = None
    if plan.assignee_id:
        assignee_here = StaffMember.objects.filter(
            pk=plan.assignee_id, is_active=True, communities=plan.community_id
        ).exists()
    team_size = None
    if plan.trade_id:
        team_size = StaffMember.objects.filter(
            trades=plan.trade_id, communities=plan.community_id, is_active=True
        ).count()
    unstaffed = []
    if dates:
        roster = Roster({plan.community_id}, dates[0], dates[-1])
        teams = _trade_members({plan.trade_id} if plan.trade_id else set())
        for day in dates:
            working = roster.on_shift(plan.community_id, day, plan.window_start)
            if _choose(plan, working, teams, defaultdict(int), day) is None:
                unstaffed.append(day)
    return Staffing(dates, unstaffed, assignee_here, team_size)
