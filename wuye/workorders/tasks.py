from django_tasks import task


@task()
def sweep_sla() -> int:
    from wuye.workorders.sweep import sweep_sla as sweep

    return sweep()


@task()
def run_timeouts() -> dict:
    from wuye.workorders.timeouts import run_timeouts as run

    return run()
