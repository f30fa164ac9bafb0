"""A task worker killed (SIGKILL) while an export writes its file: nothing is logged as exported, the
job is written again from the start by the next worker, and is logged once; a job whose worker
died on every try says so and is started again by the person."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core import lost_tasks
from kehu.core.models import AuditAction, AuditEntry
from kehu.core.tests.processes import use_the_task_worker
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters
from kehu.integrations.exports import export_job_create
from kehu.integrations.models import ExportJob, ExportStatus

WORKER = ("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default", "--no-reload")
ROWS = 40


def _exports():
    return AuditEntry.objects.filter(action=AuditAction.EXPORT, target_type="customers.customer")


@pytest.mark.django_db(transaction=True)
def test_an_export_killed_while_writing_is_written_again_once(shared_db, team, settings):
    Customer.objects.bulk_create(
        [Customer(name=f"导出崩溃公司{i:03d}", name_key=f"导出崩溃公司{i:03d}", owner=team.rep1) for i in range(ROWS)]
    )
    use_the_task_worker(settings)
    job = export_job_create(actor=team.manager1, filters=CustomerFilters(owner=team.rep1.pk), fmt="csv")
    shared_db.publish()

    worker = shared_db.worker(pause_at="export.written")  # the file is written, the job not yet done
    shared_db.kill(shared_db.wait_for_pause("export.written", worker))
    shared_db.collect()
    job.refresh_from_db()
    assert (job.status, job.stored_path) == (ExportStatus.RUNNING, "")
    assert not _exports().exists()

    lost = lost_tasks.recover()
    assert [(x.task_path, x.resumed) for x in lost] == [("kehu.integrations.tasks.export_run", True)]
    job.refresh_from_db()
    assert (job.status, job.row_count) == (ExportStatus.QUEUED, 0)

    shared_db.publish()
    shared_db.manage(*WORKER)
    shared_db.collect()
    job.refresh_from_db()
    assert (job.status, job.row_count, job.error) == (ExportStatus.DONE, ROWS, "")
    # Written by the worker under its own data directory.
    lines = (shared_db.dir / "var" / "transfer" / job.stored_path).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == ROWS + 1 and sum("导出崩溃公司" in line for line in lines) == ROWS
    assert [entry.changes["rows"] for entry in _exports()] == [ROWS]  # logged once, with the exact count


@pytest.mark.django_db
def test_an_export_whose_worker_died_on_every_try_fails_with_the_reason(team):
    from django_tasks_db.models import DBTaskResult

    team.manager1.language = "en"
    team.manager1.save(update_fields=["language"])
    job = ExportJob.objects.create(created_by=team.manager1, format="csv", status=ExportStatus.RUNNING)
    stopped = f"{lost_tasks.WorkerStoppedError.__module__}.{lost_tasks.WorkerStoppedError.__qualname__}"
    old = timezone.now() - timedelta(hours=1)
    common = {
        "task_path": "kehu.integrations.tasks.export_run",
        "args_kwargs": {"args": [job.pk], "kwargs": {}},
        "backend_name": "default",
    }
    for _ in range(lost_tasks.MAX_RESUMES):
        DBTaskResult.objects.create(status="FAILED", exception_class_path=stopped, run_after=old, **common)
    DBTaskResult.objects.create(status="RUNNING", started_at=old, run_after=old, **common)  # no lease: long dead

    assert [(x.task_path, x.resumed) for x in lost_tasks.recover()] == [("kehu.integrations.tasks.export_run", False)]
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == (
        "The worker stopped while running this task (it was killed or the machine went down)."
        " No file was made; start the export again."
    )
    assert not _exports().exists()
