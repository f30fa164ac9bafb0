import pytest

from kehu.customers.models import Customer
from kehu.leads import services
from kehu.leads.models import Lead, LeadStatus

BASE = "/api/v1/leads"


@pytest.fixture
def lead(team, lead_of):
    return lead_of(team.rep1, region="浙江", industry="machinery")


def _state(lead):
    lead = Lead.objects.get(pk=lead.pk)
    return (lead.status, lead.owner_id, lead.version, lead.company_name)


def test_list_sorted_by_score(team, api_client, lead, lead_of):
    low = lead_of(team.rep1, company_name="低分", contact_name="")
    body = api_client(team.rep1).get(BASE).json()
    assert [i["id"] for i in body["items"]] == [lead.pk, low.pk] and body["count"] == 2
    assert body["items"][0]["score_reasons"][0]["text"]
    assert api_client(team.rep1).get(f"{BASE}?sort=sla&limit=1").json()["count"] == 2
    assert api_client(team.rep2).get(BASE).json()["count"] == 0
    assert api_client(team.service1).get(BASE).status_code == 403
    assert api_client().get(BASE).status_code == 401


def test_create_read_patch(team, api_client):
    client = api_client(team.rep1)
    response = client.post(BASE, {"company_name": "新线索", "phone": "1", "source": "trade_show"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["owner_id"] == team.rep1.pk and data["sla_due_at"]
    assert client.get(f"{BASE}/{data['id']}").json()["company_name"] == "新线索"
    patched = client.patch(f"{BASE}/{data['id']}", {"version": 1, "region": "江苏"})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = client.patch(f"{BASE}/{data['id']}", {"version": 1, "region": "上海"})
    assert stale.status_code == 409
    assert Lead.objects.get(pk=data["id"]).region == "江苏"


def test_create_errors_are_useful(team, api_client):
    client = api_client(team.rep1)
    missing = client.post(BASE, {"company_name": "无联系方式"})
    assert missing.status_code == 400 and "phone" in missing.json()["errors"]
    assert client.post(BASE, {"company_name": "x", "phone": "1", "source": "nope"}).status_code == 422
    bad_mail = client.post(BASE, {"company_name": "x", "email": "not-mail"})
    assert bad_mail.status_code == 400 and "email" in bad_mail.json()["errors"]
    other = client.post(BASE, {"company_name": "x", "phone": "1", "owner_id": team.rep3.pk})
    assert other.status_code == 400
    assert not Lead.objects.exists()


@pytest.mark.parametrize("username", ["rep2", "manager2"])
def test_outside_scope_is_404_and_changes_nothing(team, api_client, lead, username):
    client = api_client(getattr(team, username))
    before = _state(lead)
    assert client.get(f"{BASE}/{lead.pk}").status_code == 404
    assert client.patch(f"{BASE}/{lead.pk}", {"version": 1, "company_name": "改"}).status_code == 404
    assert client.post(f"{BASE}/{lead.pk}/transition", {"to_status": "qualified"}).status_code == 404
    assert client.post(f"{BASE}/{lead.pk}/convert", {}).status_code == 404
    assign = client.post(f"{BASE}/{lead.pk}/assign", {"owner_id": getattr(team, username).pk})
    assert assign.status_code == (403 if username == "rep2" else 404)
    assert _state(lead) == before


def test_anonymous_and_rep_assign_denied(team, api_client, lead):
    before = _state(lead)
    assert api_client().post(f"{BASE}/{lead.pk}/transition", {"to_status": "qualified"}).status_code == 401
    assert api_client(team.rep1).post(f"{BASE}/{lead.pk}/assign", {"owner_id": team.rep2.pk}).status_code == 403
    assert api_client(team.marketing1).patch(f"{BASE}/{lead.pk}", {"version": 1, "region": "x"}).status_code in (
        403,
        404,
    )
    assert _state(lead) == before


def test_transitions_and_conflicts(team, api_client, lead):
    client = api_client(team.rep1)
    assert client.post(f"{BASE}/{lead.pk}/transition", {"to_status": "contacted"}).json()["status"] == "contacted"
    no_reason = client.post(f"{BASE}/{lead.pk}/transition", {"to_status": "disqualified"})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    assert client.post(f"{BASE}/{lead.pk}/convert", {}).status_code == 409
    out = client.post(f"{BASE}/{lead.pk}/transition", {"to_status": "disqualified", "reason": "no_budget"})
    assert out.json()["disqualify_reason"] == "no_budget"
    again = client.post(f"{BASE}/{lead.pk}/transition", {"to_status": "qualified"})
    assert again.status_code == 409 and again.json()["code"] == "transition"


def test_manager_assigns_and_owner_converts(team, api_client, lead, customer_of):
    manager = api_client(team.manager1)
    assert manager.post(f"{BASE}/{lead.pk}/assign", {"owner_id": team.rep2.pk}).json()["owner_id"] == team.rep2.pk
    assert manager.post(f"{BASE}/{lead.pk}/assign", {"owner_id": team.rep3.pk}).status_code == 400
    rep2 = api_client(team.rep2)
    rep2.post(f"{BASE}/{lead.pk}/transition", {"to_status": "qualified"})
    customer_of(team.rep2, name=lead.company_name)
    dup = rep2.post(f"{BASE}/{lead.pk}/convert", {})
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate" and dup.json()["matches"]
    done = rep2.post(f"{BASE}/{lead.pk}/convert", {"allow_duplicate": True, "amount": "5000.00"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == LeadStatus.CONVERTED and done.json()["converted_opportunity_id"]
    assert Customer.objects.filter(name=lead.company_name).count() == 2


def test_unassigned_lead_visible_to_assigners_only(team, api_client):
    lead = services.lead_create(actor=team.marketing1, company_name="无主", phone="1")
    assert api_client(team.manager2).get(f"{BASE}/{lead.pk}").status_code == 200
    assert api_client(team.rep1).get(f"{BASE}/{lead.pk}").status_code == 404
