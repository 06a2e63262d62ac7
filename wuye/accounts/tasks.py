from django_tasks import task


@task()
def purge_expired_sms_codes() -> int:
    from wuye.accounts.services import purge_expired_sms_codes as purge

    return purge()
