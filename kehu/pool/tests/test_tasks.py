"""The recycle is a periodic task scheduled in code; it takes a moment to run the rules as of."""

from datetime import timedelta

from django.utils import timezone

from kehu.core.schedule import discover
from kehu.customers.models import Customer
from kehu.pool.tasks import recycle_pool_customers
from kehu.pool.tests.factories import make_pool


def test_the_recycle_is_scheduled_every_hour():
    job = discover()["kehu.pool.tasks.recycle_pool_customers"]
    assert job.every == timedelta(hours=1)


def test_the_task_runs_the_rules_as_of_the_given_moment(team, customer_of):
    make_pool(followup_days_prospect=10)
    customer = customer_of(team.rep1, name="甲公司")
    later = (timezone.now() + timedelta(days=11)).isoformat()
    assert recycle_pool_customers.enqueue().return_value == {"recycled": 0, "warned": 0}
    assert recycle_pool_customers.enqueue(now=later).return_value == {"recycled": 1, "warned": 0}
    assert Customer.objects.get(pk=customer.pk).owner is None


def test_a_running_handover_page_polls_and_a_finished_one_reloads(client, team, customer_of):
    from kehu.pool.models import Handover, HandoverStatus

    handover = Handover.objects.create(actor=team.manager1, to_user=team.rep2, total=10, done=4)
    client.force_login(team.manager1)
    page = client.get(f"/pool/handover/{handover.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "4 of 10 customers moved" in page
    headers = {"HX-Request": "true", "HX-Target": "progress"}
    assert "4 of 10" in client.get(f"/pool/handover/{handover.pk}/", headers=headers).content.decode()
    Handover.objects.filter(pk=handover.pk).update(status=HandoverStatus.DONE, done=10)
    assert client.get(f"/pool/handover/{handover.pk}/", headers=headers).headers["HX-Refresh"] == "true"
