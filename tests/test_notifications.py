"""Notifications: notify() after commit through the task queue, exactly once per
recipient and event, channels, scoping, marking read and the unread count."""

import datetime
import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy

from wuye.notifications import services
from wuye.notifications.channels import Channel
from wuye.notifications.models import Notification
from wuye.notifications.selectors import badge_text, notifications_for, unread_count
from wuye.notifications.services import mark_all_read, mark_read, notify
from wuye.notifications.tasks import deliver_notifications

SENT: list[tuple[str, int]] = []


class RecordingChannel(Channel):
    def send(self, notification):
        SENT.append((notification.kind, notification.recipient_id))


class BrokenChannel(Channel):
    def send(self, notification):
        raise ConnectionError("provider unreachable")


@pytest.fixture(autouse=True)
def _clear_sent():
    SENT.clear()


def rows(**filters):
    return list(
        Notification.objects.filter(**filters)
        .order_by("recipient_id")
        .values_list("recipient_id", "kind", "title", "url")
    )


def test_notify_delivers_after_commit_once_per_recipient(cast, django_capture_on_commit_callbacks):
    a, b = cast.users["resident_a"], cast.users["technician"]
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            # Users and ids mixed, one recipient twice.
            notify(
                recipients=[a, b.pk, a.pk],
                kind="workorder.dispatched",
                title="工单 WO-1 已派单",
                body="请尽快上门",
                url="/h5/",
                obj=cast.house_a,
                dedupe_key="workorder.dispatched:1:1",
            )
        assert Notification.objects.count() == 0  # committed, but the callback has not run
    assert len(callbacks) == 1
    callbacks[0]()
    assert rows() == [
        (a.pk, "workorder.dispatched", "工单 WO-1 已派单", "/h5/"),
        (b.pk, "workorder.dispatched", "工单 WO-1 已派单", "/h5/"),
    ]
    row = Notification.objects.get(recipient=a)
    assert (row.object_type, row.object_id) == ("estates.house", cast.house_a.pk)
    assert row.body == "请尽快上门"
    assert row.read_at is None

    # The task runs again (retry, duplicate enqueue): nothing new.
    callbacks[0]()
    assert Notification.objects.count() == 2


def test_the_task_itself_is_idempotent(cast):
    arguments = {
        "recipient_ids": [cast.users["resident_a"].pk, cast.users["resident_b"].pk],
        "kind": "notice.published",
        "title": "停水通知",
        "body": "",
        "url": "",
        "object_type": "",
        "object_id": None,
        "dedupe_key": "notice.published:7",
    }
    first = deliver_notifications.call(**arguments)
    second = deliver_notifications.call(**arguments)
    assert (first, second) == (2, 0)
    assert Notification.objects.count() == 2


def test_the_same_event_notified_twice_is_stored_once(cast, django_capture_on_commit_callbacks):
    user = cast.users["dispatcher"]
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            notify(recipients=[user], kind="workorder.urged", title="催单", dedupe_key="urge:5")
        # Without a key every call is its own event.
        notify(recipients=[user], kind="workorder.urged", title="催单")
        notify(recipients=[user], kind="workorder.urged", title="催单")
    assert Notification.objects.filter(recipient=user).count() == 3


def test_nothing_is_delivered_when_the_transaction_rolls_back(
    cast, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        notify(recipients=[cast.users["resident_a"]], kind="workorder.created", title="x")
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert Notification.objects.count() == 0


def test_no_recipients_queues_nothing(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        notify(recipients=[], kind="workorder.created", title="x")
    assert callbacks == []


def test_inactive_and_unknown_recipients_are_skipped(cast, django_capture_on_commit_callbacks):
    gone = cast.users["resident_b"]
    gone.is_active = False
    gone.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[cast.users["resident_a"], gone, 987654321],
            kind="notice.published",
            title="停电通知",
        )
    assert [r[0] for r in rows()] == [cast.users["resident_a"].pk]


def test_large_fan_out_goes_in_batches(cast, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    everyone = list(cast.users.values())
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=everyone, kind="notice.published", title="公告", dedupe_key="n:1")
    assert Notification.objects.count() == len(everyone)
    assert (
        deliver_notifications.call(
            recipient_ids=[u.pk for u in everyone],
            kind="notice.published",
            title="公告",
            body="",
            url="",
            object_type="",
            object_id=None,
            dedupe_key="n:1",
        )
        == 0
    )


def test_titles_are_stored_in_the_default_language(cast, django_capture_on_commit_callbacks):
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[cast.users["resident_a"]], kind="test.lazy", title=gettext_lazy("Home"))
    assert Notification.objects.get().title == "首页"


def test_long_titles_are_shortened(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[cast.users["resident_a"]], kind="test.long", title="漏" * 500)
    title = Notification.objects.get().title
    assert len(title) == 200 and title.endswith("…")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "Work Order"},
        {"kind": ""},
        {"kind": "a" * 65},
        {"url": "https://evil.example/"},
        {"url": "//evil.example/"},
        {"title": ""},
        {"dedupe_key": "k" * 201},
    ],
)
def test_programming_errors_raise(cast, kwargs, django_capture_on_commit_callbacks):
    arguments = {"recipients": [cast.users["resident_a"]], "kind": "ok.kind", "title": "t"}
    arguments.update(kwargs)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValueError):
        notify(**arguments)
    assert callbacks == []


def test_bad_recipient_type_raises(cast):
    with pytest.raises(TypeError):
        notify(recipients=["13800000001"], kind="ok.kind", title="t")


def test_channels_get_each_new_row_once_and_a_broken_one_stops_nothing(
    cast, settings, caplog, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_CHANNELS = [
        "wuye.notifications.channels.InAppChannel",
        "test_notifications.BrokenChannel",
        "test_notifications.RecordingChannel",
    ]
    a, b = cast.users["resident_a"], cast.users["resident_b"]
    with caplog.at_level(logging.ERROR, logger="wuye.notifications"):
        with django_capture_on_commit_callbacks() as callbacks:
            notify(recipients=[a, b], kind="workorder.done", title="完成", dedupe_key="done:1")
        callbacks[0]()
        callbacks[0]()
    assert sorted(SENT) == [("workorder.done", a.pk), ("workorder.done", b.pk)]
    assert Notification.objects.count() == 2
    assert caplog.text.count("BrokenChannel failed") == 2


def _make(user, n=1, **fields):
    made = []
    for i in range(n):
        made.append(
            Notification.objects.create(
                recipient=user, kind="test.made", title=f"通知{i}", dedupe_key=f"made:{i}", **fields
            )
        )
    return made


def test_scoping_own_only(cast):
    mine = _make(cast.users["resident_a"], 2)
    _make(cast.users["resident_b"], 1)
    _make(cast.users["company_admin"], 1)
    actor = cast.actor("resident_a")
    assert set(notifications_for(actor)) == set(mine)
    # Company-wide staff do not see anyone else's either.
    assert notifications_for(cast.actor("company_admin")).count() == 1
    with pytest.raises(PermissionDenied):
        mark_read(actor=cast.actor("company_admin"), notification=mine[0])
    mine[0].refresh_from_db()
    assert mine[0].read_at is None


def test_mark_read_keeps_the_first_time(cast, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    note = _make(cast.users["resident_a"])[0]
    actor = cast.actor("resident_a")
    mark_read(actor=actor, notification=note)
    first = note.read_at
    assert first == datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False)
    again = Notification.objects.get(pk=note.pk)
    mark_read(actor=actor, notification=again)
    assert again.read_at == first


def test_mark_all_read_up_to_an_id(cast):
    user = cast.users["resident_a"]
    older = _make(user, 3)
    newer = Notification.objects.create(
        recipient=user, kind="test.made", title="新", dedupe_key="newer"
    )
    other = _make(cast.users["resident_b"])[0]
    actor = cast.actor("resident_a")
    assert unread_count(actor) == 4
    assert mark_all_read(actor=actor, up_to_id=older[-1].pk) == 3
    assert unread_count(actor) == 1
    assert Notification.objects.get(pk=newer.pk).read_at is None
    assert mark_all_read(actor=actor) == 1
    assert mark_all_read(actor=actor) == 0
    assert unread_count(actor) == 0
    other.refresh_from_db()
    assert other.read_at is None


def test_unread_count_is_one_query_and_badge_caps(cast, django_assert_num_queries):
    actor = cast.actor("technician")
    _make(cast.users["technician"], 3)
    with django_assert_num_queries(1):
        assert unread_count(actor) == 3
    assert [badge_text(n) for n in (0, 1, 99, 100, 12345)] == ["", "1", "99", "99+", "99+"]
