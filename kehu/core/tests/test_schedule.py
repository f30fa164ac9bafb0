from datetime import timedelta

import pytest
from django.tasks import task
from django.utils import timezone

from kehu.core import schedule
from kehu.core.models import ScheduledJob

RUNS = []


@task
def _probe():
    RUNS.append(1)


@pytest.fixture
def probe_job(monkeypatch):
    monkeypatch.setattr(schedule, "JOBS", {})
    monkeypatch.setattr(schedule, "autodiscover_modules", lambda name: None)
    schedule.periodic(every=timedelta(hours=1))(_probe)
    RUNS.clear()
    return schedule.JOBS


@pytest.mark.django_db
def test_a_job_runs_once_per_slot(probe_job):
    now = timezone.now()
    assert schedule.tick(now) == [_probe.module_path]
    assert schedule.tick(now + timedelta(minutes=59)) == []
    assert RUNS == [1]
    assert schedule.tick(now + timedelta(hours=1)) == [_probe.module_path]
    assert RUNS == [1, 1]
    assert ScheduledJob.objects.get().next_run_at == now + timedelta(hours=2)


@pytest.mark.django_db
def test_a_slot_claimed_by_another_scheduler_is_not_enqueued_again(probe_job):
    now = timezone.now()
    ScheduledJob.objects.create(name=_probe.module_path, next_run_at=now)
    # Another scheduler claimed this slot between our read and our update.
    original_filter = ScheduledJob.objects.filter

    def racing_filter(*args, **kwargs):
        ScheduledJob.objects.all().update(next_run_at=now + timedelta(hours=1))
        return original_filter(*args, **kwargs)

    ScheduledJob.objects.filter = racing_filter
    try:
        assert schedule.tick(now) == []
    finally:
        del ScheduledJob.objects.filter
    assert RUNS == []
