"""Email, SMS and WeChat: deliveries planned with the stored notifications, sent after
commit by the task queue through a real local SMTP server and a fake HTTP provider,
retried with back-off, held back in quiet hours (urgent ones excepted), switched off
per topic, worded by templates; the delivery log and preferences, scoped."""

import datetime
import hashlib
import hmac
import json
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from api_helpers import post
from django.db import transaction
from django.urls import reverse
from smtp_sink import SmtpSink

from wuye.notifications import deliveries, wording
from wuye.notifications.deliveries import claim, quiet_end, send_due
from wuye.notifications.models import (
    ChannelPreference,
    Delivery,
    DeliverySettings,
    MessageTemplate,
    Notification,
)
from wuye.notifications.services import notify
from wuye.notifications.tasks import send_due_deliveries

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
# 10:00 in Beijing.
NOW = datetime.datetime(2026, 12, 7, 2, 0, tzinfo=datetime.UTC)
ALL_CHANNELS = [
    "wuye.notifications.channels.InAppChannel",
    "wuye.notifications.channels.EmailChannel",
    "wuye.notifications.channels.SmsChannel",
    "wuye.notifications.channels.WeChatChannel",
]


# --- a fake HTTP provider ---------------------------------------------------------------------
class ProviderHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        data = json.loads(body)
        server = self.server
        server.requests.append({"headers": dict(self.headers), "body": body, "data": data})
        code = server.answers.get(data.get("mobile") or data.get("touser"), 200)
        answer = {"id": f"ref-{len(server.requests)}"} if code == 200 else {"error": "no"}
        raw = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


class FakeProvider(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.requests = []
        self.answers = {}  # mobile or openid -> HTTP status

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/send"


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def smtp():
    server = SmtpSink()
    _serve(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def provider():
    server = FakeProvider()
    _serve(server)
    yield server
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def channels(settings, smtp, provider):
    settings.NOTIFICATION_CHANNELS = ALL_CHANNELS
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.server_address[1]
    settings.EMAIL_TIMEOUT = 3
    settings.DEFAULT_FROM_EMAIL = "wuye@example.com"
    settings.NOTIFICATION_SMS_PROVIDER = "wuye.notifications.providers.HttpSmsProvider"
    settings.NOTIFICATION_SMS_URL = provider.url
    settings.NOTIFICATION_SMS_API_KEY = "sms-key"
    settings.NOTIFICATION_SMS_SECRET = "sms-secret"
    settings.NOTIFICATION_WECHAT_PROVIDER = "wuye.notifications.providers.HttpWeChatProvider"
    settings.NOTIFICATION_WECHAT_URL = provider.url
    settings.NOTIFICATION_WECHAT_TEMPLATE = "tmpl-default"
    settings.NOTIFICATION_HTTP_TIMEOUT = 3
    settings.NOTIFICATION_BASE_URL = "https://wuye.example.com"
    return settings


@pytest.fixture
def people(cast):
    """Resident A has an email and mobile, resident B a mobile only; the dispatcher
    an email."""
    a = cast.users["resident_a"]
    a.email = "a@example.com"
    a.save()
    cast.users["dispatcher"].email = "desk@example.com"
    cast.users["dispatcher"].save()
    return cast


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def say(capture, *, recipients, kind="notice.published", title="停水通知", urgent=False, **kw):
    with capture(execute=True), transaction.atomic():
        notify(
            recipients=recipients,
            kind=kind,
            title=title,
            body=kw.pop("body", "明天 9:00–12:00 停水"),
            url=kw.pop("url", "/notices/1/"),
            urgent=urgent,
            dedupe_key=kw.pop("dedupe_key", ""),
        )


def delivery(user, channel):
    return Delivery.objects.get(notification__recipient=user, channel=channel)


# --- the default: in-app only ----------------------------------------------------------------
def test_in_app_only_by_default_writes_no_delivery(people, django_capture_on_commit_callbacks):
    say(django_capture_on_commit_callbacks, recipients=[people.users["resident_a"]], urgent=True)
    assert Notification.objects.count() == 1
    assert not Delivery.objects.exists()


# --- email through SMTP -------------------------------------------------------------------------
def test_email_goes_out_through_smtp_after_commit(
    people, channels, smtp, django_capture_on_commit_callbacks
):
    a = people.users["resident_a"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        notify(recipients=[a], kind="notice.published", title="停水通知", url="/notices/1/")
    assert not Delivery.objects.exists() and not smtp.messages  # nothing before commit
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    row = delivery(a, "email")
    assert (row.status, row.attempts, row.address) == ("sent", 1, "a@example.com")
    assert row.sent_at == NOW and row.next_attempt_at is None
    [(to, message)] = smtp.messages
    assert to == ["a@example.com"]
    assert "停水通知" in message["Subject"]
    assert "https://wuye.example.com/notices/1/" in message.get_content()
    # No mobile-less SMS, no WeChat without an OpenID, and not urgent: email only.
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["email"]


def test_smtp_refusing_the_recipient_fails_for_good(
    people, channels, smtp, django_capture_on_commit_callbacks
):
    smtp.refuse.add("a@example.com")
    say(django_capture_on_commit_callbacks, recipients=[people.users["resident_a"]])
    row = delivery(people.users["resident_a"], "email")
    assert (row.status, row.attempts) == ("failed", 1)
    assert "refused" in row.last_error


def test_unreachable_smtp_is_retried_and_sms_still_goes(
    people, channels, provider, django_capture_on_commit_callbacks
):
    channels.EMAIL_PORT = closed_port()
    a = people.users["resident_a"]
    say(django_capture_on_commit_callbacks, recipients=[a], urgent=True)
    mail = delivery(a, "email")
    assert (mail.status, mail.attempts) == ("retrying", 1)
    assert mail.next_attempt_at == NOW + datetime.timedelta(minutes=1)
    assert "Connection" in mail.last_error or "refused" in mail.last_error
    assert delivery(a, "sms").status == "sent"


# --- SMS through the HTTP provider ----------------------------------------------------------
def test_sms_only_for_urgent_and_sms_kinds(people, channels, django_capture_on_commit_callbacks):
    a, b = people.users["resident_a"], people.users["resident_b"]
    say(django_capture_on_commit_callbacks, recipients=[a, b], kind="workorder.dispatched")
    assert not Delivery.objects.filter(channel="sms").exists()
    say(django_capture_on_commit_callbacks, recipients=[b], kind="incident.reported", urgent=True)
    say(django_capture_on_commit_callbacks, recipients=[b], kind="billing.dunning.sms")
    assert sorted(
        Delivery.objects.filter(channel="sms").values_list("notification__kind", "address")
    ) == [("billing.dunning.sms", "13800000002"), ("incident.reported", "13800000002")]


def test_http_sms_is_signed_json_and_keeps_the_reference(
    people, channels, provider, django_capture_on_commit_callbacks
):
    b = people.users["resident_b"]
    say(django_capture_on_commit_callbacks, recipients=[b], urgent=True, kind="incident.reported")
    row = delivery(b, "sms")
    assert (row.status, row.provider_ref) == ("sent", "ref-1")
    [request] = provider.requests
    data, headers = request["data"], request["headers"]
    assert data["mobile"] == "13800000002"
    assert set(data) == {"mobile", "template", "params", "text"}
    assert "停水通知" in data["text"] and data["params"]["title"] == "停水通知"
    assert headers["X-Api-Key"] == "sms-key"
    expected = hmac.new(
        b"sms-secret",
        headers["X-Timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Signature"] == expected


def test_provider_errors_back_off_then_fail(
    people, channels, provider, django_capture_on_commit_callbacks
):
    b = people.users["resident_b"]
    provider.answers["13800000002"] = 500
    say(django_capture_on_commit_callbacks, recipients=[b], urgent=True)
    row = delivery(b, "sms")
    assert (row.status, row.attempts) == ("retrying", 1)
    assert row.last_error.startswith("DeliveryError: HTTP 500")
    moment = NOW
    for attempts, minutes in ((2, 5), (3, 30), (4, 120), (5, 600)):
        previous = row.next_attempt_at
        # Not due a second early.
        with time_machine.travel(previous - datetime.timedelta(seconds=1), tick=False):
            assert send_due_deliveries.call() == {}
        with time_machine.travel(previous, tick=False):
            send_due_deliveries.call()
        moment = previous
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("retrying", attempts)
        assert row.next_attempt_at == moment + datetime.timedelta(minutes=minutes)
    with time_machine.travel(row.next_attempt_at, tick=False):
        send_due_deliveries.call()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 6, None)
    assert len(provider.requests) == deliveries.MAX_ATTEMPTS


def test_a_refused_number_is_a_permanent_failure(
    people, channels, provider, django_capture_on_commit_callbacks
):
    b = people.users["resident_b"]
    provider.answers["13800000002"] = 400
    say(django_capture_on_commit_callbacks, recipients=[b], urgent=True)
    row = delivery(b, "sms")
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert "HTTP 400" in row.last_error


def test_one_failure_does_not_stop_the_batch(
    people, channels, provider, django_capture_on_commit_callbacks
):
    a, b = people.users["resident_a"], people.users["resident_b"]
    provider.answers["13800000001"] = 500  # resident A's number fails
    say(django_capture_on_commit_callbacks, recipients=[a, b], urgent=True)
    assert delivery(a, "sms").status == "retrying"
    assert delivery(b, "sms").status == "sent"
    assert delivery(a, "email").status == "sent"


def test_an_unreachable_provider_is_retried_and_logged(
    people, channels, caplog, django_capture_on_commit_callbacks
):
    channels.NOTIFICATION_SMS_URL = f"http://127.0.0.1:{closed_port()}/send"
    b = people.users["resident_b"]
    say(django_capture_on_commit_callbacks, recipients=[b], urgent=True)
    row = delivery(b, "sms")
    assert (row.status, row.attempts) == ("retrying", 1)
    assert "URLError" in row.last_error
    assert any("failed" in r.getMessage() for r in caplog.records if r.name.startswith("wuye"))


def test_last_error_is_truncated(people, channels, provider, django_capture_on_commit_callbacks):
    channels.NOTIFICATION_SMS_URL = provider.url + "?" + "x" * 2000
    provider.answers["13800000002"] = 500
    say(django_capture_on_commit_callbacks, recipients=[people.users["resident_b"]], urgent=True)
    assert len(delivery(people.users["resident_b"], "sms").last_error) <= 500


def test_wechat_template_message(people, channels, provider, django_capture_on_commit_callbacks):
    b = people.users["resident_b"]
    DeliverySettings.objects.create(user=b, wechat_openid="oUser-b-123456")
    say(django_capture_on_commit_callbacks, recipients=[b])
    row = delivery(b, "wechat")
    assert (row.status, row.address) == ("sent", "oUser-b-123456")
    [request] = provider.requests
    data = request["data"]
    assert set(data) == {"touser", "template_id", "url", "data"}
    assert data["touser"] == "oUser-b-123456"
    assert data["template_id"] == "tmpl-default"
    assert data["url"] == "https://wuye.example.com/notices/1/"
    assert data["data"]["keyword1"] == {"value": "停水通知"}


# --- claims -------------------------------------------------------------------------------------
def test_two_workers_never_claim_the_same_delivery(people, channels, provider):
    a = people.users["resident_a"]
    notes = [
        Notification.objects.create(recipient=a, kind="notice.x", title=f"t{n}", dedupe_key=f"{n}")
        for n in range(5)
    ]
    Delivery.objects.bulk_create(
        Delivery(notification=n, channel="email", address="a@example.com", next_attempt_at=NOW)
        for n in notes
    )
    first = claim(limit=3)
    second = claim(limit=10)
    third = claim(limit=10)
    assert len(first) == 3 and len(second) == 2 and third == []
    assert not {d.pk for d in first} & {d.pk for d in second}
    # A worker that died leaves its claims: they are due again after the lease.
    with time_machine.travel(NOW + deliveries.LEASE + datetime.timedelta(seconds=2), tick=False):
        assert len(claim(limit=10)) == 5


def test_sending_twice_sends_once(people, channels, smtp):
    a = people.users["resident_a"]
    note = Notification.objects.create(recipient=a, kind="notice.x", title="t", dedupe_key="k")
    row = Delivery.objects.create(
        notification=note, channel="email", address="a@example.com", next_attempt_at=NOW
    )
    assert send_due(ids=[row.pk])["sent"] == 1
    assert send_due(ids=[row.pk]) == {}
    assert len(smtp.messages) == 1


# --- quiet hours, urgency, preferences --------------------------------------------------------
def local(hour, minute=0, day=7):
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "end", "now", "expected"),
    [
        ((22, 0), (7, 0), local(23, 30), local(7, 0, day=8)),  # across midnight, evening
        ((22, 0), (7, 0), local(3, 0), local(7, 0)),  # across midnight, small hours
        ((22, 0), (7, 0), local(7, 0), None),  # the end itself is outside
        ((22, 0), (7, 0), local(12, 0), None),
        ((12, 0), (14, 0), local(13, 0), local(14, 0)),  # the same day
        ((12, 0), (14, 0), local(14, 30), None),
        ((9, 0), (9, 0), local(9, 0), None),  # equal ends: none
    ],
)
def test_quiet_end(start, end, now, expected):
    found = quiet_end(now, datetime.time(*start), datetime.time(*end))
    assert found == expected


def test_quiet_hours_hold_back_until_they_end(
    people, channels, smtp, django_capture_on_commit_callbacks
):
    a = people.users["resident_a"]
    DeliverySettings.objects.create(
        user=a, quiet_from=datetime.time(22, 0), quiet_until=datetime.time(7, 0)
    )
    late = local(23, 30)
    with time_machine.travel(late, tick=False):
        say(django_capture_on_commit_callbacks, recipients=[a])
        row = delivery(a, "email")
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.next_attempt_at == local(7, 0, day=8)
        assert send_due_deliveries.call() == {}
        assert not smtp.messages
    with time_machine.travel(local(7, 0, day=8), tick=False):
        assert send_due_deliveries.call() == {"sent": 1}
    row.refresh_from_db()
    assert row.status == "sent" and len(smtp.messages) == 1


def test_urgent_ignores_quiet_hours_and_switches(
    people, channels, smtp, provider, django_capture_on_commit_callbacks
):
    a = people.users["resident_a"]
    DeliverySettings.objects.create(
        user=a, quiet_from=datetime.time(22, 0), quiet_until=datetime.time(7, 0)
    )
    for channel in ("email", "sms"):
        ChannelPreference.objects.create(user=a, topic="incident", channel=channel, enabled=False)
    with time_machine.travel(local(2, 0), tick=False):
        say(
            django_capture_on_commit_callbacks,
            recipients=[a],
            kind="incident.reported",
            urgent=True,
        )
    assert delivery(a, "email").status == "sent"
    assert delivery(a, "sms").status == "sent"


def test_a_switched_off_topic_sends_nothing_on_that_channel(
    people, channels, smtp, django_capture_on_commit_callbacks
):
    a = people.users["resident_a"]
    ChannelPreference.objects.create(user=a, topic="notice", channel="email", enabled=False)
    say(django_capture_on_commit_callbacks, recipients=[a], kind="notice.published")
    say(django_capture_on_commit_callbacks, recipients=[a], kind="workorder.dispatched")
    assert list(Delivery.objects.values_list("notification__kind", flat=True)) == [
        "workorder.dispatched"
    ]
    assert Notification.objects.count() == 2  # the in-app centre keeps both


def test_switching_off_later_skips_waiting_deliveries(people, channels, smtp):
    a = people.users["resident_a"]
    note = Notification.objects.create(recipient=a, kind="notice.x", title="t", dedupe_key="k")
    row = Delivery.objects.create(
        notification=note, channel="email", address="a@example.com", next_attempt_at=NOW
    )
    ChannelPreference.objects.create(user=a, topic="notice", channel="email", enabled=False)
    assert send_due_deliveries.call() == {"skipped": 1}
    row.refresh_from_db()
    assert row.status == "skipped" and not smtp.messages


# --- wording --------------------------------------------------------------------------------
def test_built_in_wording_in_the_readers_language(
    people, channels, smtp, django_capture_on_commit_callbacks
):
    a = people.users["resident_a"]
    DeliverySettings.objects.create(user=a, language="en")
    say(django_capture_on_commit_callbacks, recipients=[a], kind="notice.published")
    [(_to, message)] = smtp.messages
    assert message["Subject"] == "New notice: 停水通知"


def test_company_templates_most_specific_kind_wins(
    people, channels, provider, django_capture_on_commit_callbacks
):
    b = people.users["resident_b"]
    MessageTemplate.objects.create(
        company=people.company,
        kind="incident",
        channel="sms",
        language="zh-hans",
        body="【{{ site_name }}】通用：{{ title }}",
    )
    MessageTemplate.objects.create(
        company=people.company,
        kind="incident.reported",
        channel="sms",
        language="zh-hans",
        body="【{{ site_name }}】紧急：{{ title }} {{ link }}",
        provider_template="SMS_123",
    )
    say(django_capture_on_commit_callbacks, recipients=[b], kind="incident.reported", urgent=True)
    say(django_capture_on_commit_callbacks, recipients=[b], kind="incident.resolved", urgent=True)
    texts = [(r["data"]["text"], r["data"]["template"]) for r in provider.requests]
    assert texts == [
        ("【安居物业】紧急：停水通知 https://wuye.example.com/notices/1/", "SMS_123"),
        ("【安居物业】通用：停水通知", ""),
    ]


def test_a_broken_template_falls_back_to_the_built_in_wording(people, channels):
    a = people.users["resident_a"]
    note = Notification(recipient=a, kind="notice.x", title="标题", body="正文", url="/n/")
    broken = MessageTemplate(company=people.company, kind="notice", body="{% if %}")
    message = wording.render(note, channel="email", language="en", template=broken)
    assert "标题" in message.text and "正文" in message.text


def test_sms_text_is_capped_at_three_segments(people):
    note = Notification(kind="billing.dunning.sms", title="催缴", body="欠费" * 300, url="")
    message = wording.render(note, channel="sms", language="zh-hans", site_name="安居物业")
    assert len(message.text) == wording.SMS_MAX_LENGTH == 210
    assert message.text.startswith("【安居物业】") and message.text.endswith("…")


# --- dunning SMS ---------------------------------------------------------------------------
def test_dunning_reminders_by_sms_go_out_by_sms(
    people, channels, provider, smtp, django_capture_on_commit_callbacks
):
    from wuye.billing import dunning, services
    from wuye.billing.models import Bill, FeeItem

    finance = people.actor("finance")
    fee = services.create_fee_item(
        actor=finance,
        community=people.community_x,
        code="repair",
        name="Repair",
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=Decimal("100"),
        effective_from=datetime.date(2026, 1, 1),
    )
    due = datetime.date(2026, 10, 1)
    Bill.objects.create(
        company_id=people.house_a.company_id,
        community_id=people.house_a.community_id,
        house=people.house_a,
        fee_item=fee,
        origin=Bill.Origin.ONE_OFF,
        period_start=due,
        period_end=due,
        amount=Decimal("100.00"),
        due_date=due,
        status=Bill.Status.OPEN,
    )
    with django_capture_on_commit_callbacks(execute=True):
        dunning.send_reminders(actor=finance, house_ids=[people.house_a.id], channel="sms")
    a = people.users["resident_a"]
    sms = delivery(a, "sms")
    assert (sms.status, sms.address) == ("sent", "13800000001")
    [request] = provider.requests
    assert request["data"]["mobile"] == "13800000001"
    assert "100.00" in request["data"]["text"]


# --- the delivery log ------------------------------------------------------------------------
@pytest.fixture
def failed(people):
    a = people.users["resident_a"]
    note = Notification.objects.create(
        recipient=a, kind="billing.dunning.sms", title="催缴", dedupe_key="f"
    )
    return Delivery.objects.create(
        notification=note,
        channel="sms",
        address="13800000001",
        status="failed",
        attempts=6,
        last_error="DeliveryError: HTTP 500",
    )


def test_the_log_is_the_company_admins_own(people, failed):
    url = reverse("notifications:delivery_log")
    page = people.client("company_admin").get(url)
    assert page.status_code == 200 and "13800000001" in page.content.decode()
    other = people.client("other_admin").get(url)
    assert other.status_code == 200 and "13800000001" not in other.content.decode()
    assert people.client("project_manager").get(url).status_code == 403
    assert people.client("resident_a").get(url).status_code == 403


def test_log_filters_and_search(people, failed):
    client = people.client("company_admin")
    url = reverse("notifications:delivery_log")
    assert (
        "13800000001" in client.get(url, {"status": "failed", "q": "13800000001"}).content.decode()
    )
    assert "13800000001" not in client.get(url, {"status": "sent"}).content.decode()
    assert "13800000001" not in client.get(url, {"channel": "email"}).content.decode()
    assert "13800000001" not in client.get(url, {"date_from": "2026-12-08"}).content.decode()
    assert "13800000001" in client.get(url, {"date_to": "2026-12-07"}).content.decode()
    bad = client.get(url, {"date_from": "2026-12-08", "date_to": "2026-12-01"})
    assert bad.status_code == 200 and "13800000001" not in bad.content.decode()
    export = client.get(url, {"export": "xlsx"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_retry_sends_a_failed_delivery_once_more(
    people, channels, provider, failed, django_capture_on_commit_callbacks
):
    channels.LANGUAGE_CODE = "en"
    url = reverse("notifications:delivery_retry", args=[failed.pk])
    assert people.client("other_admin").post(url).status_code == 404
    failed.refresh_from_db()
    assert failed.status == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        response = people.client("company_admin").post(url)
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.provider_ref) == ("sent", 7, "ref-1")
    # Only a failed one may be retried.
    again = people.client("company_admin").post(url, follow=True)
    assert "Only a failed delivery can be sent again." in again.content.decode()
    failed.refresh_from_db()
    assert failed.status == "sent"


# --- preferences page and API -------------------------------------------------------------------
def test_preferences_page_for_residents_and_staff(people):
    for name in ("resident_a", "technician", "dispatcher", "nobody"):
        page = people.client(name).get(reverse("notifications:preferences"))
        assert page.status_code == 200, name
        assert 'name="notice__email"' in page.content.decode()


def test_preferences_page_saves(people):
    client = people.client("resident_a")
    url = reverse("notifications:preferences")
    switches = {
        f"{topic}__{channel}": "on"
        for topic in ("workorder", "billing", "incident")
        for channel in ("email", "sms", "wechat")
    }
    response = client.post(
        url,
        {
            **switches,
            "quiet_from": "22:00",
            "quiet_until": "07:00",
            "wechat_openid": "oUser-a-123456",
            "language": "en",
        },
    )
    assert response.status_code == 302
    found = DeliverySettings.objects.get(user=people.users["resident_a"])
    assert (found.quiet_from, found.quiet_until) == (datetime.time(22), datetime.time(7))
    assert (found.wechat_openid, found.language) == ("oUser-a-123456", "en")
    off = set(
        ChannelPreference.objects.filter(user=people.users["resident_a"]).values_list(
            "topic", "channel", "enabled"
        )
    )
    assert ("notice", "email", False) in off and len(off) == 5 * 3
    page = client.get(url).content.decode()
    assert 'name="workorder__email" id="id_workorder__email" aria-label' in page
    assert 'value="22:00"' in page


def test_preferences_page_refuses_half_quiet_hours(people):
    response = people.client("resident_a").post(
        reverse("notifications:preferences"), {"quiet_from": "22:00", "wechat_openid": "x y"}
    )
    assert response.status_code == 400
    assert not DeliverySettings.objects.exists()
    assert not ChannelPreference.objects.exists()


def _api(client, method, path, data=None, **headers):
    return getattr(client, method)(
        "/api/v1" + path,
        data=json.dumps(data) if data is not None else None,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )


def test_preferences_api(people):
    client = people.client("resident_b")
    got = _api(client, "get", "/notifications/preferences").json()
    assert all(s["enabled"] for s in got["switches"]) and got["quiet_from"] is None
    body = {
        "switches": [{"topic": "notice", "channel": "sms", "enabled": False}],
        "quiet_from": "23:00:00",
        "quiet_until": "06:30:00",
        "language": "en",
    }
    response = _api(client, "put", "/notifications/preferences", body)
    assert response.status_code == 200
    data = response.json()
    assert data["quiet_until"] == "06:30:00" and data["language"] == "en"
    assert [s for s in data["switches"] if not s["enabled"]] == [
        {"topic": "notice", "channel": "sms", "enabled": False}
    ]
    bad = _api(client, "put", "/notifications/preferences", {"quiet_from": "23:00:00"})
    assert bad.status_code == 400 and "quiet_until" in bad.json()["detail"]
    bad = _api(client, "put", "/notifications/preferences", {"wechat_openid": "no spaces!"})
    assert bad.status_code == 400
    assert DeliverySettings.objects.get(user=people.users["resident_b"]).language == "en"


def test_delivery_api_is_scoped_and_retry_is_idempotent(
    people, channels, provider, failed, django_capture_on_commit_callbacks
):
    admin = people.client("company_admin")
    listed = _api(admin, "get", "/notifications/deliveries?status=failed").json()
    assert [row["id"] for row in listed["results"]] == [failed.pk]
    assert listed["results"][0]["recipient_id"] == people.users["resident_a"].pk
    other = _api(people.client("other_admin"), "get", "/notifications/deliveries").json()
    assert other["results"] == []
    path = f"/notifications/deliveries/{failed.pk}/retry"
    assert post(people.client("other_admin"), path, {}).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        first = post(admin, path, {}, **{"Idempotency-Key": "retry-1"})
    assert first.status_code == 200 and first.json()["status"] in ("retrying", "sent")
    again = post(admin, path, {}, **{"Idempotency-Key": "retry-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert post(admin, path, {}).status_code == 400  # no longer failed
    assert len(provider.requests) == 1


# --- message templates in the console ----------------------------------------------------------
def test_template_console(people):
    client = people.client("company_admin")
    bad = client.post(
        reverse("notifications:template_create"),
        {"kind": "notice", "channel": "sms", "language": "zh-hans", "body": "{% if %}"},
    )
    assert bad.status_code == 400 and not MessageTemplate.objects.exists()
    ok = client.post(
        reverse("notifications:template_create"),
        {"kind": "notice", "channel": "sms", "language": "zh-hans", "body": "{{ title }}"},
    )
    assert ok.status_code == 302
    row = MessageTemplate.objects.get()
    assert row.company == people.company
    twice = client.post(
        reverse("notifications:template_create"),
        {"kind": "notice", "channel": "sms", "language": "zh-hans", "body": "again"},
    )
    assert twice.status_code == 400 and MessageTemplate.objects.count() == 1
    edit = reverse("notifications:template_edit", args=[row.pk])
    assert people.client("other_admin").get(edit).status_code == 404
    theirs = people.client("other_admin").get(reverse("notifications:template_list"))
    assert edit not in theirs.content.decode()
    assert edit in client.get(reverse("notifications:template_list")).content.decode()
    response = client.post(
        edit, {"kind": "notice", "channel": "sms", "language": "zh-hans", "body": "新 {{ title }}"}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.body == "新 {{ title }}"


def test_admin_shows_the_delivery_log_read_only_and_templates(cast, client):
    from django.urls import reverse

    from wuye.accounts.models import User

    client.force_login(User.objects.create_superuser("root", password="x-root-pass-1"))
    assert client.get(reverse("admin:notifications_delivery_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_messagetemplate_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_delivery_add")).status_code == 403
