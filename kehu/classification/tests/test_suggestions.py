"""The ABC suggestion job and the decisions on its suggestions (CLS-1)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.classification import services
from kehu.classification.models import ClassificationSettings, SuggestionStatus, TierSuggestion
from kehu.classification.selectors import Cuts, tier_cuts
from kehu.classification.tasks import suggest_tiers
from kehu.core.models import AuditEntry
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Customer, TimelineEntry

YEAR = timezone.localdate().year
# name: (tier now, revenue); ranks 1..10 by revenue. 10% key, 30% ordinary, 60% prospects.
BOOK = {
    "c1": ("prospect", 1000),  # rank 1 → key: promote
    "c2": ("key", 900),  # rank 2 → ordinary: demote
    "c3": ("ordinary", 800),  # rank 3 → ordinary: unchanged
    "c4": ("ordinary", 700),  # rank 4 → ordinary: unchanged
    "c5": ("ordinary", 600),  # rank 5 → prospect: demote
    "c6": ("prospect", 500),
    "c7": ("prospect", 400),
    "c8": ("prospect", 300),
    "c9": ("prospect", 200),
    "c10": ("prospect", 100),
}


@pytest.fixture
def book(team, customer_of):
    customers = {}
    for name, (tier, revenue) in BOOK.items():
        owner = team.rep3 if name == "c1" else team.rep1
        customer = customer_of(owner, name=f"客户{name}", tier=tier)
        services.revenue_record(customer=customer, actor=owner, year=YEAR, revenue=revenue, potential=0)
        customers[name] = customer
    # No revenue input: never ranked, never proposed.
    customers["unranked"] = customer_of(team.rep1, name="没有收入数据的客户", tier="key")
    return customers


def open_suggestions() -> dict[str, tuple[str, str]]:
    return {
        s.customer.name.removeprefix("客户"): (s.current_tier, s.proposed_tier)
        for s in TierSuggestion.objects.filter(status=SuggestionStatus.OPEN).select_related("customer")
    }


def test_the_cuts_round_half_up():
    conf = ClassificationSettings(key_share=Decimal("10"), ordinary_share=Decimal("30"))
    assert tier_cuts(10, conf) == Cuts(10, 1, 4)
    assert tier_cuts(15, conf) == Cuts(15, 2, 6)  # 1.5 → 2, 6.0 → 6
    assert tier_cuts(0, conf) == Cuts(0, 0, 0)
    assert tier_cuts(3, ClassificationSettings(key_share=Decimal("100"), ordinary_share=Decimal("0"))) == Cuts(3, 3, 3)


def test_the_job_proposes_exactly_the_changes_at_the_thresholds(book):
    result = services.suggestions_refresh(year=YEAR)
    assert result == {"ranked": 10, "created": 3, "kept": 0, "superseded": 0}
    assert open_suggestions() == {"c1": ("prospect", "key"), "c2": ("key", "ordinary"), "c5": ("ordinary", "prospect")}
    c1 = TierSuggestion.objects.get(customer=book["c1"])
    assert (c1.rank, c1.ranked, c1.revenue, c1.revenue_share) == (1, 10, Decimal("1000.00"), Decimal("18.182"))
    assert c1.is_promotion and not TierSuggestion.objects.get(customer=book["c2"]).is_promotion


def test_a_rerun_is_idempotent(book):
    services.suggestions_refresh(year=YEAR)
    first = sorted(TierSuggestion.objects.values_list("pk", "customer_id", "proposed_tier"))
    result = services.suggestions_refresh(year=YEAR)
    assert result == {"ranked": 10, "created": 0, "kept": 3, "superseded": 0}
    assert sorted(TierSuggestion.objects.values_list("pk", "customer_id", "proposed_tier")) == first


def test_the_periodic_task_runs_the_job(book):
    suggest_tiers.enqueue()
    assert set(open_suggestions()) == {"c1", "c2", "c5"}


def test_changed_thresholds_supersede_what_no_longer_stands(book):
    services.suggestions_refresh(year=YEAR)
    conf = ClassificationSettings.load()
    conf.key_share, conf.ordinary_share = Decimal("20"), Decimal("30")
    conf.save()
    result = services.suggestions_refresh(year=YEAR)
    # key = ranks 1-2, ordinary = ranks 3-5: c1 still promoted, c2 stays key, c5 stays ordinary.
    assert open_suggestions() == {"c1": ("prospect", "key")}
    assert result["superseded"] == 2
    assert TierSuggestion.objects.filter(status=SuggestionStatus.SUPERSEDED).count() == 2


def test_potential_counts_with_its_weight(book, team):
    services.revenue_record(customer=book["c10"], actor=team.rep1, year=YEAR, revenue=100, potential=3000)
    services.suggestions_refresh(year=YEAR)
    # c10 scores 100 + 0.5 × 3000 = 1600: first, so key; c1 drops to rank 2 (ordinary).
    assert open_suggestions()["c10"] == ("prospect", "key")
    assert open_suggestions()["c1"] == ("prospect", "ordinary")


def test_deleted_customers_are_not_ranked(book, team):
    from kehu.customers.services import customer_delete

    customer_delete(customer=book["c1"], actor=team.rep3)
    result = services.suggestions_refresh(year=YEAR)
    assert result["ranked"] == 9
    assert "c1" not in open_suggestions()


def test_accept_changes_the_tier_with_timeline_and_audit(book, team):
    services.suggestions_refresh(year=YEAR)
    suggestion = TierSuggestion.objects.get(customer=book["c2"])
    audit_before = AuditEntry.objects.count()
    services.suggestion_accept(suggestion=suggestion, actor=team.manager1, reason="去年订单下降")
    customer = Customer.objects.get(pk=book["c2"].pk)
    assert customer.tier == "ordinary"
    assert customer.version == book["c2"].version + 1
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by, suggestion.reason) == ("accepted", team.manager1, "去年订单下降")
    entry = TimelineEntry.objects.filter(customer=customer, kind=CustomerEvent.TIER_CHANGED).get()
    assert entry.payload == {"from": "key", "to": "ordinary", "reason": "去年订单下降"}
    assert entry.actor == team.manager1
    tier_audit = AuditEntry.objects.get(target_type="customers.customer", target_id=customer.pk, action="update")
    assert tier_audit.changes == {"tier": ["key", "ordinary"]}
    assert AuditEntry.objects.count() == audit_before + 2
    # The next run sees the new tier: nothing more to propose for c2.
    services.suggestions_refresh(year=YEAR)
    assert "c2" not in open_suggestions()


def test_reject_keeps_the_tier_and_is_not_proposed_again_during_the_cooldown(book, team):
    services.suggestions_refresh(year=YEAR)
    suggestion = TierSuggestion.objects.get(customer=book["c5"])
    services.suggestion_reject(suggestion=suggestion, actor=team.manager1, reason="正在谈大单")
    assert Customer.objects.get(pk=book["c5"].pk).tier == "ordinary"
    assert not TimelineEntry.objects.filter(customer=book["c5"], kind=CustomerEvent.TIER_CHANGED).exists()
    services.suggestions_refresh(year=YEAR)
    assert "c5" not in open_suggestions()
    later = timezone.now() + timedelta(days=91)
    services.suggestions_refresh(year=YEAR, now=later)
    assert open_suggestions()["c5"] == ("ordinary", "prospect")


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_needs_a_reason(book, team, reason):
    services.suggestions_refresh(year=YEAR)
    suggestion = TierSuggestion.objects.get(customer=book["c2"])
    with pytest.raises(ValidationError):
        services.suggestion_accept(suggestion=suggestion, actor=team.manager1, reason=reason)
    assert Customer.objects.get(pk=book["c2"].pk).tier == "key"
    assert TierSuggestion.objects.get(pk=suggestion.pk).status == "open"


def test_decisions_only_within_scope(book, team):
    services.suggestions_refresh(year=YEAR)
    east = TierSuggestion.objects.get(customer=book["c2"])  # rep1, 华东
    south = TierSuggestion.objects.get(customer=book["c1"])  # rep3, 华南
    for actor, suggestion in ((team.manager2, east), (team.manager1, south), (team.rep1, east)):
        with pytest.raises(PermissionDenied):
            services.suggestion_accept(suggestion=suggestion, actor=actor, reason="越权")
        with pytest.raises(PermissionDenied):
            services.suggestion_reject(suggestion=suggestion, actor=actor, reason="越权")
    assert set(TierSuggestion.objects.values_list("status", flat=True)) == {"open"}
    assert Customer.objects.get(pk=book["c1"].pk).tier == "prospect"
    services.suggestion_accept(suggestion=south, actor=team.gm, reason="总经理确认")
    assert Customer.objects.get(pk=book["c1"].pk).tier == "key"


def test_a_suggestion_is_decided_once(book, team):
    services.suggestions_refresh(year=YEAR)
    suggestion = TierSuggestion.objects.get(customer=book["c2"])
    stale_copy = TierSuggestion.objects.get(pk=suggestion.pk)
    services.suggestion_reject(suggestion=suggestion, actor=team.manager1, reason="不同意")
    with pytest.raises(ValidationError):
        services.suggestion_accept(suggestion=stale_copy, actor=team.gm, reason="同意")
    assert Customer.objects.get(pk=book["c2"].pk).tier == "key"


def test_a_merge_of_duplicates_keeps_working(book, team):
    """Merging re-points revenue rows and suggestions to the kept customer: its figures for the
    year add up and the next run leaves it one open suggestion."""
    from kehu.customers.merge import customer_merge

    services.suggestions_refresh(year=YEAR)
    # c5 (600, demote) and c6 (500) are the same company: together 1,100 — the best rank.
    target, source = Customer.objects.get(pk=book["c5"].pk), Customer.objects.get(pk=book["c6"].pk)
    TierSuggestion.objects.create(
        customer=source,
        current_tier="prospect",
        proposed_tier="key",
        year=YEAR,
        revenue=0,
        potential=0,
        rank=1,
        ranked=10,
        revenue_share=0,
    )
    customer_merge(target=target, sources=[source], actor=team.manager1)
    assert TierSuggestion.objects.filter(customer=target, status="open").count() == 2
    result = services.suggestions_refresh(year=YEAR)
    assert result["ranked"] == 9
    assert open_suggestions()["c5"] == ("ordinary", "key")
    assert TierSuggestion.objects.filter(customer=target, status="open").count() == 1
    assert TierSuggestion.objects.get(customer=target, status="open").revenue == Decimal("1100.00")


def test_a_suggestion_made_stale_by_a_manual_tier_change_cannot_be_accepted(book, team):
    from kehu.customers.services import customer_update

    services.suggestions_refresh(year=YEAR)
    suggestion = TierSuggestion.objects.get(customer=book["c1"])  # prospect → key
    customer = Customer.objects.get(pk=book["c1"].pk)
    customer_update(customer=customer, actor=team.manager2, expected_version=customer.version, tier="ordinary")
    with pytest.raises(ValidationError):
        services.suggestion_accept(suggestion=suggestion, actor=team.manager2, reason="确认")
    assert Customer.objects.get(pk=customer.pk).tier == "ordinary"
    # The next run replaces it with what holds now.
    services.suggestions_refresh(year=YEAR)
    assert open_suggestions()["c1"] == ("ordinary", "key")
