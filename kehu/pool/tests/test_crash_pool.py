"""A task worker killed (SIGKILL) in the middle of a mass handover and of the pool recycle: each
batch is all or nothing, and the task is queued again and finishes the rest exactly once."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from kehu.core import lost_tasks
from kehu.core.tests.processes import use_the_task_worker
from kehu.customers.models import Customer
from kehu.pool.models import Handover, HandoverItem, HandoverStatus, MoveKind, PoolMove
from kehu.pool.services import handover_start
from kehu.pool.tasks import recycle_pool_customers
from kehu.pool.tests.factories import make_pool

WORKER = ("db_worker", "--batch", "--no-startup-delay", "--queue-name", "default", "--no-reload")


def _moves(kind):
    """How many moves of this kind each customer has: {count: customers}."""
    per_customer = PoolMove.objects.filter(kind=kind).values("customer").annotate(n=Count("id"))
    found: dict[int, int] = {}
    for row in per_customer:
        found[row["n"]] = found.get(row["n"], 0) + 1
    return found


@pytest.mark.django_db(transaction=True)
def test_a_handover_killed_after_its_first_batch_keeps_that_batch_and_resumes_with_the_rest(shared_db, team, settings):
    Customer.objects.bulk_create(
        [Customer(name=f"交接测试公司{i:04d}", name_key=f"交接测试公司{i:04d}", owner=team.rep1) for i in range(600)]
    )
    use_the_task_worker(settings)
    handover = handover_start(
        actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), from_user=team.rep1, to_user=team.rep2
    )
    assert handover.total == 600
    shared_db.publish()

    worker = shared_db.worker(pause_at="handover.batch:2")  # batches of 500: the second one is open
    shared_db.kill(shared_db.wait_for_pause("handover.batch:2", worker))
    shared_db.collect()

    handover.refresh_from_db()
    assert (handover.status, handover.done) == (HandoverStatus.RUNNING, 500)
    assert Customer.objects.filter(owner=team.rep2).count() == 500
    assert Customer.objects.filter(owner=team.rep1).count() == 100
    assert HandoverItem.objects.filter(handover=handover, is_done=True).count() == 500
    assert _moves(MoveKind.HANDOVER) == {1: 500}

    lost = lost_tasks.recover()
    assert [(x.task_path, x.resumed) for x in lost] == [("kehu.pool.tasks.run_handover", True)]
    shared_db.publish()
    shared_db.manage(*WORKER)
    shared_db.collect()

    handover.refresh_from_db()
    assert (handover.status, handover.done, handover.error) == (HandoverStatus.DONE, 600, "")
    assert Customer.objects.filter(owner=team.rep2).count() == 600
    assert _moves(MoveKind.HANDOVER) == {1: 600}


@pytest.mark.django_db(transaction=True)
def test_a_recycle_killed_mid_batch_returns_none_of_it_and_the_next_run_returns_all(
    shared_db, team, settings, customer_of
):
    make_pool(followup_days_prospect=10)
    for i in range(20):
        customer_of(team.rep1, name=f"收回测试公司{i:02d}")
    use_the_task_worker(settings)
    later = (timezone.now() + timedelta(days=11)).isoformat()
    recycle_pool_customers.enqueue(now=later)
    shared_db.publish()

    worker = shared_db.worker(pause_at="recycle.batch")
    shared_db.kill(shared_db.wait_for_pause("recycle.batch", worker))
    shared_db.collect()

    assert Customer.objects.filter(owner=team.rep1).count() == 20
    assert _moves(MoveKind.RECYCLE) == {}

    lost = lost_tasks.recover()
    assert [(x.task_path, x.resumed) for x in lost] == [("kehu.pool.tasks.recycle_pool_customers", True)]
    shared_db.publish()
    shared_db.manage(*WORKER)
    shared_db.collect()

    assert Customer.objects.filter(owner__isnull=True, name__startswith="收回测试公司").count() == 20
    assert _moves(MoveKind.RECYCLE) == {1: 20}


@pytest.mark.django_db
def test_a_handover_whose_worker_died_too_often_fails_with_the_reason(team):
    """After MAX_RESUMES losses the handover stops as failed; what was moved stays moved."""
    from django_tasks_db.models import DBTaskResult

    handover = Handover.objects.create(actor=team.manager1, to_user=team.rep2, total=10, done=4)
    stopped = f"{lost_tasks.WorkerStoppedError.__module__}.{lost_tasks.WorkerStoppedError.__qualname__}"
    args = {"args": [handover.pk, ""], "kwargs": {}}
    old = timezone.now() - timedelta(hours=1)
    common = {"task_path": "kehu.pool.tasks.run_handover", "args_kwargs": args, "backend_name": "default"}
    for _ in range(lost_tasks.MAX_RESUMES):
        DBTaskResult.objects.create(status="FAILED", exception_class_path=stopped, run_after=old, **common)
    DBTaskResult.objects.create(status="RUNNING", started_at=old, run_after=old, **common)  # no lease: long dead

    assert [(x.task_path, x.resumed) for x in lost_tasks.recover()] == [("kehu.pool.tasks.run_handover", False)]
    handover.refresh_from_db()
    assert (handover.status, handover.done) == (HandoverStatus.FAILED, 4)
    assert handover.error == "The worker stopped while running this task (it was killed or the machine went down)."
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
