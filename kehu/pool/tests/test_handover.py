"""Handover (CUS-7): every related row stays, the brief is mailed and shown, large ones run as a task."""

from datetime import date

import pytest
from django.core import mail

from kehu.activities.models import Activity
from kehu.activities.services import activity_log
from kehu.core.models import AuditEntry
from kehu.customers.models import Contact, Customer, CustomerFact, TimelineEntry
from kehu.customers.services import contact_create, fact_create
from kehu.pool import services
from kehu.pool.events import PoolEvent
from kehu.pool.models import HandoverStatus, PoolMove
from kehu.pool.services import handover_start


def related_rows(customer_ids):
    return {
        "contacts": sorted(Contact.objects.filter(customer_id__in=customer_ids).values_list("pk", flat=True)),
        "facts": sorted(CustomerFact.objects.filter(customer_id__in=customer_ids).values_list("pk", flat=True)),
        # Logged activities keep their author; open commitments and planned visits move (tested below).
        "activities": sorted(Activity.objects.filter(customer_id__in=customer_ids).values_list("pk", "is_done")),
        "logged": sorted(
            Activity.objects.filter(customer_id__in=customer_ids, kind="visit").values_list("pk", "owner_id")
        ),
        "timeline": sorted(
            TimelineEntry.objects.filter(customer_id__in=customer_ids)
            .exclude(kind=PoolEvent.HANDED_OVER)
            .values_list("pk", "kind", "summary")
        ),
    }


@pytest.fixture
def rich(team, customer_of):
    customers = []
    for i in range(3):
        c = customer_of(team.rep1, name=f"交接客户{i}有限公司")
        contact_create(
            customer=c,
            actor=team.rep1,
            name=f"王{i}",
            buying_role="decision_maker",
            mobile="13857112345",
            hobbies="钓鱼",
            personality="谨慎",
        )
        fact_create(customer=c, actor=team.rep1, level=3, title="预算")
        activity_log(customer=c, actor=team.rep1, kind="visit", subject="拜访")
        activity_log(customer=c, actor=team.rep1, kind="commitment", subject=f"承诺报价{i}", due_on=date(2020, 1, 1))
        customers.append(c)
    return customers


def test_handover_keeps_every_related_row_and_mails_the_brief(team, rich, django_capture_on_commit_callbacks):
    ids = [c.pk for c in rich]
    before = related_rows(ids)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        handover = handover_start(
            actor=team.manager1,
            customers=Customer.objects.filter(owner=team.rep1),
            to_user=team.rep2,
            from_user=team.rep1,
            note="李娜离职，请接手",
            base_url="https://crm.example.cn/",
        )
    assert handover.status == HandoverStatus.DONE
    assert (handover.total, handover.done) == (3, 3)
    assert set(Customer.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {team.rep2.pk}
    assert related_rows(ids) == before
    assert set(Activity.objects.filter(customer_id__in=ids, kind="commitment").values_list("owner_id", flat=True)) == {
        team.rep2.pk
    }
    assert (handover.work_to, handover.commitments_moved, handover.visits_moved) == (team.rep2, 3, 0)
    assert (
        TimelineEntry.objects.filter(customer_id__in=ids, kind=PoolEvent.HANDED_OVER, actor=team.manager1).count() == 3
    )
    assert AuditEntry.objects.filter(target_id__in=ids, changes__handover=[None, handover.pk]).count() == 3
    assert PoolMove.objects.filter(kind="handover", from_owner=team.rep1, to_owner=team.rep2).count() == 3

    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["manager1@example.com", "rep2@example.com"]
    body = mail.outbox[0].body
    assert "承诺报价0" in body
    assert f"https://crm.example.cn/pool/handover/{handover.pk}/" in body
    assert "Open commitments: 3 (overdue: 3)" in body


def test_the_brief_page_shows_commitments_contacts_and_private_file_to_the_new_owner(client, team, rich):
    handover = handover_start(
        actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=team.rep2
    )
    client.force_login(team.rep2)
    page = client.get(f"/pool/handover/{handover.pk}/").content.decode()
    for i in range(3):
        assert f"交接客户{i}有限公司" in page
        assert f"承诺报价{i}" in page
    assert "13857112345" in page
    assert "钓鱼" in page
    assert "commitment is overdue" in page


def test_handover_to_the_pool(team, rich):
    handover_start(actor=team.manager1, customers=Customer.objects.filter(pk=rich[0].pk), to_user=None)
    assert Customer.objects.get(pk=rich[0].pk).owner is None
    assert rich[0].pk in {c.pk for c in Customer.objects.filter(owner__isnull=True)}


def test_large_handovers_run_as_a_task_with_progress(
    team, customer_of, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "INLINE_HANDOVER", 2)
    customers = [customer_of(team.rep1, name=f"批量客户{i}") for i in range(5)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        handover = handover_start(
            actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=team.rep2
        )
    # Nothing moved yet: the task is queued for after the commit.
    assert (handover.status, handover.done, handover.total) == (HandoverStatus.RUNNING, 0, 5)
    assert Customer.objects.filter(owner=team.rep1).count() == 5
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the task runs (immediate backend in tests)
    handover.refresh_from_db()
    assert (handover.status, handover.done) == (HandoverStatus.DONE, 5)
    assert set(Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("owner_id", flat=True)) == {
        team.rep2.pk
    }


def test_the_progress_is_written_per_batch(team, customer_of):
    for i in range(5):
        customer_of(team.rep1, name=f"批量客户{i}")
    handover = services.Handover.objects.create(actor=team.manager1, to_user=team.rep2, total=5)
    services.HandoverItem.objects.bulk_create(
        [services.HandoverItem(handover=handover, customer=c, from_owner=team.rep1) for c in Customer.objects.all()]
    )
    assert services._handover_batch(handover, 2) == 2
    handover.refresh_from_db()
    assert (handover.done, handover.percent) == (2, 40)


def test_a_deactivated_reps_customers_can_be_handed_over(client, team, rich, api_client):
    team.rep1.is_active = False
    team.rep1.save()
    client.force_login(team.manager1)
    response = client.post(
        "/pool/handover/", {"scope": "all", "from_user": team.rep1.pk, "to_user": team.rep2.pk, "note": "离职交接"}
    )
    assert "3 customers will be handed over." in response.content.decode()
    response = client.post(
        "/pool/handover/",
        {"scope": "all", "from_user": team.rep1.pk, "to_user": team.rep2.pk, "note": "离职交接", "confirm": "1"},
    )
    assert response.status_code == 302
    assert not Customer.objects.filter(owner=team.rep1).exists()
    api_response = api_client(team.manager1).post(
        "/api/v1/pool/handovers", {"from_user_id": team.rep1.pk, "to_user_id": team.rep2.pk}
    )
    assert api_response.status_code == 400  # nothing left to hand over
