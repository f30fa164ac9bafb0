"""The text rule at the sales doors: the opportunity form, won/lost reasons, pipeline and stage names."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kehu.sales.models import Opportunity


@pytest.mark.parametrize(
    ("field", "value"), [("name", "注塑机\x07"), ("products", "产品\x1b"), ("competitors", "x" * 10_001)]
)
def test_the_opportunity_form_refuses_text_problems_on_the_field(client, team, customer_of, field, value):
    customer = customer_of(team.rep1)
    client.force_login(team.rep1)
    url = reverse("sales:opportunity-create") + f"?customer={customer.pk}"
    response = client.post(url, {"name": "注塑机 5 台", "amount": "350000.00", field: value})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not Opportunity.objects.exists()


def test_reasons_and_names_follow_the_rule(team, customer_of):
    from kehu.sales.services import opportunity_create, opportunity_move, pipeline_create

    customer = customer_of(team.rep1)
    deal = opportunity_create(customer=customer, actor=team.rep1, name="注塑机")
    won = deal.pipeline.stages.get(kind="won")
    with pytest.raises(ValidationError) as exc:
        opportunity_move(opportunity=deal, stage=won, actor=team.rep1, reason="价格\x00合适")
    assert list(exc.value.message_dict) == ["reason"]
    with pytest.raises(ValidationError) as exc:
        opportunity_move(opportunity=deal, stage=won, actor=team.rep1, reason="x" * 2001)
    assert list(exc.value.message_dict) == ["reason"]
    deal.refresh_from_db()
    assert deal.status == "open"
    with pytest.raises(ValidationError) as exc:
        pipeline_create(actor=team.admin, name="工程\x07项目", code="projects")
    assert list(exc.value.message_dict) == ["name"]
