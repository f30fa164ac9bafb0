"""The merge pages (CUS-5): pick duplicates, choose values, merge; the review on the 360° page."""

import pytest

from kehu.customers.models import Customer, CustomerMerge
from kehu.customers.services import contact_create


@pytest.fixture
def pair(team, customer_of):
    target = customer_of(team.rep1, "苏州华星精密机械有限公司", city="苏州")
    source = customer_of(team.rep1, "苏州华星精密机械股份有限公司", city="无锡", website="www.hx.cn")
    contact_create(customer=source, actor=team.rep1, name="王芳")
    return target, source


def test_the_merge_page_lists_visible_duplicates_only(client, team, customer_of, pair):
    target, source = pair
    theirs = customer_of(team.rep3, "苏州华星精密机械集团")
    client.force_login(team.rep1)
    page = client.get(f"/customers/{target.pk}/merge/").content.decode()
    assert source.name in page
    assert theirs.name not in page


def test_search_offers_other_visible_customers(client, team, customer_of, pair):
    target, _source = pair
    other = customer_of(team.rep1, "星辰贸易")
    client.force_login(team.rep1)
    page = client.get(f"/customers/{target.pk}/merge/", {"q": "星辰"}).content.decode()
    assert f'value="{other.pk}"' in page


def test_compare_choose_and_merge(client, team, pair):
    target, source = pair
    client.force_login(team.rep1)
    page = client.get(f"/customers/{target.pk}/merge/", {"sources": source.pk}).content.decode()
    assert 'name="field_city"' in page and "无锡" in page
    response = client.post(
        f"/customers/{target.pk}/merge/", {"sources": source.pk, "field_city": source.pk, "field_name": target.pk}
    )
    assert response.status_code == 302 and response.url == f"/customers/{target.pk}/"
    target.refresh_from_db()
    assert (target.city, target.website, target.contacts.count()) == ("无锡", "http://www.hx.cn", 1)
    assert Customer.objects.get(pk=source.pk).merged_into_id == target.pk
    detail = client.get(f"/customers/{target.pk}/").content.decode()
    assert 'id="merges"' in detail and source.name in detail


def test_a_merged_customer_is_not_restored_from_the_recycle_bin(client, team, pair):
    target, source = pair
    client.force_login(team.rep1)
    client.post(f"/customers/{target.pk}/merge/", {"sources": source.pk})
    bin_page = client.get("/customers/recycle-bin/").content.decode()
    assert "Merged into" in bin_page
    response = client.post(f"/customers/{source.pk}/restore/", follow=True)
    assert "cannot be restored" in response.content.decode()
    assert Customer.objects.get(pk=source.pk).deleted_at is not None


@pytest.mark.parametrize(("actor", "status"), [("rep2", 404), ("manager2", 404), ("marketing1", 403)])
def test_others_cannot_reach_the_merge_page(client, team, pair, actor, status):
    target, source = pair
    client.force_login(getattr(team, actor))
    assert client.get(f"/customers/{target.pk}/merge/").status_code == status
    assert client.post(f"/customers/{target.pk}/merge/", {"sources": source.pk}).status_code == status
    assert CustomerMerge.objects.count() == 0


def test_a_source_outside_the_scope_is_not_found(client, team, customer_of, pair):
    target, _source = pair
    theirs = customer_of(team.rep3, "苏州华星精密机械集团")
    client.force_login(team.rep1)
    assert client.post(f"/customers/{target.pk}/merge/", {"sources": theirs.pk}).status_code == 404
    assert client.get(f"/customers/{target.pk}/merge/", {"sources": "x"}).status_code == 404
    assert CustomerMerge.objects.count() == 0


def test_the_merge_page_runs_a_fixed_number_of_queries(client, team, customer_of):
    target = customer_of(team.manager1, "苏州华星精密机械有限公司")
    client.force_login(team.manager1)

    def count(params):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/customers/{target.pk}/merge/", params).status_code == 200
        return len(ctx.captured_queries)

    few = [customer_of(team.rep1, "苏州华星精密机械公司")]
    small = (count({}), count({"q": "华星"}), count({"sources": [c.pk for c in few]}))
    many = few + [
        customer_of(owner, f"苏州华星精密机械{i}厂".replace(str(i), ""))
        for i, owner in enumerate([team.rep1, team.rep2] * 4)
    ]
    assert (count({}), count({"q": "华星"})) == small[:2]
    assert count({"sources": [c.pk for c in many]}) == small[2]
