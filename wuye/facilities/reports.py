"""Facilities reports (设备巡检报表): how well the rounds were done, what they found,
and how reliable the equipment was, for a date range and the reader's communities.

Every figure is computed by the database (``Count``/``Sum`` with ``filter=``, grouped),
never by walking tasks in Python; the callers pass querysets already scoped with
``visible_to(actor)``.

Definitions (the report pages and the Excel workbook repeat them):

Round completion, over the tasks dated in the range:
- *not yet due*: still to do or in progress and its window has not closed yet; left out
  of every other figure;
- *due*: every other task, so due = done + missed + open;
- *done*: finished, including *awaiting acceptance* (finished maintenance the
  supervisor has not accepted yet), which is also shown on its own;
- *missed*: nobody finished it in its window (``rounds.mark_missed``);
- *open*: its window has closed but it is neither finished nor marked missed yet;
- *late*: a task with a stop checked in after the window closed, or finished after
  the window closed (a subset of the due tasks, whatever their status);
- *rate* = done ÷ due; no rate when nothing was due.

Equipment, per asset, over the hours of the range that have passed (from the later of
the range's start and the installation day, to the earlier of the range's end, now and
the day the asset was scrapped):
- *downtime*: the hours of stopped (停用) or under-repair (维修中) intervals inside
  that span; an interval still open counts up to now;
- *failures*: repairs that started in the range (intervals under repair) plus work
  orders on the asset submitted in the range that no repair interval records
  (cancelled, rejected and merged orders are not failures);
- *MTBF* (mean time between failures) = operating hours (span − downtime) ÷ failures;
- *MTTR* (mean time to repair) = the length of the finished repairs that started in
  the range ÷ their number (a repair still under way has no length yet);
- *availability* = operating hours ÷ span.
An asset without failures has no MTBF, one without finished repairs no MTTR.
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.facilities.models import Answer, Asset, Downtime, Task, Visit
from wuye.workorders.models import OPEN_STATUSES as OPEN_ORDER_STATUSES
from wuye.workorders.models import Status as OrderStatus
from wuye.workorders.models import WorkOrder

OPEN = (Task.Status.PENDING, Task.Status.IN_PROGRESS)
FINISHED = (Task.Status.DONE, Task.Status.AWAITING_ACCEPTANCE)
NOT_FAILURES = (OrderStatus.CANCELLED, OrderStatus.REJECTED)
HOUR = datetime.timedelta(hours=1)


@dataclasses.dataclass(frozen=True)
class Period:
    """A range of whole local days, both ends included."""

    first: datetime.date
    last: datetime.date

    @property
    def starts_at(self) -> datetime.datetime:
        return _midnight(self.first)

    @property
    def ends_at(self) -> datetime.datetime:
        return _midnight(self.last + datetime.timedelta(days=1))


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def tasks_in(tasks, period: Period, *, community=None, kind: str = ""):
    """``tasks`` (already scoped) dated in ``period``, of one community and round kind
    when given."""
    tasks = tasks.filter(date__range=(period.first, period.last))
    if community is not None:
        tasks = tasks.filter(community=community)
    if kind:
        tasks = tasks.filter(kind=kind)
    return tasks


# --- round completion ---------------------------------------------------------------------
def rate(done: int, due: int) -> Decimal | None:
    """done ÷ due as a percentage with one decimal; None when nothing was due."""
    if not due:
        return None
    return (Decimal(100 * done) / due).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _completion_counts(tasks, now: datetime.datetime) -> dict:
    upcoming = Q(status__in=OPEN, closes_at__gt=now)
    # An uncorrelated IN, which PostgreSQL hashes once; a correlated EXISTS is
    # costed per task and pushed 90,000-task reports into JIT compilation (+250 ms).
    late_visit = Visit.objects.filter(task__in=tasks, timing=Visit.Timing.LATE)
    return {
        "due": Count("id", filter=~upcoming),
        "done": Count("id", filter=Q(status__in=FINISHED)),
        "awaiting": Count("id", filter=Q(status=Task.Status.AWAITING_ACCEPTANCE)),
        "missed": Count("id", filter=Q(status=Task.Status.MISSED)),
        "open": Count("id", filter=Q(status__in=OPEN, closes_at__lte=now)),
        "late": Count(
            "id",
            filter=~upcoming
            & (Q(id__in=late_visit.values("task_id")) | Q(completed_at__gt=F("closes_at"))),
        ),
        "upcoming": Count("id", filter=upcoming),
        "abnormal": Coalesce(Sum("abnormal_count"), 0),
    }


def _with_rate(row: dict) -> dict:
    row["rate"] = rate(row["done"], row["due"])
    return row


def completion_summary(tasks, *, now: datetime.datetime | None = None) -> dict:
    """The counts of the definitions above (plus ``abnormal``, the abnormal answers
    recorded) over all ``tasks``, in one query."""
    counts = tasks.order_by().aggregate(**_completion_counts(tasks, now or timezone.now()))
    return _with_rate(counts)


# grouping -> the columns that name a group (the first is its key)
GROUPS = {
    "plan": ("plan_id", "plan__name", "community__name"),
    "person": ("assignee_id", "assignee__name"),
    "community": ("community_id", "community__name"),
}


def completion_by(tasks, group: str, *, now: datetime.datetime | None = None) -> list[dict]:
    """One row per plan, assignee or community (``group``), in one grouped query:
    ``key``, ``name`` (``community`` too for plans; an unassigned person's name is
    None), the counts and ``rate``. Lowest rate first (no rate last), then by name."""
    key, name, *extra = GROUPS[group]
    rows = (
        tasks.order_by()
        .values(key, name, *extra)
        .annotate(**_completion_counts(tasks, now or timezone.now()))
    )
    result = []
    for row in rows:
        row = _with_rate(row)
        row["key"], row["name"] = row.pop(key), row.pop(name)
        if extra:
            row["community"] = row.pop(extra[0])
        result.append(row)
    result.sort(key=lambda r: (r["rate"] is None, r["rate"] or 0, r["name"] or "", r["key"] or 0))
    return result


# --- what the rounds found ----------------------------------------------------------------
def anomalies(tasks):
    """The abnormal answers recorded on ``tasks``, latest first, with what the list
    shows (stop, item, plan, assignee, the work order they opened). The small lookups
    are prefetched: joining all nine tables costs PostgreSQL more to plan (~25 ms)
    than the page takes to run."""
    return (
        Answer.objects.filter(is_abnormal=True, visit__task__in=tasks.values("id"))
        .select_related("item", "visit__task__plan", "work_order")
        .prefetch_related(
            "visit__stop__asset",
            "visit__stop__checkpoint",
            "visit__task__community",
            "visit__task__assignee",
        )
        .order_by("-visit__scanned_at", "-id")
    )


def anomaly_summary(tasks) -> dict:
    """How many abnormal answers, on how many tasks, how many opened a work order,
    and those orders by status (``orders_by_status``: status → count, most first)."""
    found = Answer.objects.filter(is_abnormal=True, visit__task__in=tasks.values("id"))
    summary = found.order_by().aggregate(
        answers=Count("id"),
        tasks=Count("visit__task", distinct=True),
        orders=Count("work_order", distinct=True),
    )
    by_status = (
        found.filter(work_order__isnull=False)
        .order_by()
        .values("work_order__status")
        .annotate(n=Count("work_order", distinct=True))
    )
    labels = dict(OrderStatus.choices)
    summary["orders_by_status"] = [
        (labels.get(row["work_order__status"], row["work_order__status"]), row["n"])
        for row in sorted(by_status, key=lambda r: -r["n"])
    ]
    summary["open_orders"] = sum(
        row["n"] for row in by_status if row["work_order__status"] in OPEN_ORDER_STATUSES
    )
    return summary


def overdue_and_missed(tasks, *, now: datetime.datetime | None = None):
    """Tasks missed, or still open after their window closed, latest window first."""
    now = now or timezone.now()
    return (
        tasks.filter(Q(status=Task.Status.MISSED) | Q(status__in=OPEN, closes_at__lte=now))
        .select_related("plan", "community", "assignee")
        .order_by("-closes_at", "-id")
    )


# --- equipment reliability ----------------------------------------------------------------
@dataclasses.dataclass
class AssetFigures:
    asset: Asset
    span_hours: Decimal  # the hours of the range the asset existed in (see above)
    downtime_hours: Decimal
    failures: int
    repairs: int  # finished repairs that started in the range
    repair_hours: Decimal

    @property
    def operating_hours(self) -> Decimal:
        return max(self.span_hours - self.downtime_hours, Decimal(0))

    @property
    def mtbf_hours(self) -> Decimal | None:
        return _hours(self.operating_hours / self.failures) if self.failures else None

    @property
    def mttr_hours(self) -> Decimal | None:
        return _hours(self.repair_hours / self.repairs) if self.repairs else None

    @property
    def availability(self) -> Decimal | None:
        """Operating hours as a percentage of the span (None for an empty span)."""
        if not self.span_hours:
            return None
        return (100 * self.operating_hours / self.span_hours).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def _hours(value) -> Decimal:
    if isinstance(value, datetime.timedelta):
        value = Decimal(value.total_seconds()) / 3600
    return Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _at(moment: datetime.datetime) -> Value:
    return Value(moment, output_field=DateTimeField())


def asset_figures(
    assets, period: Period, *, now: datetime.datetime | None = None
) -> list[AssetFigures]:
    """Downtime, failures, MTBF and MTTR of each of ``assets`` (already scoped) over
    ``period``: one query for the assets, one grouped query over their downtime and
    one over their work orders. Assets that did not exist during the range (installed
    after it, or scrapped before it) are left out. Most failures first, then most
    downtime, then by code."""
    now = now or timezone.now()
    start, end = period.starts_at, min(period.ends_at, now)
    if end <= start:
        return []
    overlaps = Q(started_at__lt=end) & (Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    repair = Q(status=Asset.Status.REPAIRING, started_at__gte=start, started_at__lt=end)
    finished_repair = repair & Q(ended_at__isnull=False)
    inside = ExpressionWrapper(
        Least(Coalesce("ended_at", _at(now)), _at(end)) - Greatest("started_at", _at(start)),
        output_field=DurationField(),
    )
    length = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    downtime = {
        row["asset_id"]: row
        for row in Downtime.objects.filter(asset__in=assets.values("id"), started_at__lt=end)
        .order_by()
        .values("asset_id")
        .annotate(
            hours=Sum(inside, filter=overlaps & ~Q(status=Asset.Status.SCRAPPED)),
            repairs=Count("id", filter=repair),
            finished=Count("id", filter=finished_repair),
            repair_time=Sum(length, filter=finished_repair),
            scrapped_at=Min("started_at", filter=Q(status=Asset.Status.SCRAPPED)),
        )
    }
    recorded = Downtime.objects.filter(work_order=OuterRef("pk"), status=Asset.Status.REPAIRING)
    orders = dict(
        WorkOrder.objects.filter(
            asset__in=assets.values("id"),
            submitted_at__gte=start,
            submitted_at__lt=end,
            merged_into__isnull=True,
        )
        .exclude(status__in=NOT_FAILURES)
        .exclude(Exists(recorded))
        .order_by()
        .values("asset_id")
        .annotate(n=Count("id"))
        .values_list("asset_id", "n")
    )
    figures = []
    shown = ("code", "name", "status", "installed_on", "community__name", "category__name")
    for asset in assets.select_related("community", "category").only(*shown):
        row = downtime.get(asset.pk, {})
        since = max(start, _midnight(asset.installed_on)) if asset.installed_on else start
        until = min(end, row.get("scrapped_at") or end)
        if until <= since:
            continue
        figures.append(
            AssetFigures(
                asset=asset,
                span_hours=_hours(until - since),
                downtime_hours=_hours(row.get("hours") or datetime.timedelta(0)),
                failures=row.get("repairs", 0) + orders.get(asset.pk, 0),
                repairs=row.get("finished", 0),
                repair_hours=_hours(row.get("repair_time") or datetime.timedelta(0)),
            )
        )
    figures.sort(key=lambda f: (-f.failures, -f.downtime_hours, f.asset.code))
    return figures


# --- for readers --------------------------------------------------------------------------
def answer_text(answer: Answer) -> str:
    """An answer as a reader writes it: 正常/异常, choices joined, a number with its unit."""
    value = answer.value
    if isinstance(value, bool):
        return str(_("Normal") if value else _("Abnormal"))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if value is None:
        return ""
    return f"{value} {answer.item.unit}".strip()


# (term, what it means): shown under the report pages and on the workbook's first sheet.
COMPLETION_TERMS = [
    (
        _("Due"),
        _(
            "Tasks dated in the range, except those still to do whose window has not "
            "closed yet (not yet due). Due = done + missed + open."
        ),
    ),
    (
        _("Done"),
        _(
            "Finished tasks, including those awaiting acceptance (finished maintenance "
            "the supervisor has not accepted yet), which are also counted on their own."
        ),
    ),
    (_("Missed"), _("Nobody finished the task within its window.")),
    (
        _("Open"),
        _("The window has closed, but the task is neither finished nor marked missed yet."),
    ),
    (
        _("Late"),
        _("A stop was checked in, or the task was finished, after the window closed."),
    ),
    (_("Rate"), _("Done ÷ due.")),
]
EQUIPMENT_TERMS = [
    (
        _("Span"),
        _(
            "The hours of the range that have passed while the asset existed: from the "
            "later of the first day and the installation day to the earlier of the end "
            "of the last day, now and the day it was scrapped."
        ),
    ),
    (
        _("Downtime"),
        _(
            "Hours within the span the asset was stopped or under repair; an interval "
            "still open counts up to now."
        ),
    ),
    (
        _("Failures"),
        _(
            "Repairs that started in the range, plus work orders on the asset submitted "
            "in the range that no repair records (cancelled, rejected and merged orders "
            "do not count)."
        ),
    ),
    (_("MTBF"), _("Mean time between failures: operating hours (span − downtime) ÷ failures.")),
    (
        _("MTTR"),
        _(
            "Mean time to repair: the hours of the finished repairs that started in the "
            "range ÷ their number."
        ),
    ),
    (_("Availability"), _("Operating hours ÷ span.")),
]
DEFINITIONS = COMPLETION_TERMS + EQUIPMENT_TERMS
