import pytest
from django.urls import reverse

from kehu.leads.models import Lead, LeadStatus


@pytest.fixture
def lead(team, lead_of):
    return lead_of(team.rep1, region="浙江")


def _state(lead):
    lead = Lead.objects.get(pk=lead.pk)
    return (lead.status, lead.owner_id, lead.version, lead.company_name, lead.disqualify_reason)


def test_anonymous_is_sent_to_login(client, lead):
    for url in [reverse("leads:lead-list"), reverse("leads:lead-detail", args=[lead.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url
    before = _state(lead)
    response = client.post(reverse("leads:lead-qualify", args=[lead.pk]))
    assert response.status_code == 302
    assert _state(lead) == before


@pytest.mark.parametrize(
    ("username", "status"), [("rep1", 200), ("manager1", 200), ("rep2", 404), ("manager2", 404), ("service1", 404)]
)
def test_detail_by_scope(client, team, lead, username, status):
    client.force_login(getattr(team, username))
    assert client.get(reverse("leads:lead-detail", args=[lead.pk])).status_code == status


def test_list_shows_own_and_hides_others(client, team, lead, lead_of):
    other = lead_of(team.rep3, company_name="深圳某公司")
    client.force_login(team.rep1)
    content = client.get(reverse("leads:lead-list")).content.decode()
    assert lead.company_name in content and other.company_name not in content
    assert "Phone given (+6)" in content or "Contact person named" in content
    client.force_login(team.service1)
    assert client.get(reverse("leads:lead-list")).status_code == 403


@pytest.mark.parametrize("username", ["rep2", "manager2"])
def test_denied_writes_change_nothing(client, team, lead, username):
    client.force_login(getattr(team, username))
    before = _state(lead)
    for name in ["lead-respond", "lead-qualify", "lead-disqualify", "lead-assign", "lead-convert"]:
        response = client.post(reverse(f"leads:{name}", args=[lead.pk]), {"reason": "spam", "owner": team.rep3.pk})
        assert response.status_code in (403, 404), name
    response = client.post(
        reverse("leads:lead-edit", args=[lead.pk]), {"company_name": "改", "phone": "1", "source": "manual"}
    )
    assert response.status_code == 404
    assert _state(lead) == before


def test_rep_cannot_assign(client, team, lead):
    client.force_login(team.rep1)
    before = _state(lead)
    assert client.post(reverse("leads:lead-assign", args=[lead.pk]), {"owner": team.rep2.pk}).status_code == 403
    assert _state(lead) == before


def test_owner_works_the_lead(client, team, lead):
    client.force_login(team.rep1)
    client.post(reverse("leads:lead-respond", args=[lead.pk]), {"note": "电话沟通"})
    client.post(reverse("leads:lead-qualify", args=[lead.pk]))
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.QUALIFIED
    response = client.post(
        reverse("leads:lead-edit", args=[lead.pk]),
        {"company_name": "宁波恒达", "phone": "1", "source": "manual", "version": Lead.objects.get(pk=lead.pk).version},
    )
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).company_name == "宁波恒达"


def test_manager_assigns_and_creates(client, team, lead):
    client.force_login(team.manager1)
    client.post(reverse("leads:lead-assign", args=[lead.pk]), {"owner": team.rep2.pk})
    assert Lead.objects.get(pk=lead.pk).owner == team.rep2
    response = client.post(
        reverse("leads:lead-create"), {"company_name": "新公司", "phone": "1", "source": "trade_show"}
    )
    assert response.status_code == 302
    assert Lead.objects.get(company_name="新公司").owner == team.manager1


def test_list_query_count_is_fixed(client, team, lead_of, django_assert_max_num_queries):
    client.force_login(team.manager1)
    for i in range(3):
        lead_of(team.rep1, company_name=f"a{i}")
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("leads:lead-list"))
    for i in range(20):
        lead_of(team.rep2, company_name=f"b{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("leads:lead-list") + "?sort=sla&overdue=")
    assert response.status_code == 200


def test_navigation_entry(client, team):
    client.force_login(team.rep1)
    assert reverse("leads:lead-list") in client.get(reverse("leads:lead-list")).content.decode()


@pytest.mark.parametrize("username", ["rep1", "manager1"])
def test_rules_page_only_for_rule_managers(client, team, username):
    from kehu.leads.models import AssignmentRule

    client.force_login(getattr(team, username))
    assert client.get(reverse("leads:lead-rules")).status_code == 403
    client.post(reverse("leads:lead-rules"), {"region": "浙江", "user": team.rep1.pk})
    assert not AssignmentRule.objects.exists()


def test_admin_sets_rules(client, team):
    from kehu.leads.models import AssignmentRule, SlaRule

    client.force_login(team.admin)
    assert client.get(reverse("leads:lead-rules")).status_code == 200
    client.post(reverse("leads:lead-rules"), {"kind": "assignment", "region": "浙江", "user": team.rep1.pk})
    client.post(reverse("leads:lead-rules"), {"kind": "sla", "source": "web_inquiry", "hours": 4})
    rule = AssignmentRule.objects.get()
    assert (rule.region, rule.user) == ("浙江", team.rep1)
    assert SlaRule.objects.get().hours == 4
    client.post(reverse("leads:lead-rules"), {"delete": rule.pk})
    assert not AssignmentRule.objects.exists()


def test_count_is_capped(client, team, lead_of, monkeypatch):
    from kehu.leads import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for i in range(3):
        lead_of(team.rep1, company_name=f"c{i}")
    client.force_login(team.rep1)
    assert "2+ leads" in client.get(reverse("leads:lead-list")).content.decode()


WRITES = ["lead-respond", "lead-qualify", "lead-disqualify", "lead-assign", "lead-convert", "lead-edit"]


@pytest.mark.parametrize("name", WRITES)
def test_anonymous_writes_change_nothing(client, lead, name):
    before = _state(lead)
    response = client.post(reverse(f"leads:{name}", args=[lead.pk]), {"reason": "spam", "company_name": "改"})
    assert response.status_code == 302 and "login" in response.url
    assert _state(lead) == before


def test_anonymous_cannot_create_or_set_rules(client, team):
    for url in [reverse("leads:lead-create"), reverse("leads:lead-rules")]:
        response = client.post(url, {"company_name": "x", "phone": "1", "region": "浙江", "user": team.rep1.pk})
        assert response.status_code == 302 and "login" in response.url
    assert not Lead.objects.exists()


@pytest.mark.parametrize("name", WRITES)
def test_view_only_roles_change_nothing(client, team, lead_of, name):
    # Marketing sees every lead but may not work them; service sees none.
    lead = lead_of(team.rep1)
    for user in (team.marketing1, team.service1):
        client.force_login(user)
        before = _state(lead)
        response = client.post(
            reverse(f"leads:{name}", args=[lead.pk]), {"reason": "spam", "owner": team.rep2.pk, "company_name": "改"}
        )
        assert response.status_code in (302, 403, 404)
        assert _state(lead) == before


def test_service_cannot_create(client, team):
    client.force_login(team.service1)
    assert client.post(reverse("leads:lead-create"), {"company_name": "x", "phone": "1"}).status_code == 403
    assert not Lead.objects.exists()


def test_pages_render_in_chinese(client, team, lead_of):
    from kehu.leads import services

    lead = lead_of(team.rep1, message="需要报价")
    services.lead_qualify(lead=lead, actor=team.rep1)
    team.manager1.language = "zh-hans"
    team.manager1.save()
    client.force_login(team.manager1)
    detail = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "评分" in detail and "转化为客户" in detail and "需要报价" in detail
    assert "线索" in client.get(reverse("leads:lead-list")).content.decode()
