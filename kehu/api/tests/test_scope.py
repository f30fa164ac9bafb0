"""Data scopes and masking through the API: nobody reads or changes what they may not see."""

import pytest
from django.forms.models import model_to_dict

from kehu.activities.models import Activity
from kehu.customers.models import Contact, Customer

CUSTOMERS = "/api/v1/customers/"
CONTACTS = "/api/v1/contacts/"
ACTIVITIES = "/api/v1/activities/"


@pytest.fixture
def rep1_records(team, customer_of, contact_of, activity_of):
    customer = customer_of(team.rep1, name="苏州华星精密机械有限公司", phone="051268881234", tier="key")
    contact = contact_of(customer, name="张伟", mobile="13912345678", hobbies="钓鱼", wechat="zhangwei1980")
    activity = activity_of(customer, kind="visit", subject="拜访采购部", contact=contact)
    return customer, contact, activity


def state(*records):
    return [
        model_to_dict(type(r).objects.get(pk=r.pk)) | {"version": type(r).objects.get(pk=r.pk).version} for r in records
    ]


@pytest.mark.parametrize("outsider", ["rep2", "rep3", "manager2"])
def test_outsiders_get_404_and_change_nothing(team, api_client, rep1_records, outsider):
    customer, contact, activity = rep1_records
    before = state(customer, contact, activity)
    api = api_client(getattr(team, outsider))
    for url, patch in [
        (f"{CUSTOMERS}{customer.pk}", {"name": "被改了", "tier": "prospect"}),
        (f"{CONTACTS}{contact.pk}", {"name": "被改了"}),
        (f"{ACTIVITIES}{activity.pk}", {"subject": "被改了"}),
    ]:
        assert api.get(url).status_code == 404, url
        assert api.patch(url, patch).status_code == 404, url
        assert api.delete(url).status_code == 404, url
    assert state(customer, contact, activity) == before
    assert Customer.objects.get(pk=customer.pk).deleted_at is None
    assert Contact.objects.get(pk=contact.pk).deleted_at is None
    assert Activity.objects.get(pk=activity.pk).deleted_at is None


@pytest.mark.parametrize("outsider", ["rep3", "manager2"])
def test_outsiders_cannot_attach_records_to_rep1s_customer(team, api_client, rep1_records, outsider):
    customer, contact, _activity = rep1_records
    api = api_client(getattr(team, outsider))
    assert api.post(CONTACTS, {"customer_id": customer.pk, "name": "钻空子"}).status_code == 404
    assert api.post(ACTIVITIES, {"customer_id": customer.pk, "subject": "钻空子"}).status_code == 404
    own = api.post(CUSTOMERS, {"name": "自己的客户"}).json()["id"]
    response = api.post(ACTIVITIES, {"customer_id": own, "contact_id": contact.pk, "subject": "钻空子"})
    assert response.status_code in (400, 404)
    assert not Contact.objects.filter(name="钻空子").exists()
    assert not Activity.objects.filter(subject="钻空子").exists()


def test_outsiders_lists_do_not_include_rep1s_records(team, api_client, customer_of, rep1_records):
    customer_of(team.rep3, name="广州南方贸易有限公司")
    api = api_client(team.rep3)
    body = api.get(CUSTOMERS).json()
    assert [c["name"] for c in body["items"]] == ["广州南方贸易有限公司"]
    assert body["count"] == 1
    assert api.get(CUSTOMERS + "?q=华星").json()["items"] == []
    assert api.get(f"{CUSTOMERS}?owner={team.rep1.pk}").json()["items"] == []
    assert api.get(CONTACTS).json()["count"] == 0
    assert api.get(f"{CONTACTS}?customer_id={rep1_records[0].pk}").json()["count"] == 0
    assert api.get(ACTIVITIES).json()["count"] == 0
    assert api.get(f"{ACTIVITIES}?customer_id={rep1_records[0].pk}").json()["count"] == 0
    assert api_client(team.manager2).get(CUSTOMERS + "?q=华星").json()["count"] == 0


def test_manager_of_the_team_sees_and_changes_rep1s_records(team, api_client, rep1_records):
    customer, contact, activity = rep1_records
    api = api_client(team.manager1)
    body = api.get(f"{CUSTOMERS}{customer.pk}").json()
    assert body["name"] == "苏州华星精密机械有限公司"
    assert body["phone"] == "051268881234"
    assert api.get(f"{CONTACTS}{contact.pk}").json()["mobile"] == "13912345678"
    assert api.get(f"{ACTIVITIES}{activity.pk}").status_code == 200
    assert [c["id"] for c in api.get(CUSTOMERS).json()["items"]] == [customer.pk]
    assert api.patch(f"{CUSTOMERS}{customer.pk}", {"city": "苏州"}).status_code == 200
    assert Customer.objects.get(pk=customer.pk).city == "苏州"


def test_manager_cannot_give_customers_to_another_team(team, api_client, rep1_records):
    customer = rep1_records[0]
    response = api_client(team.manager1).patch(f"{CUSTOMERS}{customer.pk}", {"owner_id": team.rep3.pk})
    assert response.status_code in (400, 404)
    assert Customer.objects.get(pk=customer.pk).owner == team.rep1


def test_marketing_sees_phones_masked(team, api_client, rep1_records):
    customer, contact, _activity = rep1_records
    api = api_client(team.marketing1)
    body = api.get(f"{CUSTOMERS}{customer.pk}").json()
    assert body["name"] == "苏州华星精密机械有限公司"
    assert body["phone"] == "051****1234"
    [item] = api.get(CUSTOMERS).json()["items"]
    assert item["phone"] == "051****1234"
    contact_body = api.get(f"{CONTACTS}{contact.pk}").json()
    assert contact_body["name"] == "张伟"
    assert contact_body["mobile"] == "139****5678"
    assert contact_body["wechat"] == "zha****1980"
    assert contact_body["hobbies"] == ""
    [listed] = api.get(CONTACTS).json()["items"]
    assert listed["mobile"] == "139****5678" and listed["hobbies"] == ""
    found = api.get(CUSTOMERS + "?q=6888123").json()["items"]
    assert all("68881234" not in c["phone"] for c in found)


def test_marketing_cannot_change_or_delete(team, api_client, rep1_records):
    customer, contact, _activity = rep1_records
    api = api_client(team.marketing1)
    assert api.patch(f"{CUSTOMERS}{customer.pk}", {"name": "被改了"}).status_code == 403
    assert api.delete(f"{CUSTOMERS}{customer.pk}").status_code == 403
    assert api.patch(f"{CONTACTS}{contact.pk}", {"name": "被改了"}).status_code == 403
    customer.refresh_from_db()
    assert customer.name == "苏州华星精密机械有限公司" and customer.deleted_at is None


def test_owner_sees_own_phone_unmasked(team, rep1_api, rep1_records):
    customer, contact, _activity = rep1_records
    assert rep1_api.get(f"{CUSTOMERS}{customer.pk}").json()["phone"] == "051268881234"
    assert rep1_api.get(f"{CONTACTS}{contact.pk}").json()["hobbies"] == "钓鱼"
