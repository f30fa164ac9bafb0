"""A contact's phones, e-mails and messaging accounts through /api/v1/contacts/: read and written as
lists, the older single fields still working, masked outside the account team."""

import pytest

from kehu.customers.models import Contact
from kehu.customers.points import points_of

URL = "/api/v1/contacts/"

pytestmark = pytest.mark.django_db

PHONES = [
    {"kind": "mobile", "number": "138 5711 2345", "label": ""},
    {"kind": "home", "number": "0571-8765 4321", "label": "家"},
    {"kind": "fax", "number": "0571-8812 3499", "label": ""},
]
EMAILS = [
    {"kind": "work", "address": "wangjg@hzhuaxing.example.cn", "label": ""},
    {"kind": "home", "address": "wang@163.example.com", "label": ""},
]
HANDLES = [
    {"service": "wechat", "handle": "wangjg_hz", "label": ""},
    {"service": "qq", "handle": "12345678", "label": ""},
]


@pytest.fixture
def created(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.post(
        URL,
        {
            "customer_id": customer.pk,
            "name": "王建国",
            "department": "采购部",
            "birthday_month": 12,
            "birthday_day": 24,
            "phones": PHONES,
            "emails": EMAILS,
            "handles": HANDLES,
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_lists_round_trip(created, rep1_api):
    assert (created["phones"], created["emails"], created["handles"]) == (PHONES, EMAILS, HANDLES)
    assert (created["mobile"], created["office_phone"], created["email"], created["wechat"]) == (
        "138 5711 2345",
        "",
        "wangjg@hzhuaxing.example.cn",
        "wangjg_hz",
    )
    assert (created["department"], created["birthday"], created["birthday_month"], created["birthday_day"]) == (
        "采购部",
        None,
        12,
        24,
    )
    again = rep1_api.get(f"{URL}{created['id']}").json()
    assert (again["phones"], again["emails"], again["handles"]) == (PHONES, EMAILS, HANDLES)


def test_a_list_replaces_its_kind_and_the_rest_stays(created, rep1_api):
    response = rep1_api.patch(
        f"{URL}{created['id']}", {"phones": [{"kind": "work", "number": "0571-8812 0000"}], "version": 1}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phones"] == [{"kind": "work", "number": "0571-8812 0000", "label": ""}]
    assert (body["mobile"], body["office_phone"], body["emails"]) == ("", "0571-8812 0000", EMAILS)


def test_an_item_may_leave_out_its_kind_and_label(created, rep1_api):
    response = rep1_api.patch(
        f"{URL}{created['id']}",
        {"phones": [{"number": "139 0000 2222"}], "handles": [{"handle": "wangjg"}, {"service": "qq", "handle": "1"}]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phones"] == [{"kind": "mobile", "number": "139 0000 2222", "label": ""}]
    assert body["handles"] == [
        {"service": "wechat", "handle": "wangjg", "label": ""},
        {"service": "qq", "handle": "1", "label": ""},
    ]


def test_an_older_client_changing_the_mobile_replaces_the_first_mobile(created, rep1_api):
    body = rep1_api.patch(f"{URL}{created['id']}", {"mobile": "139 0000 1111"}).json()
    assert body["phones"] == [{"kind": "mobile", "number": "139 0000 1111", "label": ""}, *PHONES[1:]]
    # Sending the whole old object back with an unchanged mobile changes nothing.
    before = rep1_api.get(f"{URL}{created['id']}").json()
    body = rep1_api.patch(f"{URL}{created['id']}", {"mobile": before["mobile"], "name": "王建国"}).json()
    assert body["version"] == before["version"] and body["phones"] == before["phones"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"emails": [{"kind": "work", "address": "not-an-address"}]}, "emails"),
        ({"phones": [{"kind": "pager", "number": "139"}]}, None),
        ({"phones": [{"kind": "mobile", "number": "1" * 41}]}, None),
        ({"handles": [{"service": "wechat", "handle": "a\x00b"}]}, None),
        ({"phones": [{"kind": "mobile", "number": "13900000000"}] * 31}, None),
        ({"birthday_month": 2, "birthday_day": 30}, "birthday_day"),
    ],
)
def test_bad_lists_answer_400_or_422_with_the_reason(created, rep1_api, payload, field):
    response = rep1_api.patch(f"{URL}{created['id']}", payload)
    if field is None:
        assert response.status_code == 422
    else:
        assert response.status_code == 400, response.content
        assert field in response.json()["errors"]
    assert Contact.objects.get(pk=created["id"]).version == 1


def test_outside_the_account_team_numbers_and_accounts_are_masked(created, team, api_client):
    body = api_client(team.service1).get(f"{URL}{created['id']}").json()
    assert body["phones"] == [
        {"kind": "mobile", "number": "138****2345", "label": ""},
        {"kind": "home", "number": "057****4321", "label": "家"},
        {"kind": "fax", "number": "057****3499", "label": ""},
    ]
    assert body["handles"] == [
        {"service": "wechat", "handle": "wan****g_hz", "label": ""},
        {"service": "qq", "handle": "123****5678", "label": ""},
    ]
    assert body["emails"] == EMAILS
    assert (body["birthday_month"], body["birthday_day"], body["mobile"]) == (None, None, "138****2345")
    listed = api_client(team.service1).get(URL).json()["items"][0]
    assert listed["phones"] == body["phones"] and listed["handles"] == body["handles"]


def test_the_list_reads_the_points_in_one_query(team, customer_of, contact_of, rep1_api, django_assert_max_num_queries):
    from kehu.customers.points import Point

    customer = customer_of(team.rep1)
    for i in range(10):
        contact_of(customer, name=f"联系人{i}", phones=[Point("phone", "mobile", f"139000000{i:02d}")])
    with django_assert_max_num_queries(8) as captured:
        body = rep1_api.get(URL).json()
    assert len(body["items"]) == 10 and all(len(c["phones"]) == 1 for c in body["items"])
    assert sum("customers_contactpoint" in q["sql"] for q in captured.captured_queries) == 1


def test_an_old_style_create_makes_its_points(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    body = rep1_api.post(
        URL,
        {"customer_id": customer.pk, "name": "李娜", "mobile": "13900001111", "email": "li@x.cn", "wechat": "lina"},
    ).json()
    assert body["phones"] == [{"kind": "mobile", "number": "13900001111", "label": ""}]
    assert body["emails"] == [{"kind": "work", "address": "li@x.cn", "label": ""}]
    assert body["handles"] == [{"service": "wechat", "handle": "lina", "label": ""}]
    assert [p.value for p in points_of(Contact.objects.get(pk=body["id"]))] == ["13900001111", "li@x.cn", "lina"]
