"""Background work of surveys and votes (run by ``wuye worker``)."""

from django_tasks import task


@task()
def close_due_surveys() -> int:
    """Every 5 minutes: close the surveys and votes whose closing time has passed (a
    vote stores its result fingerprint); a late or repeated tick finds nothing new."""
    from wuye.surveys.services import close_due_surveys as close_due

    return close_due()
