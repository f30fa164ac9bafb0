from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.sales.models import Opportunity
from kehu.sales.recommend import recommend
from kehu.sales.tests.factories import make_opportunity


@pytest.fixture
def history(team, customer_of):
    """rep2 owns the customer; rep1 has won similar deals; manager1 has no history; rep3 is in another team."""
    target_customer = customer_of(team.rep2, name="无锡机床厂", industry="machinery")
    m1 = customer_of(team.rep1, name="常州机械", industry="machinery")
    m2 = customer_of(team.rep1, name="南通机械", industry="machinery")
    e1 = customer_of(team.rep2, name="昆山电子", industry="electronics")
    s1 = customer_of(team.rep3, name="佛山机械", industry="machinery")
    make_opportunity(m1, team.rep1, amount="200000", at="赢单")  # similar
    make_opportunity(m2, team.rep1, amount="300000", at="赢单")  # similar
    make_opportunity(m2, team.rep1, amount="2000000", at="输单")
    make_opportunity(m1, team.rep1, amount="50000")  # open
    make_opportunity(m1, team.rep1, amount="50000", at="赢单")  # machinery, but another band
    make_opportunity(e1, team.rep2, amount="400000", at="赢单")  # same band, another industry
    make_opportunity(target_customer, team.rep2, amount="80000")  # open, with this customer
    for _ in range(3):
        make_opportunity(s1, team.rep3, amount="500000", at="赢单")
    deal = make_opportunity(target_customer, team.rep2, name="大单", amount="500000")
    return team, deal


def test_exact_ranking_with_reasons(history):
    team, deal = history
    ranked = recommend(team.manager1, deal)
    rep1, rep2, manager1 = (next(c for c in ranked if c.user.username == n) for n in ("rep1", "rep2", "manager1"))
    assert (rep1.similar_won, rep1.won, rep1.lost, rep1.open_load, rep1.earlier_deals) == (2, 3, 1, 1, 0)
    assert (rep2.similar_won, rep2.won, rep2.lost, rep2.open_load, rep2.earlier_deals) == (0, 1, 0, 1, 1)
    assert rep2.owns_customer and not rep1.owns_customer
    # rep1: 3·2 + 5·(3/4) − 0.5·1 = 9.25; rep2: 5·1 + 4 + 2·1 − 0.5·1 = 10.50; manager1: 0
    assert [(c.user.username, c.score) for c in ranked] == [
        ("rep2", Decimal("10.50")),
        ("rep1", Decimal("9.25")),
        ("manager1", Decimal("0.00")),
    ]
    assert rep1.reasons[:2] == ["2 won deals in Machinery & equipment, ¥100,000–1,000,000", "win rate 75% (3 of 4)"]
    assert "owns this customer" in rep2.reasons and "1 other deals with this customer" in rep2.reasons
    assert [c.user.username for c in recommend(team.gm, deal)][:2] == ["rep3", "rep2"]


def test_manager_assigns_from_the_list(client, history):
    team, deal = history
    url = reverse("sales:opportunity-recommend", args=[deal.pk])
    client.force_login(team.rep2)
    assert client.get(url).status_code == 403
    assert client.post(url, {"owner": team.rep1.pk}).status_code == 403
    client.force_login(team.manager2)
    assert client.post(url, {"owner": team.rep3.pk}).status_code == 404
    assert Opportunity.objects.get(pk=deal.pk).owner == team.rep2
    client.force_login(team.manager1)
    page = client.get(url).content.decode()
    assert page.index("rep2") < page.index("rep1") and "rep3" not in page
    assert client.post(url, {"owner": team.rep3.pk}).status_code == 200  # not in the team: refused
    assert Opportunity.objects.get(pk=deal.pk).owner == team.rep2
    assert client.post(url, {"owner": team.rep1.pk}).status_code == 302
    assert Opportunity.objects.get(pk=deal.pk).owner == team.rep1
