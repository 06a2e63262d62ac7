"""Monthly service reports: generation (PDF and Excel), the scheduler's once-only email
to the right people, downloads scoped to the reader, the Excel reports, bad input."""

import datetime
import io
import smtplib

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from tests.workorder_helpers import completed_repair
from wuye.billing.money import add_months, month_end
from wuye.quality import reports, rollups
from wuye.quality.figures import measure_sums
from wuye.quality.models import MonthlyReport
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel

pytestmark = pytest.mark.django_db

EMAILS = {
    "company_admin": "admin@acme.test",
    "project_manager": "pm.x@acme.test",
    "service_supervisor": "supervisor@acme.test",
    "quality": "quality@acme.test",
    "finance": "finance@acme.test",
    "manager_y": "pm.y@acme.test",
    "other_admin": "admin@other.test",
    "technician": "tech@acme.test",
}


@pytest.fixture(autouse=True)
def _media_and_mail(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def emails(cast):
    for name, address in EMAILS.items():
        cast.users[name].email = address
        cast.users[name].save(update_fields=["email"])
    return EMAILS


def _this_month():
    return timezone.localdate().replace(day=1)


def _next_month_morning():
    """07:00 on the 1st of next month: last month is the current one."""
    first = add_months(_this_month(), 1)
    return timezone.make_aware(datetime.datetime.combine(first, datetime.time(7)))


def _orders(cast):
    order = completed_repair(cast)
    wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5)
    wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.filter(company=cast.company, request_type="complaint")
        .exclude(parent=None)
        .first(),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="噪音扰民",
    )
    rollups.rebuild()


def _sheet_rows(data: bytes, title: str) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return list(book[title].iter_rows(values_only=True))


# --- generation -------------------------------------------------------------------------
def test_generation_writes_a_pdf_and_a_workbook_matching_the_rollups(cast):
    _orders(cast)
    month = _this_month()
    with translation.override("en"):
        report = reports.generate_report(
            actor=cast.actor("project_manager"), community=cast.community_x, month=month
        )
    assert report.pdf.read(5) == b"%PDF-"
    data = report.xlsx.read()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Summary", "By category", "Trend", "Complaints"]
    sums = measure_sums(reports.community_scope(cast.community_x, month, month_end(month)))[0]
    summary = _sheet_rows(data, "Summary")
    start = summary.index(("Figure", "This month", "Month before", "Unit")) + 1
    figures = {}
    for row in summary[start:]:
        if not row or row[0] is None:
            break
        figures[row[0]] = row[1]
    assert figures["Orders"] == sums["created"] == 2
    assert figures["Completed"] == sums["completed"] == 1
    assert figures["Complaints"] == 1
    assert figures["Satisfaction"] == 100
    trend = _sheet_rows(data, "Trend")
    assert len(trend) == 1 + reports.TREND_MONTHS
    assert trend[-1][:3] == (f"{month:%Y-%m}", 2, 1)
    complaints = _sheet_rows(data, "Complaints")
    assert complaints[1][:2] == ("Complaints", 1)
    causes = complaints[complaints.index(("Root cause", "Complaints", None)) + 1 :]
    assert [row[1] for row in causes] == [1]
    assert report.company_id == cast.company.id and report.emailed_to == []


def test_regenerating_replaces_the_files(cast, django_capture_on_commit_callbacks):
    pm, month = cast.actor("project_manager"), _this_month()
    first = reports.generate_report(actor=pm, community=cast.community_x, month=month)
    old_pdf = first.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        again = reports.generate_report(actor=pm, community=cast.community_x, month=month)
    assert again.pk == first.pk and MonthlyReport.objects.count() == 1
    assert again.pdf.name != old_pdf
    assert not again.pdf.storage.exists(old_pdf)
    assert again.pdf.storage.exists(again.pdf.name)


def test_generate_refuses_a_future_month_other_communities_and_field_staff(cast):
    future = add_months(_this_month(), 1)
    with pytest.raises(ValidationError) as exc:
        reports.generate_report(
            actor=cast.actor("project_manager"), community=cast.community_x, month=future
        )
    assert "month" in exc.value.message_dict
    with pytest.raises(Http404):
        reports.generate_report(
            actor=cast.actor("manager_y"), community=cast.community_x, month=_this_month()
        )
    with pytest.raises(Http404):
        reports.generate_report(
            actor=cast.actor("other_admin"), community=cast.community_x, month=_this_month()
        )
    for name in ("technician", "service_supervisor"):
        with pytest.raises(PermissionDenied):
            reports.generate_report(
                actor=cast.actor(name), community=cast.community_x, month=_this_month()
            )
    assert not MonthlyReport.objects.exists()


# --- the scheduler and the email ----------------------------------------------------------
def _outbox_by_community():
    found = {}
    for message in mail.outbox:
        found.setdefault(message.subject, set()).update(message.to)
    return found


def test_scheduler_makes_every_community_report_once_and_emails_the_right_people(cast, emails):
    now = _next_month_morning()
    month = _this_month()

    sent = reports.send_due_reports(now=now)

    made = {r.community_id: r for r in MonthlyReport.objects.filter(month=month)}
    assert set(made) == {cast.community_x.id, cast.community_y.id, cast.other_community.id}
    assert sent == 3
    x, y, o = (made[c.id] for c in (cast.community_x, cast.community_y, cast.other_community))
    wide = {emails["company_admin"], emails["quality"]}
    assert set(x.emailed_to) == wide | {emails["project_manager"]}
    assert set(y.emailed_to) == wide | {emails["manager_y"]}
    assert o.emailed_to == [emails["other_admin"]]
    by_address = {}
    for message in mail.outbox:
        assert len(message.to) == 1
        by_address.setdefault(message.to[0], []).append(message)
    # A manager of Y never gets X's report; supervisors, finance, field staff get none.
    assert len(by_address[emails["manager_y"]]) == 1
    assert cast.community_y.name in by_address[emails["manager_y"]][0].subject
    for name in ("service_supervisor", "finance", "technician"):
        assert emails[name] not in by_address
    assert len(by_address[emails["company_admin"]]) == 2  # X and Y, never the other company's
    message = by_address[emails["project_manager"]][0]
    names = sorted(name for name, _content, _mime in message.attachments)
    stem = f"wuye-report-{cast.community_x.code}-{month:%Y-%m}"
    assert names == [f"{stem}.pdf", f"{stem}.xlsx"]
    assert message.attachments[0][1][:5] == b"%PDF-"

    count = len(mail.outbox)
    assert reports.send_due_reports(now=now) == 0
    assert reports.send_due_reports(now=now + datetime.timedelta(days=1)) == 0
    assert len(mail.outbox) == count
    assert MonthlyReport.objects.count() == 3


def test_a_report_generated_on_demand_is_still_emailed_once(cast, emails):
    month = _this_month()
    report = reports.generate_report(
        actor=cast.actor("project_manager"), community=cast.community_x, month=month
    )
    reports.send_due_reports(now=_next_month_morning())
    report.refresh_from_db()
    assert emails["project_manager"] in report.emailed_to
    mine = [m for m in mail.outbox if m.to == [emails["project_manager"]]]
    assert len(mine) == 1
    assert MonthlyReport.objects.filter(community=cast.community_x, month=month).count() == 1
    assert reports.send_due_reports(now=_next_month_morning()) == 0
    assert len([m for m in mail.outbox if m.to == [emails["project_manager"]]]) == 1


def test_users_without_an_email_are_skipped(cast, emails):
    cast.users["quality"].email = ""
    cast.users["quality"].save(update_fields=["email"])
    assert emails["quality"] not in reports.recipients(cast.community_x)
    assert emails["project_manager"] in reports.recipients(cast.community_x)


def test_a_send_that_reached_nobody_is_tried_again_next_run(cast, emails, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("down")

    now = _next_month_morning()
    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", refuse)
        assert reports.send_due_reports(now=now) == 0
    assert not MonthlyReport.objects.exclude(emailed_to=[]).exists()
    assert reports.send_due_reports(now=now) == 3
    assert reports.send_due_reports(now=now) == 0


def test_a_claimed_report_is_not_sent_by_a_second_worker(cast, emails):
    report = reports.generate_report(
        actor=cast.actor("project_manager"), community=cast.community_x, month=_this_month()
    )
    MonthlyReport.objects.filter(pk=report.pk).update(emailed_to=["someone@acme.test"])
    assert reports.email_report(report) == []  # the other worker's claim stands
    assert mail.outbox == []


# --- pages and downloads ------------------------------------------------------------------
@pytest.fixture
def report_x(cast):
    return reports.generate_report(
        actor=cast.actor("project_manager"), community=cast.community_x, month=_this_month()
    )


def test_downloads_are_scoped(cast, report_x):
    for name, expected in (
        ("project_manager", 200),
        ("quality", 200),
        ("service_supervisor", 200),
        ("manager_y", 404),
        ("other_admin", 404),
        ("technician", 403),
        ("resident_a", 403),
    ):
        for kind in ("pdf", "xlsx"):
            response = cast.client(name).get(reverse(f"quality_reports:{kind}", args=[report_x.pk]))
            assert response.status_code == expected, (name, kind)
    response = cast.client("quality").get(reverse("quality_reports:pdf", args=[report_x.pk]))
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"
    assert "attachment" in response["Content-Disposition"]


def test_the_list_shows_only_the_readers_communities(cast, report_x, settings):
    settings.LANGUAGE_CODE = "en"
    url = reverse("quality_reports:monthly")
    response = cast.client("project_manager").get(url)
    assert response.status_code == 200
    assert reverse("quality_reports:pdf", args=[report_x.pk]) in response.content.decode()
    assert "Generate" in cast.client("project_manager").get(url).content.decode()
    response = cast.client("manager_y").get(url)
    assert reverse("quality_reports:pdf", args=[report_x.pk]) not in response.content.decode()
    assert cast.client("technician").get(url).status_code == 403
    assert cast.client("resident_a").get(url).status_code == 403
    assert cast.client("project_manager").get(url, {"month": "garbage"}).status_code == 200


def test_generate_form_rejects_a_future_month_and_a_community_not_yours(cast, settings):
    settings.LANGUAGE_CODE = "en"
    url = reverse("quality_reports:generate")
    future = add_months(_this_month(), 1)
    with translation.override("en"):
        response = cast.client("project_manager").post(
            url, {"community": cast.community_x.id, "month": f"{future:%Y-%m}"}
        )
        assert response.status_code == 400
        assert "future month" in response.content.decode()
        response = cast.client("project_manager").post(
            url, {"community": cast.community_y.id, "month": f"{_this_month():%Y-%m}"}
        )
        assert response.status_code == 400
    response = cast.client("project_manager").post(
        url, {"community": cast.community_x.id, "month": f"{_this_month():%Y-%m}"}
    )
    assert response.status_code == 302
    assert MonthlyReport.objects.get().community_id == cast.community_x.id


def test_excel_reports(cast, settings):
    settings.LANGUAGE_CODE = "en"
    _orders(cast)
    today = timezone.localdate()
    query = {
        "date_from": _this_month().isoformat(),
        "date_to": today.isoformat(),
        "community": cast.community_x.id,
    }
    with translation.override("en"):
        response = cast.client("quality").get(reverse("quality_reports:repairs"), query)
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["Summary", "By category", "By status", "By technician"]
        by_tech = list(book["By technician"].iter_rows(values_only=True))
        assert by_tech[1][:3] == ("technician", 1, 1)
        response = cast.client("finance").get(reverse("quality_reports:charges"), query)
        assert response.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        assert book.sheetnames == ["Summary", "By building", "By month", "Building and month"]
    assert cast.client("quality").get(reverse("quality_reports:charges"), query).status_code == 403
    bad = cast.client("manager_y").get(reverse("quality_reports:repairs"), query)
    assert bad.status_code == 400  # community X is not one of hers
    reversed_range = query | {"date_from": today.isoformat(), "date_to": "2020-01-01"}
    assert (
        cast.client("quality").get(reverse("quality_reports:repairs"), reversed_range).status_code
        == 400
    )


# --- API ----------------------------------------------------------------------------------
def _api(cast, name):
    return cast.client(name)


def test_api_lists_downloads_and_generates(cast, report_x):
    response = _api(cast, "quality").get("/api/v1/quality/reports")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [report_x.pk]
    assert _api(cast, "manager_y").get("/api/v1/quality/reports").json()["results"] == []
    assert _api(cast, "technician").get("/api/v1/quality/reports").status_code == 403
    assert (
        _api(cast, "other_admin").get(f"/api/v1/quality/reports/{report_x.pk}/pdf").status_code
        == 404
    )
    assert (
        _api(cast, "quality").get(f"/api/v1/quality/reports/{report_x.pk}/xlsx").status_code == 200
    )
    future = add_months(_this_month(), 1)
    response = _api(cast, "project_manager").post(
        "/api/v1/quality/reports",
        {"community_id": cast.community_x.id, "month": f"{future:%Y-%m}"},
        content_type="application/json",
    )
    assert response.status_code == 400
    response = _api(cast, "manager_y").post(
        "/api/v1/quality/reports",
        {"community_id": cast.community_x.id, "month": f"{_this_month():%Y-%m}"},
        content_type="application/json",
    )
    assert response.status_code == 404
    response = _api(cast, "manager_y").post(
        "/api/v1/quality/reports",
        {"community_id": cast.community_y.id, "month": f"{_this_month():%Y-%m}"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["community_id"] == cast.community_y.id
