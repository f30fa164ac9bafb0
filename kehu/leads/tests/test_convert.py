from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from kehu.customers.models import Contact, Customer, TimelineEntry
from kehu.customers.services import DuplicateCustomerError
from kehu.leads import services
from kehu.leads.events import LeadChange
from kehu.leads.models import Lead, LeadStatus
from kehu.sales.models import Opportunity


@pytest.fixture
def qualified(team, lead_of):
    lead = lead_of(
        team.rep1, company_name="宁波恒达机电有限公司", email="wang@hengda.cn", region="浙江", message="要报价"
    )
    services.lead_respond(lead=lead, actor=team.rep1, note="电话沟通需求")
    return services.lead_qualify(lead=lead, actor=team.rep1)


def test_convert_creates_customer_contact_opportunity_and_hands_history_over(
    team, qualified, django_capture_on_commit_callbacks, committed_events
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.lead_convert(
            lead=qualified, actor=team.rep1, opportunity_name="数控机床", amount=Decimal("120000")
        )
    assert lead.status == LeadStatus.CONVERTED
    customer = Customer.objects.get(pk=lead.converted_customer_id)
    assert (customer.name, customer.owner, customer.region) == ("宁波恒达机电有限公司", team.rep1, "浙江")
    contact = Contact.objects.get(pk=lead.converted_contact_id)
    assert (contact.customer, contact.name, contact.email) == (customer, "王经理", "wang@hengda.cn")
    opportunity = Opportunity.objects.get(pk=lead.converted_opportunity_id)
    assert (opportunity.customer, opportunity.amount, opportunity.source_lead_id) == (
        customer,
        Decimal("120000"),
        lead.pk,
    )
    entry = TimelineEntry.objects.get(customer=customer, kind=LeadChange.LEAD_CONVERTED)
    assert entry.payload["lead_id"] == lead.pk and entry.payload["message"] == "要报价"
    assert any(e["summary"] == "电话沟通需求" for e in entry.payload["history"])
    hooks = [e.kind.webhook for e in committed_events if e.webhook is not None]
    assert [name for name in hooks if name.startswith("lead.")] == ["lead.converted"]


def test_conversion_is_all_or_nothing(team, qualified, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("opportunity failed")

    monkeypatch.setattr(services, "_opportunity_create", broken)
    customers, contacts, entries = Customer.objects.count(), Contact.objects.count(), TimelineEntry.objects.count()
    with pytest.raises(RuntimeError):
        services.lead_convert(lead=qualified, actor=team.rep1)
    assert (Customer.objects.count(), Contact.objects.count(), TimelineEntry.objects.count()) == (
        customers,
        contacts,
        entries,
    )
    lead = Lead.objects.get(pk=qualified.pk)
    assert lead.status == LeadStatus.QUALIFIED and lead.converted_customer_id is None


def test_duplicate_customer_stops_conversion_unless_linked_or_confirmed(team, qualified, customer_of):
    existing = customer_of(team.rep1, name="宁波恒达机电有限公司")
    with pytest.raises(DuplicateCustomerError):
        services.lead_convert(lead=qualified, actor=team.rep1)
    assert Lead.objects.get(pk=qualified.pk).status == LeadStatus.QUALIFIED
    lead = services.lead_convert(lead=qualified, actor=team.rep1, customer=existing)
    assert lead.converted_customer_id == existing.pk
    assert Customer.objects.filter(name="宁波恒达机电有限公司").count() == 1


def test_only_qualified_leads_convert(team, lead_of):
    lead = lead_of(team.rep1)
    with pytest.raises(services.LeadTransitionError):
        services.lead_convert(lead=lead, actor=team.rep1)
    with pytest.raises(PermissionDenied):
        services.lead_convert(lead=lead, actor=team.rep2)
    assert not Customer.objects.exists()


def test_convert_page(client, team, qualified):
    client.force_login(team.rep2)
    assert client.post(reverse("leads:lead-convert", args=[qualified.pk])).status_code == 404
    assert not Customer.objects.exists()
    client.force_login(team.rep1)
    response = client.post(reverse("leads:lead-convert", args=[qualified.pk]), {"opportunity_name": "首单"})
    lead = Lead.objects.get(pk=qualified.pk)
    assert response.status_code == 302 and response.url == reverse(
        "workspace:customer-detail", args=[lead.converted_customer_id]
    )


def test_converted_lead_is_closed_to_edits(team, qualified, api_client):
    lead = services.lead_convert(lead=qualified, actor=team.rep1)
    response = api_client(team.rep1).patch(f"/api/v1/leads/{lead.pk}", {"version": lead.version, "region": "x"})
    assert response.status_code == 409 and response.json()["code"] == "converted"
    assert Lead.objects.get(pk=lead.pk).region == "浙江"
