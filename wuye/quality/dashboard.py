"""The service-quality dashboard (服务质量看板) and the service quality index.

``build(scope)`` gathers every figure of one scope (a community or all the reader's,
optionally one team or person, a range of days) into a ``Dashboard``: work-order
volumes, durations and SLAs, first-time fix and reopen rates, satisfaction and
complaints come from the rollups (``wuye.quality.figures.measure_sums``, grouped by the
database); the backlog is counted live from the open orders; rounds and maintenance
come from ``wuye.facilities.reports`` and the collection rate from
``wuye.billing.selectors``. A fixed number of queries whatever the data size.

``service_quality_index(scope)`` combines the residents' ratings of work orders with
the SERVQUAL surveys per quality dimension and weighs the dimensions with the
company's weights.

Definitions are in ``DEFINITIONS`` (the pages and the workbook repeat them).
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.billing import selectors as billing
from wuye.billing.models import Bill
from wuye.billing.money import add_months
from wuye.estates.models import House
from wuye.facilities import reports as facility_reports
from wuye.facilities.models import RoundKind, Task
from wuye.quality import figures
from wuye.quality.figures import Duration, Scope, mean, percent, percentile, total
from wuye.quality.models import CLOCKS, MEASURES, RATED_DIMENSIONS
from wuye.surveys import servqual
from wuye.surveys.models import Answer, Dimension, QuestionKind
from wuye.workorders.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    RequestType,
    RootCause,
)

CLOCK_LABELS = {
    "response": _("Response"),
    "arrival": _("Arrival on site"),
    "resolution": _("Resolution"),
}
# (key, label, older than this many days, at most this many days old or None)
BACKLOG_BUCKETS = (
    ("d1", _("Under 1 day"), 0, 1),
    ("d3", _("1–3 days"), 1, 3),
    ("d7", _("3–7 days"), 3, 7),
    ("d30", _("7–30 days"), 7, 30),
    ("older", _("Over 30 days"), 30, None),
)
# The rated dimension of a work order (1–5 stars) behind each survey dimension.
RATED_TO_SURVEY = {
    "professionalism": Dimension.RELIABILITY,
    "responsibility": Dimension.RESPONSIVENESS,
    "appearance": Dimension.ASSURANCE,
    "empathy": Dimension.EMPATHY,
    "tangibles": Dimension.TANGIBLES,
}
assert set(RATED_TO_SURVEY) == set(RATED_DIMENSIONS)
SCALE_MAX = {QuestionKind.SCALE5: 5, QuestionKind.SCALE7: 7}
ROUND_KINDS = tuple(kind for kind in RoundKind.values if kind != RoundKind.MAINTENANCE)
ONE = Decimal("0.1")


# --- the figures ---------------------------------------------------------------------
@dataclasses.dataclass
class Kpi:
    """A headline figure with its value over the previous period of the same length.
    ``better`` is "up" when a higher value is better, "down" when lower is, "" when
    neither (volumes)."""

    key: str
    label: object
    value: Decimal | int | None
    previous: Decimal | int | None
    unit: str = ""  # "%", "h", "‰"…, shown after the value
    better: str = ""

    @property
    def change(self) -> Decimal | None:
        """value − previous (percentage points for rates); None if either is missing."""
        if self.value is None or self.previous is None:
            return None
        return Decimal(self.value) - Decimal(self.previous)

    @property
    def size(self) -> Decimal | None:
        """The change without its sign (the arrow shows it)."""
        return None if self.change is None else abs(self.change)

    @property
    def direction(self) -> str:
        """ "up", "down" or "" (no change or nothing to compare)."""
        change = self.change
        if not change:
            return ""
        return "up" if change > 0 else "down"

    @property
    def worse(self) -> bool:
        """The figure moved the wrong way since the previous period."""
        return bool(self.better and self.direction and self.direction != self.better)

    @property
    def improved(self) -> bool:
        return bool(self.better and self.direction == self.better)


@dataclasses.dataclass
class Breakdown:
    """The orders of one request type, category, channel or root cause."""

    key: str | int
    label: str
    created: int
    completed: int
    share: Decimal | None  # of all orders created in the scope, percent
    sla_rate: Decimal | None  # resolution attainment, percent
    satisfaction: Decimal | None  # mean overall rating, 1–5


@dataclasses.dataclass
class MonthPoint:
    """One month of the trend (months of the range, oldest first)."""

    month: datetime.date
    created: int
    created_by_type: dict[str, int]  # request type -> orders
    completed: int
    resolution_sla_rate: Decimal | None
    first_time_fix_rate: Decimal | None
    satisfaction: Decimal | None
    complaints: int


@dataclasses.dataclass
class ClockFigures:
    """One SLA clock: how long it ran (estimated from its duration bands) and how often
    its deadline was met."""

    clock: str
    label: object
    stopped: int  # orders whose clock stopped
    median: Duration | None
    p90: Duration | None
    mean: Duration | None
    met: int
    missed: int  # stopped late, or still running past the deadline

    @property
    def rate(self) -> Decimal | None:
        return percent(self.met, self.met + self.missed)


@dataclasses.dataclass
class Satisfaction:
    rated: int
    average: Decimal | None  # mean overall rating, 1–5
    good_share: Decimal | None  # rated 4 or 5, percent of the rated
    low_share: Decimal | None  # rated 1 or 2, percent of the rated
    response_rate: Decimal | None  # rated ÷ completed, percent


@dataclasses.dataclass
class Complaints:
    count: int
    households: int  # residences of the scope's communities
    per_thousand: Decimal | None  # complaints per 1,000 households
    repeat: int  # the same house complained in the 90 days before
    repeat_share: Decimal | None
    iceberg_factor: int
    silent_estimate: int  # complaints × iceberg factor: an estimate, not a count
    by_category: list[Breakdown]
    by_root_cause: list[Breakdown]


@dataclasses.dataclass
class RoundFigures:
    """Completion of facility rounds (``wuye.facilities.reports`` definitions)."""

    due: int
    done: int
    missed: int
    late: int
    rate: Decimal | None  # done ÷ due
    abnormal_answers: int
    tasks_with_findings: int
    anomaly_rate: Decimal | None  # tasks with findings ÷ done tasks


@dataclasses.dataclass
class Dashboard:
    scope: Scope
    generated_at: datetime.datetime
    kpis: list[Kpi]  # the headline cards, each with the previous period's value
    volume: int  # orders submitted in the range
    by_type: list[Breakdown]
    by_category: list[Breakdown]
    by_channel: list[Breakdown]
    trend: list[MonthPoint]  # month by month over the range
    clocks: list[ClockFigures]  # response, arrival, resolution
    completed: int
    first_time_fix_rate: Decimal | None  # fixed first time ÷ completed
    reopen_rate: Decimal | None  # reopened ÷ completed
    cancelled: int
    backlog: list[tuple[str, object, int]]  # (key, label, open orders of that age) now
    backlog_total: int
    satisfaction: Satisfaction
    complaints: Complaints
    rounds: RoundFigures  # inspection, patrol, cleaning and greening rounds
    maintenance: RoundFigures  # maintenance rounds (compliance = their completion rate)
    collection: dict  # billing.selectors.collection_rate of the months of the range

    @property
    def previous(self) -> Scope:
        return self.scope.previous()


# --- building it ---------------------------------------------------------------------
# What a breakdown row (``Breakdown``) is made of.
SHOWN = ("created", "completed", "resolution_met", "resolution_missed", "rating_sum", "rated")


def _labelled(rows, key, labels, whole) -> list[Breakdown]:
    found = []
    for row in rows:
        found.append(
            Breakdown(
                key=row[key],
                label=str(labels.get(row[key], row[key] or "—")),
                created=row["created"],
                completed=row["completed"],
                share=percent(row["created"], whole),
                sla_rate=percent(
                    row["resolution_met"], row["resolution_met"] + row["resolution_missed"]
                ),
                satisfaction=mean(row["rating_sum"], row["rated"]),
            )
        )
    return sorted(found, key=lambda b: (-b.created, b.label))


def _regroup(rows, key, measures=MEASURES) -> list[dict]:
    """Rows grouped by more keys summed over the others (a few hundred group rows, not
    orders)."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return [{key: value, **total(members, measures)} for value, members in groups.items()]


def _category_labels(ids) -> dict:
    labels = {}
    for category in Category.objects.filter(id__in=ids).select_related("parent"):
        parent = f"{category.parent.name} › " if category.parent_id else ""
        labels[category.id] = f"{parent}{category.name}"
    return labels


def _months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def _round_figures(tasks, *, now) -> RoundFigures:
    summary = facility_reports.completion_summary(tasks, now=now)
    found = facility_reports.anomaly_summary(tasks)
    return RoundFigures(
        due=summary["due"],
        done=summary["done"],
        missed=summary["missed"],
        late=summary["late"],
        rate=summary["rate"],
        abnormal_answers=found["answers"],
        tasks_with_findings=found["tasks"],
        anomaly_rate=percent(found["tasks"], summary["done"]),
    )


def _tasks(scope: Scope, *, kinds):
    tasks = Task.objects.filter(company_id=scope.company_id, kind__in=kinds)
    if scope.community_ids is not None:
        tasks = tasks.filter(community_id__in=scope.community_ids)
    if scope.person_id:
        tasks = tasks.filter(assignee_id=scope.person_id)
    if scope.team_id:
        tasks = tasks.filter(assignee__trades__id=scope.team_id)
    period = facility_reports.Period(scope.first, scope.last)
    return facility_reports.tasks_in(tasks, period)


def _bills(scope: Scope):
    bills = Bill.objects.filter(company_id=scope.company_id)
    if scope.community_ids is not None:
        bills = bills.filter(community_id__in=scope.community_ids)
    return bills


def households(scope: Scope) -> int:
    """Residences (House kind residence) of the scope's communities."""
    houses = House.objects.filter(company_id=scope.company_id, kind=House.Kind.RESIDENCE)
    if scope.community_ids is not None:
        houses = houses.filter(community_id__in=scope.community_ids)
    return houses.count()


def backlog(scope: Scope, *, now) -> list[tuple[str, object, int]]:
    """The scope's open orders now by age since submission, in one grouped query."""
    orders = figures.orders_of(scope).filter(status__in=OPEN_STATUSES)  # wo_open_age_idx
    counts = {}
    for key, _label, older, newer in BACKLOG_BUCKETS:
        age = Q(submitted_at__lte=now - datetime.timedelta(days=older)) if older else Q()
        if newer is not None:
            age &= Q(submitted_at__gt=now - datetime.timedelta(days=newer))
        counts[key] = Count("submitted_at", filter=age)  # in the index: no table reads
    found = orders.order_by().aggregate(**counts)
    return [(key, label, found[key]) for key, label, _o, _n in BACKLOG_BUCKETS]


def _headline(current: dict, before: dict, extra: dict) -> list[Kpi]:
    def sla(sums):
        return percent(sums["resolution_met"], sums["resolution_met"] + sums["resolution_missed"])

    def median_hours(sums):
        found = percentile(sums, "resolution", 0.5)
        return Decimal(found.hours).quantize(ONE, ROUND_HALF_UP) if found else None

    return [
        Kpi("volume", _("Requests"), current["created"], before["created"], "", ""),
        Kpi(
            "resolution_median",
            _("Median resolution time"),
            median_hours(current),
            median_hours(before),
            "h",
            "down",
        ),
        Kpi("resolution_sla", _("Resolution SLA met"), sla(current), sla(before), "%", "up"),
        Kpi(
            "first_time_fix",
            _("First-time fix"),
            percent(current["first_time_fixed"], current["completed"]),
            percent(before["first_time_fixed"], before["completed"]),
            "%",
            "up",
        ),
        Kpi(
            "reopen",
            _("Reopened"),
            percent(current["reopened"], current["completed"]),
            percent(before["reopened"], before["completed"]),
            "%",
            "down",
        ),
        Kpi(
            "satisfaction",
            _("Satisfaction (1–5)"),
            mean(current["rating_sum"], current["rated"]),
            mean(before["rating_sum"], before["rated"]),
            "",
            "up",
        ),
        Kpi(
            "complaints_per_thousand",
            _("Complaints per 1,000 households"),
            *extra["complaints_per_thousand"],
            "",
            "down",
        ),
        Kpi("round_completion", _("Rounds completed"), *extra["round_completion"], "%", "up"),
        Kpi("collection", _("Collection rate"), *extra["collection"], "%", "up"),
    ]


def _per_thousand(count: int, houses: int) -> Decimal | None:
    if not houses:
        return None
    return (Decimal(count) * 1000 / houses).quantize(ONE, ROUND_HALF_UP)


def _complaint_count(rows) -> int:
    return sum(row["created"] for row in rows if row["request_type"] == RequestType.COMPLAINT)


def build(scope: Scope, *, now: datetime.datetime | None = None) -> Dashboard:
    """Every figure of the dashboard for ``scope`` (from ``figures.scope_for``)."""
    now = now or timezone.now()
    before = scope.previous()
    # Every measure from the rows without a breakdown (a few per community and month);
    # the breakdowns, many times more rows, sum only what a breakdown row shows.
    by_month = figures.measure_sums(scope, by=("month", "request_type"), now=now)
    by_type_category, by_type_cause = (
        figures.measure_sums(scope, by=("request_type", name), now=now, measures=SHOWN)
        for name in ("category_id", "root_cause")
    )
    by_channel = figures.measure_sums(scope, by=("channel",), now=now, measures=SHOWN)
    previous_by_type = figures.measure_sums(before, by=("request_type",), now=now)
    current, previous = total(by_month), total(previous_by_type)
    houses = households(scope)
    settings = figures.settings_of(scope.company_id)
    complaints = _complaint_count(by_month)
    rounds = _round_figures(_tasks(scope, kinds=ROUND_KINDS), now=now)
    previous_rounds = facility_reports.completion_summary(
        _tasks(before, kinds=ROUND_KINDS), now=now
    )
    months = (scope.first.replace(day=1), scope.last.replace(day=1))
    collection = billing.collection_rate(_bills(scope), *months)
    previous_collection = billing.collection_rate(
        _bills(before), before.first.replace(day=1), before.last.replace(day=1)
    )
    per_thousand = _per_thousand(complaints, houses)
    extra = {
        "complaints_per_thousand": (
            per_thousand,
            _per_thousand(_complaint_count(previous_by_type), houses),
        ),
        "round_completion": (rounds.rate, previous_rounds["rate"]),
        "collection": (collection["rate"], previous_collection["rate"]),
    }
    by_type = _regroup(by_month, "request_type")
    by_category = _regroup(by_type_category, "category_id", SHOWN)
    labels = _category_labels([row["category_id"] for row in by_category])
    complaint_rows = [r for r in by_type_category if r["request_type"] == RequestType.COMPLAINT]
    cause_rows = [r for r in by_type_cause if r["request_type"] == RequestType.COMPLAINT]
    cause_labels = {"": _("Not classified yet"), **dict(RootCause.choices)}
    return Dashboard(
        scope=scope,
        generated_at=now,
        kpis=_headline(current, previous, extra),
        volume=current["created"],
        by_type=_labelled(by_type, "request_type", dict(RequestType.choices), current["created"]),
        by_category=_labelled(by_category, "category_id", labels, current["created"]),
        by_channel=_labelled(by_channel, "channel", dict(Channel.choices), current["created"]),
        trend=_trend(scope, by_month),
        clocks=[
            ClockFigures(
                clock=clock,
                label=CLOCK_LABELS[clock],
                stopped=current[f"{clock}_n"],
                median=percentile(current, clock, 0.5),
                p90=percentile(current, clock, 0.9),
                mean=figures.mean_duration(current, clock),
                met=current[f"{clock}_met"],
                missed=current[f"{clock}_missed"],
            )
            for clock in CLOCKS
        ],
        completed=current["completed"],
        first_time_fix_rate=percent(current["first_time_fixed"], current["completed"]),
        reopen_rate=percent(current["reopened"], current["completed"]),
        cancelled=current["cancelled"],
        backlog=(ages := backlog(scope, now=now)),
        backlog_total=sum(n for _k, _l, n in ages),
        satisfaction=Satisfaction(
            rated=current["rated"],
            average=mean(current["rating_sum"], current["rated"]),
            good_share=percent(current["rated_good"], current["rated"]),
            low_share=percent(current["rated_low"], current["rated"]),
            response_rate=percent(current["rated"], current["completed"]),
        ),
        complaints=Complaints(
            count=complaints,
            households=houses,
            per_thousand=per_thousand,
            repeat=current["repeat_complaints"],
            repeat_share=percent(current["repeat_complaints"], complaints),
            iceberg_factor=settings.iceberg_factor,
            silent_estimate=complaints * settings.iceberg_factor,
            by_category=_labelled(
                _regroup(complaint_rows, "category_id", SHOWN), "category_id", labels, complaints
            ),
            by_root_cause=_labelled(
                _regroup(cause_rows, "root_cause", SHOWN), "root_cause", cause_labels, complaints
            ),
        ),
        rounds=rounds,
        maintenance=_round_figures(_tasks(scope, kinds=(RoundKind.MAINTENANCE,)), now=now),
        collection=collection,
    )


def _trend(scope: Scope, rows) -> list[MonthPoint]:
    by_month: dict = {}
    for row in rows:
        by_month.setdefault(row["month"], []).append(row)
    points = []
    for month in _months(scope.first, scope.last):
        members = by_month.get(month, [])
        sums = total(members)
        points.append(
            MonthPoint(
                month=month,
                created=sums["created"],
                created_by_type={
                    value: sum(r["created"] for r in members if r["request_type"] == value)
                    for value in RequestType.values
                },
                completed=sums["completed"],
                resolution_sla_rate=percent(
                    sums["resolution_met"], sums["resolution_met"] + sums["resolution_missed"]
                ),
                first_time_fix_rate=percent(sums["first_time_fixed"], sums["completed"]),
                satisfaction=mean(sums["rating_sum"], sums["rated"]),
                complaints=_complaint_count(members),
            )
        )
    return points


# --- the service quality index -------------------------------------------------------
def _normalised(value, scale_max: int) -> Decimal | None:
    """A mean score on 1…scale_max as 0–100 (1 is 0, the top score 100)."""
    if value is None:
        return None
    return (Decimal(str(value)) - 1) * 100 / (scale_max - 1)


def _q(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(ONE, ROUND_HALF_UP)


@dataclasses.dataclass
class DimensionIndex:
    dimension: str
    label: object
    weight: Decimal  # normalised: the weights of the five dimensions sum to 1
    ratings: int  # work-order ratings of the matching rated dimension
    rating_mean: Decimal | None  # 1–5
    rating_score: Decimal | None  # 0–100
    answers: int  # survey perception scores
    survey_score: Decimal | None  # 0–100 (5- and 7-point scales normalised, by answers)
    score: Decimal | None  # ratings and survey combined, weighted by their counts
    gap_answers: int  # survey answers with an expectation (gap surveys)
    gap: Decimal | None  # perception − expectation on the survey's scale (one scale only)
    gap_scale_max: int | None
    gap_score: Decimal | None  # the gap on 0–100 (negative: below expectations)

    @property
    def weight_percent(self) -> Decimal:
        return (self.weight * 100).quantize(ONE, ROUND_HALF_UP)


@dataclasses.dataclass
class QualityIndex:
    scope: Scope
    dimensions: list[DimensionIndex]  # in the seed's order, heaviest first
    index: Decimal | None  # Σ weight × score over the scored dimensions ÷ their weight
    gap_index: Decimal | None  # the same over gap_score
    weights_are_company: bool  # the company's own weights (else the defaults)


def _survey_answers(scope: Scope):
    """Scale answers to SERVQUAL questions of the scope's company, given in the range,
    by households of the scope's communities (community surveys of those communities;
    company-wide ones by the answering household's building)."""
    answers = Answer.objects.filter(
        question__survey__company_id=scope.company_id,
        response__submitted_at__gte=scope.starts_at,
        response__submitted_at__lt=scope.ends_at,
        question__kind__in=tuple(SCALE_MAX),
        score__isnull=False,
    ).exclude(question__dimension="")
    if scope.community_ids is not None:
        from wuye.estates.models import Building

        buildings = Building.objects.filter(community_id__in=scope.community_ids).values("id")
        answers = answers.filter(
            Q(question__survey__community_id__in=scope.community_ids)
            | Q(question__survey__community__isnull=True, response__building_id__in=buildings)
        )
    return answers


def service_quality_index(scope: Scope) -> QualityIndex:
    """Per dimension: the residents' ratings of work orders (1–5) and the SERVQUAL
    survey perception (1–5 or 1–7), each normalised to 0–100 and combined weighted by
    their number of answers; the gap of gap surveys; and the index weighted with the
    company's weights. Three queries (ratings, surveys, weights) plus the rollups'."""
    (sums,) = figures.measure_sums(scope)
    rows = (
        _survey_answers(scope)
        .values("question__dimension", "question__kind")
        .annotate(
            answers=Count("id"),
            perception=Avg("score"),
            gap_answers=Count("expected"),
            gap_perception=Avg("score", filter=Q(expected__isnull=False)),
            expectation=Avg("expected"),
        )
        .order_by()
    )
    surveyed: dict = {}
    for row in rows:
        surveyed.setdefault(row["question__dimension"], []).append(row)
    company_weights = servqual.weights(company=scope.company_id)
    dimensions, scores, gap_scores = [], [], []  # the index weighs the unrounded scores
    for dimension in servqual.DIMENSION_ORDER:
        rated = next(r for r, d in RATED_TO_SURVEY.items() if d == dimension)
        n, rating_mean = sums[f"{rated}_n"], mean(sums[f"{rated}_sum"], sums[f"{rated}_n"])
        rating_score = _normalised(rating_mean, 5)
        found = surveyed.get(str(dimension), [])
        answers = sum(r["answers"] for r in found)
        survey_score = _weighted_mean(
            (r["answers"], _normalised(r["perception"], SCALE_MAX[r["question__kind"]]))
            for r in found
        )
        gaps = [r for r in found if r["gap_answers"]]
        gap_answers = sum(r["gap_answers"] for r in gaps)
        gap_score = _weighted_mean(
            (
                r["gap_answers"],
                (Decimal(str(r["gap_perception"])) - Decimal(str(r["expectation"])))
                * 100
                / (SCALE_MAX[r["question__kind"]] - 1),
            )
            for r in gaps
        )
        one_scale = len(gaps) == 1
        score = _weighted_mean([(n, rating_score), (answers, survey_score)])
        scores.append((company_weights[dimension], score))
        gap_scores.append((company_weights[dimension], gap_score))
        dimensions.append(
            DimensionIndex(
                dimension=str(dimension),
                label=Dimension(dimension).label,
                weight=company_weights[dimension],
                ratings=n,
                rating_mean=rating_mean,
                rating_score=_q(rating_score),
                answers=answers,
                survey_score=_q(survey_score),
                score=_q(score),
                gap_answers=gap_answers,
                gap=(
                    (
                        Decimal(str(gaps[0]["gap_perception"]))
                        - Decimal(str(gaps[0]["expectation"]))
                    ).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    if one_scale
                    else None
                ),
                gap_scale_max=SCALE_MAX[gaps[0]["question__kind"]] if one_scale else None,
                gap_score=_q(gap_score),
            )
        )
    return QualityIndex(
        scope=scope,
        dimensions=dimensions,
        index=_q(_weighted_mean(scores)),
        gap_index=_q(_weighted_mean(gap_scores)),
        weights_are_company=figures.settings_of(scope.company_id).pk is not None,
    )


def _weighted_mean(pairs) -> Decimal | None:
    """Σ weight × value ÷ Σ weight over the pairs that have a value and a weight."""
    pairs = [(Decimal(w), Decimal(v)) for w, v in pairs if v is not None and w]
    weight = sum((w for w, _v in pairs), Decimal(0))
    if not pairs or weight <= 0:
        return None
    return sum(w * v for w, v in pairs) / weight


# (term, what it means): under the pages and on the workbook's first sheet.
DEFINITIONS = [
    (
        _("Range and previous period"),
        _(
            "Work orders submitted on the days of the range, with everything that has "
            "happened to them since. Each headline figure is compared with the same number "
            "of days just before; ▲▼ show the change, red when the service got worse."
        ),
    ),
    (
        _("Requests"),
        _("Work orders submitted, by request type, category and channel (all statuses)."),
    ),
    (
        _("Response, arrival, resolution time"),
        _(
            "From submission to acceptance, to arrival on site and to completion, over "
            "the orders whose clock has stopped. Medians and p90s are estimated from 10 "
            "time bands (under 30 min, 1 h, 2 h, 4 h, 8 h, 1 day, 2 days, 3 days, 1 week, "
            "longer) by interpolating inside the band; “≥” marks the open last band. "
            "Means are exact."
        ),
    ),
    (
        _("SLA met"),
        _(
            "Per clock: orders that stopped the clock by its deadline ÷ those that did plus "
            "those that missed it (stopped late, or still running after the deadline)."
        ),
    ),
    (
        _("First-time fix"),
        _("Completed orders never reopened ÷ completed orders. Reopened: the opposite share."),
    ),
    (
        _("Backlog"),
        _(
            "Orders open now (submitted up to in progress or paused), by time since "
            "submission, whatever the range."
        ),
    ),
    (
        _("Satisfaction"),
        _(
            "Residents' overall ratings (1–5 stars) of the orders: their mean, the share "
            "rated 4–5 and 1–2, and the response rate (rated ÷ completed)."
        ),
    ),
    (
        _("Complaints per 1,000 households"),
        _(
            "Complaints submitted ÷ residences of the communities × 1,000. A repeat "
            "complaint is one from a house that complained in the 90 days before. The "
            "silently dissatisfied are an estimate: complaints × the company's iceberg "
            "factor."
        ),
    ),
    (
        _("Rounds completed"),
        _(
            "Inspection, patrol, cleaning and greening rounds dated in the range: done ÷ "
            "due, as in the facilities reports. Anomaly rate: tasks with an abnormal "
            "answer ÷ done tasks."
        ),
    ),
    (
        _("Maintenance compliance"),
        _("Maintenance rounds dated in the range: done (incl. awaiting acceptance) ÷ due."),
    ),
    (
        _("Collection rate"),
        _(
            "Bills of the communities due in the months of the range: paid ÷ payable, as "
            "on the billing pages (for a team or a person: their communities' bills)."
        ),
    ),
    (
        _("Team, person"),
        _(
            "A team is a trade: the orders and rounds assigned to its members; a person: "
            "those assigned to them."
        ),
    ),
]
INDEX_DEFINITIONS = [
    (
        _("Ratings"),
        _(
            "Residents' 1–5 ratings of work orders per aspect: professionalism → "
            "reliability, responsibility → responsiveness, appearance → assurance, "
            "empathy → empathy, facilities → tangibles. 0–100 = (mean − 1) ÷ 4 × 100."
        ),
    ),
    (
        _("Surveys"),
        _(
            "SERVQUAL perception scores given in the range, by households of the "
            "communities; 1–5 and 1–7 scales are normalised to 0–100 the same way."
        ),
    ),
    (
        _("Score"),
        _("Ratings and surveys combined, weighted by their number of answers."),
    ),
    (
        _("Gap"),
        _(
            "Gap surveys: perception − expectation of the same answers, on the survey's "
            "scale and on 0–100; below zero, the service falls short of expectations."
        ),
    ),
    (
        _("Index"),
        _(
            "Σ weight × score over the dimensions with a score ÷ their weight; the "
            "company's weights (quality settings), or the seed's 32/22/19/16/11."
        ),
    ),
]


# --- as plain data (the API, the page's charts) ---------------------------------------
def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Duration):
        return {"minutes": round(value.minutes, 1), "open_ended": value.open_ended}
    if isinstance(value, Kpi):
        return {
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
            "change": _plain(value.change),
            "direction": value.direction,
            "worse": value.worse,
        }
    if isinstance(value, ClockFigures):
        return {
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
            "rate": _plain(value.rate),
        }
    if isinstance(value, DimensionIndex):
        return {
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
            "weight_percent": _plain(value.weight_percent),
        }
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # translated labels


def as_data(found: "Dashboard | QualityIndex") -> dict:
    """A dashboard or index as JSON-ready data: decimals as numbers, dates as ISO
    text, durations as minutes, labels translated."""
    data = _plain(found)
    if isinstance(found, Dashboard):
        data["backlog"] = [
            {"key": key, "label": str(label), "orders": n} for key, label, n in found.backlog
        ]
    return data
