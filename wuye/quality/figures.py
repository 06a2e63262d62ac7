"""Reading the work-order measures for a scope: whose orders and which days.

``measure_sums(scope, by=…)`` returns the measures of ``wuye.quality.rollups`` summed
over the orders *submitted* in the scope's days, grouped by any of ``GROUPS`` (at most
one of category, channel and root cause at a time: the rollups hold one breakdown per
row). For a
community or the company it reads the rollups: the monthly rows of the whole months
inside the range and the daily rows of the days around them, so a year is 12 monthly
rows per key instead of 365 daily ones. For one person or one team (班组, a trade) it
aggregates the raw orders with the same expressions; a person's year is a few thousand
orders.

Durations come as counts per band (``DURATION_BANDS``), so ``percentile`` estimates a
median or p90 by linear interpolation inside the band where it falls; pages say so.
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from wuye.core.services import require
from wuye.quality.models import (
    DURATION_BANDS,
    MEASURES,
    TIME_MEASURES,
    DailyRollup,
    MonthlyRollup,
    QualitySettings,
    RollupDimension,
)
from wuye.quality.rollups import annotate_orders, order_measures
from wuye.workorders.models import WorkOrder

GROUPS = ("community_id", "request_type", "category_id", "channel", "root_cause", "month")
DIMENSION_OF = {
    "category_id": RollupDimension.CATEGORY,
    "channel": RollupDimension.CHANNEL,
    "root_cause": RollupDimension.ROOT_CAUSE,
}


@dataclasses.dataclass(frozen=True)
class Scope:
    company_id: int
    community_ids: tuple[int, ...] | None  # None: every community of the company
    first: datetime.date
    last: datetime.date
    team_id: int | None = None  # staff.Trade: orders assigned to its members
    person_id: int | None = None  # staff.StaffMember: orders assigned to them

    @property
    def starts_at(self) -> datetime.datetime:
        return _midnight(self.first)

    @property
    def ends_at(self) -> datetime.datetime:
        """Exclusive: midnight after the last day."""
        return _midnight(self.last + datetime.timedelta(days=1))

    @property
    def is_raw(self) -> bool:
        return bool(self.team_id or self.person_id)

    def previous(self) -> "Scope":
        """The same number of days just before, for period-over-period changes."""
        days = (self.last - self.first).days + 1
        return dataclasses.replace(
            self,
            first=self.first - datetime.timedelta(days=days),
            last=self.first - datetime.timedelta(days=1),
        )


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def scope_for(
    actor,
    *,
    first: datetime.date,
    last: datetime.date,
    community=None,
    team=None,
    person=None,
) -> Scope:
    """The actor's scope: one of their communities, or all they may see. A community,
    team or person outside the actor's company or communities is a 404."""
    require(actor, "quality.view")
    if last < first:
        raise PermissionDenied  # forms check the range; a crafted one gets nothing
    company_id = actor.staff.company_id
    if community is not None:
        if community.company_id != company_id or not (
            actor.company_wide or community.id in actor.community_ids
        ):
            raise Http404
        community_ids = (community.id,)
    else:
        community_ids = None if actor.company_wide else tuple(sorted(actor.community_ids))
    if team is not None and team.company_id != company_id:
        raise Http404
    if person is not None:
        if person.company_id != company_id:
            raise Http404
        if not actor.company_wide and not set(
            person.communities.values_list("id", flat=True)
        ) & set(actor.community_ids):
            raise Http404
    return Scope(
        company_id=company_id,
        community_ids=community_ids,
        first=first,
        last=last,
        team_id=team.id if team is not None else None,
        person_id=person.id if person is not None else None,
    )


def _scoped(queryset, scope: Scope):
    queryset = queryset.filter(company_id=scope.company_id)
    if scope.community_ids is not None:
        queryset = queryset.filter(community_id__in=scope.community_ids)
    return queryset


def _whole_months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months = []
    month = first if first.day == 1 else _next_month(first.replace(day=1))
    while _next_month(month) - datetime.timedelta(days=1) <= last:
        months.append(month)
        month = _next_month(month)
    return months


def _edge_days(first: datetime.date, last: datetime.date, months: list[datetime.date]) -> Q:
    """The days of the range outside its whole months, as day ranges an index can
    seek (an empty Q when the whole months cover it all)."""
    if not months:
        return Q(day__gte=first, day__lte=last)
    edges = Q()
    if first < months[0]:
        edges |= Q(day__gte=first, day__lt=months[0])
    if _next_month(months[-1]) <= last:
        edges |= Q(day__gte=_next_month(months[-1]), day__lte=last)
    return edges


def _next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def measure_sums(
    scope: Scope, *, by: tuple[str, ...] = (), now=None, measures: tuple[str, ...] = MEASURES
) -> list[dict]:
    """One dict per group (``by`` keys plus ``measures``, by default every measure),
    summed over the scope. A breakdown that shows a few figures asks for those only:
    each measure is one more SUM over every row read."""
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group by {sorted(unknown)}")
    if scope.is_raw:
        return _raw_sums(scope, by, now=now or timezone.now(), measures=measures)
    broken_down = [name for name in by if name in DIMENSION_OF]
    if len(broken_down) > 1:
        raise ValueError("the rollups break down by one of category, channel or root cause")
    dimension = DIMENSION_OF[broken_down[0]] if broken_down else RollupDimension.NONE
    rows = _rollup_sums(
        scope,
        tuple("value" if name in DIMENSION_OF else name for name in by),
        dimension,
        measures,
    )
    if broken_down:
        name = broken_down[0]
        for row in rows:
            value = row.pop("value")
            row[name] = int(value) if name == "category_id" else value
    return rows


def _rollup_sums(scope: Scope, by: tuple[str, ...], dimension: str, measures) -> list[dict]:
    sums = {name: Sum(name) for name in measures}
    parts = []
    months = _whole_months(scope.first, scope.last)
    if months:
        monthly = _scoped(MonthlyRollup.objects, scope).filter(
            dimension=dimension, month__in=months
        )
        parts.append(_grouped(monthly, by, sums))
    edges = _edge_days(scope.first, scope.last, months)
    if edges:
        daily = _scoped(DailyRollup.objects, scope).filter(edges, dimension=dimension)
        if "month" in by:
            daily = daily.annotate(month=TruncMonth("day"))
        parts.append(_grouped(daily, by, sums))
    merged: dict[tuple, dict] = {}
    for part in parts:
        for row in part:
            row = _no_nulls(row, measures)
            key = tuple(row[name] for name in by)
            if key in merged:
                merged[key] = {**row, **total([merged[key], row], measures)}
            else:
                merged[key] = row
    return list(merged.values())


def orders_of(scope: Scope):
    """The work orders of the scope's company, communities, team and person, whenever
    submitted."""
    orders = _scoped(WorkOrder.objects, scope)
    if scope.person_id:
        orders = orders.filter(assignee_id=scope.person_id)
    if scope.team_id:
        orders = orders.filter(assignee__trades__id=scope.team_id)
    return orders


def _raw_sums(scope: Scope, by, *, now, measures=MEASURES) -> list[dict]:
    orders = orders_of(scope).filter(
        submitted_at__gte=scope.starts_at, submitted_at__lt=scope.ends_at
    )
    orders = annotate_orders(orders)
    if "month" in by:
        orders = orders.annotate(month=TruncMonth("day"))
    wanted = {name: sql for name, sql in order_measures(now=now).items() if name in measures}
    return [_no_nulls(row, measures) for row in _grouped(orders, by, wanted)]


def _grouped(queryset, by, aggregates) -> list[dict]:
    if not by:  # one row, even over no rows (values() without fields would group by all)
        return [queryset.aggregate(**aggregates)]
    return list(queryset.values(*by).annotate(**aggregates).order_by())


def _no_nulls(row: dict, measures=MEASURES) -> dict:
    """An empty scope sums to NULL; figures want zeros."""
    for name in measures:
        if row.get(name) is None:
            row[name] = datetime.timedelta(0) if name in TIME_MEASURES else 0
    return row


def total(rows: list[dict], measures=MEASURES) -> dict:
    """The measures of several groups added up."""
    out = {name: datetime.timedelta(0) if name in TIME_MEASURES else 0 for name in measures}
    for row in rows:
        for name in measures:
            out[name] += row[name]
    return out


# --- figures from sums ---------------------------------------------------------------
def percent(part, whole) -> Decimal | None:
    """part ÷ whole as a percentage with one decimal; None when nothing to divide."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def mean(total_value, count, places: str = "0.01") -> Decimal | None:
    if not count:
        return None
    return (Decimal(total_value) / Decimal(count)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class Duration:
    """An estimated duration; ``open_ended`` when it falls in the last band (at least
    ``minutes``)."""

    minutes: float
    open_ended: bool = False

    @property
    def hours(self) -> float:
        return self.minutes / 60


def percentile(sums: dict, clock: str, q: float) -> Duration | None:
    """The q-quantile (0.5 median, 0.9 p90) of a clock's durations, interpolated inside
    its band; None without stopped clocks."""
    counts = [sums[f"{clock}_b{band}"] for band in range(len(DURATION_BANDS))]
    n = sum(counts)
    if not n:
        return None
    target = q * n
    seen, lower = 0, 0
    for count, upper in zip(counts, DURATION_BANDS, strict=True):
        if count and seen + count >= target:
            if upper is None:
                return Duration(minutes=float(lower), open_ended=True)
            share = (target - seen) / count
            return Duration(minutes=lower + share * (upper - lower))
        seen += count
        lower = upper if upper is not None else lower
    return Duration(minutes=float(lower), open_ended=True)


def mean_duration(sums: dict, clock: str) -> Duration | None:
    n = sums[f"{clock}_n"]
    if not n:
        return None
    return Duration(minutes=sums[f"{clock}_time"].total_seconds() / 60 / n)


def settings_of(company_id: int) -> QualitySettings:
    """The company's quality settings; without a stored row, an unsaved one holding the
    defaults."""
    return QualitySettings.objects.filter(company_id=company_id).first() or QualitySettings(
        company_id=company_id
    )
