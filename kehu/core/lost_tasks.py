"""Tasks whose worker died: found, marked failed with the reason, and resumed or handed back.

The database task worker (`manage.py db_worker`) marks a task "running" when it takes it and
"successful" or "failed" when it ends. A worker killed in between (kill -9, the out-of-memory
killer, a power cut, a container stopped hard) never gets there: the task stays "running" for
ever, and so does whatever job it was working on (an import, a handover).

So each task a worker runs holds a lease (`TaskLease`): the machine, the process id and its start
time, and a heartbeat the worker refreshes while the task runs. `recover()` — called by the
scheduler on every tick and by `manage.py tasks_recover` — looks at the running tasks: one whose
process is gone (on this machine: no such process; elsewhere: no heartbeat for a while) is marked
failed with the reason "the worker stopped", and then what its app registered happens:

- `resume=True` (the work is idempotent and continues where it stopped: a handover's batches,
  the pool recycle, an export written again from the start): the task is queued again, at most
  `MAX_RESUMES` times for the same arguments, so a job that kills its worker every time (out of
  memory) does not do so for ever; `requeue(*args, **kwargs)`, when registered, first puts the
  app's job back in the state its task starts from (an export: queued);
- otherwise, or once the resumes are spent, `on_failed(*args, reason=..., **kwargs)` (the reason
  a lazy translation, for the language of the job's owner) marks the
  app's job failed with the reason, and the app offers a retry (an import: "failed — retry").

The work itself is all or nothing per transaction: a killed process never commits, so there is
nothing half-written to undo here — only the bookkeeping of the task and its job.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

# A worker refreshes its lease this often while a task runs; a lease of another machine not
# refreshed for STALE_AFTER belongs to a dead worker (on this machine the process is looked at).
BEAT_EVERY = 30
STALE_AFTER = timedelta(minutes=5)
# A running task without a lease: its worker died between taking it and starting it.
NO_LEASE_GRACE = timedelta(minutes=1)
MAX_RESUMES = 3

REASON = _("The worker stopped while running this task (it was killed or the machine went down).")


class WorkerStoppedError(Exception):
    """Recorded as the exception of a task whose worker process died."""


@dataclass(frozen=True)
class Recovery:
    resume: bool = False
    on_failed: Callable[..., None] | None = None
    requeue: Callable[..., None] | None = None


_registry: dict[str, Recovery] = {}


def register(
    task,
    *,
    resume: bool = False,
    on_failed: Callable[..., None] | None = None,
    requeue: Callable[..., None] | None = None,
) -> None:
    """What happens when `task` (a `@task` or its dotted path) lost its worker."""
    path = task if isinstance(task, str) else task.module_path
    _registry[path] = Recovery(resume=resume, on_failed=on_failed, requeue=requeue)


# ------------------------------------------------------------------------------ this process


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:64]
    except OSError:
        return ""


def _process_started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux); None when there is no such
    process; "" when this system cannot tell (then the process id alone decides)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return _pid_alive(pid)
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]  # a zombie has ended, its parent not yet told


def _pid_alive(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def _here() -> dict:
    pid = os.getpid()
    return {
        "host": socket.gethostname()[:255],
        "boot_id": _boot_id(),
        "pid": pid,
        "process_started": _process_started(pid) or "",
    }


class _Heartbeat:
    def __init__(self, task_id):
        self.task_id = task_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"lease-{task_id}", daemon=True)

    def run(self):
        from kehu.core.models import TaskLease

        try:
            while not self.stop.wait(BEAT_EVERY):
                try:
                    TaskLease.objects.filter(task_id=self.task_id).update(beat_at=timezone.now())
                except Exception:  # noqa: BLE001 - a busy database skips a beat; the next one tries again
                    log.warning("Task %s: the heartbeat could not be written", self.task_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections


_beating: dict[str, _Heartbeat] = {}


def _from_the_worker(sender) -> bool:
    # The database worker sends its backend, or the backend's class (when a task failed).
    from django_tasks_db.backend import DatabaseBackend

    return issubclass(sender if isinstance(sender, type) else type(sender), DatabaseBackend)


def task_started(sender, task_result, **kwargs) -> None:
    """In the worker, as a task starts: take its lease and keep it fresh."""
    from kehu.core.models import TaskLease

    if not _from_the_worker(sender):
        return

    task_id = str(task_result.id)
    try:
        TaskLease.objects.update_or_create(
            task_id=task_id, defaults={"task_path": task_result.task.module_path[:200], **_here()}
        )
    except Exception:  # noqa: BLE001 - the task runs all the same; without a lease it is judged by its age
        log.exception("Task %s: the lease could not be written", task_id)
        return
    beat = _Heartbeat(task_id)
    _beating[task_id] = beat
    beat.thread.start()


def task_finished(sender, task_result, **kwargs) -> None:
    from kehu.core.models import TaskLease

    if not _from_the_worker(sender):
        return
    task_id = str(task_result.id)
    beat = _beating.pop(task_id, None)
    if beat is not None:
        beat.stop.set()
        beat.thread.join(timeout=5)
    TaskLease.objects.filter(task_id=task_id).delete()


def connect() -> None:
    """Called from CoreConfig.ready: only the database worker's tasks hold leases (the tests' and
    other backends' tasks run in the process that enqueued them)."""
    from django.tasks.signals import task_finished as finished
    from django.tasks.signals import task_started as started

    started.connect(task_started, dispatch_uid="kehu-lease-started")
    finished.connect(task_finished, dispatch_uid="kehu-lease-finished")


# ------------------------------------------------------------------------------ recovery


def _is_dead(lease, now, here: dict) -> bool:
    if lease.host == here["host"] and lease.boot_id == here["boot_id"]:
        started = _process_started(lease.pid)
        return started is None or (bool(started) and bool(lease.process_started) and started != lease.process_started)
    if lease.host == here["host"] and lease.boot_id and here["boot_id"]:
        return True  # this machine was restarted since
    return lease.beat_at < now - STALE_AFTER


@dataclass
class Lost:
    task_id: str
    task_path: str
    resumed: bool


def recover(now=None) -> list[Lost]:
    """Find the running tasks whose worker is gone; mark them failed and resume or fail their jobs."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from kehu.core.models import TaskLease

    now = now or timezone.now()
    here = _here()
    running = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values(
            "id", "task_path", "args_kwargs", "started_at"
        )
    )
    if not running:
        return []
    leases = TaskLease.objects.in_bulk([r["id"] for r in running])
    lost = []
    for row in running:
        lease = leases.get(row["id"])
        if lease is None:
            dead = row["started_at"] is None or row["started_at"] < now - NO_LEASE_GRACE
        else:
            dead = _is_dead(lease, now, here)
        if dead:
            found = _give_up(row, lease, now)
            if found is not None:
                lost.append(found)
    return lost


def _give_up(row: dict, lease, now) -> Lost | None:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from kehu.core.models import TaskLease

    where = f" ({lease.host}, process {lease.pid})" if lease is not None else ""
    args = row["args_kwargs"].get("args", [])
    kwargs = row["args_kwargs"].get("kwargs", {})
    recovery = _registry.get(row["task_path"], Recovery())
    with transaction.atomic():
        taken = DBTaskResult.objects.filter(id=row["id"], status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path=f"{WorkerStoppedError.__module__}.{WorkerStoppedError.__qualname__}",
            traceback=f"{WorkerStoppedError.__qualname__}: the worker stopped while running this task{where}.\n",
        )
        if not taken:
            return None  # another scheduler got there first
        TaskLease.objects.filter(task_id=row["id"]).delete()
        resumed = False
        if recovery.resume and _losses(row) <= MAX_RESUMES:
            if recovery.requeue is not None:
                recovery.requeue(*args, **kwargs)
            task = _task(row["task_path"])
            transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
            resumed = True
        elif recovery.on_failed is not None:
            recovery.on_failed(*args, reason=REASON, **kwargs)
    log.warning(
        "Task %s (%s): its worker stopped%s; %s",
        row["id"],
        row["task_path"],
        where,
        "queued again" if resumed else "marked failed",
    )
    return Lost(task_id=str(row["id"]), task_path=row["task_path"], resumed=resumed)


def _task(path: str):
    from django.utils.module_loading import import_string

    return import_string(path)


def _losses(row: dict) -> int:
    """How many times a task with these arguments lost its worker (this time included)."""
    from django_tasks_db.models import DBTaskResult

    stopped = f"{WorkerStoppedError.__module__}.{WorkerStoppedError.__qualname__}"
    return sum(
        1
        for found in DBTaskResult.objects.filter(task_path=row["task_path"], exception_class_path=stopped).values_list(
            "args_kwargs", flat=True
        )
        if found == row["args_kwargs"]
    )
