"""Periodic jobs, scheduled in code: stack ``@periodic(every=...)`` on a ``@task``.

``manage.py run_scheduler`` ticks every few seconds and enqueues each job whose slot is due;
the task worker runs it. Jobs must be idempotent: a slot can be enqueued again after a crash.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Job:
    name: str
    task: object
    every: timedelta


JOBS: dict[str, Job] = {}


def periodic(*, every: timedelta):
    """Register a task to run every ``every`` (the first run is due as soon as the scheduler starts)."""

    def register(task):
        name = f"{task.module_path}"
        JOBS[name] = Job(name=name, task=task, every=every)
        return task

    return register


def discover() -> dict[str, Job]:
    """Import every app's ``tasks`` module so its jobs are registered."""
    autodiscover_modules("tasks")
    return JOBS


def tick(now=None) -> list[str]:
    """Enqueue every due job once; return the names enqueued."""
    from kehu.core.models import ScheduledJob

    now = now or timezone.now()
    enqueued = []
    for job in discover().values():
        slot, _ = ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        if slot.next_run_at > now:
            continue
        claimed = ScheduledJob.objects.filter(name=job.name, next_run_at=slot.next_run_at).update(
            next_run_at=now + job.every, last_enqueued_at=now
        )
        if claimed:
            job.task.enqueue()
            enqueued.append(job.name)
    return enqueued
