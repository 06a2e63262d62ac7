"""The quality dashboard and the service quality index: exact figures on a small
dataset built through the real services, the previous period, scoping, a query count
that does not grow with the data, the settings (weights add up to 100), the pages,
the Excel export and the API."""

import datetime
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from tests.workorder_helpers import completed_repair
from wuye.quality import dashboard, figures, rollups
from wuye.quality.models import QualitySettings
from wuye.quality.services import update_quality_settings
from wuye.surveys import selectors as survey_selectors
from wuye.surveys import services as surveys
from wuye.surveys import servqual
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # pages too: their text is asserted in English
    with translation.override("en"):
        yield


def _complaint(cast, house=None):
    return wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.filter(company=cast.company, request_type="complaint")
        .exclude(parent=None)
        .order_by("id")
        .first(),
        house=house or cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="噪音扰民",
    )


def _open_repair(cast):
    return wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.get(company=cast.company, code="windows_glass"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="窗户关不严",
    )


@pytest.fixture
def data(cast, time_machine):
    """Community X: 40 days ago one complaint; today a completed repair rated 5 (with
    professionalism 4, empathy 5, facilities 1), two complaints (the second a repeat)
    and an open repair. Nothing in Y."""
    now = timezone.now()
    time_machine.move_to(now - datetime.timedelta(days=40), tick=False)
    _complaint(cast)
    time_machine.move_to(now, tick=False)
    order = completed_repair(cast)
    wo.rate_order(
        actor=cast.actor("resident_a"),
        order=order,
        overall=5,
        professionalism=4,
        empathy=5,
        tangibles=1,
    )
    _complaint(cast)
    _complaint(cast)
    _open_repair(cast)
    rollups.rebuild(now=now)
    return now


def _last_30_days(cast, name="project_manager", **kwargs):
    today = timezone.localdate()
    return figures.scope_for(
        cast.actor(name), first=today - datetime.timedelta(days=29), last=today, **kwargs
    )


def test_figures_of_the_range_and_the_previous_period(cast, data):
    board = dashboard.build(_last_30_days(cast), now=data)

    assert board.volume == 4
    types = {row.key: row for row in board.by_type}
    assert types["repair"].created == 2 and types["repair"].completed == 1
    assert types["complaint"].created == 2 and types["complaint"].share == Decimal("50.0")
    assert {row.key: row.created for row in board.by_channel} == {"resident_h5": 4}
    assert board.completed == 1
    assert board.first_time_fix_rate == Decimal("100.0") and board.reopen_rate == Decimal("0.0")
    resolution = next(c for c in board.clocks if c.clock == "resolution")
    assert resolution.stopped == 1 and resolution.met == 1 and resolution.missed == 0
    assert resolution.rate == Decimal("100.0")
    assert resolution.median.minutes <= 30  # done within the first band
    assert board.satisfaction.rated == 1 and board.satisfaction.average == Decimal("5.00")
    assert board.satisfaction.good_share == Decimal("100.0")
    assert board.satisfaction.response_rate == Decimal("100.0")
    complaints = board.complaints
    assert complaints.count == 2 and complaints.households == 2
    assert complaints.per_thousand == Decimal("1000.0")  # 2 ÷ 2 houses × 1,000
    # Both of today's complaints follow one within 90 days (the one 40 days ago).
    assert complaints.repeat == 2 and complaints.repeat_share == Decimal("100.0")
    assert complaints.silent_estimate == 2 * 25
    assert [(r.label, r.created) for r in complaints.by_root_cause] == [("Not classified yet", 2)]
    # Open now: both complaints and the open repair, all under a day; the old complaint
    # too (40 days).
    assert dict((key, n) for key, _label, n in board.backlog) == {
        "d1": 3,
        "d3": 0,
        "d7": 0,
        "d30": 0,
        "older": 1,
    }
    assert board.backlog_total == 4
    kpis = {kpi.key: kpi for kpi in board.kpis}
    assert (kpis["volume"].value, kpis["volume"].previous) == (4, 1)
    assert kpis["volume"].direction == "up" and not kpis["volume"].worse  # volume is neutral
    per_thousand = kpis["complaints_per_thousand"]
    assert (per_thousand.value, per_thousand.previous) == (Decimal("1000.0"), Decimal("500.0"))
    assert per_thousand.change == Decimal("500.0") and per_thousand.worse
    assert kpis["satisfaction"].previous is None and not kpis["satisfaction"].worse
    assert kpis["round_completion"].value is None and kpis["collection"].value is None
    # The monthly trend holds every month of the range and adds up to the total.
    assert sum(point.created for point in board.trend) == 4
    assert board.trend[-1].month == timezone.localdate().replace(day=1)


def test_a_person_and_a_team(cast, data):
    person = dashboard.build(_last_30_days(cast, person=cast.staff["technician"]), now=data)
    assert person.volume == 1 and person.completed == 1 and person.backlog_total == 0


def test_scoping(cast, data):
    board = dashboard.build(_last_30_days(cast, "manager_y"), now=data)
    assert board.volume == 0 and board.backlog_total == 0 and board.complaints.households == 1
    other = dashboard.build(_last_30_days(cast, "other_admin"), now=data)
    assert other.volume == 0 and other.complaints.count == 0
    with pytest.raises(Http404):
        _last_30_days(cast, "manager_y", community=cast.community_x)
    with pytest.raises(Http404):
        _last_30_days(cast, "other_admin", person=cast.staff["technician"])
    for name in ("technician", "resident_a"):
        with pytest.raises(PermissionDenied):
            _last_30_days(cast, name)


def _queries(scope, now) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard.build(scope, now=now)
    return len(captured)


def test_query_count_is_bounded_and_does_not_grow_with_the_data(
    cast, data, django_assert_max_num_queries
):
    scope = _last_30_days(cast)
    with django_assert_max_num_queries(30):
        dashboard.build(scope, now=data)
    before = _queries(scope, data)
    for _ in range(3):
        completed_repair(cast, code="windows_glass")
        _complaint(cast)
    rollups.rebuild(now=data)
    assert _queries(scope, data) == before
    assert dashboard.build(scope, now=data).volume == 10


# --- the service quality index ----------------------------------------------------------
@pytest.fixture
def gap_survey(cast):
    """A SERVQUAL gap survey (1–7) of X: A perceives 5 and expects 7, B 6 and 6."""
    who = cast.actor("project_manager")
    survey = surveys.create_from_servqual_template(
        actor=who,
        mode="gap",
        community=cast.community_x,
        closes_at=timezone.now() + datetime.timedelta(days=7),
    )
    survey = surveys.open_survey(actor=who, survey=survey)
    questions = list(survey.questions.all())
    for name, (p, e) in (("resident_a", (5, 7)), ("resident_b", (6, 6))):
        surveys.submit_response(
            actor=cast.actor(name),
            survey=survey,
            answers={q.pk: {"score": p, "expected": e} for q in questions},
        )
    return survey


def test_index_combines_ratings_and_surveys_with_the_weights(cast, data, gap_survey):
    found = dashboard.service_quality_index(_last_30_days(cast))
    rows = {d.dimension: d for d in found.dimensions}
    # Surveys: mean perception 5.5 on 1–7 → 75; ratings 1–5: 4 → 75, 5 → 100, 1 → 0.
    assert rows["reliability"].rating_score == Decimal("75.0")
    assert rows["reliability"].survey_score == Decimal("75.0")
    assert rows["reliability"].answers == 10 and rows["reliability"].score == Decimal("75.0")
    assert rows["responsiveness"].ratings == 0 and rows["responsiveness"].score == Decimal("75.0")
    assert rows["empathy"].score == Decimal("77.3")  # (1 × 100 + 10 × 75) ÷ 11
    assert rows["tangibles"].score == Decimal("66.7")  # (1 × 0 + 8 × 75) ÷ 9
    assert rows["reliability"].gap == Decimal("-1.00") and rows["reliability"].gap_scale_max == 7
    assert rows["reliability"].gap_score == Decimal("-16.7")  # −1 ÷ 6 × 100
    # .32 × 75 + .22 × 75 + .19 × 75 + .16 × 77.27 + .11 × 66.67 = 74.45
    assert found.index == Decimal("74.4") and found.gap_index == Decimal("-16.7")
    assert not found.weights_are_company
    assert rows["reliability"].weight_percent == Decimal("32.0")

    update_quality_settings(
        actor=cast.actor("company_admin"),
        weight_reliability=0,
        weight_responsiveness=0,
        weight_assurance=0,
        weight_empathy=50,
        weight_tangibles=50,
    )
    edited = dashboard.service_quality_index(_last_30_days(cast))
    assert edited.index == Decimal("72.0")  # (77.27 + 66.67) ÷ 2
    assert edited.weights_are_company
    # The survey results use the company's weights too.
    scores = survey_selectors.servqual_scores(gap_survey)
    assert {d.dimension: d.weight for d in scores.dimensions}["empathy"] == Decimal("0.5")
    assert servqual.weights()["reliability"] == Decimal("0.32")  # no company: defaults


def test_index_of_another_community_has_no_survey(cast, data, gap_survey):
    found = dashboard.service_quality_index(_last_30_days(cast, "manager_y"))
    assert found.index is None and all(d.answers == 0 for d in found.dimensions)


# --- settings ---------------------------------------------------------------------------
def test_settings_weights_must_add_up_to_100_and_only_company_wide_managers(cast):
    admin = cast.actor("company_admin")
    with pytest.raises(ValidationError):
        update_quality_settings(actor=admin, weight_reliability=50)  # 50+22+19+16+11
    assert not QualitySettings.objects.exists()
    saved = update_quality_settings(
        actor=admin, weight_reliability=21, weight_responsiveness=33, iceberg_factor=10
    )
    assert saved.weight_reliability == 21 and saved.iceberg_factor == 10
    for name in ("project_manager", "manager_y", "technician"):
        with pytest.raises(PermissionDenied):
            update_quality_settings(actor=cast.actor(name), iceberg_factor=5)
    assert QualitySettings.objects.get().iceberg_factor == 10


def test_settings_page(cast):
    url = reverse("quality:settings")
    client = cast.client("quality")
    weights = {
        "weight_reliability": "30",
        "weight_responsiveness": "20",
        "weight_assurance": "20",
        "weight_empathy": "20",
        "weight_tangibles": "20",
        "iceberg_factor": "25",
        "care_threshold": "30",
    }
    response = client.post(url, weights)
    assert response.status_code == 200
    assert "must add up to 100 (now 110" in response.content.decode()
    assert not QualitySettings.objects.exists()
    response = client.post(url, weights | {"weight_reliability": "20"})
    assert response.status_code == 302
    assert QualitySettings.objects.get(company=cast.company).weight_reliability == 20
    assert cast.client("project_manager").get(url).status_code == 403
    assert cast.client("other_admin").get(url).status_code == 200  # their own company


# --- pages, export, API -----------------------------------------------------------------
def test_dashboard_page_and_export(cast, data):
    client = cast.client("project_manager")
    response = client.get(reverse("quality:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "vendor/echarts.min.js" in body and "quality-dashboard-data" in body
    assert "estimated from 10 time bands" in body
    board = response.context["board"]
    assert board.volume == 5  # the last 12 months: the complaint of 40 days ago too
    assert cast.community_x.name in body
    response = client.get(reverse("quality:dashboard"), {"date_from": "2026-02-01"})
    assert response.status_code == 200 and response.context.get("board") is None
    response = client.get(reverse("quality:dashboard"), {"person": "nobody-here"})
    assert response.status_code == 200 and "Nobody has this" in response.content.decode()
    response = client.get(reverse("quality:dashboard"), {"person": "technician"})
    assert response.context["board"].volume == 1
    response = client.get(reverse("quality:dashboard_export"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary = [row for row in book.worksheets[0].iter_rows(values_only=True)]
    assert [row[1:] for row in summary if row[1:] == (5, 0, None)]  # requests, previous
    assert client.get(reverse("quality:dashboard_export"), {"date_to": "x"}).status_code == 400
    assert cast.client("manager_y").get(reverse("quality:dashboard")).context["board"].volume == 0
    assert cast.client("technician").get(reverse("quality:dashboard")).status_code == 403
    assert cast.client("resident_a").get(reverse("quality:dashboard")).status_code in (302, 403)


def test_index_page(cast, data, gap_survey):
    response = cast.client("quality").get(reverse("quality:index"))
    assert response.status_code == 200
    assert response.context["found"].index == Decimal("74.4")
    assert "quality-index-data" in response.content.decode()


def _api(cast, name, method, path, payload=None):
    from wuye.accounts.services import create_api_token

    _token, secret = create_api_token(actor=cast.actor(name), name="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    from django.test import Client

    client = Client()
    if method == "GET":
        return client.get("/api/v1" + path, **headers)
    return client.put(
        "/api/v1" + path, data=json.dumps(payload), content_type="application/json", **headers
    )


def test_api(cast, data, gap_survey):
    response = _api(cast, "project_manager", "GET", "/quality/dashboard")
    assert response.status_code == 200
    body = response.json()
    assert body["volume"] == 5 and body["complaints"]["per_thousand"] == 1500.0
    kpi = next(k for k in body["kpis"] if k["key"] == "complaints_per_thousand")
    assert kpi["worse"] is True and kpi["previous"] == 0.0 and kpi["change"] == 1500.0
    assert body["backlog"][0] == {"key": "d1", "label": "Under 1 day", "orders": 3}
    assert _api(cast, "manager_y", "GET", "/quality/dashboard").json()["volume"] == 0
    bad = _api(
        cast, "project_manager", "GET", "/quality/dashboard?date_from=2026-01-01&date_to=2025-01-01"
    )
    assert bad.status_code == 400
    assert _api(cast, "technician", "GET", "/quality/dashboard").status_code == 403
    assert (
        _api(
            cast, "manager_y", "GET", f"/quality/dashboard?community={cast.community_x.id}"
        ).status_code
        == 400
    )
    index = _api(cast, "quality", "GET", "/quality/index").json()
    assert index["index"] == 74.4
    settings = _api(cast, "quality", "GET", "/quality/settings").json()
    assert Decimal(settings["weight_reliability"]) == 32 and settings["stored"] is False
    refused = _api(cast, "quality", "PUT", "/quality/settings", {"weight_reliability": 40})
    assert refused.status_code == 400 and not QualitySettings.objects.exists()
    saved = _api(
        cast,
        "quality",
        "PUT",
        "/quality/settings",
        {"weight_reliability": 40, "weight_tangibles": 3},
    )
    assert saved.status_code == 200 and saved.json()["stored"] is True
    assert (
        _api(cast, "project_manager", "PUT", "/quality/settings", {"iceberg_factor": 9}).status_code
        == 403
    )
