"""Certificate expiry reminders (issue 4, part 2): who hears about a certificate, what
it says, once a day at most, weekly once expired, nothing before the window."""

import datetime

import pytest

from wuye.estates.models import Building
from wuye.facilities import services as fac
from wuye.facilities.models import AssetCategory, Certificate
from wuye.facilities.reminders import send_certificate_reminders
from wuye.facilities.tasks import remind_certificates
from wuye.notifications.models import Notification
from wuye.schedule import JOBS

TODAY = datetime.date(2026, 12, 1)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def _elevator(cast, community, admin="company_admin"):
    return fac.create_asset(
        actor=cast.actor(admin),
        community=community,
        category=AssetCategory.objects.get(company=community.company, code="elevator"),
        name="1号电梯",
        building=Building.objects.filter(community=community).first(),
    )


def _certificate(asset, expires_in: int, *, remind_days=30, number="DT2026-042"):
    return Certificate.objects.create(
        asset=asset,
        kind=Certificate.Kind.ELEVATOR,
        number=number,
        expires_on=TODAY + datetime.timedelta(days=expires_in),
        remind_days=remind_days,
    )


def _run(django_capture_on_commit_callbacks, today=TODAY) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return send_certificate_reminders(today=today)


def _received(certificate) -> dict[str, str]:
    """Recipient username -> title of the notifications about ``certificate``."""
    rows = Notification.objects.filter(
        object_type="facilities.certificate", object_id=certificate.pk
    ).select_related("recipient")
    return {n.recipient.username: n.title for n in rows}


def test_the_managers_of_the_community_and_company_wide_hear_of_it(
    cast, django_capture_on_commit_callbacks
):
    in_x = _certificate(_elevator(cast, cast.community_x), 10)
    in_y = _certificate(_elevator(cast, cast.community_y), 5)
    elsewhere = _certificate(_elevator(cast, cast.other_community, "other_admin"), 3)
    assert _run(django_capture_on_commit_callbacks) == 3
    # the X project manager and the company admin; not manager_y, nor the dispatcher
    # and quality officer (they only view facilities), nor the other company
    assert set(_received(in_x)) == {"project_manager", "company_admin"}
    assert set(_received(in_y)) == {"manager_y", "company_admin"}
    assert set(_received(elsewhere)) == {"other_admin"}
    title = _received(in_x)["project_manager"]
    assert title == "DT-0001 1号电梯: Elevator annual inspection DT2026-042 expires in 10 days"
    notice = Notification.objects.filter(object_id=in_x.pk).first()
    assert notice.kind == "facilities.certificate_expiring"
    assert "翠湖花园" in notice.body and "2026-12-11" in notice.body
    assert notice.url == f"/console/facilities/assets/{in_x.asset_id}/"
    assert Certificate.objects.get(pk=in_x.pk).reminded_on == TODAY


def test_a_second_run_the_same_day_sends_nothing(cast, django_capture_on_commit_callbacks):
    certificate = _certificate(_elevator(cast, cast.community_x), 10)
    assert _run(django_capture_on_commit_callbacks) == 1
    assert _run(django_capture_on_commit_callbacks) == 0
    assert Notification.objects.filter(object_id=certificate.pk).count() == 2
    # the next day it comes again, one day closer
    assert _run(django_capture_on_commit_callbacks, TODAY + DAY) == 1
    assert Notification.objects.filter(object_id=certificate.pk).count() == 4
    assert _received(certificate)["company_admin"].endswith("expires in 9 days")


def test_nothing_before_the_window_opens(cast, django_capture_on_commit_callbacks):
    asset = _elevator(cast, cast.community_x)
    later = _certificate(asset, 31, remind_days=30)
    assert _run(django_capture_on_commit_callbacks) == 0
    assert not Notification.objects.exists()
    assert Certificate.objects.get(pk=later.pk).reminded_on is None
    assert _run(django_capture_on_commit_callbacks, TODAY + DAY) == 1  # 30 days ahead


def test_expiry_day_then_weekly_once_expired(cast, django_capture_on_commit_callbacks):
    asset = _elevator(cast, cast.community_x)
    certificate = _certificate(asset, 0, number="")
    _run(django_capture_on_commit_callbacks)
    assert _received(certificate)["company_admin"] == (
        "DT-0001 1号电梯: Elevator annual inspection expires today"
    )
    sent = [
        day for day in range(1, 16) if _run(django_capture_on_commit_callbacks, TODAY + day * DAY)
    ]
    assert sent == [7, 14]  # expired: a week after the last reminder, not daily
    latest = Notification.objects.filter(object_id=certificate.pk).order_by("-id").first()
    assert latest.title.endswith("expired 14 days ago")


def test_an_expired_certificate_never_reminded_is_reminded_now(
    cast, django_capture_on_commit_callbacks
):
    certificate = _certificate(_elevator(cast, cast.community_x), -1)
    assert _run(django_capture_on_commit_callbacks) == 1
    assert _received(certificate)["project_manager"].endswith("expired 1 day ago")


def test_the_daily_job_is_scheduled_and_runs_on_the_local_date(
    cast, django_capture_on_commit_callbacks, time_machine
):
    job = next(j for j in JOBS if j.name == "facilities.remind_certificates")
    assert job.task is remind_certificates and job.every == DAY
    utc = datetime.UTC
    tick = datetime.datetime(2026, 12, 1, 0, 30, tzinfo=utc)  # 08:30 in Beijing
    assert job.last_tick(tick + datetime.timedelta(hours=5)) == tick
    certificate = _certificate(_elevator(cast, cast.community_x), 30)  # 2026-12-31
    # just after midnight in Beijing, still the previous day in UTC
    time_machine.move_to(datetime.datetime(2026, 11, 30, 16, 30, tzinfo=utc))
    with django_capture_on_commit_callbacks(execute=True):
        result = remind_certificates.enqueue()
    assert result.return_value == 1
    assert Certificate.objects.get(pk=certificate.pk).reminded_on == TODAY
