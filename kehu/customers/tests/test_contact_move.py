"""A contact moves to another company with their private file; their history stays put (CUS-2)."""

import pytest

from kehu.activities.models import Activity
from kehu.activities.services import activity_log
from kehu.customers.models import Contact, TimelineEntry
from kehu.customers.services import contact_create


@pytest.fixture
def moved(team, customer_of):
    old = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    new = customer_of(team.rep1, name="无锡恒通机械有限公司")
    contact = contact_create(
        customer=old, actor=team.rep1, name="王建国", mobile="13966667777", hobbies="钓鱼", is_primary=True
    )
    visit = activity_log(customer=old, actor=team.rep1, kind="visit", subject="拜访王总", contact=contact)
    return old, new, contact, visit


@pytest.mark.django_db
def test_moving_keeps_the_private_file_and_leaves_the_history_where_it_happened(client, team, moved):
    old, new, contact, visit = moved
    client.force_login(team.rep1)
    response = client.post(f"/customers/contacts/{contact.pk}/move/", {"to": new.pk, "reason": "跳槽到无锡恒通"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.customer_id, contact.hobbies, contact.is_primary) == (new.pk, "钓鱼", False)
    assert "跳槽到无锡恒通" in contact.transfer_reason
    assert Activity.objects.get(pk=visit.pk).customer_id == old.pk
    kinds = {
        c: list(TimelineEntry.objects.filter(customer=c, subject_id=contact.pk).values_list("kind", flat=True))
        for c in (old, new)
    }
    assert "contact_left" in kinds[old] and "contact_joined" in kinds[new]
    assert (
        "王建国"
        not in client.get(f"/customers/{old.pk}/").content.decode().split('id="contacts"')[1].split('id="facts"')[0]
    )
    found = client.get("/customers/", {"q": "13966667777"}).content.decode().split("<tbody>")[1]
    assert "无锡恒通机械有限公司" in found and "苏州华星精密机械有限公司" not in found  # search follows the person


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep3", "manager2"])
def test_a_contact_cannot_be_moved_to_or_from_outside_ones_scope(client, team, customer_of, moved, who):
    old, _new, contact, _visit = moved
    theirs = customer_of(team.rep3, name="广州南方电器有限公司")
    client.force_login(getattr(team, who))
    assert client.post(f"/customers/contacts/{contact.pk}/move/", {"to": theirs.pk}).status_code == 404
    client.force_login(team.rep1)
    assert client.post(f"/customers/contacts/{contact.pk}/move/", {"to": theirs.pk}).status_code == 404
    assert Contact.objects.get(pk=contact.pk).customer_id == old.pk


@pytest.mark.django_db
def test_the_api_moves_a_contact_with_customer_id(team, moved, api_client):
    _old, new, contact, _visit = moved
    response = api_client(team.manager1).patch(f"/api/v1/contacts/{contact.pk}", {"customer_id": new.pk})
    assert response.status_code == 200 and response.json()["customer_id"] == new.pk
