"""Background jobs of the privacy app (declared in ``wuye.schedule``)."""

from django_tasks import task


@task()
def apply_retention() -> dict:
    """Delete old audit entries and notifications, anonymise long departed residents
    (``wuye.privacy.services.apply_retention``)."""
    from wuye.privacy.services import apply_retention as run

    return run()
