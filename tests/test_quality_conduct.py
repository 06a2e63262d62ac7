"""Conduct spot checks (品质巡查) and the staff scorecard: scoring, copies, scoping, bad
input, the phone form, the console, the scorecard's figures and the API."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from PIL import Image

from tests.api_helpers import get, ids, post, results
from tests.workorder_helpers import completed_repair
from wuye.quality import scorecard as cards
from wuye.quality import spot_checks as service
from wuye.quality.models import (
    Attendance,
    ConductItem,
    Course,
    QuizAttempt,
    SpotCheck,
    SpotCheckMark,
    TrainingSession,
)
from wuye.workorders import services as wo
from wuye.workorders.models import WorkOrder


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # pages: their text is asserted in English


pytestmark = pytest.mark.django_db


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "PNG")
    return out.getvalue()


def _items(cast, n=None):
    items = list(service.ordered_items(cast.company.pk, active_only=True))
    return items if n is None else items[:n]


def _check(cast, *, subject="guard", inspector="quality", failed=(), community=None, **kw):
    """A spot check of ``subject`` over every active item, failing those in ``failed``."""
    return service.record_spot_check(
        actor=cast.actor(inspector),
        community=community or cast.community_x,
        subject=cast.staff[subject],
        marks=service.checklist_marks(cast.company.pk, {item.pk: "问题" for item in failed}),
        **kw,
    )


# --- scoring and copies -----------------------------------------------------------------------
def test_score_is_points_kept_over_points_checked(cast):
    a, b, c = _items(cast, 3)
    ConductItem.objects.filter(pk=a.pk).update(points=3)
    check = service.record_spot_check(
        actor=cast.actor("quality"),
        community=cast.community_x,
        subject=cast.staff["guard"],
        marks=[
            {"item": a.pk, "kept": True},
            {"item": b.pk, "kept": False, "note": " 未戴工牌 "},
            {"item": c.pk, "kept": True},
        ],
        place=" 南门岗亭 ",
    )
    assert check.score == Decimal("80.0")  # 4 of 5 points
    assert check.place == "南门岗亭" and check.inspector == cast.users["quality"]
    assert check.company_id == cast.company.pk
    failed = check.marks.get(kept=False)
    assert (failed.item_id, failed.note, failed.points) == (b.pk, "未戴工牌", 1)
    assert service.score_of(2, 3) == Decimal("66.7")
    assert service.score_of(1, 6) == Decimal("16.7")
    assert service.score_of(0, 0) is None


def test_score_per_aspect(cast):
    items = _items(cast)
    appearance = [item for item in items if item.aspect == "appearance"]
    check = _check(cast, failed=appearance[:1])
    rows = {row["aspect"]: row for row in service.check_aspects(check)}
    assert list(rows) == ["appearance", "speech", "behaviour", "etiquette"]
    assert rows["appearance"]["score"] == service.score_of(len(appearance) - 1, len(appearance))
    assert rows["speech"]["score"] == Decimal("100.0")
    assert check.score == service.score_of(len(items) - 1, len(items))


def test_marks_are_copies_that_survive_checklist_edits(cast):
    item = _items(cast, 1)[0]
    check = _check(cast, failed=[item])
    service.update_conduct_item(actor=cast.actor("quality"), item=item, text="新的条目", points=5)
    service.set_conduct_item_active(actor=cast.actor("quality"), item=item, active=False)
    mark = check.marks.get(item=item)
    assert (mark.text, mark.points) == ("工作服整洁规范,佩戴工作证", 1)
    check.refresh_from_db()
    assert check.score == service.score_of(21, 22)
    # Inactive items are left out of new checks and refused if named.
    assert item.pk not in {m["item"] for m in service.checklist_marks(cast.company.pk)}
    with pytest.raises(ValidationError) as exc:
        service.record_spot_check(
            actor=cast.actor("quality"),
            community=cast.community_x,
            subject=cast.staff["guard"],
            marks=[{"item": item.pk, "kept": True}],
        )
    assert "marks" in exc.value.message_dict


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("subject", "field"),
    [("technician_y", "subject"), ("other_admin", "subject"), ("quality", "subject")],
)
def test_subject_must_be_staff_of_the_community(cast, subject, field):
    with pytest.raises(ValidationError) as exc:
        _check(cast, subject=subject)
    assert field in exc.value.message_dict
    assert not SpotCheck.objects.exists() and not SpotCheckMark.objects.exists()


def test_marks_must_be_known_active_items_of_the_company(cast):
    other_item = ConductItem.objects.filter(company=cast.other_company).first()
    mine = _items(cast, 1)[0]
    for marks in (
        [],
        [{"item": other_item.pk, "kept": True}],
        [{"item": 10**9, "kept": True}],
        [{"item": mine.pk, "kept": True}, {"item": mine.pk, "kept": False}],
        [{"item": mine.pk, "kept": False, "note": "长" * 201}],
    ):
        with pytest.raises(ValidationError) as exc:
            service.record_spot_check(
                actor=cast.actor("quality"),
                community=cast.community_x,
                subject=cast.staff["guard"],
                marks=marks,
            )
        assert "marks" in exc.value.message_dict
    assert not SpotCheck.objects.exists()


def test_only_inspectors_of_the_community_record(cast):
    with pytest.raises(PermissionDenied):
        _check(cast, inspector="guard", subject="cleaner")
    with pytest.raises(ValidationError) as exc:
        _check(cast, inspector="manager_y")  # X is not manager_y's community
    assert "community" in exc.value.message_dict
    assert not SpotCheck.objects.exists()


# --- scoping ------------------------------------------------------------------------------------
def test_who_sees_which_checks(cast):
    of_guard = _check(cast)
    of_cleaner = _check(cast, subject="cleaner")
    of_tech_y = _check(
        cast, subject="technician_y", inspector="manager_y", community=cast.community_y
    )

    def seen(name):
        return set(SpotCheck.objects.visible_to(cast.actor(name)).values_list("pk", flat=True))

    everything = {of_guard.pk, of_cleaner.pk, of_tech_y.pk}
    assert seen("quality") == everything == seen("company_admin")
    assert seen("project_manager") == {of_guard.pk, of_cleaner.pk}
    assert seen("manager_y") == {of_tech_y.pk}
    assert seen("guard") == {of_guard.pk}
    assert seen("technician_y") == {of_tech_y.pk}
    assert seen("other_admin") == seen("resident_a") == seen("technician") == set()


def test_pages_are_scoped(cast):
    check = _check(cast)
    detail = reverse("conduct:spot_check", args=[check.pk])
    field_detail = reverse("conduct_field:spot_check", args=[check.pk])
    assert cast.client("project_manager").get(detail).status_code == 200
    assert cast.client("manager_y").get(detail).status_code == 404
    assert cast.client("other_admin").get(detail).status_code == 404
    assert cast.client("resident_a").get(detail).status_code == 403
    assert cast.client("guard").get(detail).status_code == 403  # no console for the guard
    assert cast.client("guard").get(field_detail).status_code == 200
    assert cast.client("cleaner").get(field_detail).status_code == 404
    assert cast.client("resident_a").get(field_detail).status_code == 404
    listing = cast.client("manager_y").get(reverse("conduct:spot_checks"))
    assert listing.status_code == 200 and detail not in listing.content.decode()


def test_a_staff_member_sees_their_own_checks(cast):
    mine = _check(cast, place="南门岗亭")
    other = _check(cast, subject="cleaner", place="东区垃圾站")
    page = cast.client("guard").get(reverse("conduct_field:mine")).content.decode()
    assert reverse("conduct_field:spot_check", args=[mine.pk]) in page
    assert reverse("conduct_field:spot_check", args=[other.pk]) not in page
    assert cast.client("resident_a").get(reverse("conduct_field:mine")).status_code == 403


# --- the phone form -----------------------------------------------------------------------------
def _form_data(cast, *, subject="guard", failed=(), **extra):
    data = {
        "community": cast.community_x.pk,
        "subject": cast.staff[subject].pk,
        "place": "南门岗亭",
        "note": "整体良好",
    }
    for item in _items(cast):
        data[f"kept_{item.pk}"] = "0" if item in failed else "1"
        data[f"note_{item.pk}"] = "未戴工牌" if item in failed else ""
    return data | extra


def test_phone_form_records_a_check_with_photos(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = cast.client("quality")
    url = reverse("conduct_field:new_spot_check")
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "工作服整洁规范,佩戴工作证" in body and 'name="subject"' in body
    failed = _items(cast, 1)
    data = _form_data(cast, failed=failed)
    data["photos"] = [SimpleUploadedFile("a.png", _png()), SimpleUploadedFile("b.png", _png())]
    response = client.post(url, data)
    check = SpotCheck.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("conduct_field:spot_check", args=[check.pk])
    assert check.photos.count() == 2 and check.note == "整体良好"
    assert check.marks.get(kept=False).note == "未戴工牌"
    assert check.score == service.score_of(21, 22)
    result = client.get(response.url).content.decode()
    assert str(check.score) in result
    photo = check.photos.first()
    # Whoever sees the check sees its photos (the uploader, the guard, the manager).
    for name in ("guard", "project_manager"):
        shown = cast.client(name).get(reverse("photos:thumbnail", args=[photo.pk]))
        assert shown.status_code == 200
    assert cast.client("manager_y").get(reverse("photos:file", args=[photo.pk])).status_code == 404


@pytest.mark.parametrize("subject", ["technician_y", "other_admin"])
def test_phone_form_refuses_staff_of_elsewhere(cast, subject, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = _form_data(cast, subject=subject)
    data["photos"] = [SimpleUploadedFile("a.png", _png())]
    with override("en"):
        response = cast.client("quality").post(reverse("conduct_field:new_spot_check"), data)
    assert response.status_code == 400
    assert "Choose a staff member of this community." in response.content.decode()
    assert not SpotCheck.objects.exists()
    assert not list((tmp_path).rglob("*.jpg"))  # the photo was not kept


def test_office_staff_on_the_phone_form_get_the_staff_tabs(cast):
    html = cast.client("quality").get(reverse("conduct_field:new_spot_check")).content.decode()
    assert f'href="{reverse("web:field_home")}"' in html
    assert reverse("billing_resident:bill_list") not in html
    assert reverse("web:resident_home") not in html


def test_phone_form_without_items(cast):
    ConductItem.objects.filter(company=cast.company).update(is_active=False)
    client = cast.client("quality")
    url = reverse("conduct_field:new_spot_check")
    with override("en"):
        assert "no active items" in client.get(url).content.decode()
        response = client.post(url, _form_data(cast))
    assert response.status_code == 400 and not SpotCheck.objects.exists()


def test_staff_search_offers_only_staff_of_the_community(cast):
    client = cast.client("quality")
    url = reverse("conduct_field:staff_search")
    found = client.get(url, {"community": cast.community_x.pk, "q": "gua"}).content.decode()
    assert f'value="{cast.staff["guard"].pk}"' in found
    assert f'value="{cast.staff["cleaner"].pk}"' not in found
    everyone = client.get(url, {"community": cast.community_x.pk}).content.decode()
    assert f'value="{cast.staff["technician_y"].pk}"' not in everyone
    assert f'value="{cast.staff["quality"].pk}"' not in everyone  # not oneself
    # Another's community is no community at all.
    y = cast.client("project_manager").get(url, {"community": cast.community_y.pk}).content
    assert str(cast.staff["technician_y"].pk) not in y.decode()
    assert cast.client("guard").get(url).status_code == 403


# --- the console --------------------------------------------------------------------------------
def test_console_list_filters_summary_and_export(cast):
    items = _items(cast)
    speech = [item for item in items if item.aspect == "speech"]
    low = _check(cast, failed=speech[:2], place="南门")
    good = _check(cast, subject="cleaner", place="东区")
    client = cast.client("project_manager")
    url = reverse("conduct:spot_checks")
    page = client.get(url).content.decode()
    low_link = reverse("conduct:spot_check", args=[low.pk])
    good_link = reverse("conduct:spot_check", args=[good.pk])
    assert low_link in page and good_link in page
    assert speech[0].text in page  # most failed

    only_failing = client.get(url, {"aspect": "speech"}).content.decode()
    assert low_link in only_failing and good_link not in only_failing
    assert good_link not in client.get(url, {"score_below": "95"}).content.decode()
    assert low_link not in client.get(url, {"staff": "clean"}).content.decode()
    past = {"date_from": "2020-01-01", "date_to": "2020-01-31"}
    assert low_link not in client.get(url, past).content.decode()
    assert client.get(url, {"date_from": "2026-02-01", "date_to": "2020-01-01"}).status_code == 200

    checks = SpotCheck.objects.all()
    summary = service.aspect_summary(checks)
    assert summary["count"] == 2
    assert summary["average"] == ((low.score + good.score) / 2).quantize(Decimal("0.1"))
    speech_row = next(row for row in summary["aspects"] if row["aspect"] == "speech")
    assert speech_row["failed"] == 2
    assert speech_row["score"] == service.score_of(2 * len(speech) - 2, 2 * len(speech))
    failed = service.most_failed_items(checks)
    assert [(row["item_id"], row["failed"], row["checked"]) for row in failed] == [
        (speech[0].pk, 1, 2),
        (speech[1].pk, 1, 2),
    ]

    export = client.get(reverse("conduct:export"), {"aspect": "speech"})
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.values)
    assert len(rows) == 2 and rows[1][0] == low.pk and rows[1][3] == "guard"
    assert speech[0].text in rows[1][8]


def test_console_detail_shows_marks_and_photos(cast, settings, tmp_path):
    check = _check(cast, failed=_items(cast, 1), note="需整改")
    page = cast.client("quality").get(reverse("conduct:spot_check", args=[check.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "需整改" in body and "工作服整洁规范" in body


def test_checklist_editor_for_company_wide_managers_only(cast):
    client = cast.client("quality")
    url = reverse("conduct:items")
    response = client.post(
        url, {"aspect": "speech", "rule_set": "", "text": "接听电话先报单位", "points": 2}
    )
    assert response.status_code == 302
    item = ConductItem.objects.get(text="接听电话先报单位")
    assert (
        item.sort_order
        == ConductItem.objects.filter(company=cast.company).aggregate(m=Max("sort_order"))["m"]
    )
    assert client.post(url, {"aspect": "speech", "text": "", "points": 11}).status_code == 400

    edit = reverse("conduct:item_edit", args=[item.pk])
    assert (
        client.post(edit, {"aspect": "etiquette", "text": "来电先报单位", "points": 1}).status_code
        == 302
    )
    item.refresh_from_db()
    assert (item.aspect, item.text, item.points) == ("etiquette", "来电先报单位", 1)

    toggle = reverse("conduct:item_toggle", args=[item.pk])
    client.post(toggle)
    item.refresh_from_db()
    assert not item.is_active
    client.post(toggle)
    item.refresh_from_db()
    assert item.is_active

    above = ConductItem.objects.filter(company=cast.company).order_by("sort_order", "id")
    before = list(above.values_list("pk", flat=True))
    client.post(reverse("conduct:item_move", args=[item.pk]), {"direction": "up"})
    after = list(above.values_list("pk", flat=True))
    assert after[-2:] == [item.pk, before[-2]]
    client.post(reverse("conduct:item_move", args=[after[0]]), {"direction": "up"})
    assert list(above.values_list("pk", flat=True)) == after  # already first

    # A project manager (scoped to a community) reads the checklist, edits nothing.
    pm = cast.client("project_manager")
    page = pm.get(url)
    assert page.status_code == 200 and edit not in page.content.decode()
    assert pm.post(url, {"aspect": "speech", "text": "x", "points": 1}).status_code == 403
    assert pm.post(edit, {"aspect": "speech", "text": "x", "points": 1}).status_code == 403
    assert pm.post(toggle).status_code == 403
    # Another company's administrator cannot reach our items.
    assert cast.client("other_admin").post(toggle).status_code == 404
    item.refresh_from_db()
    assert item.is_active and item.text == "来电先报单位"


# --- the scorecard ------------------------------------------------------------------------------
def _scorecard_data(cast):
    """Technician: two rated orders (4 and 5 stars), one resolved late; two spot checks
    (100 and 50); the first course passed; one session attended of two."""
    first, second = completed_repair(cast), completed_repair(cast)
    resident = cast.actor("resident_a")
    wo.rate_order(actor=resident, order=first, overall=4)
    wo.rate_order(actor=resident, order=second, overall=5)
    WorkOrder.objects.filter(pk=second.pk).update(
        resolution_due=second.completed_at - datetime.timedelta(minutes=1)
    )
    items = _items(cast, 2)
    for kept in (True, False):
        service.record_spot_check(
            actor=cast.actor("quality"),
            community=cast.community_x,
            subject=cast.staff["technician"],
            marks=[{"item": items[0].pk, "kept": True}, {"item": items[1].pk, "kept": kept}],
        )
    _check(cast, subject="guard", failed=_items(cast, 11))  # 11 of 22 kept: 50.0
    course = Course.objects.get(company=cast.company)
    now = timezone.now()
    QuizAttempt.objects.create(
        company=cast.company,
        course=course,
        staff=cast.staff["technician"],
        score=90,
        passed=True,
        submitted_at=now,
    )
    for present in (True, False):
        session = TrainingSession.objects.create(
            company=cast.company,
            course=course,
            community=cast.community_x,
            starts_at=now,
            created_by=cast.users["quality"],
        )
        Attendance.objects.create(session=session, staff=cast.staff["technician"], present=present)


def test_scorecard_figures(cast):
    _scorecard_data(cast)
    who = cast.actor("project_manager")
    first, last = cards.default_range()
    rows = cards.scorecards(who, cards.scorecard_members(who), first, last)
    by_name = {card.member.name: card for card in rows}
    tech = by_name["technician"]
    assert (tech.rated, tech.rating_average) == (2, Decimal("4.50"))
    assert (tech.response_met, tech.response_missed) == (2, 0)
    assert (tech.resolution_met, tech.resolution_missed) == (1, 1)
    assert (tech.spot_checks, tech.conduct_average) == (2, Decimal("75.0"))
    assert (tech.courses_passed, tech.courses_active) == (1, 1)
    assert (tech.sessions_attended, tech.sessions_listed) == (1, 2)
    assert tech.parts == {
        "rating": Decimal("90.0"),
        "sla": Decimal("75.0"),
        "conduct": Decimal("75.0"),
        "training": Decimal("100.0"),
    }
    # (90 × 40 + 75 × 30 + 75 × 20 + 100 × 10) / 100
    assert tech.combined == Decimal("83.5")
    guard = by_name["guard"]
    # Conduct 50 and training 0 only, re-weighted over 20 + 10.
    assert guard.parts["rating"] is None and guard.parts["sla"] is None
    assert guard.combined == Decimal("33.3")
    assert rows[0] is tech and rows[1] is guard  # highest combined first
    assert by_name["cleaner"].parts["training"] == Decimal("0.0")
    assert by_name["cleaner"].combined is None  # training alone ranks nobody
    assert "technician_y" not in by_name and "other_admin" not in by_name
    lowest = cards.scorecards(who, cards.scorecard_members(who), first, last, sort="-combined")
    assert lowest[-1] is not None and lowest[0].combined <= lowest[1].combined

    # manager_y sees Y's staff only, and none of X's orders or checks.
    y = cast.actor("manager_y")
    y_rows = cards.scorecards(y, cards.scorecard_members(y), first, last)
    assert {card.member.name for card in y_rows} == {"technician_y", "manager_y"}
    # Outside the range: nothing but training.
    old = cards.scorecards(
        who, cards.scorecard_members(who), datetime.date(2020, 1, 1), datetime.date(2020, 3, 1)
    )
    tech_old = next(card for card in old if card.member.name == "technician")
    assert tech_old.rated == tech_old.spot_checks == tech_old.resolution_met == 0
    assert tech_old.courses_passed == 0


def test_scorecard_queries_do_not_grow_with_members(cast, django_assert_max_num_queries):
    _scorecard_data(cast)
    who = cast.actor("quality")
    who.permissions, who.community_ids, who.company_wide  # noqa: B018 — cache the actor
    first, last = cards.default_range()
    with django_assert_max_num_queries(7):
        rows = cards.scorecards(who, cards.scorecard_members(who), first, last)
    assert len(rows) == 12  # company A's staff


def test_scorecard_pages_and_export(cast):
    _scorecard_data(cast)
    client = cast.client("project_manager")
    page = client.get(reverse("conduct:scorecard"))
    body = page.content.decode()
    assert page.status_code == 200 and "83.5" in body
    tech = cast.staff["technician"]
    member = client.get(reverse("conduct:scorecard_member", args=[tech.pk]))
    assert member.status_code == 200 and "83.5" in member.content.decode()
    assert (
        cast.client("manager_y")
        .get(reverse("conduct:scorecard_member", args=[tech.pk]))
        .status_code
        == 404
    )
    assert cast.client("guard").get(reverse("conduct:scorecard")).status_code == 403
    export = client.get(reverse("conduct:scorecard_export"))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.values)
    assert rows[1][0] == "technician" and rows[1][-1] == 83.5
    bad = client.get(reverse("conduct:scorecard_export"), {"date_from": "x"})
    assert bad.status_code == 400


# --- API ----------------------------------------------------------------------------------------
def _api_payload(cast, subject="guard", **extra):
    items = _items(cast, 3)
    return {
        "community_id": cast.community_x.pk,
        "subject_id": cast.staff[subject].pk,
        "marks": [
            {"item_id": items[0].pk, "kept": True},
            {"item_id": items[1].pk, "kept": False, "note": "未戴工牌"},
            {"item_id": items[2].pk},
        ],
        "place": "南门",
    } | extra


def test_api_create_detail_and_list(cast):
    client = cast.client("quality")
    response = post(client, "/quality/spot-checks", _api_payload(cast), **{"Idempotency-Key": "k1"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["score"] == "66.7" and body["subject_name"] == "guard"
    assert [mark["kept"] for mark in body["marks"]] == [True, False, True]
    assert body["aspects"][0]["aspect"] == "appearance"
    again = post(client, "/quality/spot-checks", _api_payload(cast), **{"Idempotency-Key": "k1"})
    assert again.status_code == 201 and SpotCheck.objects.count() == 1

    check_id = body["id"]
    assert get(cast.client("guard"), f"/quality/spot-checks/{check_id}").status_code == 200
    assert get(cast.client("manager_y"), f"/quality/spot-checks/{check_id}").status_code == 404
    assert get(cast.client("resident_a"), f"/quality/spot-checks/{check_id}").status_code == 404
    assert ids(get(cast.client("guard"), "/quality/spot-checks")) == {check_id}
    assert ids(get(cast.client("cleaner"), "/quality/spot-checks")) == set()
    assert ids(get(cast.client("other_admin"), "/quality/spot-checks")) == set()
    pm = cast.client("project_manager")
    assert ids(get(pm, "/quality/spot-checks", {"score_below": "70"})) == {check_id}
    assert ids(get(pm, "/quality/spot-checks", {"score_below": "60"})) == set()
    assert ids(get(pm, "/quality/spot-checks", {"failing_aspect": "appearance"})) == {check_id}
    assert ids(get(pm, "/quality/spot-checks", {"community": cast.community_y.pk})) == set()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "technician_y"}, "subject_id"),
        ({"subject": "other_admin"}, "subject_id"),
        ({"marks": [{"item_id": 10**9}]}, "marks"),
        ({"marks": []}, "marks"),
        ({"photo_ids": [10**9]}, "photo_ids"),
    ],
)
def test_api_bad_input_writes_nothing(cast, change, field):
    subject = change.pop("subject", "guard")
    response = post(
        cast.client("quality"), "/quality/spot-checks", _api_payload(cast, subject, **change)
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]
    assert not SpotCheck.objects.exists()


def test_api_denied_for_non_inspectors(cast):
    for name in ("guard", "resident_a", "other_admin"):
        response = post(cast.client(name), "/quality/spot-checks", _api_payload(cast))
        assert response.status_code in (400, 403), (name, response.content)
    assert not SpotCheck.objects.exists()


def test_api_items_and_scorecard(cast):
    rows = results(get(cast.client("quality"), "/quality/conduct-items"))
    assert len(rows) == 22 and rows[0]["text"] == "工作服整洁规范,佩戴工作证"
    assert get(cast.client("guard"), "/quality/conduct-items").status_code == 403
    other = results(get(cast.client("other_admin"), "/quality/conduct-items"))
    assert {row["id"] for row in other}.isdisjoint({row["id"] for row in rows})

    _scorecard_data(cast)
    response = get(cast.client("project_manager"), "/quality/scorecard")
    assert response.status_code == 200, response.content
    top = response.json()[0]
    assert top["name"] == "technician" and top["combined"] == "83.5"
    assert top["parts"]["sla"] == "75.0" and top["resolution_missed"] == 1
    assert get(cast.client("guard"), "/quality/scorecard").status_code == 403
    bad = get(
        cast.client("quality"),
        "/quality/scorecard",
        {"date_from": "2026-01-02", "date_to": "2026-01-01"},
    )
    assert bad.status_code == 400
    foreign = get(
        cast.client("quality"), "/quality/scorecard", {"community": cast.other_community.pk}
    )
    assert foreign.status_code == 400
