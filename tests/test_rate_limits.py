"""Per-user and per-mobile limits (issue 9): requests a resident submits, urges, SMS login
codes. Counted from the database, shared by H5, console and API; the API answers 429 with
Retry-After, the web pages a form error or message."""

import datetime

import pytest
from api_helpers import post
from django.test import Client
from django.urls import reverse

from wuye.accounts.models import SmsCode
from wuye.core.ratelimit import RateLimited
from wuye.notifications.providers import LoggingSmsProvider
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, WorkOrder

NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are read in English here; one test checks the Chinese answer."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _cache_on_the_frozen_clock(settings):
    """The web form's one-code-a-minute throttle lives in the cache: a process-local one
    expires by the frozen clock, where Redis (the PostgreSQL phase) would by the real one."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def limits(settings):
    settings.WORKORDER_SUBMIT_PER_HOUR = 3
    settings.WORKORDER_SUBMIT_PER_DAY = 5
    return settings


def taps(cast):
    return Category.objects.get(company=cast.company, code="taps_toilets")


def submit(cast, who="resident_a"):
    return wo.submit_order(
        actor=cast.actor(who),
        category=taps(cast),
        house=cast.house_a if who == "resident_a" else cast.house_b,
        channel=Channel.RESIDENT_H5,
        description="水龙头滴水",
    )


def api_submit(client, cast, house):
    return post(
        client,
        "/work-orders",
        {"category_id": taps(cast).id, "house_id": house.id, "description": "水龙头滴水"},
    )


# --- submitting requests -----------------------------------------------------------------
def test_the_hourly_limit_then_429_with_retry_after(cast, frozen, limits):
    client = cast.client("resident_a")
    submit(cast)  # 10:00
    frozen.shift(20 * 60)
    submit(cast)  # 10:20
    frozen.shift(10 * 60)
    assert api_submit(client, cast, cast.house_a).status_code == 201  # 10:30, the 3rd: at the limit
    over = api_submit(client, cast, cast.house_a)
    assert over.status_code == 429
    assert over.json()["detail"] == (
        "You have submitted 3 requests in the last hour. Please try again later."
    )
    # the 10:00 one leaves the window at 11:00, 30 minutes from now
    assert over.headers["Retry-After"] == str(30 * 60)
    assert WorkOrder.objects.filter(reporter=cast.users["resident_a"]).count() == 3

    # The window slides: still refused a second before 11:00, allowed at 11:00.
    frozen.shift(30 * 60 - 1)
    assert api_submit(client, cast, cast.house_a).status_code == 429
    frozen.shift(1)
    assert api_submit(client, cast, cast.house_a).status_code == 201
    assert api_submit(client, cast, cast.house_a).status_code == 429  # 10:20 still counts


def test_the_daily_limit(cast, frozen, limits):
    for _ in range(5):  # 3 an hour, 5 a day
        submit(cast)
        frozen.shift(61 * 60)
    with pytest.raises(RateLimited) as refused:
        submit(cast)
    assert refused.value.messages == [
        "You have submitted 5 requests in the last 24 hours. Please try again later."
    ]
    # the first left the 24 hours at 10:00 tomorrow; now is 15:05
    assert refused.value.retry_after == (18 * 60 + 55) * 60
    frozen.shift(int(refused.value.retry_after))
    assert submit(cast).reporter == cast.users["resident_a"]


def test_one_resident_at_the_limit_does_not_stop_another(cast, frozen, limits):
    for _ in range(3):
        submit(cast)
    with pytest.raises(RateLimited):
        submit(cast)
    assert api_submit(cast.client("resident_b"), cast, cast.house_b).status_code == 201


def test_staff_intake_is_not_limited(cast, frozen, limits):
    for _ in range(3):
        submit(cast)
    desk = cast.client("dispatcher")
    for _ in range(4):  # over the resident's limit, on the resident's behalf
        response = post(
            desk,
            "/work-orders",
            {
                "category_id": taps(cast).id,
                "house_id": cast.house_a.id,
                "description": "电话报修",
                "channel": "phone",
                "contact_name": "张伟",
                "contact_mobile": "13800000001",
            },
        )
        assert response.status_code == 201, response.content
    assert WorkOrder.objects.filter(created_by=cast.users["dispatcher"]).count() == 4


def test_the_defaults_are_10_an_hour_and_30_a_day(cast, frozen, settings):
    from wuye import settings as configured

    assert (configured.WORKORDER_SUBMIT_PER_HOUR, configured.WORKORDER_SUBMIT_PER_DAY) == (10, 30)
    settings.WORKORDER_SUBMIT_PER_HOUR = configured.WORKORDER_SUBMIT_PER_HOUR
    settings.WORKORDER_SUBMIT_PER_DAY = configured.WORKORDER_SUBMIT_PER_DAY
    for _ in range(10):
        submit(cast)
    with pytest.raises(RateLimited):
        submit(cast)
    assert WorkOrder.objects.count() == 10


def test_zero_is_no_limit(cast, frozen, settings):
    settings.WORKORDER_SUBMIT_PER_HOUR = 0
    settings.WORKORDER_SUBMIT_PER_DAY = 0
    for _ in range(12):
        submit(cast)
    assert WorkOrder.objects.count() == 12


def test_h5_over_the_limit_is_a_form_error(cast, frozen, limits):
    for _ in range(3):
        submit(cast)
    client = cast.client("resident_a")
    url = reverse("orders_resident:report_form", args=["repair"])
    response = client.post(
        url,
        {
            "category": taps(cast).pk,
            "place": f"h{cast.house_a.pk}",
            "description": "厨房水龙头漏水",
            "contact_name": "张伟",
            "contact_mobile": "13800000001",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "You have submitted 3 requests in the last hour. Please try again later."
    ]
    assert WorkOrder.objects.count() == 3


# --- urging ------------------------------------------------------------------------------
def test_the_api_answers_429_in_chinese_by_default(cast, frozen, limits):
    limits.LANGUAGE_CODE = "zh-hans"
    for _ in range(3):
        submit(cast)
    over = api_submit(cast.client("resident_a"), cast, cast.house_a)
    assert over.status_code == 429
    assert over.json()["detail"] == "您在过去一小时内已提交 3 条报事，请稍后再试。"
    assert over.headers["Retry-After"] == "3600"


def test_urge_limit_is_429_per_order_and_slides(cast, frozen):
    first, second = submit(cast), submit(cast)
    client = cast.client("resident_a")
    url = f"/work-orders/{first.pk}/urge"
    for _ in range(wo.URGES_PER_HOUR):
        assert post(client, url).status_code == 200
        frozen.shift(5 * 60)
    over = post(client, url)
    assert over.status_code == 429
    assert over.json()["detail"] == "You urged this order 3 times in the last hour; we are on it."
    assert over.headers["Retry-After"] == str(45 * 60)  # first urge 10:00, now 10:15
    first.refresh_from_db()
    assert first.urge_count == wo.URGES_PER_HOUR
    assert post(client, f"/work-orders/{second.pk}/urge").status_code == 200  # another order
    frozen.shift(45 * 60)
    assert post(client, url).status_code == 200


# --- SMS login codes ---------------------------------------------------------------------
@pytest.fixture
def sms_outbox(monkeypatch):
    sent = []
    monkeypatch.setattr(
        LoggingSmsProvider, "send", lambda self, mobile, message: sent.append(mobile)
    )
    return sent


def api_code(mobile, ip):
    return post(Client(REMOTE_ADDR=ip), "/auth/sms-code", {"mobile": mobile})


def web_code(mobile):
    return Client().post(reverse("accounts:sms_login"), {"mobile": mobile, "action": "send"})


def test_sms_codes_per_mobile_across_web_and_api(cast, frozen, sms_outbox, settings):
    mobile = "13800000001"
    # 5 an hour: three by the API from different addresses, two by the web form
    for n in range(3):
        assert api_code(mobile, f"203.0.113.{n}").status_code == 202
        frozen.shift(5 * 60)
    for _ in range(2):
        assert web_code(mobile).context["form"].errors == {}
        frozen.shift(5 * 60)
    assert len(sms_outbox) == 5
    over = api_code(mobile, "203.0.113.99")
    assert over.status_code == 429
    assert over.json()["detail"] == (
        "5 codes were sent to this mobile in the last hour. Try again later."
    )
    assert over.headers["Retry-After"] == str(35 * 60)  # first at 10:00, now 10:25
    form = web_code(mobile).context["form"]
    assert form.errors == {
        "mobile": ["5 codes were sent to this mobile in the last hour. Try again later."]
    }
    assert len(sms_outbox) == 5 and SmsCode.objects.filter(mobile=mobile).count() == 5
    # another mobile is not affected
    assert api_code("13800000002", "203.0.113.99").status_code == 202
    # the hour slides
    frozen.shift(35 * 60)
    assert api_code(mobile, "203.0.113.5").status_code == 202
    assert len(sms_outbox) == 7


def test_sms_codes_per_day(cast, frozen, sms_outbox):
    mobile = "13800000001"
    for n in range(10):
        assert api_code(mobile, f"203.0.113.{n}").status_code == 202
        frozen.shift(13 * 60)  # 4-5 an hour, under the hourly limit
    over = api_code(mobile, "203.0.113.50")
    assert over.status_code == 429
    assert "in the last 24 hours" in over.json()["detail"]
    assert len(sms_outbox) == 10


def test_sms_limit_answers_the_same_for_unknown_mobiles(cast, frozen, sms_outbox):
    known, unknown = "13800000001", "13700000000"
    answers = {
        mobile: [api_code(mobile, f"203.0.113.{n}").status_code for n in range(6)]
        for mobile in (known, unknown)
    }
    assert answers[known] == answers[unknown] == [202] * 5 + [429]
    assert sms_outbox == [known] * 5  # nothing is sent to the unknown mobile
