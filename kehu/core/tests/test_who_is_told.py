"""Who the event door tells (recipients of the kinds people may be told of): the person something
was given to, never the one who did it, with a link back to the record."""

from decimal import Decimal

from kehu.customers.models import Customer
from kehu.leads.services import lead_assign, lead_create
from kehu.pool.services import pool_assign
from kehu.pool.tests.factories import make_pool
from kehu.sales.services import opportunity_assign, opportunity_create


def _told(committed_events, code):
    return [(e.recipients, e.link) for e in committed_events if e.kind.code == code]


def test_a_deal_given_to_a_rep_tells_that_rep(team, customer_of, committed_events, django_capture_on_commit_callbacks):
    deal = opportunity_create(customer=customer_of(team.rep1), actor=team.rep1, name="x", amount=Decimal("1"))
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_assign(opportunity=deal, owner=team.rep2, actor=team.manager1)
    assert _told(committed_events, "opportunity_assigned") == [((team.rep2.pk,), f"/sales/opportunities/{deal.pk}/")]


def test_a_lead_assigned_by_a_manager_tells_the_owner_but_a_rep_taking_their_own_tells_nobody(
    team, committed_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_create(actor=team.rep1, owner=team.rep1, company_name="宁波恒达", phone="057488881234")
    assert _told(committed_events, "lead_assigned") == []
    with django_capture_on_commit_callbacks(execute=True):
        lead_assign(lead=lead, actor=team.manager1, owner=team.rep2)
    assert _told(committed_events, "lead_assigned") == [((team.rep2.pk,), f"/leads/{lead.pk}/")]


def test_a_pool_customer_assigned_tells_the_new_owner(team, committed_events, django_capture_on_commit_callbacks):
    make_pool(regions="")
    customer = Customer.objects.create(name="无主客户", region="浙江")
    with django_capture_on_commit_callbacks(execute=True):
        pool_assign(customer=customer, to_user=team.rep2, actor=team.manager1)
    assert _told(committed_events, "pool_assigned") == [((team.rep2.pk,), f"/customers/{customer.pk}/")]
