"""Background work of notices (run by ``wuye worker``)."""

from django_tasks import task


@task()
def fan_out_notice(notice_id: int) -> dict:
    """Write the read receipts and notify the residents of a just-published notice
    (``wuye.notices.services.fan_out``); safe to run twice."""
    from wuye.notices.services import fan_out

    return fan_out(notice_id)


@task()
def publish_due_notices() -> int:
    """Every minute: publish the scheduled notices whose time has come
    (``wuye.notices.services.publish_due_notices``); a late or repeated tick publishes
    each notice once."""
    from wuye.notices import services

    return services.publish_due_notices()
