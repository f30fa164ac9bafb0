"""Background work of imports and exports (PLT-2): run by the task worker, polled by the pages."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@task()
def import_preview(job_id: int) -> None:
    from kehu.integrations.services import import_job_preview

    import_job_preview(job_id)


@task()
def import_run(job_id: int) -> None:
    from kehu.integrations.services import import_job_run

    import_job_run(job_id)


@task()
def export_run(job_id: int) -> None:
    from kehu.integrations.exports import export_job_run

    export_job_run(job_id)


@periodic(every=timedelta(hours=6))
@task()
def transfer_cleanup() -> dict:
    """Uploads and exports are kept a few days (KEHU_TRANSFER_KEEP_DAYS), then removed."""
    from kehu.integrations.services import transfer_cleanup as cleanup

    return cleanup()
