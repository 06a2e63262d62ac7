"""The quality rollups: written by the database, equal to the raw orders' figures, and
kept current by the incremental refresh."""

import datetime

import pytest
from django.db.models import Sum
from django.utils import timezone

from tests.workorder_helpers import completed_repair
from wuye.quality import rollups
from wuye.quality.models import MEASURES, DailyRollup, MonthlyRollup
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, WorkOrder

pytestmark = pytest.mark.django_db


def _raw_totals(now):
    rows = rollups.annotate_orders(WorkOrder.objects.all()).aggregate(
        **rollups.order_measures(now=now)
    )
    return rows


def _rollup_totals(model, dimension=""):
    """One breakdown's rows (each breakdown sums to the same totals)."""
    rows = model.objects.filter(dimension=dimension)
    return rows.aggregate(**{name: Sum(name) for name in MEASURES})


def _complaint(cast, house):
    return wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.filter(company=cast.company, request_type="complaint")
        .exclude(parent=None)
        .first(),
        house=house,
        channel=Channel.RESIDENT_H5,
        description="噪音扰民",
    )


def test_rollups_equal_the_raw_orders_and_count_what_happened(cast):
    order = completed_repair(cast)
    wo.rate_order(
        actor=cast.actor("resident_a"), order=order, overall=5, professionalism=4, empathy=5
    )
    _complaint(cast, cast.house_a)
    _complaint(cast, cast.house_a)  # a repeat: the same house within 90 days
    now = timezone.now()

    result = rollups.rebuild(now=now)

    assert result.full and result.day_rows >= 2
    daily, monthly = _rollup_totals(DailyRollup), _rollup_totals(MonthlyRollup)
    raw = _raw_totals(now)
    for name in MEASURES:
        assert daily[name] == raw[name], name
        assert monthly[name] == raw[name], name
    for dimension in ("category", "channel", "root_cause"):
        assert _rollup_totals(DailyRollup, dimension) == raw, dimension
    by_cause = DailyRollup.objects.filter(dimension="root_cause", request_type="complaint")
    assert sorted(by_cause.values_list("value", "created")) == [("", 2)]
    assert daily["created"] == 3
    assert daily["completed"] == 1 and daily["first_time_fixed"] == 1
    assert daily["rated"] == 1 and daily["rating_sum"] == 5 and daily["rated_good"] == 1
    assert daily["professionalism_sum"] == 4 and daily["professionalism_n"] == 1
    assert daily["appearance_n"] == 0
    assert daily["repeat_complaints"] == 1
    # The completed order stopped its clocks: it sits in exactly one band per clock.
    assert sum(daily[f"resolution_b{band}"] for band in range(10)) == daily["resolution_n"] == 1
    assert daily["resolution_time"] > datetime.timedelta(0)


def test_refresh_recomputes_only_days_with_new_events(cast):
    order = completed_repair(cast)
    first = rollups.refresh()
    assert first.full
    assert DailyRollup.objects.aggregate(n=Sum("rated"))["n"] == 0

    wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=2)
    second = rollups.refresh()

    assert not second.full and second.days == 1
    totals = _rollup_totals(DailyRollup)
    assert totals["rated"] == 1 and totals["rated_low"] == 1
    assert _rollup_totals(MonthlyRollup)["rated_low"] == 1
    assert DailyRollup.objects.filter(dimension="").count() == 1  # replaced, not added to


def test_an_open_order_past_its_deadline_counts_as_missed(cast):
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.get(company=cast.company, code="windows_glass"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="窗户关不严",
    )
    order.refresh_from_db()
    later = order.response_due + datetime.timedelta(minutes=1)

    rollups.rebuild(now=later)

    totals = _rollup_totals(DailyRollup)
    assert totals["response_missed"] == 1 and totals["response_met"] == 0


def test_figures_read_months_and_edge_days_and_match_the_raw_orders(cast):
    from wuye.quality import figures

    completed_repair(cast)
    _complaint(cast, cast.house_a)
    rollups.rebuild()
    today = timezone.localdate()
    manager = cast.actor("project_manager")
    # From the first of last month to today: one whole month plus this month's days.
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    scope = figures.scope_for(manager, first=first, last=today)
    by_type = {
        row["request_type"]: row for row in figures.measure_sums(scope, by=("request_type",))
    }
    assert by_type["repair"]["created"] == 1 and by_type["complaint"]["created"] == 1
    by_category = figures.measure_sums(scope, by=("category_id", "request_type"))
    repair_category = Category.objects.get(company=cast.company, code="windows_glass")
    assert {
        (r["category_id"], r["created"]) for r in by_category if r["request_type"] == "repair"
    } == {(repair_category.id, 1)}
    with pytest.raises(ValueError):
        figures.measure_sums(scope, by=("category_id", "channel"))
    person = figures.scope_for(manager, first=first, last=today, person=cast.staff["technician"])
    (mine,) = figures.measure_sums(person)
    assert mine["created"] == 1 and mine["completed"] == 1
    (everything,) = figures.measure_sums(scope)
    assert everything["created"] == 2
    median = figures.percentile(everything, "resolution", 0.5)
    assert median is not None and 0 <= median.minutes <= 30
    # Another community's manager sees none of it; another company's scope is a 404.
    (other,) = figures.measure_sums(
        figures.scope_for(cast.actor("manager_y"), first=first, last=today)
    )
    assert other["created"] == 0


def test_percentile_interpolates_inside_the_band():
    from wuye.quality.figures import percentile
    from wuye.quality.models import DURATION_BANDS

    sums = {f"resolution_b{band}": 0 for band in range(len(DURATION_BANDS))}
    sums["resolution_b0"] = 2  # 0–30 min
    sums["resolution_b1"] = 2  # 30–60 min
    assert percentile(sums, "resolution", 0.5).minutes == 30
    assert percentile(sums, "resolution", 0.75).minutes == 45
    sums["resolution_b9"] = 100  # over a week
    assert percentile(sums, "resolution", 0.9).open_ended


def test_the_command_rebuilds_and_refreshes(cast):
    from io import StringIO

    from django.core.management import call_command

    completed_repair(cast)
    out = StringIO()
    call_command("quality_rollups", "--full", stdout=out)
    assert out.getvalue().startswith("rebuilt:")
    call_command("quality_rollups", stdout=out)
    assert "refreshed 1 community-days" in out.getvalue()
