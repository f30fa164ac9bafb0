"""The text rule in classification: decision reasons and evaluation notes."""

import pytest
from django.core.exceptions import ValidationError

from kehu.classification.services import key_evaluation_create
from kehu.customers.services import customer_tier_set


def test_reasons_and_notes_follow_the_rule(team, customer_of):
    customer = customer_of(team.rep1)
    with pytest.raises(ValidationError) as exc:
        customer_tier_set(customer=customer, tier="key", actor=team.manager1, reason="年采购额\x07大")
    assert list(exc.value.message_dict) == ["reason"]
    customer.refresh_from_db()
    assert customer.tier == "prospect"
    with pytest.raises(ValidationError) as exc:
        key_evaluation_create(customer=customer, actor=team.manager1, attractiveness="high", notes="备注\x1b")
    assert "notes" in exc.value.message_dict
