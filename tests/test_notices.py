"""Notices (公告): writing, targeting rules, publishing with the fan-out, scheduled
publishing, withdrawing, read receipts and rates, console pages, resident H5, API."""

import datetime
import io

import openpyxl
import pytest
from api_helpers import post
from conftest import make_house, make_resident
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from wuye.estates.models import Building, House
from wuye.notices import selectors, services
from wuye.notices.models import EventKind, Notice, NoticeEvent, NoticeReceipt, Status
from wuye.notifications.models import Notification
from wuye.people.models import Residency


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def write(cast, who="project_manager", **fields):
    defaults = {
        "community": cast.community_x,
        "audience": "community",
        "kind": "outage",
        "title": "明日停水通知",
        "body": "因管道检修，明日9:00–12:00停水。",
    }
    return services.create_notice(actor=cast.actor(who), **(defaults | fields))


def publish(cast, notice, who="project_manager", capture=None):
    with capture(execute=True):
        return services.publish_notice(actor=cast.actor(who), notice=notice)


def count_rows():
    return (Notice.objects.count(), NoticeEvent.objects.count(), NoticeReceipt.objects.count())


# --- writing and targeting -------------------------------------------------------------------
def test_create_writes_a_draft_with_an_event(cast):
    notice = write(cast)
    assert notice.status == Status.DRAFT
    assert notice.company_id == cast.company.id
    assert list(notice.events.values_list("kind", flat=True)) == [EventKind.CREATED]


@pytest.mark.parametrize(
    "who, fields, field",
    [
        ("manager_y", {}, "community"),  # X is not one of manager Y's communities
        ("other_admin", {}, "community"),  # another company
        ("project_manager", {"audience": "company", "community": None}, "audience"),
        ("project_manager", {"audience": "buildings"}, "buildings"),  # none chosen
        ("project_manager", {"title": "  "}, "title"),
    ],
)
def test_bad_targets_are_refused_and_nothing_is_written(cast, who, fields, field):
    before = count_rows()
    with pytest.raises(ValidationError) as exc:
        write(cast, who, **fields)
    assert field in exc.value.error_dict
    assert count_rows() == before


def test_buildings_outside_the_community_are_refused(cast):
    other_building = Building.objects.get(community=cast.community_y)
    before = count_rows()
    with pytest.raises(ValidationError) as exc:
        write(cast, audience="buildings", buildings=[other_building])
    assert "buildings" in exc.value.error_dict
    assert count_rows() == before


def test_without_manage_permission_is_forbidden(cast):
    with pytest.raises(PermissionDenied):
        write(cast, "dispatcher")  # engagement.view + assist, not manage
    with pytest.raises(PermissionDenied):
        write(cast, "technician")


def test_company_wide_notice_needs_a_company_wide_role(cast):
    notice = write(cast, "company_admin", audience="company", community=None)
    assert notice.community_id is None


def test_expiry_must_follow_publishing(cast):
    now = timezone.now()
    with pytest.raises(ValidationError):
        write(
            cast,
            publish_at=now + datetime.timedelta(days=2),
            expires_at=now + datetime.timedelta(days=1),
        )
    assert not Notice.objects.exists()


def test_update_only_drafts_and_scheduled(cast, django_capture_on_commit_callbacks):
    notice = write(cast)
    services.update_notice(actor=cast.actor("project_manager"), notice=notice, title="新标题")
    notice.refresh_from_db()
    assert notice.title == "新标题"
    assert notice.events.filter(kind=EventKind.EDITED).exists()
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):
        services.update_notice(actor=cast.actor("project_manager"), notice=notice, title="再改")
    notice.refresh_from_db()
    assert notice.title == "新标题"


# --- publishing and the fan-out ----------------------------------------------------------------
def test_publish_fans_out_receipts_and_notifications(cast, django_capture_on_commit_callbacks):
    notice = write(cast, is_emergency=True)
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    notice.refresh_from_db()
    assert notice.status == Status.PUBLISHED
    assert set(notice.receipts.values_list("house_id", flat=True)) == {
        cast.house_a.id,
        cast.house_b.id,
    }
    assert notice.households == 2 and notice.recipients == 2
    rows = Notification.objects.filter(dedupe_key=f"notice:{notice.pk}")
    assert set(rows.values_list("recipient_id", flat=True)) == {
        cast.resident_a.user_id,
        cast.resident_b.user_id,
    }
    assert all(row.urgent for row in rows)
    assert rows[0].url == reverse("notices_resident:detail", args=[notice.pk])
    event = notice.events.get(kind=EventKind.PUBLISHED)
    assert event.payload["households"] == 2 and "sent_at" in event.payload
    assert not selectors.sending(notice)


def test_fan_out_twice_changes_nothing(cast, django_capture_on_commit_callbacks):
    notice = write(cast)
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    services.fan_out(notice.pk)
    assert NoticeReceipt.objects.filter(notice=notice).count() == 2
    assert Notification.objects.filter(dedupe_key=f"notice:{notice.pk}").count() == 2


def test_fan_out_in_small_chunks_reaches_everyone(cast, django_capture_on_commit_callbacks):
    extra = [make_house(cast.building_x1, cast.unit_x1, f"09{i:02d}") for i in range(7)]
    make_resident(cast.company, extra[0], "赵六", "13800000077")
    # A resident who moved out and one without a login are not notified.
    gone = make_resident(cast.company, extra[1], "钱七", "13800000078")
    Residency.objects.filter(resident=gone).update(
        move_out=timezone.localdate() - datetime.timedelta(days=3)
    )
    notice = write(cast)
    with django_capture_on_commit_callbacks(execute=False):
        services.publish_notice(actor=cast.actor("project_manager"), notice=notice)
    result = services.fan_out(notice.pk, chunk=3)
    notice.refresh_from_db()
    assert notice.households == 9 == result["households"]
    assert notice.recipients == 3  # A, B and 赵六


def test_buildings_units_and_houses_audiences(cast, django_capture_on_commit_callbacks):
    second = Building.objects.create(community=cast.community_x, name="2栋")
    far = make_house(second, None, "0101")
    by_building = write(cast, audience="buildings", buildings=[second])
    publish(cast, by_building, capture=django_capture_on_commit_callbacks)
    assert list(by_building.receipts.values_list("house_id", flat=True)) == [far.id]
    by_unit = write(cast, audience="units", units=[cast.unit_x1])
    publish(cast, by_unit, capture=django_capture_on_commit_callbacks)
    assert by_unit.receipts.count() == 2
    by_house = write(cast, audience="houses", houses=[cast.house_b])
    publish(cast, by_house, capture=django_capture_on_commit_callbacks)
    assert list(by_house.receipts.values_list("house_id", flat=True)) == [cast.house_b.id]
    # Per-building rows carry the building of the house.
    assert by_building.receipts.get().building_id == second.id


def test_publish_emits_the_webhook(cast, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "wuye.webhooks.events.emit", lambda **kwargs: sent.append(kwargs), raising=True
    )
    notice = write(cast)
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    assert sent and sent[0]["event_type"] == "notice.published"
    assert sent[0]["data"]["id"] == notice.pk


def test_publish_twice_is_refused(cast, django_capture_on_commit_callbacks):
    notice = write(cast)
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):
        publish(cast, notice, capture=django_capture_on_commit_callbacks)
    assert notice.events.filter(kind=EventKind.PUBLISHED).count() == 1


def test_a_manager_of_another_community_cannot_publish(cast):
    notice = write(cast)
    with pytest.raises(PermissionDenied):
        services.publish_notice(actor=cast.actor("manager_y"), notice=notice)
    notice.refresh_from_db()
    assert notice.status == Status.DRAFT


# --- scheduling ----------------------------------------------------------------------------------
def test_scheduled_notice_is_published_by_the_sweep(cast, django_capture_on_commit_callbacks):
    now = timezone.now()
    notice = write(cast, publish_at=now + datetime.timedelta(hours=1))
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    notice.refresh_from_db()
    assert notice.status == Status.SCHEDULED
    assert not notice.receipts.exists()
    assert services.publish_due_notices(now=now) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publish_due_notices(now=now + datetime.timedelta(hours=2)) == 1
    notice.refresh_from_db()
    assert notice.status == Status.PUBLISHED and notice.households == 2
    assert notice.events.get(kind=EventKind.PUBLISHED).payload["scheduled"] is True
    # A second tick finds nothing.
    assert services.publish_due_notices(now=now + datetime.timedelta(hours=3)) == 0


def test_the_periodic_task_runs_the_sweep(cast, django_capture_on_commit_callbacks):
    from wuye.notices.tasks import publish_due_notices

    notice = write(cast, publish_at=timezone.now() + datetime.timedelta(minutes=5))
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    Notice.objects.filter(pk=notice.pk).update(
        publish_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        publish_due_notices.call()
    notice.refresh_from_db()
    assert notice.status == Status.PUBLISHED


def test_withdrawn_and_expired_are_not_shown_to_residents(cast, django_capture_on_commit_callbacks):
    a = cast.actor("resident_a")
    notice = write(cast)
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    assert list(selectors.resident_notices(a)) == [notice]
    Notice.objects.filter(pk=notice.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert not selectors.resident_notices(a).exists()
    Notice.objects.filter(pk=notice.pk).update(expires_at=None)
    services.withdraw_notice(actor=cast.actor("project_manager"), notice=notice, note="发错了")
    assert not selectors.resident_notices(a).exists()
    assert not Notice.objects.visible_to(a).exists()
    event = notice.events.get(kind=EventKind.WITHDRAWN)
    assert event.note == "发错了" and event.to_status == Status.WITHDRAWN


# --- reading --------------------------------------------------------------------------------------
def test_mark_read_once_and_read_rate(cast, django_capture_on_commit_callbacks):
    notice = write(cast)
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    a = cast.actor("resident_a")
    assert services.mark_read(actor=a, notice=notice) == 1
    first = notice.receipts.get(house=cast.house_a).read_at
    assert services.mark_read(actor=a, notice=notice) == 0
    receipt = notice.receipts.get(house=cast.house_a)
    assert receipt.read_at == first and receipt.read_by_id == a.user.pk
    counts = selectors.read_counts(notice)
    assert counts == {"households": 2, "read": 1, "unread": 1, "rate": 0.5}
    rows = selectors.building_counts(notice)
    assert rows == [
        {
            "building_id": cast.building_x1.id,
            "households": 2,
            "read": 1,
            "name": cast.building_x1.name,
            "rate": 0.5,
        }
    ]
    assert selectors.receipts(notice, read=False).get().house_id == cast.house_b.id
    # The in-app notification was marked read too.
    assert Notification.objects.get(recipient=a.user, dedupe_key=f"notice:{notice.pk}").read_at


def test_resident_order_urgent_unread_first_then_pinned(cast, django_capture_on_commit_callbacks):
    plain = write(cast, title="普通")
    pinned = write(cast, title="置顶", is_pinned=True)
    urgent = write(cast, title="紧急", is_emergency=True)
    for notice in (urgent, pinned, plain):
        publish(cast, notice, capture=django_capture_on_commit_callbacks)
    a = cast.actor("resident_a")
    assert [n.title for n in selectors.resident_notices(a)] == ["紧急", "置顶", "普通"]
    assert selectors.urgent_unread(a) == [urgent]
    services.mark_read(actor=a, notice=urgent)
    assert [n.title for n in selectors.resident_notices(a)] == ["置顶", "普通", "紧急"]
    assert selectors.urgent_unread(a) == []
    assert selectors.unread_count(a) == 2


def test_residents_see_only_notices_of_their_houses(cast, django_capture_on_commit_callbacks):
    notice = write(cast, audience="houses", houses=[cast.house_a])
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    assert selectors.resident_notices(cast.actor("resident_a")).count() == 1
    assert not selectors.resident_notices(cast.actor("resident_b")).exists()
    assert not selectors.resident_notices(cast.actor("other_resident")).exists()
    assert services.mark_read(actor=cast.actor("resident_b"), notice=notice) == 0


def test_staff_scoping(cast):
    notice = write(cast)
    assert selectors.staff_notices(cast.actor("dispatcher")).filter(pk=notice.pk).exists()
    assert selectors.staff_notices(cast.actor("quality")).filter(pk=notice.pk).exists()
    for name in ("manager_y", "other_admin", "technician", "resident_a"):
        assert not selectors.staff_notices(cast.actor(name)).exists(), name


# --- files and images --------------------------------------------------------------------------
PDF = b"%PDF-1.4\n%test\n"


def test_attachments_are_sniffed_and_limited(cast, settings):
    notice = write(cast)
    pm = cast.actor("project_manager")
    upload = SimpleUploadedFile("计划.pdf", PDF, content_type="application/pdf")
    attachment = services.add_attachment(actor=pm, notice=notice, upload=upload)
    assert attachment.name == "计划.pdf" and attachment.content_type == "application/pdf"
    fake = SimpleUploadedFile("fake.pdf", b"MZ\x90\x00", content_type="application/pdf")
    with pytest.raises(ValidationError):
        services.add_attachment(actor=pm, notice=notice, upload=fake)
    settings.FACILITY_ATTACHMENT_MAX_MB = 0
    with pytest.raises(ValidationError):
        services.add_attachment(actor=pm, notice=notice, upload=SimpleUploadedFile("big.pdf", PDF))
    assert notice.attachments.count() == 1
    services.remove_attachment(actor=pm, attachment=attachment)
    assert not notice.attachments.exists()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    return out.getvalue()


def test_images_and_resident_downloads(cast, django_capture_on_commit_callbacks):
    notice = write(cast)
    pm = cast.actor("project_manager")
    photo = services.add_photo(
        actor=pm, notice=notice, uploaded=SimpleUploadedFile("a.png", _png())
    )
    attachment = services.add_attachment(
        actor=pm, notice=notice, upload=SimpleUploadedFile("计划.pdf", PDF)
    )
    image_url = reverse("notices_resident:image", args=[notice.pk, photo.pk])
    file_url = reverse("notices_resident:attachment", args=[attachment.pk])
    # Not visible to residents before publishing.
    assert cast.client("resident_a").get(file_url).status_code == 404
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    a = cast.client("resident_a")
    assert a.get(image_url).status_code == 200
    response = a.get(file_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert cast.client("other_resident").get(file_url).status_code == 404
    assert cast.client("other_resident").get(image_url).status_code == 404
    assert selectors.photo_visible(cast.actor("resident_a"), photo.pk)
    assert not selectors.photo_visible(cast.actor("other_resident"), photo.pk)
    # Published: no more editing its files.
    with pytest.raises(ValidationError):
        services.remove_attachment(actor=pm, attachment=attachment)


# --- console pages ---------------------------------------------------------------------------
def test_console_list_filters_and_scoping(cast):
    write(cast, title="停水通知")
    write(cast, title="活动报名", kind="activity")
    client = cast.client("project_manager")
    page = client.get(reverse("notices:list")).content.decode()
    assert "停水通知" in page and "活动报名" in page
    page = client.get(reverse("notices:list"), {"kind": "activity"}).content.decode()
    assert "活动报名" in page and "停水通知" not in page
    page = client.get(reverse("notices:list"), {"q": "停水"}).content.decode()
    assert "停水通知" in page and "活动报名" not in page
    other = cast.client("manager_y").get(reverse("notices:list")).content.decode()
    assert "停水通知" not in other
    assert cast.client("technician").get(reverse("notices:list")).status_code == 403


def test_console_create_to_buildings_and_publish(cast, django_capture_on_commit_callbacks):
    client = cast.client("project_manager")
    form = client.get(reverse("notices:create"), {"community": cast.community_x.id})
    assert form.status_code == 200
    response = client.post(
        reverse("notices:create"),
        {
            "community": cast.community_x.id,
            "audience": "buildings",
            "buildings": [cast.building_x1.id],
            "kind": "outage",
            "title": "明日停水",
            "body": "9:00–12:00 停水",
            "event_starts_at": "2030-01-02T09:00",
            "event_ends_at": "2030-01-02T12:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = Notice.objects.get(title="明日停水")
    assert list(notice.buildings.all()) == [cast.building_x1]
    detail = client.get(reverse("notices:detail", args=[notice.pk]))
    assert detail.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notices:publish", args=[notice.pk]))
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == Status.PUBLISHED and notice.households == 2
    services.mark_read(actor=cast.actor("resident_a"), notice=notice)
    page = client.get(reverse("notices:detail", args=[notice.pk])).content.decode()
    assert "50%" in page
    page = client.get(reverse("notices:detail", args=[notice.pk]), {"read": "no"}).content.decode()
    assert cast.house_b.number in page
    export = client.get(reverse("notices:receipts_export", args=[notice.pk]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 3 and {r[3] for r in rows[1:]} == {"0101", "0102"}


def test_console_create_by_house_numbers(cast):
    client = cast.client("project_manager")
    data = {
        "community": cast.community_x.id,
        "audience": "houses",
        "house_building": cast.building_x1.id,
        "house_numbers": "0101, 0999",
        "kind": "tip",
        "title": "温馨提示",
        "body": "注意防寒",
    }
    response = client.post(reverse("notices:create"), data)
    assert response.status_code == 400
    assert "0999" in response.content.decode()
    assert not Notice.objects.exists()
    data["house_numbers"] = "0101 0102"
    assert client.post(reverse("notices:create"), data).status_code == 302
    notice = Notice.objects.get()
    assert set(notice.houses.all()) == {cast.house_a, cast.house_b}


def test_console_refuses_another_communitys_buildings(cast):
    client = cast.client("project_manager")
    other = Building.objects.get(community=cast.community_y)
    response = client.post(
        reverse("notices:create"),
        {
            "community": cast.community_y.id,
            "audience": "buildings",
            "buildings": [other.id],
            "kind": "notice",
            "title": "越权",
            "body": "x",
        },
    )
    assert response.status_code == 400
    assert not Notice.objects.exists()


def test_console_withdraw_and_edit(cast, django_capture_on_commit_callbacks):
    notice = write(cast)
    client = cast.client("project_manager")
    edit = client.get(reverse("notices:edit", args=[notice.pk]))
    assert edit.status_code == 200
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    response = client.post(reverse("notices:withdraw", args=[notice.pk]), {"note": "取消"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == Status.WITHDRAWN
    # Withdrawing again: a message on the page, nothing changes.
    response = client.post(reverse("notices:withdraw", args=[notice.pk]), {"note": ""})
    assert response.status_code == 400
    assert notice.events.filter(kind=EventKind.WITHDRAWN).count() == 1


def test_console_detail_of_another_community_is_404(cast):
    notice = write(cast)
    assert (
        cast.client("manager_y").get(reverse("notices:detail", args=[notice.pk])).status_code == 404
    )


# --- resident H5 -------------------------------------------------------------------------------
def test_h5_list_detail_marks_read_and_home_card(cast, django_capture_on_commit_callbacks):
    notice = write(cast, is_emergency=True, title="紧急停电")
    publish(cast, notice, capture=django_capture_on_commit_callbacks)
    client = cast.client("resident_a")
    home = client.get(reverse("web:resident_home")).content.decode()
    assert "紧急停电" in home and "urgent-card" in home
    listing = client.get(reverse("notices_resident:list")).content.decode()
    assert "紧急停电" in listing
    detail = client.get(reverse("notices_resident:detail", args=[notice.pk]))
    assert detail.status_code == 200
    assert notice.receipts.get(house=cast.house_a).read_at is not None
    home = client.get(reverse("web:resident_home")).content.decode()
    assert "urgent-card" not in home
    assert (
        cast.client("other_resident")
        .get(reverse("notices_resident:detail", args=[notice.pk]))
        .status_code
        == 404
    )


# --- API ----------------------------------------------------------------------------------------
def test_api_create_publish_stats_and_resident_read(cast, django_capture_on_commit_callbacks):
    client = cast.client("project_manager")
    data = {
        "community_id": cast.community_x.id,
        "audience": "buildings",
        "building_ids": [cast.building_x1.id],
        "kind": "outage",
        "title": "API 停水",
        "body": "检修",
        "is_emergency": True,
    }
    response = post(client, "/notices", data, **{"Idempotency-Key": "n-1"})
    assert response.status_code == 201, response.json()
    again = post(client, "/notices", data, **{"Idempotency-Key": "n-1"})
    assert again.json()["id"] == response.json()["id"]
    assert Notice.objects.count() == 1
    pk = response.json()["id"]
    response = client.patch(
        f"/api/v1/notices/{pk}", {"title": "API 停水（更正）"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["title"] == "API 停水（更正）"
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/notices/{pk}/publish", {})
    assert response.status_code == 200 and response.json()["status"] == "published"
    resident = cast.client("resident_a")
    mine = resident.get("/api/v1/resident/notices", {"unread": True, "urgent": True}).json()
    assert [n["id"] for n in mine["results"]] == [pk]
    assert post(resident, f"/resident/notices/{pk}/read", {}).json() == {"changed": 1}
    stats = client.get(f"/api/v1/notices/{pk}/read-stats").json()
    assert stats["households"] == 2 and stats["read"] == 1 and stats["rate"] == 0.5
    assert stats["buildings"][0]["read"] == 1
    receipts = client.get(f"/api/v1/notices/{pk}/receipts", {"read": False}).json()
    assert [r["house_id"] for r in receipts["results"]] == [cast.house_b.id]
    listing = client.get("/api/v1/notices").json()
    assert listing["results"][0]["read_households"] == 1
    assert cast.client("other_resident").get(f"/api/v1/resident/notices/{pk}").status_code == 404
    assert cast.client("manager_y").get(f"/api/v1/notices/{pk}").status_code == 404
    response = post(client, f"/notices/{pk}/withdraw", {"note": "x"})
    assert response.json()["status"] == "withdrawn"


def test_api_bad_targets_name_the_field(cast):
    other = Building.objects.get(community=cast.community_y)
    response = post(
        cast.client("project_manager"),
        "/notices",
        {
            "community_id": cast.community_x.id,
            "audience": "buildings",
            "building_ids": [other.id],
            "title": "x",
            "body": "y",
        },
    )
    assert response.status_code == 400
    assert "building_ids" in response.json()["detail"]
    assert not Notice.objects.exists()
    response = post(
        cast.client("manager_y"),
        "/notices",
        {"community_id": cast.community_x.id, "title": "x", "body": "y"},
    )
    assert response.status_code == 400
    assert not Notice.objects.exists()
    assert House.objects.count() == 4
