"""Merging duplicate contacts of one customer (CUS-5): activities follow, blanks are filled, the
sources go to the recycle bin; only for those who may change the customer."""

import pytest
from django.core.exceptions import ValidationError

from kehu.activities.models import Activity
from kehu.activities.services import activity_log
from kehu.customers.merge import contact_merge
from kehu.customers.models import Contact, TimelineEntry
from kehu.customers.selectors import duplicate_contacts
from kehu.customers.services import contact_create


@pytest.fixture
def dupes(team, customer_of):
    customer = customer_of(team.rep1, "苏州华星精密机械有限公司")
    keep = contact_create(customer=customer, actor=team.rep1, name="王芳", position="采购经理")
    twin = contact_create(
        customer=customer, actor=team.rep1, name="王 芳", mobile="139 6666 7777", hobbies="钓鱼", position="采购"
    )
    visit = activity_log(customer=customer, actor=team.rep1, kind="visit", subject="拜访王芳", contact=twin)
    return customer, keep, twin, visit


def _state():
    return sorted(Contact.objects.values_list("pk", "name", "mobile", "hobbies", "position", "deleted_at")), sorted(
        Activity.objects.values_list("pk", "contact_id")
    )


def test_merge_moves_activities_fills_blanks_and_deletes_the_source(team, dupes):
    customer, keep, twin, visit = dupes
    merged = contact_merge(target=keep, sources=[twin], actor=team.rep1)
    assert Activity.objects.get(pk=visit.pk).contact_id == keep.pk
    assert (merged.mobile, merged.hobbies, merged.position) == ("139 6666 7777", "钓鱼", "采购经理")
    twin = Contact.objects.get(pk=twin.pk)
    assert twin.deleted_at is not None and twin.deleted_by_id == team.rep1.pk
    entry = TimelineEntry.objects.filter(customer=customer, kind="contact_removed").latest("id")
    assert entry.summary == "王 芳 → 王芳" and entry.payload == {"merged_into": keep.pk}
    assert duplicate_contacts(customer) == []


def test_chosen_values_are_applied(team, dupes):
    _customer, keep, twin, _visit = dupes
    with pytest.raises(ValidationError):
        contact_merge(target=keep, sources=[twin], actor=team.rep1, field_choices={"customer": twin.pk})
    merged = contact_merge(target=keep, sources=[twin], actor=team.rep1, field_choices={"position": twin.pk})
    assert merged.position == "采购"


def test_a_contact_of_another_customer_is_refused(team, customer_of, dupes):
    _customer, keep, _twin, _visit = dupes
    other = contact_create(customer=customer_of(team.rep1, "无锡恒通机械有限公司"), actor=team.rep1, name="王芳")
    before = _state()
    with pytest.raises(ValidationError):
        contact_merge(target=keep, sources=[other], actor=team.rep1)
    assert _state() == before


def test_duplicates_by_name_or_mobile(team, customer_of, dupes):
    customer, keep, twin, _visit = dupes
    third = contact_create(customer=customer, actor=team.rep1, name="Fang Wang", mobile="+86 13966667777")
    contact_create(customer=customer, actor=team.rep1, name="李雷")
    assert [[c.pk for c in g] for g in duplicate_contacts(customer)] == [[keep.pk, twin.pk, third.pk]]


def test_page_shows_side_by_side_and_merges(client, team, dupes):
    customer, keep, twin, visit = dupes
    client.force_login(team.rep1)
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Possible duplicate contacts" in detail
    url = f"/customers/{customer.pk}/contacts/merge/"
    assert f"{url}?keep={keep.pk}&amp;merge={twin.pk}" in detail
    page = client.get(url, {"keep": keep.pk, "merge": twin.pk}).content.decode()
    assert 'name="field_position"' in page and "139 6666 7777" in page
    response = client.post(url, {"keep": keep.pk, "merge": twin.pk, "field_position": twin.pk})
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/#contacts"
    assert Contact.objects.get(pk=keep.pk).position == "采购"
    assert Activity.objects.get(pk=visit.pk).contact_id == keep.pk
    assert "Possible duplicate contacts" not in client.get(f"/customers/{customer.pk}/").content.decode()


def test_no_notice_without_duplicates(client, team, customer_of):
    customer = customer_of(team.rep1)
    contact_create(customer=customer, actor=team.rep1, name="王芳", mobile="13966667777")
    contact_create(customer=customer, actor=team.rep1, name="李雷", mobile="13811112222")
    client.force_login(team.rep1)
    assert "Possible duplicate contacts" not in client.get(f"/customers/{customer.pk}/").content.decode()


def test_phones_are_masked_for_those_outside_the_account_team(client, team, dupes, settings):
    from kehu.users.roles import Role

    customer, keep, twin, _visit = dupes
    team.rep2.role = Role.INFO_SPECIALIST
    team.rep2.save()
    client.force_login(team.rep2)
    page = client.get(f"/customers/{customer.pk}/contacts/merge/", {"keep": keep.pk, "merge": twin.pk})
    assert page.status_code == 200
    assert "139 6666 7777" not in page.content.decode() and "钓鱼" not in page.content.decode()


@pytest.mark.parametrize(("who", "status"), [("rep3", 404), ("manager2", 404), ("marketing1", 403)])
def test_others_may_not_merge(client, api_client, team, dupes, who, status):
    customer, keep, twin, _visit = dupes
    user = getattr(team, who)
    before = _state()
    client.force_login(user)
    url = f"/customers/{customer.pk}/contacts/merge/"
    assert client.get(url, {"keep": keep.pk, "merge": twin.pk}).status_code == status
    assert client.post(url, {"keep": keep.pk, "merge": twin.pk}).status_code == status
    response = api_client(user).post(f"/api/v1/contacts/{keep.pk}/merge", {"source_ids": [twin.pk]})
    assert response.status_code == status
    assert _state() == before


def test_api_merge(api_client, team, dupes):
    _customer, keep, twin, visit = dupes
    response = api_client(team.rep1).post(
        f"/api/v1/contacts/{keep.pk}/merge", {"source_ids": [twin.pk], "fields": {"position": twin.pk}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["position"], body["mobile"]) == (keep.pk, "采购", "139 6666 7777")
    assert Activity.objects.get(pk=visit.pk).contact_id == keep.pk
    assert Contact.objects.get(pk=twin.pk).deleted_at is not None
    again = api_client(team.rep1).post(f"/api/v1/contacts/{keep.pk}/merge", {"source_ids": [twin.pk]})
    assert again.status_code == 404
