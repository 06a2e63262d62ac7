from django_tasks import task


@task()
def run_import(job_id: int) -> str:
    """Check and write one uploaded workbook (see ``services.run_import_job``)."""
    from wuye.imports.services import run_import_job

    return run_import_job(job_id=job_id)
