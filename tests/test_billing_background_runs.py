"""Bill runs issued in the background: queued (previewed or failed → queued) with the task
enqueued only after commit, issued by the worker as the person who queued it, refused
when already queued, issuing or issued; the run page polls a progress partial until the
run is issued or failed, then shows the result, a failed run its error and Resume; the
API queues too."""

import datetime
from decimal import Decimal

import pytest
from api_helpers import get, post
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from wuye.billing import runs, services
from wuye.billing.models import Bill, BillRun, BillRunEvent, FeeItem
from wuye.billing.tasks import issue_bill_run
from wuye.staff.models import Role

D = Decimal
JAN = datetime.date(2026, 1, 1)
FEB = datetime.date(2026, 2, 1)
# 2 houses × 89.50 m² × 2.35 = 210.325 → 210.33 each
EACH = D("210.33")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def run(cast, finance):
    services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="wuye",
        name="Property fee",
        kind=FeeItem.Kind.AREA,
        unit_price=D("2.35"),
        effective_from=JAN,
    )
    return runs.preview_run(
        actor=finance, period_kind="month", period_start=FEB, community=cast.community_x
    )


def kinds(run):
    return list(run.events.order_by("id").values_list("kind", flat=True))


def fresh(run):
    return BillRun.objects.select_related("company", "community").get(pk=run.pk)


# --- queue_run and the task -------------------------------------------------------------


def test_queueing_enqueues_the_task_only_after_commit(
    cast, finance, run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        queued = runs.queue_run(actor=finance, run=run)
    assert queued.state == BillRun.State.QUEUED
    assert len(callbacks) == 1  # nothing enqueued before the queued state is committed
    assert not Bill.objects.exists()
    event = run.events.get(kind=BillRunEvent.Kind.QUEUED)
    assert (event.from_state, event.to_state, event.actor) == (
        "previewed",
        "queued",
        cast.users["finance"],
    )
    callbacks[0]()  # the immediate backend runs the worker's task now
    run = fresh(run)
    assert run.state == BillRun.State.ISSUED
    assert (run.bills_created, run.amount_issued) == (2, 2 * EACH)
    assert kinds(run) == ["previewed", "queued", "started", "issued"]
    started = run.events.get(kind=BillRunEvent.Kind.STARTED)
    assert started.actor == cast.users["finance"]  # issued as the person who queued it


def test_a_run_queued_issuing_or_issued_is_not_queued_again(
    finance, run, django_capture_on_commit_callbacks
):
    runs.queue_run(actor=finance, run=run)
    for state in (BillRun.State.QUEUED, BillRun.State.ISSUING):
        BillRun.objects.filter(pk=run.pk).update(state=state)
        with (
            django_capture_on_commit_callbacks() as callbacks,
            pytest.raises(ValidationError, match="already queued or being issued"),
        ):
            runs.queue_run(actor=finance, run=fresh(run))
        assert callbacks == []
    BillRun.objects.filter(pk=run.pk).update(state=BillRun.State.QUEUED)
    issue_bill_run.call(run.pk)
    with pytest.raises(ValidationError, match="already issued"):
        runs.queue_run(actor=finance, run=fresh(run))
    assert kinds(run) == ["previewed", "queued", "started", "issued"]
    assert Bill.objects.count() == 2


def test_a_queued_run_blocks_another_run_of_the_period(cast, finance, run):
    runs.queue_run(actor=finance, run=run)
    with pytest.raises(ValidationError, match="unfinished"):
        runs.preview_run(
            actor=finance, period_kind="month", period_start=FEB, community=cast.community_x
        )
    with pytest.raises(ValidationError, match="unfinished"):  # the company overlaps X
        runs.preview_run(actor=finance, period_kind="month", period_start=FEB, company=cast.company)


def test_only_billing_managers_of_the_scope_queue(cast, run):
    for name in ("manager_y", "project_manager", "technician", "resident_a", "other_admin"):
        with pytest.raises(PermissionDenied):
            runs.queue_run(actor=cast.actor(name), run=run)
    assert fresh(run).state == BillRun.State.PREVIEWED
    assert kinds(run) == ["previewed"]


def test_a_failed_run_is_resumed_from_its_checkpoint(finance, run, monkeypatch):
    write = runs._write_batch
    calls = []

    def crash_on_the_second_batch(run, batch):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        write(run, batch)

    monkeypatch.setattr(runs, "_write_batch", crash_on_the_second_batch)
    monkeypatch.setattr(runs, "BATCH_SIZE", 1)
    runs.queue_run(actor=finance, run=run)
    with pytest.raises(RuntimeError):
        runs.issue_queued(run.pk)  # what the task runs; the worker records its error
    failed = fresh(run)
    assert failed.state == BillRun.State.FAILED and "worker killed" in failed.error
    assert Bill.objects.filter(run=run).count() == failed.lines_done == 1
    monkeypatch.setattr(runs, "_write_batch", write)
    runs.queue_run(actor=finance, run=failed)
    assert runs.issue_queued(run.pk) == BillRun.State.ISSUED
    run = fresh(run)
    assert (run.bills_created, run.amount_issued) == (2, 2 * EACH)
    assert kinds(run) == ["previewed", "queued", "started", "failed", "queued", "resumed", "issued"]


def test_a_run_that_cannot_start_is_failed_with_the_reason(cast, finance, run):
    runs.queue_run(actor=finance, run=run)
    # The finance officer loses billing.manage before the worker gets to the run.
    cast.staff["finance"].roles.set(Role.objects.filter(company=cast.company, code="quality"))
    assert runs.issue_queued(run.pk) == BillRun.State.FAILED
    failed = fresh(run)
    assert failed.error == "The person who queued this run may no longer issue it."
    assert kinds(run) == ["previewed", "queued", "failed"]
    assert not Bill.objects.exists()
    # Someone allowed resumes it.
    admin = cast.actor("company_admin")
    runs.queue_run(actor=admin, run=failed)
    assert runs.issue_queued(run.pk) == BillRun.State.ISSUED


def test_the_task_leaves_a_run_that_is_no_longer_queued_alone(finance, run):
    assert runs.issue_queued(run.pk) == "skipped"  # previewed: nobody queued it
    assert runs.issue_queued(10**9) == "skipped"  # gone
    assert fresh(run).state == BillRun.State.PREVIEWED and not Bill.objects.exists()


# --- the run's page ---------------------------------------------------------------------


def test_issuing_from_the_page_queues_and_the_page_polls(cast, run):
    client = cast.client("finance")
    response = client.post(reverse("billing:run_issue", args=[run.pk]))
    assert response.status_code == 302  # committed; the worker would pick it up now
    assert fresh(run).state == BillRun.State.QUEUED
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    progress_url = reverse("billing:run_progress", args=[run.pk])
    assert f'hx-get="{progress_url}" hx-trigger="every 2s"' in page
    assert "Waiting for the background worker" in page
    assert 'action="' + reverse("billing:run_issue", args=[run.pk]) not in page  # no button


def test_the_progress_partial_counts_what_is_written(cast, finance, run):
    """Mid-way: one of the two bills written (faked as the worker leaves it)."""
    BillRun.objects.filter(pk=run.pk).update(
        state=BillRun.State.ISSUING, lines_done=1, started_at=datetime.datetime.now(datetime.UTC)
    )
    line = next(runs.bill_lines(run, services.policy_for(cast.company)))
    line.save()
    client = cast.client("finance")
    url = reverse("billing:run_progress", args=[run.pk])
    partial = client.get(url, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert partial.status_code == 200 and "HX-Refresh" not in partial.headers
    assert "<html" not in body and 'hx-trigger="every 2s"' in body
    assert "1 of 2 lines processed" in body and "1 of 2 lines (50%)" in body
    assert 'aria-valuenow="50"' in body
    assert "¥210.33" in body  # amount so far: one bill
    # Issued: the partial tells the page to reload and show the result.
    BillRun.objects.filter(pk=run.pk).update(state=BillRun.State.QUEUED)
    issue_bill_run.call(run.pk)
    done = client.get(url, headers={"HX-Request": "true"})
    assert done.headers["HX-Refresh"] == "true"
    assert 'hx-trigger="every 2s"' not in done.content.decode()
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert "hx-trigger" not in page.split('id="run-progress"')[1].split(">")[0]
    assert 'aria-valuenow="100"' in page and "¥420.66" in page and "Issued" in page


def test_a_failed_run_shows_its_error_and_resume(cast, run, django_capture_on_commit_callbacks):
    BillRun.objects.filter(pk=run.pk).update(
        state=BillRun.State.FAILED, error="RuntimeError('disk full')", lines_done=1
    )
    next(runs.bill_lines(run, services.policy_for(cast.company))).save()  # written before
    client = cast.client("finance")
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert "Issuing stopped" in page and "RuntimeError(&#x27;disk full&#x27;)" in page
    assert "1 of 2 lines (50%)" in page and "¥210.33" in page  # what it wrote before
    assert "Resume" in page and "hx-trigger" not in page
    # The project manager sees the error but no button.
    other = cast.client("project_manager").get(reverse("billing:run_detail", args=[run.pk]))
    assert "Issuing stopped" in other.content.decode()
    assert 'action="' + reverse("billing:run_issue", args=[run.pk]) not in other.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:run_issue", args=[run.pk]))
    assert response.status_code == 302
    run = fresh(run)
    assert run.state == BillRun.State.ISSUED and run.error == "" and run.bills_created == 2


def test_a_refused_queue_is_shown_on_the_page(cast, finance, run):
    runs.queue_run(actor=finance, run=run)
    response = cast.client("finance").post(reverse("billing:run_issue", args=[run.pk]))
    assert response.status_code == 400
    assert "already queued or being issued" in response.content.decode()
    assert kinds(run) == ["previewed", "queued"]


def test_the_progress_partial_is_scoped(cast, run):
    url = reverse("billing:run_progress", args=[run.pk])
    assert cast.client("manager_y").get(url).status_code == 404
    assert cast.client("other_admin").get(url).status_code == 404
    assert cast.client("project_manager").get(url).status_code == 200
    assert cast.client(None).get(url).status_code == 302


# --- the API ------------------------------------------------------------------------------


def test_the_api_queues_and_the_run_shows_its_progress(
    cast, run, django_capture_on_commit_callbacks
):
    finance = cast.client("finance")
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(finance, f"/billing/runs/{run.pk}/issue")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "queued" and body["bills_created"] == 0
    assert [e["kind"] for e in body["events"]] == ["previewed", "queued"]
    again = post(finance, f"/billing/runs/{run.pk}/issue")
    assert again.status_code == 400
    assert "already queued" in str(again.json()["detail"])
    callbacks[0]()
    done = get(finance, f"/billing/runs/{run.pk}").json()
    assert (done["state"], done["lines_done"], done["bills_created"]) == ("issued", 2, 2)
    assert done["amount_issued"] == "420.66"


def test_the_api_refuses_other_scopes_and_writes_nothing(cast, run):
    assert post(cast.client("manager_y"), f"/billing/runs/{run.pk}/issue").status_code == 404
    assert post(cast.client("other_admin"), f"/billing/runs/{run.pk}/issue").status_code == 404
    assert post(cast.client("project_manager"), f"/billing/runs/{run.pk}/issue").status_code == 403
    assert fresh(run).state == BillRun.State.PREVIEWED and kinds(run) == ["previewed"]


# --- a worker that died mid-run ---------------------------------------------------------


def test_a_run_whose_worker_died_is_failed_then_resumed_to_the_exact_bills(
    cast, finance, run, django_capture_on_commit_callbacks
):
    # The worker wrote one of the two bills, then was killed (no error handler ran).
    runs.issue_run(actor=finance, run=run, batch_size=1)
    first = Bill.objects.order_by("id").first()
    Bill.objects.exclude(pk=first.pk).delete()
    BillRun.objects.filter(pk=run.pk).update(
        state=BillRun.State.ISSUING,
        lines_done=1,
        checkpoint={"item": first.fee_item_id, "house": first.house_id},
        bills_created=0,
        finished_at=None,
    )
    died_at = fresh(run).heartbeat_at

    # Still within the grace period: left alone.
    assert runs.fail_stalled_runs(now=died_at + runs.STALL_AFTER) == 0
    assert fresh(run).state == BillRun.State.ISSUING

    assert runs.fail_stalled_runs(now=died_at + runs.STALL_AFTER + datetime.timedelta(1)) == 1
    stalled = fresh(run)
    assert stalled.state == BillRun.State.FAILED
    assert "worker stopped" in stalled.error
    assert kinds(run)[-1] == BillRunEvent.Kind.FAILED
    assert runs.fail_stalled_runs(now=died_at + datetime.timedelta(days=1)) == 0  # once

    with django_capture_on_commit_callbacks(execute=True):
        runs.queue_run(actor=finance, run=stalled)
    resumed = fresh(run)
    assert resumed.state == BillRun.State.ISSUED
    assert Bill.objects.filter(run=run).count() == 2  # the missing one written, none twice
    assert sorted(Bill.objects.filter(run=run).values_list("amount", flat=True)) == [EACH, EACH]


def test_a_healthy_queued_run_is_not_failed(finance, run, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        queued = runs.queue_run(actor=finance, run=run)
    assert runs.fail_stalled_runs(now=queued.heartbeat_at + datetime.timedelta(minutes=5)) == 0
    assert fresh(run).state == BillRun.State.QUEUED
