"""Complaint analytics (issue 7, part 3): exact figures over complaints made through the
real services and read from the rebuilt rollups, the iceberg estimate, repeat
complainants, scoping, the console page, the workbook and the API."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from api_helpers import bearer_client, get
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from wuye.quality import complaints, figures, rollups
from wuye.quality.models import QualitySettings
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, ComplaintParty, RootCause, Status


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # pages: their text is asserted in English


pytestmark = pytest.mark.django_db

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)  # a Friday, office hours
MONTH = {"first": datetime.date(2026, 11, 1), "last": datetime.date(2026, 11, 30)}
MOBILE = "13800000001"


def _category(cast, code):
    return Category.objects.get(company=cast.company, code=code)


def _complaint(cast, actor, house, code, mobile=MOBILE, **details):
    resident = actor.startswith("resident")
    return wo.submit_order(
        actor=cast.actor(actor),
        category=_category(cast, code),
        house=house,
        channel=Channel.RESIDENT_H5 if resident else Channel.PHONE,
        description="投诉",
        contact_name="王芳",
        contact_mobile=mobile,
        complaint=details,
    )


def _resolve(cast, actor, order, cause):
    who = cast.actor(actor)
    if order.status == Status.SUBMITTED:  # staff intake is accepted already
        order = wo.accept_order(actor=who, order=order)
    return wo.resolve_order(actor=who, order=order, resolution="已处理", root_cause=cause)


@pytest.fixture
def complaints_made(cast, time_machine):
    """Community X: house A complains twice (the guard, resolved in 2 h; a department,
    open); house B once by phone (the guard, resolved in 30 h, same mobile as A's).
    Community Y: one neighbour complaint, resolved in 1 h. Rollups rebuilt after."""
    guard = cast.staff["guard"]

    def at(minutes):
        time_machine.move_to(NOW + datetime.timedelta(minutes=minutes), tick=False)

    at(0)
    first = _complaint(
        cast, "resident_a", cast.house_a, "service_attitude", party_kind="staff", party_staff=guard
    )
    at(1)
    second = _complaint(
        cast, "resident_a", cast.house_a, "noise_neighbour", party_kind="department",
        party_name="工程部",
    )  # fmt: skip
    at(2)
    third = _complaint(
        cast, "dispatcher", cast.house_b, "security", party_kind="staff", party_staff=guard
    )
    at(3)
    fourth = _complaint(
        cast, "manager_y", cast.house_y, "noise_neighbour", mobile="13800000009",
        party_kind="neighbour", party_name="0202",
    )  # fmt: skip
    at(3 + 60)
    _resolve(cast, "manager_y", fourth, RootCause.NEIGHBOUR)
    at(120)
    _resolve(cast, "service_supervisor", first, RootCause.ATTITUDE)
    at(2 + 30 * 60)
    _resolve(cast, "service_supervisor", third, RootCause.QUALITY)
    at(31 * 60)
    rollups.rebuild()
    return {"first": first, "second": second, "third": third, "fourth": fourth}


def _analytics(cast, name="project_manager", **kwargs):
    return complaints.complaint_analytics(
        figures.scope_for(cast.actor(name), **{**MONTH, **kwargs})
    )


def _slices(slices):
    return {s.key: (s.complaints, s.resolved, s.within_day) for s in slices}


def test_the_headline_figures_of_a_community(cast, complaints_made):
    a = _analytics(cast)
    assert a.complaints == 3 and a.households == 2
    assert a.per_thousand == Decimal("1500.0")
    assert a.resolved == 2 and a.resolved_share == Decimal("66.7")
    assert a.within_day == 1 and a.within_day_share == Decimal("33.3")
    assert a.repeat_complaints == 1  # house A's second
    # 2 h falls in the 1–2 h band, 30 h in the 24–48 h band: interpolated estimates.
    assert a.median.minutes == 120
    assert a.p90.minutes == pytest.approx(1440 + 0.8 * 1440)


def test_the_breakdowns(cast, complaints_made):
    a = _analytics(cast)
    assert [s.label for s in a.by_month] == ["2026-11"]
    assert _slices(a.by_month) == {datetime.date(2026, 11, 1): (3, 2, 1)}
    assert _slices(a.by_root_cause) == {"attitude": (1, 1, 1), "quality": (1, 1, 0), "": (1, 0, 0)}
    with translation.override("en"):
        labels = {s.key: s.label for s in _analytics(cast).by_root_cause}
    assert labels[""] == "Not yet recorded"
    by_category = {s.label: s.complaints for s in a.by_category}
    assert by_category == {
        "服务 › 服务态度": 1,
        "噪音扰民 › 邻里噪音": 1,
        "安全秩序 › 治安/门岗": 1,
    }
    assert _slices(a.by_community) == {cast.community_x.id: (3, 2, 1)}
    assert _slices(a.by_party) == {"staff": (2, 2, 1), "department": (1, 0, 0)}
    assert a.by_party[0].key == ComplaintParty.STAFF  # most first
    (guard,) = a.staff
    assert (guard.name, guard.complaints, guard.resolved) == ("guard", 2, 2)
    assert a.staff_count == 1


def test_months_without_complaints_are_in_the_trend(cast, complaints_made):
    a = _analytics(cast, first=datetime.date(2026, 9, 15), last=datetime.date(2026, 11, 27))
    assert [(s.label, s.complaints) for s in a.by_month] == [
        ("2026-09", 0),
        ("2026-10", 0),
        ("2026-11", 3),
    ]


def test_part_of_a_month_reads_the_daily_rollups(cast, complaints_made):
    a = _analytics(cast, first=datetime.date(2026, 11, 27), last=datetime.date(2026, 11, 28))
    assert a.complaints == 3 and a.resolved == 2
    assert _analytics(cast, last=datetime.date(2026, 11, 26)).complaints == 0


def test_repeat_complainants(cast, complaints_made):
    a = _analytics(cast)
    (house,) = a.repeat_houses
    assert house.house_id == cast.house_a.id and house.complaints == 2
    assert house.label == cast.house_a.address
    assert house.last_order_id == complaints_made["second"].id
    assert house.last_at == complaints_made["second"].submitted_at
    assert a.repeat_house_count == 1
    # The same mobile complained for house A twice and by phone for house B.
    (mobile,) = a.repeat_mobiles
    assert mobile.complaints == 3 and mobile.label == "王芳 138****0001"
    assert mobile.last_order_id == complaints_made["third"].id
    # Cut to one row, the count still says how many there are.
    limited = complaints.complaint_analytics(
        figures.scope_for(cast.actor("project_manager"), **MONTH), limit=1
    )
    assert len(limited.repeat_houses) == 1 and limited.repeat_house_count == 1


def test_a_cut_list_still_counts_every_repeat_complainant(cast, complaints_made):
    _complaint(cast, "dispatcher", cast.house_b, "security", mobile="13800000008")
    whole = _analytics(cast)
    assert [h.house_id for h in whole.repeat_houses] == [cast.house_b.id, cast.house_a.id]
    limited = complaints.complaint_analytics(
        figures.scope_for(cast.actor("project_manager"), **MONTH), limit=1
    )
    assert [h.house_id for h in limited.repeat_houses] == [cast.house_b.id]
    assert limited.repeat_house_count == whole.repeat_house_count == 2
    assert limited.repeat_mobile_count == 1  # 13800000008 complained once
    counted = complaints.complaint_analytics(
        figures.scope_for(cast.actor("project_manager"), **MONTH), limit=0
    )
    assert not counted.repeat_houses and counted.repeat_house_count == 2


def test_the_iceberg_uses_the_company_factor(cast, complaints_made):
    a = _analytics(cast)
    assert (a.iceberg.factor, a.iceberg.estimate, a.iceberg.is_default) == (25, 75, True)
    assert a.iceberg.silent == 72
    QualitySettings.objects.create(company=cast.company, iceberg_factor=10)
    changed = _analytics(cast).iceberg
    assert (changed.factor, changed.estimate, changed.is_default) == (10, 30, False)


def test_scoping(cast, complaints_made):
    everything = _analytics(cast, name="company_admin")
    assert everything.complaints == 4 and everything.households == 3
    assert _slices(everything.by_party)["neighbour"] == (1, 1, 1)
    assert {s.key for s in everything.by_community} == {cast.community_x.id, cast.community_y.id}
    mine = _analytics(cast, name="manager_y")
    assert mine.complaints == 1 and not mine.repeat_houses and not mine.staff
    assert mine.by_party[0].key == ComplaintParty.NEIGHBOUR
    assert _analytics(cast, name="other_admin").complaints == 0
    assert not _analytics(cast, name="other_admin").repeat_mobiles
    for name in ("technician", "dispatcher", "resident_a"):
        with pytest.raises(PermissionDenied):
            _analytics(cast, name=name)


def test_the_page(cast, complaints_made):
    client = cast.client("project_manager")
    with translation.override("en"):
        response = client.get(reverse("quality_complaints:overview"), {"date_from": "2026-11-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "≈ 75" in body and "silently dissatisfied" in body
    assert cast.house_a.address in body and complaints_made["second"].number in body
    assert "138****0001" in body and MOBILE not in body
    assert 'id="complaint-charts"' in body and "vendor/echarts.min.js" in body


def test_the_page_shows_filter_errors_and_refuses_others(cast, complaints_made):
    client = cast.client("project_manager")
    url = reverse("quality_complaints:overview")
    bad = client.get(url, {"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert bad.status_code == 200 and "analytics" not in bad.context
    other = client.get(url, {"community": cast.community_y.id})  # not one of theirs
    assert other.status_code == 200 and "analytics" not in other.context
    assert cast.client("manager_y").get(url).context["analytics"].complaints == 1
    for name in ("technician", "dispatcher", "resident_a"):
        assert cast.client(name).get(url).status_code in (302, 403)


def test_the_page_reads_a_bounded_number_of_queries(cast, complaints_made):
    client = cast.client("company_admin")
    url = reverse("quality_complaints:overview")
    client.get(url)  # warm the session and the actor
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    for n in range(6):  # more complaints, houses and staff: the same queries
        order = _complaint(
            cast, "dispatcher", cast.house_b, "garbage", mobile=f"1390000000{n}",
            party_kind="staff", party_staff=cast.staff["cleaner"],
        )  # fmt: skip
        _complaint(cast, "dispatcher", cast.house_b, "garbage", mobile=f"1390000000{n}")
        assert order.pk
    rollups.rebuild()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    assert response.context["analytics"].complaints == 16
    assert len(many) == len(few) <= 40


def test_the_workbook(cast, complaints_made):
    response = cast.client("project_manager").get(
        reverse("quality_complaints:export"), {"date_from": "2026-11-01"}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheetnames) == 9
    summary = [row for row in book.worksheets[0].iter_rows(values_only=True)]
    assert any(75 in row for row in summary)
    staff_rows = list(book.worksheets[6].iter_rows(values_only=True))
    assert staff_rows[1][:3] == ("guard", 2, 2)
    houses = list(book.worksheets[7].iter_rows(values_only=True))
    assert houses[1][0] == cast.house_a.address and houses[1][1] == 2
    bad = cast.client("project_manager").get(
        reverse("quality_complaints:export"), {"date_from": "x"}
    )
    assert bad.status_code == 400
    assert cast.client("technician").get(reverse("quality_complaints:export")).status_code == 403


def test_the_api(cast, complaints_made):
    client = bearer_client(cast.users["project_manager"])
    response = get(client, "/quality/complaints", {"date_from": "2026-11-01", "rows": 5})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["complaints"], body["resolved"], body["within_day"]) == (3, 2, 1)
    assert body["per_thousand"] == 1500.0 and body["median_hours"] == 2.0
    assert body["iceberg"]["factor"] == 25 and body["iceberg"]["estimate"] == 75
    assert body["community_ids"] == [cast.community_x.id]
    assert {row["key"]: row["complaints"] for row in body["by_root_cause"]} == {
        "attitude": 1,
        "quality": 1,
        "": 1,
    }
    assert body["by_month"][0]["key"] == "2026-11-01"
    assert body["repeat_houses"][0]["house_id"] == cast.house_a.id
    assert body["staff"][0]["staff_id"] == cast.staff["guard"].id
    # Bad filters and a community outside the caller's scope: 400 naming the field.
    bad = get(client, "/quality/complaints", {"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert bad.status_code == 400 and "date_to" in bad.json()["detail"]
    other = get(client, "/quality/complaints", {"community": cast.community_y.id})
    assert other.status_code == 400 and "community" in other.json()["detail"]
    assert get(client, "/quality/complaints", {"rows": 0}).status_code == 422
    for name in ("technician", "resident_a"):
        refused = get(bearer_client(cast.users[name]), "/quality/complaints")
        assert refused.status_code == 403
    theirs = get(bearer_client(cast.users["other_admin"]), "/quality/complaints")
    assert theirs.status_code == 200 and theirs.json()["complaints"] == 0
