"""Background work of the reports: large ageing exports (run by the task worker, polled by the page)."""

from django.tasks import task


@task()
def ageing_export_run(job_id: int) -> None:
    from kehu.receivables.report_exports import ageing_export_run as run

    run(job_id)
