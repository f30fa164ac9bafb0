"""Lead settings (working hours, default first-response time, learned-score threshold) on the rules
page and in the API, and the rules in the API (SAL-1)."""

from datetime import datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.core.models import AuditEntry
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status
from kehu.leads.models import AssignmentRule, Lead, LeadSettings, ScoringModel, SlaRule
from kehu.leads.services import lead_settings_update, sla_rule_set

BASE = "/api/v1/leads"
VALID = {"work_start": "08:30", "work_end": "17:30", "default_sla_hours": "6", "min_closed_for_learning": "30"}


def _state():
    return (
        list(LeadSettings.objects.values()),
        list(AssignmentRule.objects.values()),
        list(SlaRule.objects.values()),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize(
    ("actor", "get", "post"),
    [("anonymous", LOGIN, LOGIN), ("rep1", 403, 403), ("manager1", 403, 403), ("gm", 403, 403), ("admin", 200, 302)],
)
def test_rules_page_settings_by_role(client, team, actor, get, post):
    act_as(client, team, actor)
    url = reverse("leads:lead-rules")
    assert_status(client.get(url), get)
    before = _state()
    assert_status(client.post(url, {"kind": "settings", **VALID}), post)
    if post == 302:
        s = LeadSettings.current()
        assert (s.work_start, s.work_end, s.default_sla_hours, s.min_closed_for_learning) == (
            time(8, 30),
            time(17, 30),
            6,
            30,
        )
        entry = AuditEntry.objects.filter(target_type="leads.leadsettings").latest("id")
        assert entry.changes["work_start"] == ["09:00:00", "08:30:00"]
    else:
        assert _state() == before


def test_working_day_must_end_after_it_starts(client, team):
    client.force_login(team.admin)
    response = client.post(reverse("leads:lead-rules"), {**VALID, "kind": "settings", "work_end": "08:00"})
    assert response.status_code == 400 and "must end after it starts" in response.content.decode()
    assert not LeadSettings.objects.exists()


def test_page_says_when_the_learned_model_was_trained(client, team):
    client.force_login(team.admin)
    page = client.get(reverse("leads:lead-rules")).content.decode()
    assert "Not trained yet: it needs 20 converted and 20 disqualified leads." in page
    assert 'value="09:00"' in page or 'value="09:00:00"' in page
    ScoringModel.objects.create(
        trained_at=timezone.make_aware(datetime(2026, 11, 2, 3, 0)), n_converted=25, n_disqualified=40
    )
    page = client.get(reverse("leads:lead-rules")).content.decode()
    assert "Last trained 2026-11-02 03:00 on 25 converted and 40 disqualified leads." in page


def test_sla_rule_removed_from_the_page(client, team):
    rule = sla_rule_set(actor=team.admin, source="web_inquiry", hours=4)
    client.force_login(team.admin)
    client.post(reverse("leads:lead-rules"), {"delete_sla": rule.pk})
    assert not SlaRule.objects.exists()
    client.force_login(team.manager1)
    rule = sla_rule_set(actor=team.admin, source="web_inquiry", hours=4)
    assert client.post(reverse("leads:lead-rules"), {"delete_sla": rule.pk}).status_code == 403
    assert SlaRule.objects.exists()


def test_changing_hours_keeps_existing_due_times(team, lead_of):
    old = lead_of(team.rep1)
    due = old.sla_due_at
    lead_settings_update(
        actor=team.admin, work_start=time(13, 0), work_end=time(14, 0), default_sla_hours=1, min_closed_for_learning=20
    )
    old.refresh_from_db()
    assert old.sla_due_at == due
    new = lead_of(team.rep1, company_name="杭州新光")
    local = timezone.localtime(new.sla_due_at)
    assert time(13, 0) < local.time() <= time(14, 0)


# ---- API ----


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("rep1", 403), ("manager1", 403)])
def test_settings_and_rules_api_refused(api_client, team, who, status):
    rule = sla_rule_set(actor=team.admin, source="web_inquiry", hours=4)
    api = api_client(None if who == "anonymous" else getattr(team, who))
    before = _state()
    calls = [
        api.get(f"{BASE}/settings"),
        api.put(f"{BASE}/settings", VALID),
        api.get(f"{BASE}/assignment-rules"),
        api.post(f"{BASE}/assignment-rules", {"region": "浙江", "user_id": team.rep1.pk}),
        api.get(f"{BASE}/sla-rules"),
        api.post(f"{BASE}/sla-rules", {"source": "import", "hours": 3}),
        api.delete(f"{BASE}/sla-rules/{rule.pk}"),
    ]
    assert [r.status_code for r in calls] == [status] * len(calls)
    assert all(r.json()["detail"] for r in calls)
    assert _state() == before


def test_settings_api(api_client, team):
    api = api_client(team.admin)
    body = api.get(f"{BASE}/settings").json()
    assert body == {
        "work_start": "09:00:00",
        "work_end": "18:00:00",
        "default_sla_hours": 8,
        "min_closed_for_learning": 20,
        "learned_model": None,
    }
    response = api.put(f"{BASE}/settings", {**VALID, "default_sla_hours": 6, "min_closed_for_learning": 30})
    assert response.status_code == 200, response.content
    assert response.json()["work_start"] == "08:30:00" and LeadSettings.objects.get().default_sla_hours == 6
    ScoringModel.objects.create(n_converted=25, n_disqualified=40)
    assert api.get(f"{BASE}/settings").json()["learned_model"]["n_converted"] == 25
    bad = [
        ({**VALID, "work_end": "08:00"}, 400),
        ({**VALID, "work_start": "08:30+08:00"}, 422),
        ({**VALID, "default_sla_hours": 0}, 422),
        ({**VALID, "work_start": "25:00"}, 422),
        ({"work_start": "08:00"}, 422),
    ]
    for payload, status in bad:
        response = api.put(f"{BASE}/settings", payload)
        assert response.status_code == status, (payload, response.content)
        assert response.json()["detail"]
    assert LeadSettings.objects.get().work_start == time(8, 30)


def test_rules_api(api_client, team):
    api = api_client(team.admin)
    response = api.post(f"{BASE}/assignment-rules", {"region": " 浙江 ", "user_id": team.rep1.pk})
    assert response.status_code == 201 and response.json()["region"] == "浙江"
    assert api.post(f"{BASE}/assignment-rules", {"user_id": 999999}).status_code == 400
    assert [r["user_id"] for r in api.get(f"{BASE}/assignment-rules").json()] == [team.rep1.pk]
    rule_id = response.json()["id"]
    assert api.delete(f"{BASE}/assignment-rules/{rule_id}").status_code == 204
    assert api.delete(f"{BASE}/assignment-rules/{rule_id}").status_code == 404
    assert api.post(f"{BASE}/sla-rules", {"source": "import", "hours": 3}).json()["hours"] == 3
    sla = api.post(f"{BASE}/sla-rules", {"source": "import", "hours": 5}).json()
    assert api.get(f"{BASE}/sla-rules").json() == [sla] and sla["hours"] == 5
    assert api.post(f"{BASE}/sla-rules", {"source": "fax", "hours": 5}).status_code == 422
    assert api.delete(f"{BASE}/sla-rules/{sla['id']}").status_code == 204
    assert not SlaRule.objects.exists()


def test_settings_paths_are_not_taken_for_a_lead(api_client, team, lead_of):
    lead = lead_of(team.rep1)
    assert api_client(team.rep1).get(f"{BASE}/{lead.pk}").status_code == 200
    assert api_client(team.admin).get(f"{BASE}/settings").status_code == 200
    assert Lead.objects.count() == 1
