"""Facilities reports (issue 4, part 7): completion by plan, person and community,
abnormal findings with their work orders, overdue and missed tasks, equipment
downtime / MTBF / MTTR, the Excel workbook, and scoping of each."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.facility_helpers import make_pump_round
from wuye.facilities import reports, rounds
from wuye.facilities import services as fac
from wuye.facilities.models import Answer, Asset, Downtime, Plan, RoundKind, Task, Visit
from wuye.workorders.models import WorkOrder

CST = datetime.timezone(datetime.timedelta(hours=8))
D1, D2, D3 = (datetime.date(2026, 12, d) for d in (1, 2, 3))
PERIOD = reports.Period(D1, D3)
NOW = datetime.datetime(2026, 12, 3, 12, tzinfo=CST)


def at(day, hour, minute=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _task(plan, day, status, *, hours=(9, 11), completed=None, assignee=None):
    return Task.objects.create(
        company_id=plan.company_id,
        community_id=plan.community_id,
        plan=plan,
        kind=plan.kind,
        date=day,
        opens_at=at(day, hours[0]),
        closes_at=at(day, hours[1]),
        assignee=assignee or plan.assignee,
        status=status,
        completed_at=completed,
    )


@pytest.fixture
def rounds_done(cast, time_machine):
    """Three days of rounds, seen at 2026-12-03 12:00.

    X pump round (technician): 12-01 done on time with two abnormal answers (one opened
    a work order), 12-02 finished late (11:30), 12-03 still to do after its 09–11 window.
    X maintenance (technician, acceptance): 12-01 awaiting acceptance, 12-02 missed after
    a late check-in, 12-03 14–16 not yet due. Y pump round (technician_y): 12-01 done."""
    time_machine.move_to(at(D1, 9, 30), tick=False)
    x = make_pump_round(cast, D1)
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=x["pump"].qr_token)
    rounds.record_answers(
        actor=me, visit=visit, answers={x["pressure"].pk: "0.2", x["noise"].pk: "异常"}
    )
    time_machine.move_to(at(D1, 10, 30), tick=False)
    rounds.finish(actor=me, task=x["task"])
    _task(x["plan"], D2, Task.Status.DONE, completed=at(D2, 11, 30))
    _task(x["plan"], D3, Task.Status.PENDING)
    upkeep = Plan.objects.create(
        company=cast.company,
        community=cast.community_x,
        kind=RoundKind.MAINTENANCE,
        name="水泵月保养",
        template=x["template"],
        window_start=datetime.time(9),
        window_end=datetime.time(11),
        assignee=cast.staff["technician"],
        requires_acceptance=True,
        starts_on=D1,
    )
    _task(upkeep, D1, Task.Status.AWAITING_ACCEPTANCE, completed=at(D1, 10))
    missed = _task(upkeep, D2, Task.Status.MISSED)
    stop = x["plan"].stops.get()
    Visit.objects.create(task=missed, stop=stop, scanned_at=at(D2, 11, 20), timing="late")
    _task(upkeep, D3, Task.Status.PENDING, hours=(14, 16))
    y = make_pump_round(cast, D1, community=cast.community_y, assignee="technician_y")
    Task.objects.filter(pk=y["task"].pk).update(status=Task.Status.DONE, completed_at=at(D1, 10))
    time_machine.move_to(NOW, tick=False)
    return {"x": x, "upkeep": upkeep, "y": y, "order": WorkOrder.objects.get()}


def _visible_tasks(cast, name):
    return reports.tasks_in(Task.objects.visible_to(cast.actor(name)), PERIOD)


COUNTS = ("due", "done", "awaiting", "missed", "open", "late", "upcoming", "rate")


def _counts(row):
    return tuple(row[k] for k in COUNTS)


# --- completion -------------------------------------------------------------------------
def test_completion_summary_follows_the_definitions(cast, rounds_done):
    summary = reports.completion_summary(_visible_tasks(cast, "company_admin"), now=NOW)
    # due = done 4 (one awaiting) + missed 1 + open 1; the 14:00 upkeep is not yet due
    assert _counts(summary) == (6, 4, 1, 1, 1, 2, 1, Decimal("66.7"))
    assert summary["abnormal"] == 2


def test_completion_by_plan_person_and_community(cast, rounds_done):
    tasks = _visible_tasks(cast, "company_admin")
    by_plan = {r["name"]: r for r in reports.completion_by(tasks, "plan", now=NOW)}
    pump_x = by_plan["水泵房日检 翠湖花园"]
    assert _counts(pump_x) == (3, 2, 0, 0, 1, 1, 0, Decimal("66.7"))
    assert pump_x["community"] == "翠湖花园"
    assert _counts(by_plan["水泵月保养"]) == (2, 1, 1, 1, 0, 1, 1, Decimal("50.0"))
    assert _counts(by_plan["水泵房日检 锦绣苑"]) == (1, 1, 0, 0, 0, 0, 0, Decimal("100.0"))

    by_person = {r["name"]: r for r in reports.completion_by(tasks, "person", now=NOW)}
    assert _counts(by_person["technician"])[:2] == (5, 3)
    assert _counts(by_person["technician_y"])[:2] == (1, 1)

    rows = reports.completion_by(tasks, "community", now=NOW)
    assert [(r["name"], r["rate"]) for r in rows] == [
        ("翠湖花园", Decimal("60.0")),  # lowest rate first
        ("锦绣苑", Decimal("100.0")),
    ]


def test_completion_is_two_queries_whatever_the_number_of_tasks(
    cast, rounds_done, django_assert_num_queries
):
    tasks = _visible_tasks(cast, "company_admin")
    with django_assert_num_queries(2):
        reports.completion_summary(tasks, now=NOW)
        reports.completion_by(tasks, "plan", now=NOW)


def test_an_empty_range_has_no_rate(cast, rounds_done):
    tasks = reports.tasks_in(Task.objects.all(), reports.Period(D3, D3), kind=RoundKind.PATROL)
    summary = reports.completion_summary(tasks, now=NOW)
    assert summary["due"] == 0 and summary["rate"] is None
    assert reports.completion_by(tasks, "plan", now=NOW) == []


def test_each_reader_counts_only_their_communities(cast, rounds_done):
    def communities(name):
        rows = reports.completion_by(_visible_tasks(cast, name), "community", now=NOW)
        return {r["name"] for r in rows}

    assert communities("project_manager") == {"翠湖花园"}
    assert communities("manager_y") == {"锦绣苑"}
    assert communities("quality") == {"翠湖花园", "锦绣苑"}  # company-wide viewer
    assert communities("other_admin") == set()
    assert communities("resident_a") == set()


# --- findings, overdue ------------------------------------------------------------------
def test_abnormal_answers_and_the_orders_they_opened(cast, rounds_done):
    tasks = _visible_tasks(cast, "project_manager")
    summary = reports.anomaly_summary(tasks)
    assert (summary["answers"], summary["tasks"], summary["orders"]) == (2, 1, 1)
    assert summary["orders_by_status"] == [("Submitted", 1)]
    assert summary["open_orders"] == 1
    found = list(reports.anomalies(tasks))
    assert {(a.item.label, reports.answer_text(a)) for a in found} == {
        ("出水压力", "0.200 MPa"),
        ("运行声音", "Abnormal"),
    }
    assert {a.work_order for a in found} == {rounds_done["order"], None}
    assert reports.anomaly_summary(_visible_tasks(cast, "manager_y"))["answers"] == 0


def test_overdue_and_missed_tasks(cast, rounds_done):
    rows = reports.overdue_and_missed(_visible_tasks(cast, "company_admin"), now=NOW)
    assert [(t.plan.name, t.date, t.status) for t in rows] == [
        ("水泵房日检 翠湖花园", D3, Task.Status.PENDING),  # window closed at 11:00
        ("水泵月保养", D2, Task.Status.MISSED),
    ]


# --- equipment --------------------------------------------------------------------------
@pytest.fixture
def pump_history(cast, rounds_done):
    """Pump X: repaired 11-30 22:00 → 12-01 01:00 (before the range), repaired
    12-01 20:00 → 12-02 02:00, stopped since 12-03 06:00. Pump Y installed 12-02,
    never down. A fan in X scrapped on 12-02 00:00."""
    admin = cast.actor("company_admin")
    pump = rounds_done["x"]["pump"]
    for status, moment in (
        ("repairing", datetime.datetime(2026, 11, 30, 22, tzinfo=CST)),
        ("running", at(D1, 1)),
        ("repairing", at(D1, 20)),
        ("running", at(D2, 2)),
        ("stopped", at(D3, 6)),
    ):
        fac.change_status(actor=admin, asset=pump, status=status, reason="漏水", at=moment)
    pump_y = rounds_done["y"]["pump"]
    Asset.objects.filter(pk=pump_y.pk).update(installed_on=D2)
    fan = fac.create_asset(
        actor=admin, community=cast.community_x, category=pump.category, name="排风机"
    )
    fac.change_status(actor=admin, asset=fan, status="scrapped", reason="报废", at=at(D2, 0))
    return {"pump": pump, "pump_y": pump_y, "fan": fan}


def _figures(cast, name="company_admin"):
    assets = Asset.objects.visible_to(cast.actor(name))
    return {f.asset: f for f in reports.asset_figures(assets, PERIOD, now=NOW)}


def test_downtime_failures_mtbf_and_mttr(cast, pump_history):
    figures = _figures(cast)
    assert next(iter(figures)) == pump_history["pump"]  # most failures first
    pump = figures[pump_history["pump"]]
    assert pump.span_hours == Decimal("60.0")  # 12-01 00:00 → now (12-03 12:00)
    assert pump.downtime_hours == Decimal("13.0")  # 1 (clipped) + 6 + 6 (open, up to now)
    # the repair of 12-01 and the work order the inspection opened
    assert (pump.failures, pump.repairs, pump.repair_hours) == (2, 1, Decimal("6.0"))
    assert pump.operating_hours == Decimal("47.0")
    assert pump.mtbf_hours == Decimal("23.5") and pump.mttr_hours == Decimal("6.0")
    assert pump.availability == Decimal("78.3")


def test_an_order_recorded_by_its_repair_is_one_failure(cast, pump_history, rounds_done):
    Downtime.objects.filter(status="repairing", started_at=at(D1, 20)).update(
        work_order=rounds_done["order"]
    )
    pump = _figures(cast)[pump_history["pump"]]
    assert pump.failures == 1 and pump.mtbf_hours == Decimal("47.0")


def test_no_failure_shows_no_mtbf_and_spans_are_clipped(cast, pump_history):
    by_asset = _figures(cast)
    pump_y = by_asset[pump_history["pump_y"]]
    assert pump_y.span_hours == Decimal("36.0")  # installed 12-02
    assert (pump_y.failures, pump_y.mtbf_hours, pump_y.mttr_hours) == (0, None, None)
    assert pump_y.availability == Decimal("100.0")
    fan = by_asset[pump_history["fan"]]
    assert fan.span_hours == Decimal("24.0") and fan.downtime_hours == 0  # scrapped 12-02
    later = reports.asset_figures(
        Asset.objects.filter(pk=pump_history["fan"].pk), reports.Period(D3, D3), now=NOW
    )
    assert later == []  # scrapped before that range


def test_equipment_figures_are_scoped_and_take_three_queries(
    cast, pump_history, django_assert_num_queries
):
    assert set(_figures(cast, "manager_y")) == {pump_history["pump_y"]}
    assert _figures(cast, "other_admin") == {}
    assets = Asset.objects.visible_to(cast.actor("company_admin"))
    with django_assert_num_queries(3):
        reports.asset_figures(assets, PERIOD, now=NOW)


# --- pages and the workbook -------------------------------------------------------------
RANGE = "?date_from=2026-12-01&date_to=2026-12-03"


def _get(cast, name, url_name, query=RANGE):
    return cast.client(name).get(reverse(f"facility_reports:{url_name}") + query)


def test_report_pages_show_the_figures(cast, pump_history):
    page = _get(cast, "dispatcher", "completion").content.decode()
    assert "水泵房日检 翠湖花园" in page and "66.7%" in page and "锦绣苑" not in page
    page = _get(cast, "dispatcher", "completion", RANGE + "&group=person").content.decode()
    assert "technician" in page and "水泵房日检" not in page
    page = _get(cast, "dispatcher", "anomalies").content.decode()
    assert rounds_order_number(pump_history) in page and "0.200 MPa" in page
    page = _get(cast, "dispatcher", "overdue").content.decode()
    assert "Missed" in page and "Overdue" in page
    page = _get(cast, "dispatcher", "assets").content.decode()
    assert "23.5" in page and "78.3%" in page and "MTBF" in page


def rounds_order_number(pump_history):
    return WorkOrder.objects.get(asset=pump_history["pump"]).number


def test_the_range_defaults_to_the_last_30_days(cast, rounds_done):
    response = _get(cast, "project_manager", "completion", "")
    assert response.status_code == 200
    form = response.context["form"]
    assert (form.period.first, form.period.last) == (datetime.date(2026, 11, 4), D3)
    assert response.context["summary"]["due"] == 5


@pytest.mark.parametrize(
    "query, message",
    [
        ("?date_from=2026-12-03&date_to=2026-12-01", "must end on or after its first day"),
        ("?date_from=2025-01-01&date_to=2026-12-01", "at most 366 days"),
        ("?date_from=yesterday&date_to=2026-12-01", "Enter a valid date"),
    ],
)
def test_bad_filters_say_what_is_wrong(cast, rounds_done, query, message):
    response = _get(cast, "project_manager", "completion", query)
    assert response.status_code == 200 and message in response.content.decode()
    export = _get(cast, "project_manager", "export", query)
    assert export.status_code == 400 and message in export.content.decode()


def test_a_community_of_another_scope_is_refused(cast, rounds_done):
    query = RANGE + f"&community={cast.community_y.pk}"
    response = _get(cast, "project_manager", "completion", query)
    assert "Select a valid choice" in response.content.decode()
    assert "summary" not in response.context


def test_pages_need_facilities_view(cast, rounds_done):
    for name, status in (("technician", 403), ("finance", 403), ("quality", 200)):
        assert _get(cast, name, "completion").status_code == status
    assert _get(cast, None, "completion").status_code == 302


def test_pages_take_as_many_queries_however_much_data(cast, rounds_done):
    client = cast.client("company_admin")
    pages = ("completion", "anomalies", "overdue", "assets", "export")

    def queries():
        counts = {}
        for name in pages:
            with CaptureQueriesContext(connection) as run:
                response = client.get(reverse(f"facility_reports:{name}") + RANGE)
                assert response.status_code == 200
            counts[name] = len(run)
        return counts

    before = queries()
    assert before["completion"] <= 12 and before["assets"] <= 12
    more = make_pump_round(cast, D2, community=cast.community_y, assignee="technician_y")
    visit = Visit.objects.create(
        task=more["task"], stop=more["plan"].stops.get(), scanned_at=at(D2, 9), timing="on_time"
    )
    Answer.objects.create(visit=visit, item=more["noise"], value=False, is_abnormal=True)
    _task(more["plan"], D1, Task.Status.MISSED)
    fac.change_status(
        actor=cast.actor("company_admin"),
        asset=more["pump"],
        status="repairing",
        reason="漏水",
        at=at(D2, 12),
    )
    assert queries() == before


def test_the_workbook_has_every_report(cast, pump_history):
    response = _get(cast, "project_manager", "export")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == [
        "Summary",
        "By plan",
        "By person",
        "By community",
        "Abnormal answers",
        "Overdue and missed",
        "Equipment",
    ]
    summary = {}
    for row in book["Summary"].iter_rows(values_only=True):  # figures, then definitions
        summary.setdefault(row[0], row[1])
    assert summary["Due"] == 5 and summary["Rate (%)"] == 60
    by_plan = list(book["By plan"].iter_rows(values_only=True))
    assert by_plan[1][:9] == ("水泵月保养", "翠湖花园", 2, 1, 1, 1, 0, 1, 50)
    assert len(list(book["Abnormal answers"].iter_rows())) == 3  # header + two answers
    overdue = book["Overdue and missed"].iter_rows(min_row=2, values_only=True)
    assert [r[6] for r in overdue] == ["Overdue", "Missed"]  # latest window first
    equipment = list(book["Equipment"].iter_rows(values_only=True))
    pump = next(r for r in equipment if r[1] == "1号生活水泵")
    assert pump[5:] == (60, 13, 47, 78.3, 2, 1, 6, 23.5, 6)
    assert "锦绣苑" not in str(equipment)  # the X manager's workbook
    fan = next(r for r in equipment if r[1] == "排风机")
    assert fan[-2:] == ("—", "—")
