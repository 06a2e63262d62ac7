"""Notifications delivered together: many notify() calls in one transaction, one task
at commit that stores the same rows, once, and hands each new row to the channels."""

import pytest
from django.db import transaction

from wuye.notifications.channels import Channel
from wuye.notifications.models import Notification
from wuye.notifications.services import deliver_batch, delivered_together, notify

SENT: list[tuple[str, int]] = []


class RecordingChannel(Channel):
    def send(self, notification):
        SENT.append((notification.dedupe_key, notification.recipient_id))


@pytest.fixture(autouse=True)
def _recording(settings):
    SENT.clear()
    settings.NOTIFICATION_CHANNELS = [
        "wuye.notifications.channels.InAppChannel",
        "test_notifications_batch.RecordingChannel",
    ]


def stored():
    return sorted(
        Notification.objects.values_list("recipient_id", "dedupe_key", "kind", "title", "url")
    )


def test_notices_of_one_block_are_one_task_with_the_same_rows(
    cast, django_capture_on_commit_callbacks
):
    a, b, tech = (cast.users[n] for n in ("resident_a", "resident_b", "technician"))
    gone = cast.users["guard"]
    gone.is_active = False
    gone.save()
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic(), delivered_together():
            notify(recipients=[a, b], kind="workorder.done", title="完成", dedupe_key="e:1")
            notify(recipients=[tech, gone], kind="workorder.late", title="超时", url="/m/")
            notify(recipients=[a], kind="workorder.done", title="完成", dedupe_key="e:1")
            notify(recipients=[], kind="workorder.done", title="无人", dedupe_key="e:2")
            with delivered_together():  # a nested block joins the outer one
                notify(recipients=[b], kind="workorder.urged", title="催办", dedupe_key="e:3")
        assert Notification.objects.count() == 0  # nothing before the task runs
    assert len(callbacks) == 1
    callbacks[0]()
    rows = stored()
    assert [(r[0], r[1]) for r in rows if r[1].startswith("e:")] == [
        (a.pk, "e:1"),
        (b.pk, "e:1"),
        (b.pk, "e:3"),
    ]
    late = [r for r in rows if r[2] == "workorder.late"]
    assert [(r[0], r[3], r[4]) for r in late] == [(tech.pk, "超时", "/m/")]  # not the inactive
    assert sorted(SENT) == sorted((r[1], r[0]) for r in rows)

    callbacks[0]()  # the task runs again: nothing stored or sent twice
    assert stored() == rows
    assert len(SENT) == len(rows)


def test_the_batch_stores_what_separate_notify_calls_store(
    cast, django_capture_on_commit_callbacks
):
    users = [cast.users[n] for n in ("resident_a", "resident_b", "technician", "dispatcher")]

    def send_all():
        for n in range(6):
            notify(
                recipients=users[n % 3 : n % 3 + 2],
                kind=f"workorder.k{n % 2}",
                title=f"标题 {n}",
                body="正文",
                url=f"/h5/orders/{n}/",
                obj=cast.house_a,
                dedupe_key=f"event:{n}",
            )

    with django_capture_on_commit_callbacks(execute=True) as one_by_one:
        send_all()
    separately = stored()
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True) as together, delivered_together():
        send_all()
    assert (len(one_by_one), len(together)) == (6, 1)
    assert stored() == separately
    assert Notification.objects.filter(object_id=cast.house_a.pk).count() == len(separately)


def test_a_rolled_back_block_enqueues_nothing(cast, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
        delivered_together(),
    ):
        notify(recipients=[cast.users["resident_a"]], kind="x.y", title="t", dedupe_key="k")
        raise RuntimeError
    assert callbacks == []


def test_mistakes_are_still_refused_at_the_call(cast):
    with delivered_together(), pytest.raises(ValueError):
        notify(recipients=[cast.users["resident_a"]], kind="Not A Kind", title="t")


def test_large_batches_are_stored_in_chunks(cast, settings, django_assert_max_num_queries):
    from wuye.notifications import services

    settings.NOTIFICATION_CHANNELS = []
    users = [cast.users[n] for n in ("resident_a", "resident_b", "technician")]
    notices = [
        {
            "recipient_ids": [u.pk for u in users],
            "kind": "workorder.late",
            "title": f"t{n}",
            "body": "",
            "url": "",
            "object_type": "",
            "object_id": None,
            "dedupe_key": f"late:{n}",
        }
        for n in range(10)
    ]
    old = services.BATCH_SIZE
    services.BATCH_SIZE = 7
    try:
        # 30 rows in chunks of 7: five chunks of four queries and their savepoints.
        with django_assert_max_num_queries(5 * 6):
            assert deliver_batch(notices) == 30
    finally:
        services.BATCH_SIZE = old
    assert Notification.objects.count() == 30
    assert deliver_batch(notices) == 0
