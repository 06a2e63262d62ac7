"""Background work of billing (run by ``wuye worker``)."""

from django_tasks import task


@task()
def issue_bill_run(run_id: int) -> str:
    """Issue a queued bill run (``wuye.billing.runs.queue_run``); safe to run twice: a
    run no longer queued is left alone, and a rerun skips the bills already written."""
    from wuye.billing.runs import issue_queued

    return issue_queued(run_id)

