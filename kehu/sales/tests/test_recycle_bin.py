"""The deals' recycle bin: a deleted deal is listed for its owner and their managers, and restored
onto the board with its stage history; nothing comes back while its customer is deleted."""

import pytest
from django.urls import reverse

from kehu.core.models import AuditAction, AuditEntry
from kehu.customers.services import customer_delete
from kehu.sales import selectors
from kehu.sales.models import Opportunity, Pipeline
from kehu.sales.services import opportunity_delete
from kehu.sales.tests.factories import make_opportunity


@pytest.fixture
def deleted(team, customer_of):
    deal = make_opportunity(customer_of(team.rep1), team.rep1, name="华星 数控机床", amount="500000", at="需求确认")
    opportunity_delete(opportunity=deal, actor=team.rep1)
    return deal


@pytest.mark.parametrize(
    ("who", "listed"), [("rep1", True), ("rep2", False), ("manager1", True), ("manager2", False), ("service1", False)]
)
def test_the_bin_lists_deleted_deals_of_the_scope(client, team, deleted, who, listed):
    client.force_login(getattr(team, who))
    response = client.get(reverse("sales:recycle-bin"))
    if who == "service1":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert ("华星 数控机床" in response.content.decode()) is listed


def test_anonymous_is_sent_to_login(client, deleted):
    assert client.get(reverse("sales:recycle-bin")).status_code == 302
    response = client.post(reverse("sales:opportunity-restore", args=[deleted.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
    assert Opportunity.objects.get(pk=deleted.pk).deleted_at is not None


@pytest.mark.parametrize(("who", "status"), [("rep2", 404), ("manager2", 404), ("manager1", 302), ("rep1", 302)])
def test_restore_puts_the_deal_back_on_the_board(client, team, deleted, who, status):
    client.force_login(getattr(team, who))
    response = client.post(reverse("sales:opportunity-restore", args=[deleted.pk]))
    assert response.status_code == status
    deal = Opportunity.objects.get(pk=deleted.pk)
    if status == 404:
        assert deal.deleted_at is not None
        return
    assert response["Location"] == reverse("sales:opportunity-detail", args=[deal.pk])
    assert deal.deleted_at is None and deal.deleted_by is None
    # The history came back with it: opened in 初步接洽, then moved to 需求确认.
    assert [c.to_stage.name for c in deal.stage_changes.order_by("at", "id")] == ["初步接洽", "需求确认"]
    columns = selectors.board(team.rep1, Pipeline.objects.get(code="direct"))
    assert [o.pk for c in columns for o in c.cards] == [deal.pk]
    assert AuditEntry.objects.filter(action=AuditAction.RESTORE, target_id=deal.pk).exists()


def test_a_deal_of_a_deleted_customer_waits_for_its_customer(client, team, deleted):
    customer_delete(customer=deleted.customer, actor=team.rep1)
    client.force_login(team.rep1)
    response = client.post(reverse("sales:opportunity-restore", args=[deleted.pk]), follow=True)
    assert "restore the customer first" in response.content.decode()
    assert Opportunity.objects.get(pk=deleted.pk).deleted_at is not None


def test_the_api_lists_and_restores(api_client, team, deleted):
    assert api_client(team.rep2).get("/api/v1/sales/opportunities/deleted").json()["items"] == []
    assert api_client(team.service1).get("/api/v1/sales/opportunities/deleted").status_code == 403
    listed = api_client(team.manager1).get("/api/v1/sales/opportunities/deleted").json()
    assert [row["id"] for row in listed["items"]] == [deleted.pk] and listed["items"][0][
        "deleted_by_id"
    ] == team.rep1.pk
    assert api_client(team.rep2).post(f"/api/v1/sales/opportunities/{deleted.pk}/restore").status_code == 404
    response = api_client(team.rep1).post(f"/api/v1/sales/opportunities/{deleted.pk}/restore")
    assert response.status_code == 200 and response.json()["id"] == deleted.pk
    assert api_client(team.rep1).post(f"/api/v1/sales/opportunities/{deleted.pk}/restore").status_code == 404


def test_the_api_refuses_while_the_customer_is_deleted(api_client, team, deleted):
    customer_delete(customer=deleted.customer, actor=team.rep1)
    response = api_client(team.rep1).post(f"/api/v1/sales/opportunities/{deleted.pk}/restore")
    assert response.status_code == 400
    assert "restore the customer first" in response.content.decode()
