"""Personal information protection: the audit log (every export through the one
middleware hook, looks at full personal data), a resident's copy of their data, the
deletion request and its erasure (complete, statistics unchanged), retention."""

import dataclasses
import datetime
import io
import json

import openpyxl
import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone

from tests.workorder_helpers import completed_repair
from wuye.accounts.models import User
from wuye.activities.models import Signup
from wuye.notifications.models import Notification
from wuye.people.models import Residency, Resident
from wuye.privacy import services
from wuye.privacy.models import (
    ERASED_NAME,
    AccessLog,
    Action,
    DeletionRequest,
    DeletionState,
    RetentionSettings,
)
from wuye.quality import dashboard, figures, rollups
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, Feedback, WorkOrder

pytestmark = pytest.mark.django_db

MOBILE_A = "13800000001"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _xlsx(response):
    body = b"".join(response.streaming_content)
    return openpyxl.load_workbook(io.BytesIO(body), read_only=True)


def _cells(book, sheet):
    return [c for row in book[sheet].iter_rows(values_only=True) for c in row]


# --- the audit log ------------------------------------------------------------------------
def test_every_console_export_is_logged_by_the_middleware(cast):
    client = cast.client("company_admin")
    response = client.get(reverse("notifications:delivery_log") + "?channel=sms&export=xlsx")
    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert entry.action == Action.EXPORT
    assert entry.company_id == cast.company.pk
    assert entry.actor_id == cast.users["company_admin"].pk
    assert "wuye-deliveries-" in entry.what and "channel=sms" in entry.what
    assert "export=xlsx" not in entry.what
    assert entry.ip == "127.0.0.1"
    # A page that is not a file is not an export.
    client.get(reverse("notifications:delivery_log"))
    assert AccessLog.objects.count() == 1


def test_api_exports_are_logged_too(cast):
    from wuye.accounts.services import create_api_token

    _token, secret = create_api_token(actor=cast.actor("resident_a"), name="t")
    from django.test import Client

    response = Client().get("/api/v1/privacy/my-data", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    entry = AccessLog.objects.get()  # logged once, as a data copy, not twice
    assert entry.action == Action.DATA_EXPORT and entry.row_count >= 2


def test_full_personal_data_seen_by_staff_is_logged(cast):
    url = reverse("people:resident_detail", args=[cast.resident_a.pk])
    assert cast.client("company_admin").get(url).status_code == 200
    entry = AccessLog.objects.get()
    assert entry.action == Action.VIEW_SENSITIVE
    assert entry.what == f"Resident #{cast.resident_a.pk}" or str(cast.resident_a.pk) in entry.what
    # Staff without people.view_sensitive see masked values: nothing to log.
    assert cast.client("dispatcher").get(url).status_code == 200
    assert AccessLog.objects.count() == 1
    response = cast.client("project_manager").get(f"/api/v1/residents/{cast.resident_a.pk}")
    assert response.json()["mobile"] == MOBILE_A
    assert AccessLog.objects.filter(action=Action.VIEW_SENSITIVE).count() == 2


def test_audit_log_is_scoped_to_the_company_and_needs_the_permission(cast):
    services.log_access(actor=cast.actor("company_admin"), action=Action.EXPORT, what="ours.xlsx")
    services.log_access(actor=cast.actor("other_admin"), action=Action.EXPORT, what="theirs.xlsx")
    url = reverse("privacy:audit_log")
    page = cast.client("company_admin").get(url).content.decode()
    assert "ours.xlsx" in page and "theirs.xlsx" not in page
    page = cast.client("other_admin").get(url).content.decode()
    assert "theirs.xlsx" in page and "ours.xlsx" not in page
    assert cast.client("project_manager").get(url).status_code == 403
    assert cast.client("resident_a").get(url).status_code in (302, 403)
    body = cast.client("company_admin").get("/api/v1/privacy/access-logs").json()
    assert [row["what"] for row in body["results"]] == ["ours.xlsx"]
    assert cast.client("project_manager").get("/api/v1/privacy/access-logs").json()["results"] == []


def test_audit_log_filters_and_its_export_is_logged(cast):
    admin = cast.actor("company_admin")
    services.log_access(actor=admin, action=Action.EXPORT, what="a.xlsx")
    services.log_access(actor=cast.actor("quality"), action=Action.VIEW_SENSITIVE, what="b")
    client = cast.client("company_admin")
    page = client.get(reverse("privacy:audit_log") + "?action=view_sensitive").content.decode()
    assert ">b<" in page and "a.xlsx" not in page
    page = client.get(reverse("privacy:audit_log") + "?who=company_admin").content.decode()
    assert "a.xlsx" in page and ">b<" not in page
    bad = client.get(reverse("privacy:audit_log") + "?date_from=2026-02-02&date_to=2026-01-01")
    assert (
        "The end date is before the start date." in bad.content.decode() or bad.status_code == 200
    )
    response = client.get(reverse("privacy:audit_log") + "?export=xlsx")
    book = _xlsx(response)
    assert "a.xlsx" in _cells(book, book.sheetnames[0])
    last = AccessLog.objects.order_by("-id").first()
    assert last.action == Action.EXPORT and "wuye-audit-log-" in last.what
    assert last.row_count == 2


# --- a resident's own data ----------------------------------------------------------------
def test_resident_downloads_their_own_data_only(cast):
    order = completed_repair(cast)
    wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=4, comment="还行")
    wo.submit_order(
        actor=cast.actor("resident_b"),
        category=Category.objects.get(company=cast.company, code="windows_glass"),
        house=cast.house_b,
        channel=Channel.RESIDENT_H5,
        description="B家的窗户",
    )
    response = cast.client("resident_a").get(reverse("privacy_resident:download"))
    assert response.status_code == 200
    book = _xlsx(response)
    assert {"Houses", "Ratings", "Bills", "Notifications"} <= set(book.sheetnames) or len(
        book.sheetnames
    ) >= 10
    everything = [c for name in book.sheetnames for c in _cells(book, name)]
    assert MOBILE_A in everything and "张伟" in everything
    assert order.number in everything and "还行" in everything
    assert "B家的窗户" not in everything and "13800000002" not in everything
    entry = AccessLog.objects.get()
    assert entry.action == Action.DATA_EXPORT and entry.actor_id == cast.users["resident_a"].pk
    assert entry.company_id == cast.company.pk


def test_staff_without_a_resident_profile_has_nothing_to_download(cast):
    response = cast.client("nobody").get(reverse("privacy_resident:download"))
    assert response.status_code == 403
    assert cast.client("nobody").get("/api/v1/privacy/my-data").status_code == 403
    assert not AccessLog.objects.exists()


# --- deletion -----------------------------------------------------------------------------
def _text_columns():
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            for field in model._meta.concrete_fields:
                if isinstance(field, (models.CharField, models.TextField)):
                    yield model, field.attname


def _places_of(value):
    found = []
    for model, column in _text_columns():
        if model.objects.filter(**{f"{column}__contains": value}).exists():
            found.append(f"{model._meta.label}.{column}")
    return found


@dataclasses.dataclass
class Figures:
    orders: int
    ratings: list
    board: str


def _figures(cast, now):
    rollups.rebuild(now=now)
    today = timezone.localdate()
    scope = figures.scope_for(
        cast.actor("company_admin"), first=today - datetime.timedelta(days=29), last=today
    )
    board = dashboard.build(scope, now=now)
    index = dashboard.service_quality_index(scope)
    return Figures(
        orders=WorkOrder.objects.filter(company=cast.company).count(),
        ratings=sorted(Feedback.objects.values_list("order_id", "overall")),
        board=repr(dataclasses.asdict(board) if dataclasses.is_dataclass(board) else board)
        + repr(index),
    )


def _history_of_resident_a(cast):
    """Resident A: a rated repair, a phone complaint with their mobile, an activity
    sign-up, an SMS delivery and a notification."""
    order = completed_repair(cast)
    wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=3, comment="慢")
    wo.submit_order(
        actor=cast.actor("dispatcher"),
        category=Category.objects.filter(company=cast.company, request_type="complaint")
        .exclude(parent=None)
        .order_by("id")
        .first(),
        house=cast.house_a,
        channel=Channel.PHONE,
        description="噪音扰民",
        contact_name="张伟",
        contact_mobile=MOBILE_A,
    )
    from wuye.notifications.models import Delivery

    note = Notification.objects.create(
        recipient=cast.users["resident_a"], kind="test", title="通知", dedupe_key="t:1"
    )
    Delivery.objects.create(notification=note, channel="sms", address=MOBILE_A)
    from wuye.activities.models import Activity

    activity = Activity.objects.filter(company=cast.company).first()
    if activity is not None:
        Signup.objects.create(
            activity=activity,
            house=cast.house_a,
            user=cast.users["resident_a"],
            contact_name="张伟",
            contact_mobile=MOBILE_A,
            party_size=1,
            status="confirmed",
            code="T1",
        )


def test_erasure_leaves_the_mobile_nowhere_and_the_figures_unchanged(cast):
    _history_of_resident_a(cast)
    now = timezone.now()
    before = _figures(cast, now)
    assert _places_of(MOBILE_A)  # the search finds it before

    client = cast.client("resident_a")
    response = client.post(reverse("privacy_resident:request_deletion"), {"reason": "搬走了"})
    assert response.status_code == 302
    found = DeletionRequest.objects.get()
    assert found.state == DeletionState.REQUESTED and found.community_id == cast.community_x.pk
    # Staff of another company or community cannot see or decide it.
    assert (
        cast.client("other_admin")
        .post(reverse("privacy:deletion_approve", args=[found.pk]), {"note": "x"})
        .status_code
        == 404
    )
    assert (
        cast.client("manager_y")
        .post(reverse("privacy:deletion_approve", args=[found.pk]), {"note": "x"})
        .status_code
        == 404
    )
    assert (
        cast.client("dispatcher")
        .post(reverse("privacy:deletion_approve", args=[found.pk]), {"note": "x"})
        .status_code
        == 403
    )
    # A reason is required.
    cast.client("project_manager").post(reverse("privacy:deletion_approve", args=[found.pk]))
    found.refresh_from_db()
    assert found.state == DeletionState.REQUESTED

    response = cast.client("project_manager").post(
        reverse("privacy:deletion_approve", args=[found.pk]), {"note": "核实身份"}
    )
    assert response.status_code == 302
    found.refresh_from_db()
    assert found.state == DeletionState.DONE and found.decision_note == "核实身份"

    assert _places_of(MOBILE_A) == []
    resident = Resident.objects.get(pk=cast.resident_a.pk)
    assert (resident.name, resident.mobile, resident.id_number) == (ERASED_NAME, "", "")
    user = User.objects.get(pk=cast.users["resident_a"].pk)
    assert not user.is_active and not user.has_usable_password() and user.mobile is None
    assert "张伟" not in user.username + user.first_name
    assert not cast.client(None).login(username=MOBILE_A, password="test-pass-123")
    # The resident's open session ends too (an inactive user is no longer signed in).
    assert client.get(reverse("privacy_resident:my_data")).status_code == 302
    # The service record is whole: same counts, same ratings, same dashboard.
    assert _figures(cast, now) == before
    assert not WorkOrder.objects.filter(contact_name="张伟").exists()
    order = WorkOrder.objects.filter(house=cast.house_a).first()
    assert order.events.count() > 0  # the timeline stays
    assert AccessLog.objects.filter(action=Action.ERASURE, company=cast.company).count() == 1
    # Decided once only.
    response = cast.client("company_admin").post(
        reverse("privacy:deletion_reject", args=[found.pk]), {"note": "晚了"}
    )
    found.refresh_from_db()
    assert found.state == DeletionState.DONE


def test_deletion_through_the_api_reject_and_resident_sees_own(cast):
    client = cast.client("resident_b")
    response = client.post(
        "/api/v1/privacy/deletion-requests", data=json.dumps({}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    again = client.post(
        "/api/v1/privacy/deletion-requests", data=json.dumps({}), content_type="application/json"
    )
    assert again.status_code == 400
    request_id = response.json()[0]["id"]
    assert [r["id"] for r in client.get("/api/v1/privacy/deletion-requests").json()["results"]] == [
        request_id
    ]
    assert (
        cast.client("resident_a").get("/api/v1/privacy/deletion-requests").json()["results"] == []
    )
    assert (
        cast.client("other_admin").get("/api/v1/privacy/deletion-requests").json()["results"] == []
    )
    manager = cast.client("project_manager")
    url = f"/api/v1/privacy/deletion-requests/{request_id}/reject"
    empty = manager.post(url, data=json.dumps({"note": ""}), content_type="application/json")
    assert empty.status_code in (400, 422)
    response = manager.post(
        url, data=json.dumps({"note": "有未结纠纷，请到前台办理"}), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["state"] == "rejected"
    assert Resident.objects.get(pk=cast.resident_b.pk).mobile == "13800000002"
    page = client.get(reverse("privacy_resident:my_data")).content.decode()
    assert "有未结纠纷" in page


# --- retention ----------------------------------------------------------------------------
def test_retention_job_deletes_exactly_what_is_old(cast):
    now = timezone.now()
    old = now - datetime.timedelta(days=3 * 366 + 2)
    kept = now - datetime.timedelta(days=3 * 365 - 30)
    admin = cast.actor("company_admin")
    stale = services.log_access(actor=admin, action=Action.EXPORT, what="old")
    AccessLog.objects.filter(pk=stale.pk).update(at=old)
    recent = services.log_access(actor=admin, action=Action.EXPORT, what="recent")
    AccessLog.objects.filter(pk=recent.pk).update(at=kept)
    # The other company keeps its log 10 years.
    RetentionSettings.objects.create(company=cast.other_company, audit_log_years=10)
    theirs = services.log_access(actor=cast.actor("other_admin"), action=Action.EXPORT, what="o")
    AccessLog.objects.filter(pk=theirs.pk).update(at=old)

    user = cast.users["resident_b"]
    old_note = Notification.objects.create(
        recipient=user,
        kind="t",
        title="old",
        dedupe_key="t:o",
        created_at=now - datetime.timedelta(days=400),
    )
    new_note = Notification.objects.create(
        recipient=user,
        kind="t",
        title="new",
        dedupe_key="t:n",
        created_at=now - datetime.timedelta(days=300),
    )
    # Resident B moved out six years ago, resident of Y (new) two years ago.
    today = timezone.localdate()
    Residency.objects.filter(resident=cast.resident_b).update(
        move_in=datetime.date(2010, 1, 1), move_out=today - datetime.timedelta(days=6 * 365)
    )
    from tests.conftest import make_resident

    recent_leaver = make_resident(cast.company, cast.house_y, "赵六", "13700000007")
    Residency.objects.filter(resident=recent_leaver).update(
        move_out=today - datetime.timedelta(days=2 * 365)
    )

    totals = services.apply_retention(now=now)
    assert totals == {"audit": 1, "notifications": 1, "erased": 1}
    assert set(AccessLog.objects.filter(action=Action.EXPORT).values_list("what", flat=True)) == {
        "recent",
        "o",
    }
    assert not Notification.objects.filter(pk=old_note.pk).exists()
    # Resident B was erased: their notifications went with them.
    assert not Notification.objects.filter(pk=new_note.pk).exists()
    assert Resident.objects.get(pk=cast.resident_b.pk).name == ERASED_NAME
    assert Resident.objects.get(pk=recent_leaver.pk).name == "赵六"
    assert Resident.objects.get(pk=cast.resident_a.pk).name == "张伟"
    assert DeletionRequest.objects.get().source == "retention"
    # Idempotent: a second run finds nothing.
    assert services.apply_retention(now=now) == {"audit": 0, "notifications": 0, "erased": 0}


def test_the_daily_job_is_declared():
    from wuye.schedule import JOBS

    assert "privacy.apply_retention" in {job.name for job in JOBS}


def test_retention_form_validates_ranges(cast):
    url = reverse("privacy:retention")
    client = cast.client("company_admin")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"audit_log_years": 0, "notification_months": 12, "departed_years": 5})
    assert bad.status_code == 400 and not RetentionSettings.objects.exists()
    good = client.post(url, {"audit_log_years": 5, "notification_months": 6, "departed_years": 7})
    assert good.status_code == 302
    saved = RetentionSettings.objects.get(company=cast.company)
    assert (saved.audit_log_years, saved.notification_months, saved.departed_years) == (5, 6, 7)
    assert cast.client("project_manager").get(url).status_code == 403
    assert cast.client("other_admin").get(url).status_code == 200
