"""Background jobs of the quality app (declared in ``wuye.schedule``)."""

from django_tasks import task


@task()
def refresh_rollups() -> dict:
    """Recompute the dashboard rollups of the days whose orders changed."""
    from wuye.quality.rollups import refresh

    result = refresh()
    return {"full": result.full, "days": result.days, "rows": result.day_rows}


@task()
def snapshot_care_scores() -> int:
    """Today's care score of every house with a signal (``wuye.quality.care``)."""
    from wuye.quality.care import snapshot_all

    return snapshot_all()


@task()
def send_monthly_reports() -> int:
    """Last month's service report of every community, generated and emailed once
    (``wuye.quality.reports``)."""
    from wuye.quality.reports import send_due_reports

    return send_due_reports()
