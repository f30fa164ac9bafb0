"""Open tickets outside the service pages: the pool keeps a customer waiting for a repair with its
owner (when the pool says so), and every sales view of the customer says what is still open — the
customer list, the opportunity list and page, the quote page — linking only for readers who may follow."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core import lookups
from kehu.customers.models import Customer
from kehu.pool.services import pool_recycle
from kehu.pool.tests.factories import make_pool
from kehu.sales.tests.factories import make_opportunity
from kehu.support import services
from kehu.support.models import TicketState
from kehu.support.tests.tickets_setup import Desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


def test_an_open_ticket_keeps_the_customer_out_of_the_pool_until_it_is_closed(desk, team, customer_of):
    make_pool(followup_days_prospect=10, warn_days=3)
    start = timezone.now() - timedelta(days=30)
    waiting = customer_of(team.rep1, name="甲机械厂")
    idle = customer_of(team.rep1, name="乙机械厂")
    Customer.objects.filter(pk__in=[waiting.pk, idle.pk]).update(created_at=start)
    ticket = desk.open(waiting, now=timezone.now() - timedelta(days=1))
    assert pool_recycle(now=timezone.now()).recycled == [idle.pk]
    assert Customer.objects.get(pk=waiting.pk).owner_id == team.rep1.pk
    services.ticket_transition(ticket=ticket, actor=team.service1, to=TicketState.RESOLVED)
    assert pool_recycle(now=timezone.now() + timedelta(minutes=1)).recycled == [waiting.pk]


def test_the_pool_may_choose_not_to_exempt_open_tickets(desk, team, customer_of):
    make_pool(followup_days_prospect=10, exempt_open_tickets=False)
    customer = customer_of(team.rep1, name="丙机械厂")
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=30))
    desk.open(customer, now=timezone.now() - timedelta(days=1))
    assert pool_recycle(now=timezone.now()).recycled == [customer.pk]


def test_open_service_lists_open_tickets_breached_first_and_not_closed_ones(desk):
    first = desk.open(subject="旧的")
    late = desk.open(subject="超时的")
    done = desk.open(subject="已关闭")
    type(late).objects.filter(pk=late.pk).update(resolution_breached=True, queue_rank=0)  # as the scan leaves it
    services.ticket_transition(ticket=done, actor=desk.team.service1, to=TicketState.CANCELLED)
    items = lookups.ask_items(lookups.OPEN_SERVICE, [desk.mine.pk, desk.theirs.pk])
    assert list(items) == [desk.mine.pk]
    assert [(i.reference, i.is_late) for i in items[desk.mine.pk]] == [(late.number, True), (first.number, False)]


def test_sales_views_show_the_customers_open_tickets(client, desk, team):
    ticket = desk.open(subject="主轴<b>异响</b>")
    deal = make_opportunity(desk.mine, team.rep1)
    client.force_login(team.rep1)
    page = client.get(f"/sales/opportunities/{deal.pk}/").content.decode()
    box = page[page.index('id="open-service"') :]
    assert ticket.number in box and f'href="/service/tickets/{ticket.pk}/"' in box
    assert "<b>异响" not in page and "&lt;b&gt;异响&lt;/b&gt;" in box
    listing = client.get("/sales/opportunities/").content.decode()
    row = listing[listing.index(desk.mine.name) :]
    assert "badge bg-yellow-lt" in row[: row.index("</td>")]
    customers = client.get("/customers/").content.decode()
    row = customers[customers.index(desk.mine.name) :]
    assert row.index("badge bg-yellow-lt") < row.index("</td>")
