"""Complaint analytics (投诉分类统计与原因分析) over a quality scope.

Counts and handling times by month, root cause, category and community come from the
rollups (``figures.measure_sums`` grouped with the request type, complaint rows kept).
What the rollups do not hold is read from the scope's complaint orders, each query a
range over (community, submitted_at): the party complained about, the staff members
named, and the repeat complainants (houses and contact mobiles with two or more
complaints in the range).

Handling time is the resolution clock, from submission to completion (wall-clock);
medians and p90s are estimated inside duration bands. The complaint iceberg is an
estimate: complaints × the company's factor (``QualitySettings.iceberg_factor``).
"""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import CharField, Count, Max, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.masking import mask_mobile
from wuye.estates.models import Community, House
from wuye.quality import figures
from wuye.quality.models import DURATION_BANDS, QualitySettings
from wuye.quality.rollups import order_measures
from wuye.workorders.models import Category, ComplaintParty, RequestType, RootCause, WorkOrder

SHOWN = 20  # rows of the staff and repeat-complainant tables on the page
WITHIN_DAY_BANDS = DURATION_BANDS.index(24 * 60) + 1  # bands ending at or before 24 h
NOT_RECORDED = _("Not yet recorded")

ICEBERG_SOURCE = _(
    "TARP studies, as quoted in the service-quality training material: behind each "
    "customer who complains there are 25 dissatisfied customers; 24 of them do not "
    "complain."
)
# The percent signs are text, not placeholders.
RETENTION_FACTS = (
    # xgettext:no-python-format
    _("When a complaint is resolved, about 60% of complainants stay with the company."),
    # xgettext:no-python-format
    _("When it is resolved quickly, 90–95% of customers stay with the company."),
)
DEFINITIONS = (
    (
        _("Complaints"),
        _("Work orders of the type complaint submitted in the range, cancelled ones included."),
    ),
    (
        _("Resolved"),
        _("Complaints completed, at the desk or by field work, whenever that happened."),
    ),
    (
        _("Handling time"),
        _(
            "From submission to completion, wall-clock. Medians and p90s are estimated "
            "inside duration bands (up to 30 min, 1 h, 2 h, 4 h, 8 h, 24 h, 2 days, 3 days, "
            "a week, more)."
        ),
    ),
    (
        _("Resolved within 24 h"),
        _("Completed within 24 hours of submission, as a share of all complaints."),
    ),
    (
        _("Repeat complaints"),
        _("Complaints from a house that had already complained in the 90 days before."),
    ),
    (
        _("Repeat complainants"),
        _("Houses, and contact mobiles, with two or more complaints in the range."),
    ),
    (
        _("Complaints per 1,000 households"),
        _("Complaints ÷ residences (houses of the kind residence) in scope × 1,000."),
    ),
    (
        _("Silently dissatisfied households"),
        _(
            "An estimate, not a count: complaints × the company's iceberg factor "
            "(25 unless changed in the quality settings)."
        ),
    ),
    (
        _("Freshness"),
        _(
            "Counts by month, root cause, category and community are read from rollups "
            "refreshed every 10 minutes; party, staff and repeat complainants from the "
            "orders themselves."
        ),
    ),
)


@dataclasses.dataclass(frozen=True)
class Slice:
    """One group of complaints: a month, root cause, category, community or party."""

    key: object
    label: str
    complaints: int
    resolved: int
    within_day: int  # resolved within 24 h of submission
    median: figures.Duration | None

    @property
    def resolved_share(self) -> Decimal | None:
        return figures.percent(self.resolved, self.complaints)


@dataclasses.dataclass(frozen=True)
class StaffRow:
    staff_id: int
    name: str
    complaints: int
    resolved: int
    last_at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Complainant:
    """A house or a contact mobile with two or more complaints in the range."""

    house_id: int | None
    label: str  # the house's address, or the contact name and masked mobile
    complaints: int
    last_at: datetime.datetime
    last_order_id: int
    last_order_number: str


@dataclasses.dataclass(frozen=True)
class Iceberg:
    complaints: int
    factor: int
    default_factor: int

    @property
    def estimate(self) -> int:
        return self.complaints * self.factor

    @property
    def silent(self) -> int:
        """Of the estimate, those who did not complain (24 of every 25)."""
        return self.complaints * (self.factor - 1)

    @property
    def is_default(self) -> bool:
        return self.factor == self.default_factor


@dataclasses.dataclass(frozen=True)
class ComplaintAnalytics:
    scope: figures.Scope
    complaints: int
    households: int
    resolved: int
    within_day: int
    repeat_complaints: int  # the same house complained in the 90 days before
    median: figures.Duration | None
    p90: figures.Duration | None
    iceberg: Iceberg
    by_month: list[Slice]
    by_root_cause: list[Slice]
    by_category: list[Slice]
    by_community: list[Slice]
    by_party: list[Slice]
    staff: list[StaffRow]
    staff_count: int
    repeat_houses: list[Complainant]
    repeat_house_count: int
    repeat_mobiles: list[Complainant]
    repeat_mobile_count: int

    @property
    def per_thousand(self) -> Decimal | None:
        return figures.mean(self.complaints * 1000, self.households, "0.1")

    @property
    def resolved_share(self) -> Decimal | None:
        return figures.percent(self.resolved, self.complaints)

    @property
    def within_day_share(self) -> Decimal | None:
        return figures.percent(self.within_day, self.complaints)

    @property
    def repeat_share(self) -> Decimal | None:
        return figures.percent(self.repeat_complaints, self.complaints)


def iceberg_factor(company_id: int) -> int:
    return figures.settings_of(company_id).iceberg_factor


def complaint_analytics(
    scope: figures.Scope, *, limit: int | None = SHOWN, now=None
) -> ComplaintAnalytics:
    """Every complaint figure of ``scope``; the staff and repeat-complainant tables keep
    their ``limit`` first rows (None: all, for the workbook)."""
    now = now or timezone.now()
    total = _complaint_sums(scope, (), now)
    total = total[0] if total else figures.total([])
    orders = _complaint_orders(scope)
    staff, staff_count = _staff(orders, limit)
    houses, house_count = _repeat_houses(orders, limit)
    mobiles, mobile_count = _repeat_mobiles(orders, limit)
    return ComplaintAnalytics(
        scope=scope,
        complaints=total["created"],
        households=_households(scope),
        resolved=total["completed"],
        within_day=_within_day(total),
        repeat_complaints=total["repeat_complaints"],
        median=figures.percentile(total, "resolution", 0.5),
        p90=figures.percentile(total, "resolution", 0.9),
        iceberg=Iceberg(
            complaints=total["created"],
            factor=iceberg_factor(scope.company_id),
            default_factor=QualitySettings._meta.get_field("iceberg_factor").default,
        ),
        by_month=_by_month(scope, now),
        by_root_cause=_by_root_cause(scope, now),
        by_category=_by_category(scope, now),
        by_community=_by_community(scope, now),
        by_party=_by_party(orders, now),
        staff=staff,
        staff_count=staff_count,
        repeat_houses=houses,
        repeat_house_count=house_count,
        repeat_mobiles=mobiles,
        repeat_mobile_count=mobile_count,
    )


# --- from the rollups ----------------------------------------------------------------
def _complaint_sums(scope, by: tuple[str, ...], now) -> list[dict]:
    rows = figures.measure_sums(scope, by=("request_type", *by), now=now)
    return [row for row in rows if row["request_type"] == RequestType.COMPLAINT]


def _within_day(sums: dict) -> int:
    return sum(sums[f"resolution_b{band}"] for band in range(WITHIN_DAY_BANDS))


def _slice(key, label, sums: dict) -> Slice:
    return Slice(
        key=key,
        label=str(label),
        complaints=sums["created"],
        resolved=sums["completed"],
        within_day=_within_day(sums),
        median=figures.percentile(sums, "resolution", 0.5),
    )


def _most_first(slices: list[Slice]) -> list[Slice]:
    return sorted(slices, key=lambda s: (-s.complaints, s.label))


def _by_month(scope, now) -> list[Slice]:
    """Every month of the range, those without complaints too (a trend has no gaps)."""
    found = {row["month"]: row for row in _complaint_sums(scope, ("month",), now)}
    slices, month = [], scope.first.replace(day=1)
    while month <= scope.last:
        sums = found.get(month, figures.total([]))
        slices.append(_slice(month, month.strftime("%Y-%m"), sums))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return slices


def _by_root_cause(scope, now) -> list[Slice]:
    labels = dict(RootCause.choices)
    return _most_first(
        [
            _slice(row["root_cause"], labels.get(row["root_cause"], NOT_RECORDED), row)
            for row in _complaint_sums(scope, ("root_cause",), now)
        ]
    )


def _by_category(scope, now) -> list[Slice]:
    rows = _complaint_sums(scope, ("category_id",), now)
    names = {
        category.id: str(category)
        for category in Category.objects.filter(
            id__in=[row["category_id"] for row in rows]
        ).select_related("parent")
    }
    return _most_first([_slice(r["category_id"], names[r["category_id"]], r) for r in rows])


def _by_community(scope, now) -> list[Slice]:
    rows = _complaint_sums(scope, ("community_id",), now)
    names = dict(
        Community.objects.filter(id__in=[row["community_id"] for row in rows]).values_list(
            "id", "name"
        )
    )
    return _most_first([_slice(r["community_id"], names[r["community_id"]], r) for r in rows])


def _households(scope) -> int:
    houses = House.objects.filter(company_id=scope.company_id, kind=House.Kind.RESIDENCE)
    if scope.community_ids is not None:
        houses = houses.filter(community_id__in=scope.community_ids)
    return houses.count()


# --- from the complaint orders --------------------------------------------------------
def _complaint_orders(scope):
    """The scope's complaints submitted in its days: an index range per community."""
    return figures.orders_of(scope).filter(
        request_type=RequestType.COMPLAINT,
        submitted_at__gte=scope.starts_at,
        submitted_at__lt=scope.ends_at,
    )


RESOLUTION_MEASURES = ("created", "completed", *(f"resolution_b{b}" for b in range(10)))


def _by_party(orders, now) -> list[Slice]:
    """By the kind of party complained about; complaints without details count as
    "other / not stated", the model's default."""
    measures = order_measures(now=now)
    rows = (
        orders.annotate(
            party=Coalesce(
                "complaint__party_kind", Value(ComplaintParty.OTHER), output_field=CharField()
            )
        )
        .values("party")
        .annotate(**{name: measures[name] for name in RESOLUTION_MEASURES})
        .order_by()
    )
    labels = dict(ComplaintParty.choices)
    return _most_first([_slice(row["party"], labels[row["party"]], row) for row in rows])


def _cut(queryset, limit):
    return list(queryset if limit is None else queryset[:limit])


def _staff(orders, limit) -> tuple[list[StaffRow], int]:
    """The staff members complained about, most complained about first."""
    named = orders.filter(complaint__party_staff__isnull=False)
    rows = (
        named.values("complaint__party_staff_id", "complaint__party_staff__name")
        .annotate(
            complaints=Count("id"),
            resolved=Count("id", filter=Q(completed_at__isnull=False)),
            last_at=Max("submitted_at"),
        )
        .order_by("-complaints", "complaint__party_staff__name", "complaint__party_staff_id")
    )
    staff = [
        StaffRow(
            staff_id=row["complaint__party_staff_id"],
            name=row["complaint__party_staff__name"],
            complaints=row["complaints"],
            resolved=row["resolved"],
            last_at=row["last_at"],
        )
        for row in _cut(rows, limit)
    ]
    count = len(staff)
    if limit is not None and count == limit:
        count = named.values("complaint__party_staff_id").distinct().count()
    return staff, count


def _repeats(orders, field: str, present: Q, limit):
    """(rows, their newest orders by id, how many) of the ``field`` values with two or
    more complaints: each row has the count, the newest submission and its order's id."""
    newest = (
        orders.filter(**{field: OuterRef(field)}).order_by("-submitted_at", "-id").values("id")[:1]
    )
    grouped = (
        orders.filter(present)
        .values(field)
        # Columns of wo_company_complaints_idx only: company-wide, no table reads.
        .annotate(complaints=Count("submitted_at"), last_at=Max("submitted_at"))
        .filter(complaints__gte=2)
    )
    rows = _cut(
        # groups: how many values have two or more, counted over the whole grouped
        # result before the limit (one scan instead of a second COUNT query).
        grouped.annotate(last_id=Subquery(newest), groups=Window(Count("*"))).order_by(
            "-complaints", "-last_at", field
        ),
        limit,
    )
    count = rows[0]["groups"] if rows else 0
    if limit == 0:  # no rows asked for, so no window to read: counted apart
        count = grouped.count()
    newest_orders = WorkOrder.objects.in_bulk([row["last_id"] for row in rows])
    return rows, newest_orders, count


def _repeat_houses(orders, limit) -> tuple[list[Complainant], int]:
    rows, newest, count = _repeats(orders, "house_id", Q(house__isnull=False), limit)
    houses = House.objects.select_related("community", "building", "unit").in_bulk(
        [row["house_id"] for row in rows]
    )
    return [
        Complainant(
            house_id=row["house_id"],
            label=houses[row["house_id"]].address,
            complaints=row["complaints"],
            last_at=row["last_at"],
            last_order_id=row["last_id"],
            last_order_number=newest[row["last_id"]].number,
        )
        for row in rows
    ], count


def _repeat_mobiles(orders, limit) -> tuple[list[Complainant], int]:
    """Complainants by the contact mobile they gave (H5 and phone alike), named as on
    their newest complaint; the mobile is masked."""
    rows, newest, count = _repeats(orders, "contact_mobile", ~Q(contact_mobile=""), limit)
    return [
        Complainant(
            house_id=newest[row["last_id"]].house_id,
            label=" ".join(
                filter(
                    None, [newest[row["last_id"]].contact_name, mask_mobile(row["contact_mobile"])]
                )
            ),
            complaints=row["complaints"],
            last_at=row["last_at"],
            last_order_id=row["last_id"],
            last_order_number=newest[row["last_id"]].number,
        )
        for row in rows
    ], count
