"""The contact form's lists of phones, e-mails and messaging accounts (plain HTML forms, no
JavaScript needed), the department and a birthday without its year; the 360° page shows them
tappable to the account team and masked to everyone else."""

import re

import pytest
from django.urls import reverse

from kehu.customers.models import Contact
from kehu.customers.points import Point, points_of
from kehu.customers.services import contact_create

pytestmark = pytest.mark.django_db


def management(name: str, total: int, initial: int = 0) -> dict:
    return {
        f"{name}-TOTAL_FORMS": str(total),
        f"{name}-INITIAL_FORMS": str(initial),
        f"{name}-MIN_NUM_FORMS": "0",
        f"{name}-MAX_NUM_FORMS": "30",
    }


def rows(name: str, *items) -> dict:
    data = management(name, len(items))
    for i, item in enumerate(items):
        kind, value, *rest = item
        data.update(
            {f"{name}-{i}-kind": kind, f"{name}-{i}-value": value, f"{name}-{i}-label": rest[0] if rest else ""}
        )
        if len(rest) > 1 and rest[1]:
            data[f"{name}-{i}-DELETE"] = "on"
    return data


def listed(contact):
    return [(p.medium, p.kind, p.value, p.label) for p in points_of(Contact.objects.get(pk=contact.pk))]


@pytest.fixture
def huaxing(team, customer_of):
    return customer_of(team.rep1, "杭州华星精密机械有限公司")


def test_a_new_contact_offers_a_mobile_a_work_number_an_email_and_wechat(client, team, huaxing):
    client.force_login(team.rep1)
    page = client.get(reverse("customers:contact-create", args=[huaxing.pk])).content.decode()
    assert 'name="phones-TOTAL_FORMS" value="2"' in page
    assert re.search(r'name="phones-0-kind"[^>]*>.*?<option value="mobile" selected>', page, re.S)
    assert re.search(r'name="phones-1-kind"[^>]*>.*?<option value="work" selected>', page, re.S)
    assert 'type="tel"' in page and 'name="handles-0-kind"' in page
    assert 'name="birthday_month"' in page and 'name="department"' in page


def test_create_with_several_phones_emails_and_accounts(client, team, huaxing):
    client.force_login(team.rep1)
    data = {
        "name": "王建国",
        "position": "采购部经理",
        "department": "采购部",
        "birthday_month": "12",
        "birthday_day": "24",
        **rows("phones", ("mobile", "138 5711 2345"), ("home", "0571-8765 4321"), ("work", "", "")),
        **rows("emails", ("work", "wangjg@hzhuaxing.example.cn"), ("home", "wang@163.example.com")),
        **rows("handles", ("wechat", "wangjg_hz"), ("qq", "12345678", "工作")),
    }
    response = client.post(reverse("customers:contact-create", args=[huaxing.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    wang = Contact.objects.get(name="王建国")
    assert listed(wang) == [
        ("phone", "mobile", "138 5711 2345", ""),
        ("phone", "home", "0571-8765 4321", ""),
        ("email", "work", "wangjg@hzhuaxing.example.cn", ""),
        ("email", "home", "wang@163.example.com", ""),
        ("im", "wechat", "wangjg_hz", ""),
        ("im", "qq", "12345678", "工作"),
    ]
    assert (wang.mobile, wang.office_phone, wang.department) == ("138 5711 2345", "", "采购部")
    assert (wang.birthday, wang.birthday_month, wang.birthday_day) == (None, 12, 24)


def test_add_another_row_without_javascript_saves_nothing_and_keeps_what_was_typed(client, team, huaxing):
    client.force_login(team.rep1)
    data = {
        "name": "王建国",
        "add": "phones",
        **rows("phones", ("mobile", "138 5711 2345"), ("work", "0571-8812 3456")),
        **rows("emails", ("work", "")),
        **rows("handles", ("wechat", "")),
    }
    response = client.post(reverse("customers:contact-create", args=[huaxing.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="phones-TOTAL_FORMS" value="3"' in page and 'name="phones-2-value"' in page
    assert 'value="138 5711 2345"' in page and 'value="王建国"' in page
    assert "invalid-feedback" not in page
    assert not Contact.objects.filter(name="王建国").exists()


def test_edit_removes_and_relabels(client, team, huaxing):
    wang = contact_create(
        customer=huaxing,
        actor=team.rep1,
        name="王建国",
        phones=[Point("phone", "mobile", "138 5711 2345"), Point("phone", "home", "0571-8765 4321")],
    )
    client.force_login(team.rep1)
    url = reverse("customers:contact-edit", args=[wang.pk])
    page = client.get(url).content.decode()
    assert 'name="phones-TOTAL_FORMS" value="3"' in page  # the two numbers and a blank row
    data = {
        "name": "王建国",
        "version": str(wang.version),
        **rows(
            "phones",
            ("mobile", "138 5711 2345", "私人"),
            ("home", "0571-8765 4321", "", True),
            ("fax", "0571-8812 3499"),
        ),
        **rows("emails", ("work", "")),
        **rows("handles", ("wechat", "")),
    }
    data["phones-INITIAL_FORMS"] = "2"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert listed(wang) == [("phone", "mobile", "138 5711 2345", "私人"), ("phone", "fax", "0571-8812 3499", "")]


def test_a_bad_address_is_shown_above_its_list_and_nothing_is_saved(client, team, huaxing):
    client.force_login(team.rep1)
    data = {
        "name": "王建国",
        **rows("phones", ("mobile", "138 5711 2345")),
        **rows("emails", ("work", "wangjg@")),
        **rows("handles", ("wechat", "")),
    }
    response = client.post(reverse("customers:contact-create", args=[huaxing.pk]), data)
    assert response.status_code == 200
    assert "Row 1: “wangjg@” is not an email address." in response.content.decode()
    assert not Contact.objects.filter(name="王建国").exists()


def test_a_post_without_the_lists_leaves_them_as_they_are(client, team, huaxing):
    wang = contact_create(
        customer=huaxing, actor=team.rep1, name="王建国", phones=[Point("phone", "home", "0571-8765 4321")]
    )
    client.force_login(team.rep1)
    response = client.post(reverse("customers:contact-edit", args=[wang.pk]), {"name": "王总", "version": wang.version})
    assert response.status_code == 302
    assert listed(wang) == [("phone", "home", "0571-8765 4321", "")]


@pytest.fixture
def wang(team, huaxing):
    return contact_create(
        customer=huaxing,
        actor=team.rep1,
        name="王建国",
        department="采购部",
        birthday_month=12,
        birthday_day=24,
        phones=[Point("phone", "mobile", "13857112345"), Point("phone", "home", "0571-87654321", "家")],
        emails=[Point("email", "work", "wangjg@hzhuaxing.example.cn")],
        handles=[Point("im", "wechat", "wangjg_hz")],
    )


def test_the_360_page_shows_every_number_tappable_to_the_account_team(client, team, huaxing, wang):
    client.force_login(team.rep1)
    page = client.get(reverse("workspace:customer-detail", args=[huaxing.pk])).content.decode()
    assert 'href="tel:13857112345"' in page and 'href="tel:057187654321"' in page
    assert 'href="mailto:wangjg@hzhuaxing.example.cn"' in page
    assert "wangjg_hz" in page and "采购部" in page and "12-24" in page
    assert ">家</span>" in page  # the person's own label


@pytest.mark.parametrize("outsider", ["service1", "marketing1"])
def test_outside_the_account_team_numbers_and_accounts_are_masked(client, team, huaxing, wang, outsider):
    client.force_login(getattr(team, outsider))
    page = client.get(reverse("workspace:customer-detail", args=[huaxing.pk])).content.decode()
    assert "138****2345" in page and "057****4321" in page and "wan****g_hz" in page
    for secret in ("13857112345", "0571-87654321", "wangjg_hz", "tel:", "12-24"):
        assert secret not in page
    assert 'href="mailto:wangjg@hzhuaxing.example.cn"' in page  # an e-mail address is not private, as before


def test_the_360_page_reads_the_points_in_one_query(client, team, huaxing, wang, django_assert_max_num_queries):
    for i in range(5):
        contact_create(
            customer=huaxing, actor=team.rep1, name=f"联系人{i}", phones=[Point("phone", "mobile", f"1390000000{i}")]
        )
    client.force_login(team.rep1)
    url = reverse("workspace:customer-detail", args=[huaxing.pk])
    client.get(url)
    with django_assert_max_num_queries(40) as captured:
        client.get(url)
    assert sum("customers_contactpoint" in q["sql"] for q in captured.captured_queries) == 1
