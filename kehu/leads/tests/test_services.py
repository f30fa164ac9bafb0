import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.exceptions import ConcurrentEditError
from kehu.leads import services
from kehu.leads.models import Lead, LeadEvent, LeadStatus
from kehu.leads.selectors import lead_qs_visible_to


def test_create_scores_and_sets_sla(team, lead_of):
    lead = lead_of(team.rep1, industry="machinery", size_band="large", email="a@b.cn")
    assert lead.sla_due_at is not None
    assert lead.score > 0
    assert lead.score_reasons[0]["code"] == "size"
    assert LeadEvent.objects.filter(lead=lead, kind="created").exists()


def test_create_needs_a_way_to_answer(team):
    with pytest.raises(ValidationError):
        services.lead_create(actor=team.rep1, owner=team.rep1, company_name="某公司")
    assert not Lead.objects.exists()


def test_rep_may_not_give_a_lead_to_someone_else(team):
    with pytest.raises(ValidationError):
        services.lead_create(actor=team.rep1, owner=team.rep2, company_name="某公司", phone="1")


def test_transitions_in_one_place(team, lead_of):
    lead = lead_of(team.rep1)
    lead = services.lead_respond(lead=lead, actor=team.rep1, note="called")
    assert lead.status == LeadStatus.CONTACTED and lead.first_responded_at
    lead = services.lead_qualify(lead=lead, actor=team.rep1)
    assert lead.status == LeadStatus.QUALIFIED
    with pytest.raises(ValidationError):
        services.lead_disqualify(lead=lead, actor=team.rep1, reason="")
    lead = services.lead_disqualify(lead=lead, actor=team.rep1, reason="no_budget")
    assert lead.disqualify_reason == "no_budget"
    with pytest.raises(services.LeadTransitionError):
        services.lead_qualify(lead=lead, actor=team.rep1)
    with pytest.raises(services.LeadTransitionError):
        services.lead_transition(lead=lead, actor=team.rep1, to_status="converted")


def test_update_checks_version_and_scope(team, lead_of):
    lead = lead_of(team.rep1)
    services.lead_update(lead=lead, actor=team.rep1, expected_version=1, region="浙江")
    with pytest.raises(ConcurrentEditError):
        services.lead_update(lead=lead, actor=team.rep1, expected_version=1, region="江苏")
    with pytest.raises(PermissionDenied):
        services.lead_update(lead=lead, actor=team.rep2, expected_version=2, region="江苏")
    lead.refresh_from_db()
    assert lead.region == "浙江" and lead.version == 2


def test_visibility(team, lead_of):
    mine = lead_of(team.rep1)
    unassigned = services.lead_create(actor=team.marketing1, company_name="无主公司", phone="1")
    assert set(lead_qs_visible_to(team.rep1)) == {mine}
    assert set(lead_qs_visible_to(team.rep2)) == set()
    assert set(lead_qs_visible_to(team.manager1)) == {mine, unassigned}
    assert set(lead_qs_visible_to(team.manager2)) == {unassigned}
    assert set(lead_qs_visible_to(team.service1)) == set()
    theirs = lead_of(team.rep3, company_name="广州南方机电有限公司", phone="02088886666")
    assert set(lead_qs_visible_to(team.gm)) == {mine, unassigned, theirs}


def test_assignment_round_robin_by_region(team):
    services.assignment_rule_set(actor=team.admin, region="浙江", user=team.rep1)
    services.assignment_rule_set(actor=team.admin, region="浙江", user=team.rep2)
    services.assignment_rule_set(actor=team.admin, region="", user=team.rep3)
    owners = [
        services.lead_create(actor=None, auto_assign=True, company_name=f"c{i}", phone="1", region="浙江").owner
        for i in range(4)
    ]
    assert owners == [team.rep1, team.rep2, team.rep1, team.rep2]
    other = services.lead_create(actor=None, auto_assign=True, company_name="x", phone="1", region="广东")
    assert other.owner == team.rep3
    with pytest.raises(PermissionDenied):
        services.assignment_rule_set(actor=team.manager1, region="江苏", user=team.rep1)


def test_assign_within_team_only(team, lead_of):
    lead = lead_of(team.rep1)
    services.lead_assign(lead=lead, actor=team.manager1, owner=team.rep2)
    assert Lead.objects.get(pk=lead.pk).owner == team.rep2
    with pytest.raises(ValidationError):
        services.lead_assign(lead=lead, actor=team.manager1, owner=team.rep3)
    with pytest.raises(PermissionDenied):
        services.lead_assign(lead=lead, actor=team.rep2, owner=team.rep2)
    assert Lead.objects.get(pk=lead.pk).owner == team.rep2
