"""The text rule at the customers' doors (forms and services): control characters and over-long
text are refused on the field with a clear message, nothing is saved, a stored value nobody
touches does not block an edit, and websites are http(s) only, linked only when they are."""

import pytest
from django.core.exceptions import ValidationError

from kehu.customers.models import Contact, Customer
from kehu.customers.services import contact_create, contact_move, contact_update, customer_update, fact_create


def form_data(**fields):
    return {
        "name": "苏州华星精密机械有限公司",
        "kind": "company",
        "segment": "industrial",
        "tier": "prospect",
        "status": "potential",
        **fields,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "华星\x07精密", "U+0007"),
        ("address", "人民路\x1b1号", "U+001B"),
        ("city", "苏\x85州", "U+0085"),
        ("name", "华星\t精密", "single line"),
        ("notes", "备\x0b注", "U+000B"),
        ("notes", "x" * 10_001, "at most 10,000"),
        ("name", "华星\x00精密", "Null characters are not allowed"),
    ],
)
def test_the_customer_form_refuses_text_problems_on_the_field(client, team, field, value, message):
    client.force_login(team.rep1)
    response = client.post("/customers/new/", form_data(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert not Customer.objects.exists()


def test_multi_line_notes_are_kept(client, team):
    client.force_login(team.rep1)
    response = client.post("/customers/new/", form_data(notes="第一行\r\n第二行\t缩进"))
    assert response.status_code == 302
    assert Customer.objects.get().notes == "第一行\r\n第二行\t缩进"


def test_a_stored_control_character_does_not_block_an_unrelated_edit(team, customer_of):
    customer = customer_of(team.rep1)
    Customer.objects.filter(pk=customer.pk).update(notes="旧备注\x07")  # stored before the rule existed
    customer.refresh_from_db()
    customer_update(
        customer=customer, actor=team.rep1, expected_version=customer.version, city="苏州", notes=customer.notes
    )
    customer.refresh_from_db()
    assert (customer.city, customer.notes) == ("苏州", "旧备注\x07")
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, actor=team.rep1, expected_version=customer.version, notes="新\x07")
    assert list(exc.value.message_dict) == ["notes"]


def test_contacts_facts_and_moves_follow_the_rule(team, customer_of):
    customer = customer_of(team.rep1)
    with pytest.raises(ValidationError) as exc:
        contact_create(customer=customer, actor=team.rep1, name="张\x00伟")
    assert list(exc.value.message_dict) == ["name"]
    with pytest.raises(ValidationError) as exc:
        contact_create(customer=customer, actor=team.rep1, name="张伟", hobbies="钓鱼" * 5001)
    assert list(exc.value.message_dict) == ["hobbies"]
    contact = contact_create(customer=customer, actor=team.rep1, name="张伟", hobbies="钓鱼\n登山")
    with pytest.raises(ValidationError) as exc:
        contact_update(contact=contact, actor=team.rep1, expected_version=contact.version, wechat="zw\x1f")
    assert list(exc.value.message_dict) == ["wechat"]
    with pytest.raises(ValidationError) as exc:
        fact_create(customer=customer, actor=team.rep1, title="年产能", content="内容\x07", level=1)
    assert list(exc.value.message_dict) == ["content"]
    other = customer_of(team.rep1, "无锡恒力汽车零部件有限公司")
    with pytest.raises(ValidationError) as exc:
        contact_move(contact=contact, to_customer=other, actor=team.rep1, reason="跳槽\x00")
    assert list(exc.value.message_dict) == ["reason"]
    assert Contact.objects.get(pk=contact.pk).customer_id == customer.pk


@pytest.mark.parametrize("website", ["javascript:alert(1)", "data:text/html,x", "ftp://a.example.com", "我们的网站"])
def test_the_customer_form_refuses_other_addresses(client, team, website):
    client.force_login(team.rep1)
    response = client.post("/customers/new/", form_data(website=website))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["website"]
    assert not Customer.objects.exists()


def test_the_detail_page_links_http_addresses_only(client, team, customer_of):
    good = customer_of(team.rep1, "甲公司", website="www.jia.com.cn")
    assert good.website == "http://www.jia.com.cn"
    bad = customer_of(team.rep1, "乙公司")
    Customer.objects.filter(pk=bad.pk).update(website="javascript:alert(1)")  # stored before the rule
    client.force_login(team.rep1)
    page = client.get(f"/customers/{good.pk}/").content.decode()
    assert '<a href="http://www.jia.com.cn" target="_blank" rel="noopener noreferrer nofollow">' in page
    page = client.get(f"/customers/{bad.pk}/").content.decode()
    assert 'id="customer-website">javascript:alert(1)</dd>' in page
    assert 'href="javascript:' not in page


def test_a_hostile_name_is_text_on_every_page_that_shows_it(client, team, customer_of):
    hostile = '<img src=x onerror="window.__pwned=1">'
    customer = customer_of(team.rep1, hostile)
    client.force_login(team.rep1)
    for path in ("/customers/", f"/customers/{customer.pk}/", "/customers/map/missing/"):
        page = client.get(path).content.decode()
        assert "<img src=x" not in page, path
        assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in page, path


def test_every_problem_of_a_form_shows_at_once(client, team):
    client.force_login(team.rep1)
    response = client.post(
        "/customers/new/", form_data(address="人民路\x07", website="javascript:alert(1)", notes="x" * 10_001)
    )
    assert set(response.context["form"].errors) == {"address", "website", "notes"}
