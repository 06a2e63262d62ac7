"""The scheduler enqueues each tick of each job exactly once."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks import task

from wuye.core.models import PeriodicTick
from wuye.core.periodic import Job, run_due
from wuye.schedule import JOBS

RUNS: list[str] = []


@task()
def record_run() -> None:
    RUNS.append("ran")


UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _reset_runs():
    RUNS.clear()


def test_tick_boundaries_align_to_period_and_offset():
    job = Job("x", record_run, every=datetime.timedelta(hours=1))
    now = datetime.datetime(2026, 11, 27, 10, 59, 59, tzinfo=UTC)
    assert job.last_tick(now) == datetime.datetime(2026, 11, 27, 10, tzinfo=UTC)
    daily = Job(
        "d", record_run, every=datetime.timedelta(days=1), offset=datetime.timedelta(hours=19)
    )
    assert daily.last_tick(now) == datetime.datetime(2026, 11, 26, 19, tzinfo=UTC)


@pytest.mark.django_db
def test_each_tick_runs_once_however_often_the_scheduler_looks():
    job = Job("test.record", record_run, every=datetime.timedelta(hours=1))
    t0 = datetime.datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
    assert run_due([job], now=t0) == ["test.record"]
    assert run_due([job], now=t0 + datetime.timedelta(minutes=30)) == []
    assert RUNS == ["ran"]
    assert run_due([job], now=t0 + datetime.timedelta(hours=1)) == ["test.record"]
    assert RUNS == ["ran", "ran"]
    assert PeriodicTick.objects.filter(job="test.record").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_racing_enqueue_each_tick_once():
    if connection.vendor == "sqlite":
        pytest.skip("needs a database with concurrent connections (runs on PostgreSQL in CI)")
    job = Job("test.race", record_run, every=datetime.timedelta(hours=1))
    now = datetime.datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
    barrier = threading.Barrier(4)
    results = []

    def scheduler():
        barrier.wait()
        try:
            results.append(run_due([job], now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert RUNS == ["ran"]
    assert PeriodicTick.objects.filter(job="test.race").count() == 1


def test_declared_jobs_have_unique_names_and_real_tasks():
    names = [job.name for job in JOBS]
    assert len(names) == len(set(names))
    for job in JOBS:
        assert callable(job.task.enqueue), job.name
        assert job.every >= datetime.timedelta(minutes=1)


@pytest.mark.django_db
def test_declared_jobs_run():
    # Today: the tick-pruning job itself deletes ticks older than its retention, so a
    # fixed date would stop being "now" once the calendar moves past it.
    now = timezone.now()
    assert sorted(run_due(JOBS, now=now)) == sorted(job.name for job in JOBS)
