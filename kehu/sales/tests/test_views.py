import pytest
from django.urls import reverse

from kehu.customers.models import TimelineEntry
from kehu.sales.events import SalesEvent
from kehu.sales.models import Opportunity, StageChange, StageKind
from kehu.sales.tests.factories import make_opportunity, stage


@pytest.fixture
def deal(team, customer_of):
    return make_opportunity(customer_of(team.rep1), team.rep1, name="华星 数控机床", amount="500000")


def test_anonymous_is_sent_to_login(client, deal):
    for url in (
        reverse("sales:board"),
        reverse("sales:opportunity-list"),
        reverse("sales:opportunity-detail", args=[deal.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    response = client.post(reverse("sales:opportunity-move", args=[deal.pk]), {"stage": stage("需求确认").pk})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage.name == "初步接洽"


@pytest.mark.parametrize(
    ("who", "sees"), [("rep1", True), ("rep2", False), ("manager1", True), ("manager2", False), ("gm", True)]
)
def test_who_sees_the_deal(client, team, deal, who, sees):
    client.force_login(getattr(team, who))
    response = client.get(reverse("sales:opportunity-detail", args=[deal.pk]))
    assert response.status_code == (200 if sees else 404)
    board = client.get(reverse("sales:board"))
    assert board.status_code == 200
    assert ("华星 数控机床" in board.content.decode()) is sees
    listing = client.get(reverse("sales:opportunity-list"))
    assert ("华星 数控机床" in listing.content.decode()) is sees


@pytest.mark.parametrize("who", ["rep2", "manager2", "service1", "marketing1"])
def test_denied_writes_change_nothing(client, team, deal, who):
    client.force_login(getattr(team, who))
    pk = deal.pk
    responses = [
        client.post(reverse("sales:opportunity-move", args=[pk]), {"stage": stage("需求确认").pk, "version": 1}),
        client.post(reverse("sales:opportunity-edit", args=[pk]), {"name": "x", "amount": "1", "version": 1}),
        client.post(reverse("sales:opportunity-delete", args=[pk])),
    ]
    assert all(r.status_code in (403, 404) for r in responses)
    deal.refresh_from_db()
    assert deal.name == "华星 数控机床" and deal.version == 1 and deal.deleted_at is None


def test_owner_moves_by_form_and_htmx(client, team, deal):
    client.force_login(team.rep1)
    url = reverse("sales:opportunity-move", args=[deal.pk])
    response = client.post(url, {"stage": stage("需求确认").pk, "version": 1})
    assert response.status_code == 302
    response = client.post(url, {"stage": stage("方案报价").pk, "version": 2}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "hx-swap-oob" in response.content.decode()
    stale = client.post(url, {"stage": stage("商务谈判").pk, "version": 2}, headers={"HX-Request": "true"})
    assert stale.status_code == 409
    deal.refresh_from_db()
    assert deal.stage.name == "方案报价" and deal.version == 3
    page = client.get(reverse("sales:opportunity-detail", args=[deal.pk])).content.decode()
    assert "需求确认 → 方案报价" in page


def test_closing_from_the_board_asks_for_a_reason(client, team, deal):
    client.force_login(team.rep1)
    url = reverse("sales:opportunity-move", args=[deal.pk])
    response = client.post(url, {"stage": stage("赢单").pk, "version": 1}, headers={"HX-Request": "true"})
    assert response.status_code == 204 and "close=" in response["HX-Redirect"]
    deal.refresh_from_db()
    assert deal.status == StageKind.OPEN
    response = client.post(url, {"stage": stage("赢单").pk, "version": 1, "reason": "交期满足"})
    deal.refresh_from_db()
    assert deal.status == StageKind.WON and deal.close_reason == "交期满足"
    assert TimelineEntry.objects.filter(kind=SalesEvent.OPPORTUNITY_WON, customer_id=deal.customer_id).exists()


def test_create_and_edit(client, team, customer_of):
    customer = customer_of(team.rep1, name="宁波海天塑机")
    client.force_login(team.rep1)
    url = reverse("sales:opportunity-create") + f"?customer={customer.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "注塑机 5 台", "amount": "350000.00", "expected_close_on": "2026-12-31"})
    assert response.status_code == 302
    opp = Opportunity.objects.get(name="注塑机 5 台")
    assert opp.owner == team.rep1 and opp.probability == 10
    edit = reverse("sales:opportunity-edit", args=[opp.pk])
    response = client.post(edit, {"name": "注塑机 6 台", "amount": "420000.00", "probability": "30", "version": 1})
    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.name == "注塑机 6 台" and str(opp.amount) == "420000.00" and opp.probability == 30
    stale = client.post(edit, {"name": "旧", "amount": "1", "version": 1})
    assert stale.status_code == 200 and "Someone else changed" in stale.content.decode()
    assert StageChange.objects.filter(opportunity=opp).count() == 1


def test_customer_page_shows_open_deals(client, team, deal):
    client.force_login(team.rep1)
    page = client.get(reverse("workspace:customer-detail", args=[deal.customer_id])).content.decode()
    assert "华星 数控机床" in page and 'id="opportunities"' in page


def _fill(team, customer_of, n):
    customer = customer_of(team.rep1, name=f"客户{n}")
    for i in range(n):
        make_opportunity(
            customer,
            team.rep1 if i % 2 else team.rep2,
            name=f"deal {n}-{i}",
            amount=str(1000 + i),
            at=["初步接洽", "需求确认", "方案报价"][i % 3] if i % 3 else None,
        )


def test_board_and_list_query_counts_are_fixed(client, team, customer_of, django_assert_max_num_queries, settings):
    client.force_login(team.manager1)
    _fill(team, customer_of, 3)
    counts = []
    for n in (0, 30):
        if n:
            _fill(team, customer_of, n)
        for url in (reverse("sales:board"), reverse("sales:opportunity-list") + "?sort=-amount"):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_board_caps_columns(client, team, customer_of):
    customer = customer_of(team.rep1)
    for i in range(23):
        make_opportunity(customer, team.rep1, name=f"d{i}", amount=str(1000 + i))
    client.force_login(team.rep1)
    page = client.get(reverse("sales:board")).content.decode()
    assert "3 more" in page
    assert page.count('class="card card-sm board-card"') == 20


def test_menu_and_customer_panel_follow_the_permission(client, team, deal):
    client.force_login(team.rep1)
    assert reverse("sales:board") in client.get(reverse("workspace:home")).content.decode()
    client.force_login(team.marketing1)
    assert reverse("sales:board") not in client.get(reverse("workspace:home")).content.decode()
    page = client.get(reverse("workspace:customer-detail", args=[deal.customer_id])).content.decode()
    assert 'id="opportunities"' not in page  # the timeline still says a deal was opened
