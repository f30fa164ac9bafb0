"""An old link to a deleted or merged customer (a bookmark, the audit log, a mail) says what became of it."""

import pytest

from kehu.customers.merge import customer_merge
from kehu.customers.services import customer_delete

pytestmark = pytest.mark.django_db


def test_a_deleted_customer_page_says_who_deleted_it_and_where_to_restore_it(client, team, customer_of):
    customer = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    customer_delete(customer=customer, actor=team.rep1)
    client.force_login(team.rep1)
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 410
    html = response.content.decode()
    assert "苏州华星精密机械有限公司 was deleted" in html and "by rep1" in html
    assert 'href="/customers/recycle-bin/">Open the recycle bin' in html


def test_who_may_not_restore_learns_who_can(client, team, customer_of):
    customer = customer_of(team.rep1)
    customer_delete(customer=customer, actor=team.rep1)
    client.force_login(team.service1)
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 410
    html = response.content.decode()
    assert "Its owner, a manager of the owner or an administrator can restore it" in html
    assert "Open the recycle bin" not in html


def test_outside_the_scope_a_deleted_customer_is_simply_not_found(client, team, customer_of):
    customer = customer_of(team.rep1)
    customer_delete(customer=customer, actor=team.rep1)
    for who in (team.rep3, team.manager2):
        client.force_login(who)
        assert client.get(f"/customers/{customer.pk}/").status_code == 404


def test_a_merged_customer_leads_to_the_one_it_was_merged_into(client, team, customer_of):
    kept = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    merged = customer_of(team.rep1, name="苏州华星精密机械股份有限公司")
    customer_merge(target=kept, sources=[merged], actor=team.rep1, field_choices={})
    client.force_login(team.rep1)
    response = client.get(f"/customers/{merged.pk}/", follow=True)
    assert response.redirect_chain == [(f"/customers/{kept.pk}/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "苏州华星精密机械股份有限公司 was merged into 苏州华星精密机械有限公司."
    ]


@pytest.mark.parametrize("pk", [0, 2**53 + 1, 10**20])
def test_ids_no_customer_can_have_are_not_found(client, team, pk):
    client.force_login(team.admin)
    assert client.get(f"/customers/{pk}/").status_code == 404
