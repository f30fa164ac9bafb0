"""A task worker killed (SIGKILL) while an import writes its rows: nothing is saved, the job is
marked failed with the reason, and running it again imports every row once."""

import pytest

from kehu.core.lost_tasks import WorkerStoppedError
from kehu.core.models import TaskLease
from kehu.core.tests.processes import use_the_task_worker
from kehu.customers.models import Customer
from kehu.integrations.models import ImportJob, ImportStatus
from kehu.integrations.services import import_job_retry, import_job_start
from kehu.integrations.tests.conftest import csv_bytes, preview_import

ROWS = 300
STOPPED = f"{WorkerStoppedError.__module__}.{WorkerStoppedError.__qualname__}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_the_rows_are_written_saves_nothing_and_the_import_runs_again(
    shared_db, team, settings, client
):
    from django_tasks_db.models import DBTaskResult

    rows = [["客户名称", "电话"]] + [[f"崩溃测试公司{i:04d}", f"1380000{i:04d}"] for i in range(ROWS)]
    job = preview_import(team.rep1, "crash.csv", csv_bytes(rows))
    assert job.status == ImportStatus.PREVIEW
    use_the_task_worker(settings)
    import_job_start(job=job, actor=team.rep1)
    shared_db.publish()

    worker = shared_db.worker(pause_at="import.written")
    pid = shared_db.wait_for_pause("import.written", worker)
    assert pid == worker.pid
    shared_db.kill(pid)  # every row inserted, the transaction not yet committed
    shared_db.collect()

    # Today's state after the crash: the task and the job still say "running", and no row is there.
    assert Customer.objects.filter(name__startswith="崩溃测试公司").count() == 0
    task = DBTaskResult.objects.get(task_path="kehu.integrations.tasks.import_run")
    assert task.status == "RUNNING"
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.RUNNING
    assert TaskLease.objects.filter(task_id=task.id, pid=pid).exists()

    # The recovery a scheduler runs on every tick, as its own command here.
    shared_db.publish()
    out = shared_db.manage("tasks_recover")
    assert out.strip() == f"{task.id} kehu.integrations.tasks.import_run: failed"
    shared_db.collect()
    task.refresh_from_db()
    assert (task.status, task.exception_class_path) == ("FAILED", STOPPED)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    # Written by the recovering process in the importer's language (here the installation's: Chinese).
    assert job.error == "执行此任务的后台进程中途停止（被终止或服务器宕机）。没有保存任何数据；请重新执行导入。"
    assert not TaskLease.objects.exists()
    assert Customer.objects.filter(name__startswith="崩溃测试公司").count() == 0

    # The page says so and offers to run it again (the owner only).
    client.force_login(team.rep1)
    page = client.get(f"/transfer/imports/{job.pk}/").content.decode()
    assert "没有保存任何数据；请重新执行导入。" in page
    assert 'id="import-retry"' in page
    import_job_retry(job=job, actor=team.rep1)
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED

    shared_db.publish()
    shared_db.manage("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default", "--no-reload")
    shared_db.collect()
    job.refresh_from_db()
    assert (job.status, job.error, job.report["created"]) == (ImportStatus.DONE, "", ROWS)
    assert Customer.objects.filter(name__startswith="崩溃测试公司").count() == ROWS
    assert Customer.objects.filter(name__startswith="崩溃测试公司").values("name").distinct().count() == ROWS
