from django_tasks import task


@task()
def generate_round_tasks() -> int:
    """Today's and tomorrow's tasks of every active plan (idempotent; hourly, so a plan
    created during the day gets its tasks within the hour)."""
    from wuye.facilities.plans import generate_tasks

    return generate_tasks(days=2)


@task()
def mark_missed_rounds() -> int:
    from wuye.facilities.rounds import mark_missed

    return mark_missed()


@task()
def remind_certificates() -> int:
    """Daily: tell the facility managers about certificates about to expire (daily)
    or expired (weekly); see ``wuye.facilities.reminders``."""
    from wuye.facilities.reminders import send_certificate_reminders

    return send_certificate_reminders()
