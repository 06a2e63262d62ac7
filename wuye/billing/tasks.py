"""Background work of billing (run by ``wuye worker``)."""

from django_tasks import task


@task()
def issue_bill_run(run_id: int) -> str:
    """Issue a queued bill run (``wuye.billing.runs.queue_run``); safe to run twice: a
    run no longer queued is left alone, and a rerun skips the bills already written."""
    from wuye.billing.runs import issue_queued

    return issue_queued(run_id)


@task()
def fail_stalled_runs() -> int:
    """Every 5 minutes: a bill run whose worker died mid-way is marked failed, so it can
    be resumed (``wuye.billing.runs.fail_stalled_runs``)."""
    from wuye.billing import runs

    return runs.fail_stalled_runs()


@task()
def post_late_fees() -> int:
    """Daily: post this month's late fees (滞纳金) as of the 1st, once per bill and month
    (``wuye.billing.late_fees.post_due_late_fees``); a late or repeated tick writes nothing
    new, and a tick missed on the 1st is caught up the next day."""
    from wuye.billing.late_fees import post_due_late_fees

    return post_due_late_fees()


@task()
def close_expired_orders() -> dict:
    """Every 5 minutes: close the online payment orders still unpaid after
    ``BILLING_ORDER_TTL_MINUTES``, recording the ones the provider reports paid
    (``wuye.billing.orders.close_expired``); a late or repeated tick finds nothing new."""
    from wuye.billing.orders import close_expired

    return close_expired()
