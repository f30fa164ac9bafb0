"""The text rule at the pool's doors: a release reason that cannot be kept releases nothing,
exemption reasons and handover notes are refused instead of cut short, pool names are clean."""

import pytest
from django.core.exceptions import ValidationError

from kehu.customers.models import Customer
from kehu.pool.services import handover_start, pool_exempt, pool_save


@pytest.mark.parametrize("reason", ["客户要求\x07", "x" * 201])
def test_a_release_whose_reason_cannot_be_kept_releases_nothing(client, team, customer_of, reason):
    customer = customer_of(team.rep1)
    client.force_login(team.rep1)
    response = client.post(f"/pool/customers/{customer.pk}/release/", {"reason": reason}, follow=True)
    assert response.status_code == 200
    assert Customer.objects.get(pk=customer.pk).owner_id == team.rep1.pk
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_reasons_and_notes_are_refused_not_cut_short(team, customer_of):
    customer = customer_of(team.rep1)
    with pytest.raises(ValidationError) as exc:
        pool_exempt(customer=customer, actor=team.manager1, until=None, reason="x" * 201)
    assert list(exc.value.message_dict) == ["exempt_reason"]
    with pytest.raises(ValidationError) as exc:
        handover_start(
            actor=team.manager1, customers=Customer.objects.filter(pk=customer.pk), to_user=team.rep2, note="交接\x00"
        )
    assert list(exc.value.message_dict) == ["note"]
    assert Customer.objects.get(pk=customer.pk).owner_id == team.rep1.pk
    with pytest.raises(ValidationError) as exc:
        pool_save(actor=team.admin, pool=None, name="华东\x1b公海", regions="江苏\n浙江")
    assert list(exc.value.message_dict) == ["name"]
