"""Nothing a customer was promised ends up on nobody's list (CUS-7, SAL-7): after every door that changes a
customer's owner — handover, claim, assignment, release, the recycle, the customer form, a merge, a
deactivated user — each open commitment and planned visit has an active holder who can see the customer,
and it shows on that person's task list, week and calendar."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.activities import calendar, selectors
from kehu.activities.models import Activity
from kehu.activities.services import activity_log, visit_plan
from kehu.core.models import AuditEntry
from kehu.customers.merge import customer_merge
from kehu.customers.models import Customer, TimelineEntry
from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.services import customer_update
from kehu.pool import services
from kehu.pool.events import PoolEvent
from kehu.pool.models import Handover
from kehu.pool.selectors import pool_customer_qs_visible_to
from kehu.pool.tests.factories import make_pool
from kehu.users.services import user_update

T0 = timezone.now()


def open_work(customer_ids):
    return Activity.objects.filter(selectors.OPEN_WORK, customer_id__in=customer_ids, deleted_at__isnull=True)


def sees(user, customer) -> bool:
    if customer.owner_id is None:
        return pool_customer_qs_visible_to(user).filter(pk=customer.pk).exists()
    return customer_qs_visible_to(user).filter(pk=customer.pk).exists()


def assert_in_good_hands(customer_ids, *, holder=None):
    """Every open commitment and planned visit: an active holder who sees the customer and the work."""
    work = list(open_work(customer_ids).select_related("owner", "customer"))
    assert work, "the test needs open work"
    for a in work:
        assert a.owner.is_active, a
        assert sees(a.owner, a.customer), (a, a.owner)
        assert selectors.activity_qs_visible_to(a.owner).filter(pk=a.pk).exists(), (a, a.owner)
        if holder is not None:
            assert a.owner_id == holder.pk, (a, a.owner)


def promise(customer, rep, subject="周五前报价"):
    return activity_log(customer=customer, actor=rep, kind="commitment", subject=subject, due_on=date(2030, 1, 10))


def plan(customer, rep, days=3):
    return visit_plan(customer=customer, actor=rep, planned_for=T0 + timedelta(days=days), subject="上门拜访")


@pytest.fixture
def booked(team, customer_of):
    """Two customers of rep1, each with an open commitment, a kept one and a planned visit."""
    customers = []
    for i in range(2):
        c = customer_of(team.rep1, name=f"交接客户{i}有限公司", region="江苏")
        promise(c, team.rep1, f"承诺报价{i}")
        kept = promise(c, team.rep1, f"已兑现{i}")
        Activity.objects.filter(pk=kept.pk).update(is_done=True)
        plan(c, team.rep1)
        customers.append(c)
    return customers


def ids(customers):
    return [c.pk for c in customers]


# ---- handover ----------------------------------------------------------------------------------


def test_handover_moves_open_work_to_the_new_owner_and_onto_their_lists(team, booked, client):
    handover = services.handover_start(
        actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=team.rep2, from_user=team.rep1
    )
    assert_in_good_hands(ids(booked), holder=team.rep2)
    assert (handover.work_to, handover.commitments_moved, handover.visits_moved) == (team.rep2, 2, 2)
    # Kept commitments stay with who kept them.
    assert set(Activity.objects.filter(subject__startswith="已兑现").values_list("owner_id", flat=True)) == {
        team.rep1.pk
    }
    assert selectors.open_commitments_for(team.rep2, person=team.rep2).count() == 2
    assert selectors.planned_visits_for(team.rep2, person=team.rep2).count() == 2
    planned_day = timezone.localdate(T0 + timedelta(days=3))
    week = selectors.week_activities(team.rep2, start=selectors.week_start(planned_day), person=team.rep2)
    assert [a.subject for a in week if a.kind == "visit"] == ["上门拜访", "上门拜访"]
    feed = calendar.calendar_build(team.rep2).decode()
    assert "承诺报价0" in feed and "上门拜访" in feed
    entry = TimelineEntry.objects.get(customer=booked[0], kind=PoolEvent.HANDED_OVER)
    assert entry.payload["work_to"] == team.rep2.pk
    assert (entry.payload["commitments_moved"], entry.payload["visits_moved"]) == (1, 1)
    assert entry.summary.endswith("1 open commitment and 1 planned visit now with rep2")
    moved = AuditEntry.objects.filter(target_type="activities.activity", changes__owner=["rep1", "rep2"])
    assert moved.count() == 4
    client.force_login(team.rep2)
    page = client.get("/activities/tasks/").content.decode()
    assert "承诺报价0" in page and "承诺报价1" in page


def test_the_manager_may_keep_the_open_work_with_a_named_person(team, booked, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        handover = services.handover_start(
            actor=team.gm,
            customers=Customer.objects.filter(owner=team.rep1),
            to_user=team.rep2,
            from_user=team.rep1,
            work_to=team.manager1,
            base_url="https://crm.example.cn/",
        )
    assert Customer.objects.filter(pk__in=ids(booked), owner=team.rep2).count() == 2
    assert_in_good_hands(ids(booked), holder=team.manager1)
    assert handover.work_kept
    assert sorted(m.to[0] for m in mail.outbox) == ["manager1@example.com", "rep2@example.com"]
    body = next(m.body for m in mail.outbox if m.to == ["manager1@example.com"])
    assert "Moved with the customers: 2 open commitments and 2 planned visits now with manager1." in body
    assert "承诺报价0 (manager1)" in body
    assert "Planned visits: 2" in body


@pytest.mark.parametrize(
    ("keeper", "message"),
    [
        ("rep3", "Choose someone in your team."),  # another department
        ("rep1", "rep1 would not see these customers once they belong to rep2"),  # a rep sees only their own
    ],
)
def test_the_named_person_must_see_the_customers_afterwards(team, booked, keeper, message):
    with pytest.raises(ValidationError) as error:
        services.handover_start(
            actor=team.manager1,
            customers=Customer.objects.filter(owner=team.rep1),
            to_user=team.rep2,
            work_to=getattr(team, keeper),
        )
    assert message in error.value.message_dict["work_to"][0]
    assert not Handover.objects.exists()
    assert Customer.objects.filter(owner=team.rep1).count() == 2


def test_an_inactive_person_cannot_keep_the_work(team, booked):
    team.rep2.is_active = False
    team.rep2.save()
    with pytest.raises(ValidationError) as error:
        services.work_keeper(actor=team.gm, to_user=None, work_to=team.rep2)
    assert "rep2 cannot see customers in the public pool" in error.value.message_dict["work_to"][0]


def test_a_handover_to_the_pool_leaves_the_work_with_the_manager(team, booked, client):
    handover = services.handover_start(
        actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=None, from_user=team.rep1
    )
    assert Customer.objects.filter(pk__in=ids(booked), owner__isnull=True).count() == 2
    assert_in_good_hands(ids(booked), holder=team.manager1)
    assert handover.work_to == team.manager1
    # The manager sees the kept work even though the customers are in the pool, links and all.
    client.force_login(team.manager1)
    page = client.get("/activities/tasks/").content.decode()
    assert "承诺报价0" in page and "in the public pool" in page
    assert "/pool/?q=" in page
    brief = client.get(f"/pool/handover/{handover.pk}/").content.decode()
    assert 'id="kept-work"' in brief and "承诺报价1" in brief
    assert "Moved with the customers: 2 open commitments and 2 planned visits now with manager1." in brief
    # …and can keep the promise from the task list.
    commitment = Activity.objects.get(subject="承诺报价0")
    response = client.post(f"/activities/{commitment.pk}/done/", {"next": "/activities/tasks/"})
    assert response.status_code == 302 and response.url == "/activities/tasks/"
    assert Activity.objects.get(pk=commitment.pk).is_done


def test_a_keeper_outside_the_managers_team_is_refused_for_the_pool_too(team, booked):
    with pytest.raises(ValidationError) as error:
        services.work_keeper(actor=team.manager1, to_user=None, work_to=team.service1)
    assert "Choose someone in your team." in error.value.message_dict["work_to"][0]
    assert services.work_keeper(actor=team.manager1, to_user=None, work_to=None) == team.manager1


def test_the_handover_form_names_the_keeper_and_counts_the_work(client, team, booked):
    client.force_login(team.manager1)
    data = {"scope": "all", "from_user": team.rep1.pk, "to_user": team.rep2.pk, "work_to": team.manager1.pk}
    page = client.post("/pool/handover/", data).content.decode()
    assert "Their open commitments (2) and planned visits (2) go to manager1." in page
    response = client.post("/pool/handover/", {**data, "confirm": "1"})
    assert response.status_code == 302
    assert_in_good_hands(ids(booked), holder=team.manager1)
    page = client.get(response.url).content.decode()
    assert "kept instead of the new owner" in page


def test_the_handover_form_refuses_a_keeper_who_would_not_see_the_customers(client, team, booked):
    client.force_login(team.manager1)
    data = {"scope": "all", "from_user": team.rep1.pk, "to_user": team.rep2.pk, "work_to": team.rep1.pk}
    page = client.post("/pool/handover/", {**data, "confirm": "1"}).content.decode()
    assert "would not see these customers once they belong to rep2" in page
    assert Customer.objects.filter(owner=team.rep1).count() == 2
    assert Handover.objects.count() == 0


def test_the_api_takes_a_keeper_and_reports_what_moved(api_client, team, booked):
    client = api_client(team.manager1)
    response = client.post(
        "/api/v1/pool/handovers",
        {"from_user_id": team.rep1.pk, "to_user_id": team.rep2.pk, "work_to_user_id": team.manager1.pk},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["work_to_id"], body["commitments_moved"], body["visits_moved"]) == (team.manager1.pk, 2, 2)
    assert_in_good_hands(ids(booked), holder=team.manager1)


def test_the_api_refuses_a_keeper_outside_the_rules(api_client, team, booked):
    client = api_client(team.manager1)
    response = client.post(
        "/api/v1/pool/handovers",
        {"from_user_id": team.rep1.pk, "to_user_id": team.rep2.pk, "work_to_user_id": team.rep1.pk},
    )
    assert response.status_code == 400
    assert "would not see these customers" in str(response.json())
    response = client.post(
        "/api/v1/pool/handovers",
        {"from_user_id": team.rep1.pk, "to_user_id": team.rep2.pk, "work_to_user_id": team.rep3.pk},
    )
    assert response.status_code == 400
    assert Customer.objects.filter(owner=team.rep1).count() == 2


def test_a_batch_handover_moves_the_work_without_a_query_per_row(team, customer_of, django_assert_max_num_queries):
    def handover_queries(n):
        for i in range(n):
            c = customer_of(team.rep1, name=f"批量{n}-{i}")
            promise(c, team.rep1)
            plan(c, team.rep1)
        handover = Handover.objects.create(actor=team.manager1, to_user=team.rep2, work_to=team.rep2, total=n)
        services.HandoverItem.objects.bulk_create(
            [
                services.HandoverItem(handover=handover, customer_id=pk, from_owner=team.rep1)
                for pk in Customer.objects.filter(owner=team.rep1).values_list("pk", flat=True)
            ]
        )
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            services._handover_batch(handover, 500)
        return len(ctx.captured_queries)

    few = handover_queries(3)
    many = handover_queries(40)
    assert few == many
    assert open_work(Customer.objects.filter(owner=team.rep2).values("pk")).exclude(owner=team.rep2).count() == 0


# ---- the pool's doors ----------------------------------------------------------------------------


def test_release_leaves_the_work_with_whoever_released(team, booked):
    services.pool_release(customer=booked[0], actor=team.rep1, reason="暂无需求")
    assert_in_good_hands([booked[0].pk], holder=team.rep1)
    services.pool_release(customer=booked[1], actor=team.manager1)
    assert_in_good_hands([booked[1].pk], holder=team.manager1)
    entry = TimelineEntry.objects.get(customer=booked[1], kind=PoolEvent.POOL_RELEASED)
    assert entry.payload["work_to"] == team.manager1.pk


def test_claim_and_assign_give_the_customers_promises_to_the_new_owner(team, booked):
    services.pool_release(customer=booked[0], actor=team.manager1)
    services.pool_release(customer=booked[1], actor=team.manager1)
    services.pool_claim(customer=Customer.objects.get(pk=booked[0].pk), actor=team.rep2)
    assert_in_good_hands([booked[0].pk], holder=team.rep2)
    services.pool_assign(customer=Customer.objects.get(pk=booked[1].pk), to_user=team.rep2, actor=team.manager1)
    assert_in_good_hands([booked[1].pk], holder=team.rep2)
    entry = TimelineEntry.objects.get(customer=booked[1], kind=PoolEvent.POOL_ASSIGNED)
    assert "1 open commitment and 1 planned visit now with rep2" in entry.summary


def test_the_recycle_hands_the_work_to_the_previous_owners_manager(team, customer_of):
    make_pool(followup_days_prospect=10, warn_days=3)
    customer = customer_of(team.rep1, name="久未跟进的公司", tier="prospect")
    Customer.objects.filter(pk=customer.pk).update(created_at=T0 - timedelta(days=30))
    c = promise(customer, team.rep1)
    p = plan(customer, team.rep1, days=-20)
    Activity.objects.filter(pk__in=[c.pk, p.pk]).update(occurred_at=T0 - timedelta(days=20))
    assert services.pool_recycle(now=T0).recycled == [customer.pk]
    assert_in_good_hands([customer.pk], holder=team.manager1)
    entry = TimelineEntry.objects.get(customer=customer, kind=PoolEvent.POOL_RECYCLED)
    assert entry.payload["work_to"] == team.manager1.pk


def test_the_recycle_falls_back_to_the_rep_then_an_administrator(team, customer_of):
    assert services.pool_work_keeper(team.rep1) == team.manager1
    team.manager1.is_active = False
    team.manager1.save()
    assert services.pool_work_keeper(team.rep1) == team.rep1
    team.rep1.is_active = False
    team.rep1.save()
    assert services.pool_work_keeper(team.rep1) == team.admin


# ---- doors outside the pool ----------------------------------------------------------------------


def test_changing_the_owner_on_the_customer_form_moves_work_the_old_owner_can_no_longer_see(team, booked):
    own = promise(booked[0], team.manager1, "经理承诺的折扣")
    customer = Customer.objects.get(pk=booked[0].pk)
    customer_update(customer=customer, actor=team.manager1, expected_version=customer.version, owner=team.rep2)
    work = dict(open_work([booked[0].pk]).values_list("subject", "owner_id"))
    # rep1's promise and visit go to rep2; the manager, who still sees the customer, keeps theirs.
    assert work == {"承诺报价0": team.rep2.pk, "上门拜访": team.rep2.pk, "经理承诺的折扣": team.manager1.pk}
    assert own.pk in open_work([booked[0].pk]).values_list("pk", flat=True)
    assert_in_good_hands([booked[0].pk])


def test_merging_a_duplicate_keeps_its_work_with_someone_who_sees_the_kept_customer(team, customer_of):
    kept = customer_of(team.rep3, name="广州明达机电有限公司")
    duplicate = customer_of(team.rep1, name="广州明达机电")
    promise(duplicate, team.rep1, "重复客户的承诺")
    plan(duplicate, team.rep1)
    customer_merge(target=kept, sources=[duplicate], actor=team.gm)
    assert_in_good_hands([kept.pk], holder=team.rep3)


def test_a_deactivated_reps_work_goes_to_their_manager_until_the_handover(team, booked, customer_of):
    other = customer_of(team.rep2, name="同事的客户")
    promise(other, team.rep1, "替同事承诺的事")
    user_update(user=team.rep1, actor=team.admin, is_active=False)
    # On rep1's own customers: the manager; on rep2's customer: rep2, its owner.
    assert_in_good_hands(ids(booked), holder=team.manager1)
    assert_in_good_hands([other.pk], holder=team.rep2)
    assert AuditEntry.objects.filter(changes__reason=[None, "rep1 was deactivated"]).count() == 5
    # The handover then gives everything to the new owner.
    services.handover_start(
        actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=team.rep2, from_user=team.rep1
    )
    assert_in_good_hands(ids(booked), holder=team.rep2)


def test_a_deactivated_rep_without_a_manager_leaves_the_work_to_whoever_deactivated(team, booked):
    user_update(user=team.rep1, actor=team.admin, manager=None)
    user_update(user=team.rep1, actor=team.admin, is_active=False)
    assert_in_good_hands(ids(booked), holder=team.admin)


def test_a_visit_only_planned_does_not_keep_a_customer_out_of_the_pool(team, customer_of):
    make_pool(followup_days_prospect=10, warn_days=3)
    planned = customer_of(team.rep1, name="只做了拜访计划的公司", tier="prospect")
    visited = customer_of(team.rep1, name="已签到拜访的公司", tier="prospect")
    Customer.objects.filter(pk__in=[planned.pk, visited.pk]).update(created_at=T0 - timedelta(days=30))
    # Both planned for the day before the recycle runs; only one was checked in.
    plan(planned, team.rep1, days=-1)
    there = plan(visited, team.rep1, days=-1)
    Activity.objects.filter(pk=there.pk).update(checked_in_at=T0 - timedelta(days=1))
    Activity.objects.filter(customer__in=[planned, visited], kind="commitment").delete()
    assert services.pool_recycle(now=T0).recycled == [planned.pk]
    # Its plan went with the customer to the manager's list, not to nobody.
    assert_in_good_hands([planned.pk], holder=team.manager1)


def test_a_keeper_deactivated_before_a_background_handover_runs_is_replaced(team, booked, monkeypatch):
    monkeypatch.setattr(services, "INLINE_HANDOVER", 1)
    handover = services.handover_start(
        actor=team.gm,
        customers=Customer.objects.filter(owner=team.rep1),
        to_user=team.rep2,
        work_to=team.manager1,
    )
    # Queued for after the commit (the test's transaction never commits): nothing moved yet.
    assert handover.status == "running"
    team.manager1.is_active = False
    team.manager1.save()
    services.handover_run(handover_id=handover.pk)
    handover.refresh_from_db()
    assert (handover.status, handover.work_to) == ("done", team.rep2)
    assert_in_good_hands(ids(booked), holder=team.rep2)
