from django_tasks import task


@task()
def sweep_sla() -> int:
    from wuye.workorders.sweep import sweep_sla as sweep

    return sweep()
