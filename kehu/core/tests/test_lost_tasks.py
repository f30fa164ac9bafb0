"""Which running tasks lost their worker: on this machine the process decides, elsewhere the
heartbeat; a task without a lease is given a minute to announce itself."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core import lost_tasks
from kehu.core.models import TaskLease

PATH = "kehu.core.tasks.refresh_database_statistics"


@pytest.fixture
def running(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}
    from django_tasks_db.models import DBTaskResult

    def make(started_ago=timedelta(minutes=10)):
        at = timezone.now() - started_ago
        return DBTaskResult.objects.create(
            status="RUNNING",
            started_at=at,
            run_after=at,
            task_path=PATH,
            args_kwargs={"args": [], "kwargs": {}},
            backend_name="default",
        )

    return make


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _lease(task, **fields):
    here = lost_tasks._here()
    return TaskLease.objects.create(task_id=task.id, task_path=PATH, **{**here, **fields})


def _status(task):
    task.refresh_from_db()
    return task.status


def test_a_task_of_a_living_process_on_this_machine_is_left_alone(running):
    task = running()
    _lease(task, beat_at=timezone.now() - timedelta(hours=1))  # a long write transaction skips beats
    assert lost_tasks.recover() == []
    assert _status(task) == "RUNNING"


def test_a_task_whose_process_is_gone_is_failed_with_the_reason(running):
    task = running()
    _lease(task, pid=_dead_pid())
    lost = lost_tasks.recover()
    assert [(x.task_path, x.resumed) for x in lost] == [(PATH, False)]
    task.refresh_from_db()
    assert (task.status, task.exception_class_path) == ("FAILED", "kehu.core.lost_tasks.WorkerStoppedError")
    assert task.traceback.startswith("WorkerStoppedError: the worker stopped while running this task (")
    assert not TaskLease.objects.exists()
    assert lost_tasks.recover() == []  # once


def test_a_process_id_used_again_by_another_process_is_not_the_worker(running):
    task = running()
    _lease(task, process_started="1")  # our own process id, but a process started at another moment
    assert len(lost_tasks.recover()) == 1


def test_another_machine_is_judged_by_its_heartbeat(running):
    fresh, stale = running(), running()
    _lease(fresh, host="worker-2", beat_at=timezone.now() - timedelta(minutes=1))
    _lease(stale, host="worker-3", beat_at=timezone.now() - lost_tasks.STALE_AFTER - timedelta(seconds=1))
    assert [x.task_id for x in lost_tasks.recover()] == [str(stale.id)]
    assert (_status(fresh), _status(stale)) == ("RUNNING", "FAILED")


def test_this_machine_restarted_since(running):
    task = running()
    _lease(task, boot_id="an-earlier-boot")
    assert len(lost_tasks.recover()) == 1


def test_a_task_without_a_lease_gets_a_minute(running):
    just_taken, long_ago = running(timedelta(seconds=5)), running(timedelta(minutes=2))
    assert [x.task_id for x in lost_tasks.recover()] == [str(long_ago.id)]
    assert _status(just_taken) == "RUNNING"


def test_tasks_run_in_the_process_that_enqueued_them_take_no_lease(db):
    from kehu.core.tasks import refresh_database_statistics

    refresh_database_statistics.enqueue()  # the tests' immediate backend
    assert not TaskLease.objects.exists()


def test_a_worker_ended_but_not_yet_reaped_by_its_parent_is_gone(running):
    import time
    from pathlib import Path

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{process.pid}/stat")
    for _ in range(200):
        if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.05)
    task = running()
    _lease(task, pid=process.pid, process_started="")
    try:
        assert len(lost_tasks.recover()) == 1
    finally:
        process.wait()
