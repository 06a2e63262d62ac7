"""Daily and monthly rollups of work orders, the dashboard's source at scale.

A ``DailyRollup`` row sums the orders *submitted* on one local day, per community and
request type, either in total or broken down by one dimension (category, channel or
complaint root cause; ``RollupDimension``): how many were
created, completed, cancelled, reopened, fixed first time, rated (and how well, per
quality dimension), how each SLA clock went (met, missed, how long, in which duration
band). Everything that later happens to an order is attributed to its submission day,
so a day's row changes as its orders move on; ``MonthlyRollup`` sums the days.

Both are written by the database (``INSERT … SELECT … GROUP BY``), never by looping
over orders in Python, and the same expressions (``order_measures``) aggregate raw
orders where a rollup cannot serve (one person's or one team's figures).

Refresh (``refresh``, every 10 minutes from the scheduler): the (community, day) pairs
whose orders had an event since the last run, minus a 10-minute overlap for
transactions that committed late, are recomputed from the orders, then their months
from the days. The first run, or ``rebuild``, recomputes everything.
"""

import dataclasses
import datetime

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from wuye.quality.models import (
    CLOCKS,
    DURATION_BANDS,
    MEASURES,
    RATED_DIMENSIONS,
    DailyRollup,
    MonthlyRollup,
    RollupDimension,
    RollupState,
)
from wuye.workorders.models import OPEN_STATUSES, RequestType, Status, WorkOrder, WorkOrderEvent

OVERLAP = datetime.timedelta(minutes=10)
# A complaint is a repeat when the same house complained in the 90 days before.
REPEAT_WINDOW = datetime.timedelta(days=90)
# Which timestamp stops each clock, and which column holds its deadline.
CLOCK_STOP = {"response": "accepted_at", "arrival": "arrived_at", "resolution": "completed_at"}
CLOCK_DUE = {"response": "response_due", "arrival": "arrival_due", "resolution": "resolution_due"}
KEYS = ("company_id", "community_id", "request_type", "dimension", "value")
# Each dimension's value, as the text the ``value`` column holds.
DIMENSION_VALUES = {
    RollupDimension.NONE: Value(""),
    RollupDimension.CATEGORY: Cast("category_id", CharField()),
    RollupDimension.CHANNEL: F("channel"),
    RollupDimension.ROOT_CAUSE: F("root_cause"),
}
ZERO = datetime.timedelta(0)


def order_measures(*, now: datetime.datetime) -> dict:
    """The aggregate expressions of every measure, over ``WorkOrder`` rows annotated by
    ``annotate_orders``. ``now`` decides which open orders have missed a deadline."""
    measures = {
        "created": Count("id"),
        "completed": Count("id", filter=Q(completed_at__isnull=False)),
        "cancelled": Count("id", filter=Q(status__in=(Status.CANCELLED, Status.REJECTED))),
        "reopened": Count("id", filter=Q(reopen_count__gt=0)),
        "first_time_fixed": Count("id", filter=Q(completed_at__isnull=False, reopen_count=0)),
        "rated": Count("feedback__overall"),
        "rating_sum": Coalesce(Sum("feedback__overall"), 0),
        "rated_good": Count("id", filter=Q(feedback__overall__gte=4)),
        "rated_low": Count("id", filter=Q(feedback__overall__lte=2)),
        "repeat_complaints": Count("id", filter=Q(is_repeat_complaint=True)),
    }
    for dim in RATED_DIMENSIONS:
        measures[f"{dim}_sum"] = Coalesce(Sum(f"feedback__{dim}"), 0)
        measures[f"{dim}_n"] = Count(f"feedback__{dim}")
    for clock in CLOCKS:
        stop, due = CLOCK_STOP[clock], CLOCK_DUE[clock]
        stopped = Q(**{f"{stop}__isnull": False})
        measures[f"{clock}_met"] = Count(
            "id", filter=stopped & Q(**{f"{due}__isnull": False, f"{stop}__lte": F(due)})
        )
        measures[f"{clock}_missed"] = Count(
            "id",
            filter=Q(**{f"{due}__isnull": False})
            & (
                Q(**{f"{stop}__gt": F(due)})
                | Q(**{f"{stop}__isnull": True, f"{due}__lt": now, "status__in": OPEN_STATUSES})
            ),
        )
        measures[f"{clock}_n"] = Count(stop)
        measures[f"{clock}_time"] = Coalesce(
            Sum(ExpressionWrapper(F(stop) - F("submitted_at"), output_field=DurationField())),
            Value(ZERO),
            output_field=DurationField(),
        )
        lower = 0
        for band, upper in enumerate(DURATION_BANDS):
            in_band = stopped
            if lower:
                in_band &= Q(**{f"{stop}__gt": F("submitted_at") + _minutes(lower)})
            if upper is not None:
                in_band &= Q(**{f"{stop}__lte": F("submitted_at") + _minutes(upper)})
            measures[f"{clock}_b{band}"] = Count("id", filter=in_band)
            lower = upper
    assert set(measures) == set(MEASURES)
    return measures


def _minutes(value: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=value)


def annotate_orders(queryset):
    """What the measures and keys read besides the order's own columns."""
    earlier_complaint = WorkOrder.objects.filter(
        house_id=OuterRef("house_id"),
        request_type=RequestType.COMPLAINT,
        submitted_at__lt=OuterRef("submitted_at"),
        submitted_at__gte=OuterRef("submitted_at") - REPEAT_WINDOW,
    )
    return queryset.annotate(
        root_cause=Coalesce("complaint__root_cause", Value("")),
        # Only complaints look for an earlier one (a subquery per complaint, not per order).
        is_repeat_complaint=Case(
            When(request_type=RequestType.COMPLAINT, then=Exists(earlier_complaint)),
            default=Value(False),
        ),
        day=TruncDate("submitted_at"),
    )


def _insert_from(model, queryset, columns) -> int:
    """``INSERT INTO model (columns) SELECT columns FROM (queryset)``: the database
    computes and writes the rows; Python never sees them."""
    sql, params = queryset.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    source = ", ".join(quote(name) for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT {source} FROM ({sql}) sub",
            params,
        )
        return cursor.rowcount


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


def _write_days(order_filter: Q, *, now) -> int:
    """One pass over the orders per dimension."""
    written = 0
    orders = annotate_orders(WorkOrder.objects.filter(order_filter))
    for dimension, value in DIMENSION_VALUES.items():
        rows = (
            orders.annotate(dimension=Value(str(dimension)), value=value)
            .values(*KEYS, "day")
            .annotate(**order_measures(now=now))
            .order_by()
        )
        written += _insert_from(DailyRollup, rows, (*KEYS, "day", *MEASURES))
    return written


def _write_months(day_filter: Q) -> int:
    rows = (
        DailyRollup.objects.filter(day_filter)
        .annotate(month=TruncMonth("day"))
        .values(*KEYS, "month")
        .annotate(**{name: Sum(name) for name in MEASURES})
        .order_by()
    )
    return _insert_from(MonthlyRollup, rows, (*KEYS, "month", *MEASURES))


@dataclasses.dataclass
class RefreshResult:
    full: bool
    days: int  # (community, day) pairs recomputed; 0 for a full rebuild
    day_rows: int
    month_rows: int


CHUNK = 200  # (community, day) pairs per statement


def refresh(*, now: datetime.datetime | None = None, full: bool = False) -> RefreshResult:
    """Bring the rollups up to date (see the module docstring); one run at a time."""
    now = now or timezone.now()
    RollupState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = RollupState.objects.select_for_update().get(pk=1)
        if full or state.events_seen_until is None:
            result = _rebuild(now=now)
        else:
            result = _refresh_since(state.events_seen_until - OVERLAP, now=now)
        state.events_seen_until = now
        state.refreshed_at = timezone.now()
        state.save()
    return result


def rebuild(*, now: datetime.datetime | None = None) -> RefreshResult:
    return refresh(now=now, full=True)


def _rebuild(*, now) -> RefreshResult:
    MonthlyRollup.objects.all().delete()
    DailyRollup.objects.all().delete()
    day_rows = _write_days(Q(), now=now)
    month_rows = _write_months(Q())
    return RefreshResult(full=True, days=0, day_rows=day_rows, month_rows=month_rows)


def _refresh_since(since, *, now) -> RefreshResult:
    dirty = sorted(
        set(
            WorkOrderEvent.objects.filter(created_at__gte=since)
            .annotate(day=TruncDate("order__submitted_at"))
            .values_list("order__community_id", "day")
            .distinct()
        )
    )
    day_rows = month_rows = 0
    for start in range(0, len(dirty), CHUNK):
        pairs = dirty[start : start + CHUNK]
        days_q, orders_q = Q(pk__in=[]), Q(pk__in=[])
        for community_id, day in pairs:
            days_q |= Q(community_id=community_id, day=day)
            first, last = _day_bounds(day)
            orders_q |= Q(community_id=community_id, submitted_at__gte=first, submitted_at__lt=last)
        DailyRollup.objects.filter(days_q).delete()
        day_rows += _write_days(orders_q, now=now)
        months = {(community_id, day.replace(day=1)) for community_id, day in pairs}
        months_q, month_days_q = Q(pk__in=[]), Q(pk__in=[])
        for community_id, month in months:
            months_q |= Q(community_id=community_id, month=month)
            month_days_q |= Q(community_id=community_id, day__gte=month, day__lt=_next_month(month))
        MonthlyRollup.objects.filter(months_q).delete()
        month_rows += _write_months(month_days_q)
    return RefreshResult(full=False, days=len(dirty), day_rows=day_rows, month_rows=month_rows)


def _next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)
