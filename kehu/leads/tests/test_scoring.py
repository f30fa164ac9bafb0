import json

from kehu.leads import scoring, services
from kehu.leads.models import Lead, LeadSettings, LeadStatus, ScoringModel


def _closed(team, n_converted=12, n_lost=12):
    """A fixed history: converted leads were large machinery firms with email; lost ones micro, phone only."""
    for i in range(n_converted):
        lead = services.lead_create(
            actor=team.rep1,
            owner=team.rep1,
            company_name=f"成交{i}",
            phone="1",
            email=f"a{i}@x.cn",
            industry="machinery",
            size_band="large" if i % 3 else "medium",
            source="trade_show" if i % 2 else "referral",
        )
        Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.CONVERTED)
    for i in range(n_lost):
        lead = services.lead_create(
            actor=team.rep1,
            owner=team.rep1,
            company_name=f"流失{i}",
            phone="1",
            industry="retail" if i % 2 else "",
            size_band="micro",
            source="web_inquiry" if i % 3 else "manual",
        )
        Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.DISQUALIFIED, disqualify_reason="no_need")


def test_transparent_score_says_why(team):
    lead = services.lead_create(
        actor=team.rep1, owner=team.rep1, company_name="甲", phone="1", industry="electronics", size_band="medium"
    )
    assert [r["code"] for r in lead.score_reasons] == ["size", "core_industry", "phone"]
    assert lead.score == 18 + 15 + 6
    assert scoring.reason_text(lead.score_reasons[0]) == "Company size (+18)"
    services.lead_respond(lead=lead, actor=team.rep1, note="电话")
    lead.refresh_from_db()
    assert lead.score == 18 + 15 + 6 + 5 + 10  # responded, two conversations (response, note)


def test_no_learned_model_before_enough_closed_leads(team):
    LeadSettings.objects.create(min_closed_for_learning=20)
    _closed(team)
    assert services.scoring_retrain() is None
    assert not ScoringModel.objects.exists()


def test_learned_model_is_stored_as_json_and_reasons_are_stable(team):
    LeadSettings.objects.create(min_closed_for_learning=10)
    _closed(team)
    first = services.scoring_retrain()
    assert first.n_converted == 12 and first.n_disqualified == 12
    json.dumps({"f": first.features, "c": first.coefficients, "i": first.intercept})
    assert len(first.features) == len(first.coefficients)
    good = services.lead_create(
        actor=team.rep1,
        owner=team.rep1,
        company_name="好线索",
        phone="1",
        email="x@y.cn",
        industry="machinery",
        size_band="large",
        source="trade_show",
    )
    poor = services.lead_create(
        actor=team.rep1, owner=team.rep1, company_name="差线索", phone="1", size_band="micro", source="manual"
    )
    assert good.score > poor.score
    learned = [r["code"] for r in good.score_reasons if r["code"].startswith("learned:")]
    assert learned and learned[0] in {"learned:email", "learned:core_industry", "learned:size=large"}
    # Retraining on the same history gives the same coefficients and the same reasons.
    reasons = good.score_reasons
    second = services.scoring_retrain()
    assert second.coefficients == first.coefficients
    good.refresh_from_db()
    assert good.score_reasons == reasons
    assert ScoringModel.objects.count() == 1
    assert "Similar leads converted before" in scoring.reason_text(reasons[0])


def test_retrain_task(team):
    from kehu.leads.tasks import retrain_lead_scoring

    LeadSettings.objects.create(min_closed_for_learning=10)
    assert retrain_lead_scoring.enqueue().return_value is False
    _closed(team)
    assert retrain_lead_scoring.enqueue().return_value is True
