"""Every periodic job of Wuye, in one place. The scheduler (``wuye scheduler``)
enqueues each tick once; the task itself must be safe to run late or twice."""

import datetime

from wuye.accounts.tasks import purge_expired_sms_codes
from wuye.billing.tasks import close_expired_orders, fail_stalled_runs, post_late_fees
from wuye.core.periodic import Job
from wuye.core.tasks import (
    prune_periodic_ticks,
    purge_idempotency_keys,
    requeue_orphaned_tasks,
)
from wuye.facilities.tasks import generate_round_tasks, mark_missed_rounds, remind_certificates
from wuye.notices.tasks import publish_due_notices
from wuye.notifications.tasks import send_due_deliveries
from wuye.privacy.tasks import apply_retention
from wuye.quality.tasks import refresh_rollups, send_monthly_reports, snapshot_care_scores
from wuye.surveys.tasks import close_due_surveys
from wuye.webhooks.tasks import send_due_webhooks
from wuye.workorders.tasks import run_timeouts, sweep_sla

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

JOBS: list[Job] = [
    Job("workorders.sweep_sla", sweep_sla, every=MINUTE),
    Job("workorders.run_timeouts", run_timeouts, every=MINUTE),
    Job("facilities.generate_round_tasks", generate_round_tasks, every=HOUR),
    Job("facilities.mark_missed_rounds", mark_missed_rounds, every=15 * MINUTE),
    # 08:30 Beijing time (UTC+8), the start of the office day, is 00:30 UTC.
    Job(
        "facilities.remind_certificates",
        remind_certificates,
        every=DAY,
        offset=datetime.timedelta(minutes=30),
    ),
    # Tasks of a worker that died mid-run (database queue; wuye.core.workers).
    Job("core.requeue_orphaned_tasks", requeue_orphaned_tasks, every=MINUTE),
    Job("accounts.purge_expired_sms_codes", purge_expired_sms_codes, every=HOUR),
    Job("core.purge_idempotency_keys", purge_idempotency_keys, every=HOUR),
    # 03:30 Beijing time (UTC+8) is 19:30 UTC.
    Job(
        "core.prune_periodic_ticks",
        prune_periodic_ticks,
        every=DAY,
        offset=datetime.timedelta(hours=19, minutes=30),
    ),
    # Late fees: daily at 02:00 Beijing time (18:00 UTC). The service posts as of the 1st
    # of the month, at most once per bill and month, so the ticks after the 1st only catch
    # up a missed one (see wuye.billing.late_fees).
    Job(
        "billing.post_late_fees",
        post_late_fees,
        every=DAY,
        offset=datetime.timedelta(hours=18),
    ),
    # Online payment orders unpaid after BILLING_ORDER_TTL_MINUTES (wuye.billing.orders).
    Job("billing.close_expired_orders", close_expired_orders, every=5 * MINUTE),
    # Bill runs whose worker died mid-way become resumable (wuye.billing.runs).
    Job("billing.fail_stalled_runs", fail_stalled_runs, every=5 * MINUTE),
    # Scheduled notices whose publishing time has come (wuye.notices.services).
    Job("notices.publish_due_notices", publish_due_notices, every=MINUTE),
    # Webhook retries whose back-off has passed (wuye.webhooks.services).
    Job("webhooks.send_due_webhooks", send_due_webhooks, every=MINUTE),
    # Email, SMS and WeChat deliveries due now: retries, quiet hours ended
    # (wuye.notifications.deliveries).
    Job("notifications.send_due_deliveries", send_due_deliveries, every=MINUTE),
    # Surveys and votes past their closing time (wuye.surveys.services).
    Job("surveys.close_due_surveys", close_due_surveys, every=5 * MINUTE),
    # The quality dashboard's rollups: days whose orders changed (wuye.quality.rollups).
    Job("quality.refresh_rollups", refresh_rollups, every=10 * MINUTE),
    # Care scores of the day, 04:00 Beijing time (20:00 UTC) (wuye.quality.care).
    Job(
        "quality.snapshot_care_scores",
        snapshot_care_scores,
        every=DAY,
        offset=datetime.timedelta(hours=20),
    ),
    # Last month's service reports, 07:00 Beijing time (23:00 UTC): generated and emailed
    # once per community and month; later ticks only catch up (wuye.quality.reports).
    Job(
        "quality.send_monthly_reports",
        send_monthly_reports,
        every=DAY,
        offset=datetime.timedelta(hours=23),
    ),
    # Retention of personal data, 03:00 Beijing time (19:00 UTC): old audit entries and
    # notifications deleted, long departed residents anonymised (wuye.privacy.services).
    Job(
        "privacy.apply_retention",
        apply_retention,
        every=DAY,
        offset=datetime.timedelta(hours=19),
    ),
]
