"""The household care score (wuye.quality.care): each signal's points, the cap, the
threshold, idempotent snapshots, proactive visits through the work-order engine, scoping,
the console pages and the API."""

import datetime
import json
from decimal import Decimal

import pytest
from conftest import make_house
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation

from wuye.billing import services as billing
from wuye.billing.models import Bill, FeeItem
from wuye.quality import care
from wuye.quality.models import CareSnapshot, QualitySettings
from wuye.surveys import services as surveys
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, SlaState, WorkOrder

TODAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # pages too: their text is asserted in English
    with translation.override("en"):
        yield


def _house(cast, number):
    return make_house(cast.building_x1, cast.unit_x1, number)


def _order(cast, house, *, code="windows_glass", days_ago=0, **changes):
    order = wo.submit_order(
        actor=cast.actor("company_admin"),
        category=Category.objects.get(company=cast.company, code=code),
        house=house,
        channel=Channel.PHONE,
        description="测试",
        contact_name="张先生",
        contact_mobile="13800000099",
    )
    submitted = timezone.now() - datetime.timedelta(days=days_ago)
    WorkOrder.objects.filter(pk=order.pk).update(submitted_at=submitted, **changes)
    return order


def _rated(cast, overall):
    """Resident A's repair, done and rated ``overall``."""
    from workorder_helpers import completed_repair

    order = completed_repair(cast)
    return wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=overall)


def _bill(cast, house, *, days_overdue, status=Bill.Status.OPEN):
    item = FeeItem.objects.filter(community=cast.community_x).first() or (
        billing.create_fee_item(
            actor=cast.actor("finance"),
            community=cast.community_x,
            code="wuye",
            name="物业费",
            kind=FeeItem.Kind.AREA,
            unit_price=Decimal("2.00"),
            effective_from=datetime.date(2026, 1, 1),
        )
    )
    due = timezone.localdate() - datetime.timedelta(days=days_overdue)
    return Bill.objects.create(
        company=cast.company,
        community=cast.community_x,
        house=house,
        fee_item=item,
        origin=Bill.Origin.ONE_OFF,
        period_start=due,
        period_end=due,
        amount=Decimal("100.00"),
        due_date=due,
        status=status,
    )


def _survey(cast):
    who = cast.actor("project_manager")
    survey = surveys.create_survey(
        actor=who,
        community=cast.community_x,
        title="满意度",
        closes_at=timezone.now() + datetime.timedelta(days=7),
    )
    surveys.add_question(actor=who, survey=survey, kind="scale5", text="总体评分")
    return surveys.open_survey(actor=who, survey=survey)


def _scores(cast):
    care.snapshot_community(cast.community_x)
    return {
        s.house_id: (s.score, {r["code"]: (r["count"], r["points"]) for r in s.reasons})
        for s in CareSnapshot.objects.filter(community=cast.community_x)
    }


# --- the signals --------------------------------------------------------------------------
def test_no_signal_no_row(cast):
    assert _scores(cast) == {}


def test_open_request_past_its_sla_counts_20(cast):
    _order(cast, cast.house_a, sla_state=SlaState.BREACHED, days_ago=30)
    assert _scores(cast) == {cast.house_a.pk: (20, {"sla_breached": (1, 20)})}


def test_request_open_over_7_days_counts_10(cast):
    _order(cast, cast.house_a, days_ago=8)
    _order(cast, cast.house_a, days_ago=6)  # not yet
    assert _scores(cast) == {cast.house_a.pk: (10, {"open_long": (1, 10)})}


def test_low_rating_counts_15(cast):
    _rated(cast, 2)
    assert _scores(cast) == {cast.house_a.pk: (15, {"low_rating": (1, 15)})}


def test_good_rating_counts_nothing(cast):
    _rated(cast, 4)
    assert _scores(cast) == {}


def test_complaints_10_each_and_15_more_when_repeated(cast):
    _order(cast, cast.house_a, code="noise_neighbour")
    assert _scores(cast) == {cast.house_a.pk: (10, {"complaint": (1, 10)})}
    _order(cast, cast.house_a, code="noise_neighbour")
    _order(cast, cast.house_a, code="noise_neighbour", days_ago=91, status="closed")  # too old
    assert _scores(cast) == {
        cast.house_a.pk: (35, {"complaint": (2, 20), "repeat_complaints": (1, 15)})
    }


def test_arrears_10_and_10_more_past_90_days(cast):
    _bill(cast, cast.house_a, days_overdue=5)
    _bill(cast, cast.house_a, days_overdue=0)  # due today: not overdue
    _bill(cast, cast.house_b, days_overdue=91)
    _bill(cast, cast.house_b, days_overdue=200, status=Bill.Status.PAID)
    assert _scores(cast) == {
        cast.house_a.pk: (10, {"arrears": (1, 10)}),
        cast.house_b.pk: (20, {"arrears": (1, 10), "long_arrears": (1, 10)}),
    }


def test_unanswered_survey_counts_5(cast):
    empty = _house(cast, "0909")  # nobody lives there: not reached
    survey = _survey(cast)
    surveys.submit_response(
        actor=cast.actor("resident_b"),
        survey=survey,
        answers={survey.questions.get().pk: {"score": 4}},
    )
    assert _scores(cast) == {cast.house_a.pk: (5, {"unanswered_survey": (1, 5)})}
    assert empty.pk not in _scores(cast)


def test_proactive_visits_do_not_count(cast):
    order = care.create_proactive_visit(actor=cast.actor("project_manager"), house=cast.house_a)
    WorkOrder.objects.filter(pk=order.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=20), sla_state=SlaState.BREACHED
    )
    assert _scores(cast) == {}


def test_score_is_capped_at_100(cast):
    for _ in range(6):
        _order(cast, cast.house_a, sla_state=SlaState.BREACHED)
    score, reasons = _scores(cast)[cast.house_a.pk]
    assert score == 100 and reasons == {"sla_breached": (6, 120)}


def test_other_communities_are_not_mixed_in(cast):
    _order(cast, cast.house_y, sla_state=SlaState.BREACHED)
    assert _scores(cast) == {}
    assert care.snapshot_all() == 1
    assert CareSnapshot.objects.get().house_id == cast.house_y.pk


def test_signal_queries_are_bounded(cast, django_assert_max_num_queries):
    _survey(cast)
    for number in range(5):
        _order(cast, _house(cast, f"08{number:02d}"), sla_state=SlaState.BREACHED)
    with django_assert_max_num_queries(12):  # the same for 10,000 houses
        care.snapshot_community(cast.community_x)
    assert CareSnapshot.objects.count() == 5 + 2  # the survey reaches houses A and B


# --- snapshots ----------------------------------------------------------------------------
def test_snapshot_is_idempotent_and_keeps_the_visit_link(cast):
    _order(cast, cast.house_a, sla_state=SlaState.BREACHED)
    assert care.snapshot_community(cast.community_x) == 1
    visit = care.create_proactive_visit(actor=cast.actor("project_manager"), house=cast.house_a)
    assert care.snapshot_community(cast.community_x) == 1
    row = CareSnapshot.objects.get()
    assert row.visit_order == visit and row.score == 20 and row.day == timezone.localdate()


def test_snapshots_of_other_days_stay(cast):
    _order(cast, cast.house_a, sla_state=SlaState.BREACHED)
    care.snapshot_community(cast.community_x, TODAY - datetime.timedelta(days=1))
    care.snapshot_community(cast.community_x, TODAY)
    assert CareSnapshot.objects.count() == 2


# --- threshold and ranking ----------------------------------------------------------------
def test_ranked_list_filters_by_threshold_from_settings(cast):
    _order(cast, cast.house_a, sla_state=SlaState.BREACHED)  # 20
    _order(cast, cast.house_b, sla_state=SlaState.BREACHED)
    _order(cast, cast.house_b, code="noise_neighbour")  # 30
    care.snapshot_community(cast.community_x)
    pm = cast.actor("project_manager")
    rows, _day = care.ranked(pm, threshold=care.care_threshold(cast.company.pk))
    assert [r.house_id for r in rows.order_by("-score")] == [cast.house_b.pk]
    QualitySettings.objects.create(company=cast.company, care_threshold=15)
    rows, _day = care.ranked(pm, threshold=care.care_threshold(cast.company.pk))
    assert [r.house_id for r in rows.order_by("-score")] == [cast.house_b.pk, cast.house_a.pk]


def _snap(cast, house):
    _order(cast, house, sla_state=SlaState.BREACHED)
    _order(cast, house, code="noise_neighbour")
    care.snapshot_community(house.community)


def test_ranked_page_shows_reasons_trend_and_is_scoped(cast):
    _snap(cast, cast.house_a)
    _snap(cast, cast.house_y)
    page = cast.client("project_manager").get(reverse("care:ranked"))
    assert page.status_code == 200
    body = page.content.decode()
    assert cast.house_a.address in body and "Open request past its SLA deadline" in body
    assert cast.house_y.address not in body
    assert (
        cast.house_a.address in cast.client("quality").get(reverse("care:ranked")).content.decode()
    )
    assert (
        cast.house_y.address in cast.client("quality").get(reverse("care:ranked")).content.decode()
    )
    other = cast.client("other_admin").get(reverse("care:ranked")).content.decode()
    assert cast.house_a.address not in other
    assert cast.client("resident_a").get(reverse("care:ranked")).status_code == 403
    assert cast.client("dispatcher").get(reverse("care:ranked")).status_code == 403


def test_ranked_page_searches_and_pages(cast):
    _snap(cast, cast.house_a)
    client = cast.client("quality")
    found = client.get(reverse("care:ranked"), {"q": "0101", "threshold": 30}).content.decode()
    assert cast.house_a.address in found
    missing = client.get(reverse("care:ranked"), {"q": "9999"}).content.decode()
    assert cast.house_a.address not in missing
    bad = client.get(reverse("care:ranked"), {"threshold": "abc", "after": "x-1"})
    assert bad.status_code == 200
    after = client.get(reverse("care:ranked"), {"after": f"30-{cast.house_a.pk}"})
    assert cast.house_a.address not in after.content.decode()


def test_export(cast):
    import openpyxl

    _snap(cast, cast.house_a)
    response = cast.client("quality").get(reverse("care:export"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(filename=__import__("io").BytesIO(b"".join(response)))
    rows = list(book.active.values)
    assert rows[1][3] == "0101" and rows[1][4] == 30


def test_house_page_and_scope(cast):
    _snap(cast, cast.house_a)
    url = reverse("care:house", args=[cast.house_a.pk])
    body = cast.client("service_supervisor").get(url).content.decode()
    assert "care-data" in body and "Complaint" in body
    assert cast.client("manager_y").get(url).status_code == 404
    assert cast.client("other_admin").get(url).status_code == 404
    assert cast.client("resident_a").get(url).status_code == 403


def test_recompute_button(cast):
    _order(cast, cast.house_a, sla_state=SlaState.BREACHED)
    client = cast.client("project_manager")
    response = client.post(reverse("care:recompute"), {"community": cast.community_x.pk})
    assert response.status_code == 302 and CareSnapshot.objects.count() == 1
    assert (
        client.post(reverse("care:recompute"), {"community": cast.community_y.pk}).status_code
        == 404
    )
    assert cast.client("service_supervisor").post(reverse("care:recompute")).status_code == 403
    with pytest.raises(PermissionDenied):
        care.recompute(actor=cast.actor("manager_y"), community=cast.community_x)


# --- proactive visits ---------------------------------------------------------------------
def test_visit_goes_through_the_engine_once(cast):
    _snap(cast, cast.house_a)
    client = cast.client("project_manager")
    url = reverse("care:visit", args=[cast.house_a.pk])
    assert client.post(url, {"note": "带上慰问品"}).status_code == 302
    order = WorkOrder.objects.get(category__code=care.VISIT_CATEGORY)
    assert order.house == cast.house_a and order.channel == Channel.STAFF
    assert order.contact_name == "张伟" and order.contact_mobile == "13800000001"
    assert "带上慰问品" in order.description and "× 1 (+10)" in order.description
    assert order.events.filter(type="submitted").exists()
    assert CareSnapshot.objects.get(house=cast.house_a).visit_order == order
    again = client.post(url, follow=True)
    assert "still open" in again.content.decode()
    assert WorkOrder.objects.filter(category__code=care.VISIT_CATEGORY).count() == 1


def test_visit_without_a_known_mobile(cast):
    empty = _house(cast, "0505")
    order = care.create_proactive_visit(actor=cast.actor("company_admin"), house=empty)
    assert order.contact_name == empty.address and order.contact_mobile == ""
    assert order.channel == Channel.INSPECTION


def test_visit_category_is_created_for_older_companies(cast):
    Category.objects.filter(company=cast.company, code=care.VISIT_CATEGORY).delete()
    care.create_proactive_visit(actor=cast.actor("project_manager"), house=cast.house_a)
    assert Category.objects.filter(company=cast.company, code=care.VISIT_CATEGORY).count() == 1


def test_visit_refusals_change_nothing(cast):
    url = reverse("care:visit", args=[cast.house_a.pk])
    assert cast.client("service_supervisor").post(url).status_code == 403  # view only
    assert cast.client("manager_y").post(url).status_code == 404
    assert cast.client("other_admin").post(url).status_code == 404
    assert cast.client("resident_a").post(url).status_code == 403
    with pytest.raises(PermissionDenied):  # quality.manage but not workorders.create
        care.create_proactive_visit(actor=cast.actor("quality"), house=cast.house_a)
    assert not WorkOrder.objects.filter(category__code=care.VISIT_CATEGORY).exists()


# --- API ----------------------------------------------------------------------------------
def _api(cast, name, method, path, **kwargs):
    client = cast.client(name)
    return getattr(client, method)("/api/v1" + path, **kwargs)


def test_api_list_and_house(cast):
    _snap(cast, cast.house_a)
    _snap(cast, cast.house_y)
    body = _api(cast, "project_manager", "get", "/quality/care").json()
    assert [r["house_id"] for r in body["results"]] == [cast.house_a.pk]
    assert body["results"][0]["score"] == 30
    assert {r["code"] for r in body["results"][0]["reasons"]} == {"sla_breached", "complaint"}
    wide = _api(cast, "quality", "get", "/quality/care", data={"threshold": 40}).json()
    assert wide["results"] == []
    assert _api(cast, "other_admin", "get", "/quality/care").json()["results"] == []
    assert _api(cast, "resident_a", "get", "/quality/care").json()["results"] == []
    house = _api(cast, "quality", "get", f"/quality/care/houses/{cast.house_a.pk}").json()
    assert house["score"] == 30 and house["trend"][-1]["score"] == 30
    assert (
        _api(cast, "manager_y", "get", f"/quality/care/houses/{cast.house_a.pk}").status_code == 404
    )


def test_api_visit_with_idempotency_key(cast):
    path = f"/quality/care/houses/{cast.house_a.pk}/visit"
    kwargs = {
        "data": json.dumps({"note": "回访"}),
        "content_type": "application/json",
        "HTTP_IDEMPOTENCY_KEY": "care-1",
    }
    first = _api(cast, "project_manager", "post", path, **kwargs)
    assert first.status_code == 201
    replay = _api(cast, "project_manager", "post", path, **kwargs)
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    again = _api(cast, "project_manager", "post", path, data="{}", content_type="application/json")
    assert again.status_code == 400 and "still open" in json.dumps(again.json())
    assert WorkOrder.objects.filter(category__code=care.VISIT_CATEGORY).count() == 1
    assert (
        _api(cast, "quality", "post", path, data="{}", content_type="application/json").status_code
        == 403
    )
    assert (
        _api(
            cast, "manager_y", "post", path, data="{}", content_type="application/json"
        ).status_code
        == 404
    )
