"""Duplicate detection (CUS-5): normalisation, each reason, visibility, the confirmation on create/edit."""

import pytest

from kehu.customers.dedupe import find_duplicates
from kehu.customers.models import Customer
from kehu.customers.normalise import normalise_name, normalise_phone
from kehu.customers.selectors import customer_duplicates
from kehu.customers.services import contact_create, contact_delete, customer_delete

VALID_CODE = "91350100M000100Y43"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("苏州华星精密机械有限公司", "苏州华星精密机械有限责任公司"),
        ("苏州华星精密机械有限公司", "苏州 华星精密机械（有限公司）"),
        ("苏州华星精密机械有限公司", "苏州华星精密机械股份有限公司"),
        ("苏州华星精密机械有限公司", "苏州华星精密机械集团有限公司"),
        ("苏州华星精密机械有限公司", "苏州华星精密机械公司"),
        ("苏州华星精密机械有限公司", "ＳＵ州华星精密机械有限公司".replace("ＳＵ", "苏")),
        ("华星（苏州）精密机械有限公司", "华星(苏州)精密机械有限公司"),
        ("ＡＣＭＥ　Ｔｒａｄｉｎｇ", "acme trading"),
        ("Acme Trading Co., Ltd.", "ACME TRADING CO.,LTD"),
        ("Acme Trading Ltd", "acme trading inc."),
        ("Acme Trading Corp.", "Acme Trading"),
        ("宏达机械厂", "宏达机械"),
    ],
)
def test_names_that_compare_equal(a, b):
    assert normalise_name(a) == normalise_name(b)
    assert normalise_name(a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("苏州华星精密机械有限公司", "无锡华星精密机械有限公司"),
        ("Wincorp Trading", "Win Trading"),  # "corp" only as a word of its own
        ("公司", "厂"),  # a bare suffix is kept rather than emptied
    ],
)
def test_names_that_stay_different(a, b):
    assert normalise_name(a) != normalise_name(b)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("0512-6666 8888", "51266668888"),
        ("(0512) 66668888", "51266668888"),
        ("+86 512 6666 8888", "51266668888"),
        ("１３８１２３４５６７８", "13812345678"),
        ("8001", ""),
        ("", ""),
    ],
)
def test_phone_keys(raw, key):
    assert normalise_phone(raw) == key


def reasons(matches, customer):
    return next(m.reasons for m in matches if m.customer_id == customer.pk)


def test_each_reason_is_found(team, customer_of):
    by_name = customer_of(team.rep1, "苏州华星精密机械有限公司")
    by_phone = customer_of(team.rep1, "甲公司", phone="0512-6666 8888")
    by_contact = customer_of(team.rep1, "乙公司")
    contact_create(customer=by_contact, actor=team.rep1, name="王芳", mobile="+86 139 0000 1111")
    by_email = customer_of(team.rep1, "丙公司", email="Sales@HuaXing.cn")
    by_contact_email = customer_of(team.rep1, "丁公司")
    contact_create(customer=by_contact_email, actor=team.rep1, name="李娜", email="li@example.cn")
    by_code = customer_of(team.rep1, "戊公司", credit_code=VALID_CODE)

    assert reasons(find_duplicates(name="苏州 华星精密机械（有限责任公司）"), by_name) == ["name"]
    assert reasons(find_duplicates(name="x", phone="051266668888"), by_phone) == ["phone"]
    assert reasons(find_duplicates(name="x", phone="13900001111"), by_contact) == ["phone"]
    assert reasons(find_duplicates(name="x", email="sales@huaxing.cn"), by_email) == ["email"]
    assert reasons(find_duplicates(name="x", email="LI@example.cn"), by_contact_email) == ["email"]
    assert reasons(find_duplicates(name="x", credit_code=VALID_CODE.lower()), by_code) == ["credit_code"]
    both = find_duplicates(name="苏州华星精密机械", phone="6666-8888", credit_code=VALID_CODE)
    assert {m.customer_id for m in both} == {by_name.pk, by_code.pk}  # a fragment of a phone is no match


def test_several_reasons_rank_first_and_nothing_matches_itself(team, customer_of):
    weak = customer_of(team.rep1, "苏州华星精密机械有限公司")
    strong = customer_of(team.rep1, "苏州华星精密机械股份有限公司", phone="13812345678")
    matches = find_duplicates(name="苏州华星精密机械", phone="13812345678")
    assert [m.customer_id for m in matches] == [strong.pk, weak.pk]
    assert matches[0].reasons == ["name", "phone"]
    assert [m.customer_id for m in find_duplicates(name=weak.name, exclude_pk=weak.pk)] == [strong.pk]


def test_deleted_customers_and_contacts_do_not_match(team, customer_of):
    gone = customer_of(team.rep1, "苏州华星精密机械有限公司", phone="13812345678")
    kept = customer_of(team.rep1, "别的公司")
    contact = contact_create(customer=kept, actor=team.rep1, name="王芳", mobile="13900001111")
    customer_delete(customer=gone, actor=team.rep1)
    contact_delete(contact=contact, actor=team.rep1)
    assert find_duplicates(name=gone.name, phone="13812345678") == []
    assert find_duplicates(name="x", phone="13900001111") == []


def test_a_duplicate_outside_the_scope_is_named_but_not_opened(team, customer_of):
    theirs = customer_of(team.rep3, "苏州华星精密机械有限公司", phone="13812345678")
    mine = customer_of(team.rep1, "苏州华星精密机械股份有限公司")
    matches = {m.customer_id: m for m in customer_duplicates(team.rep1, name="苏州华星精密机械有限公司")}
    assert matches[theirs.pk].in_scope is False
    assert matches[theirs.pk].owner == team.rep3.display_name
    assert matches[mine.pk].in_scope is True


def test_existing_names_get_their_key(team, customer_of):
    customer = customer_of(team.rep1, "苏州华星精密机械（有限公司）")
    assert Customer.objects.get(pk=customer.pk).name_key == "苏州华星精密机械"


def form_data(**fields):
    return {
        "name": "苏州华星精密机械有限公司",
        "kind": "company",
        "segment": "industrial",
        "tier": "prospect",
        "status": "potential",
        **fields,
    }


def test_the_create_form_asks_for_confirmation_and_then_saves(client, team, customer_of):
    theirs = customer_of(team.rep3, "苏州华星精密机械股份有限公司")
    mine = customer_of(team.rep1, "苏州华星精密机械集团")
    client.force_login(team.rep1)
    response = client.post("/customers/new/", form_data())
    assert response.status_code == 200
    page = response.content.decode()
    assert "This customer may already exist" in page
    assert theirs.name in page and team.rep3.display_name in page
    assert f"/customers/{theirs.pk}/" not in page  # out of scope: named, not linked
    assert f"/customers/{mine.pk}/" in page
    assert 'name="allow_duplicate"' in page
    assert Customer.objects.count() == 2

    response = client.post("/customers/new/", form_data(allow_duplicate="on"))
    assert response.status_code == 302
    assert Customer.objects.count() == 3


def test_a_customer_without_duplicates_saves_at_once(client, team, customer_of):
    customer_of(team.rep1, "无锡某公司")
    client.force_login(team.rep1)
    assert client.post("/customers/new/", form_data()).status_code == 302


def test_the_edit_form_asks_only_when_an_identifying_field_changes(client, team, customer_of):
    customer_of(team.rep1, "苏州华星精密机械股份有限公司")
    customer = customer_of(team.rep1, "苏州华星精密机械有限公司")
    client.force_login(team.rep1)
    data = form_data(owner=team.rep1.pk, version=customer.version, notes="老客户")
    assert client.post(f"/customers/{customer.pk}/edit/", data).status_code == 302  # name unchanged
    customer.refresh_from_db()
    data = form_data(owner=team.rep1.pk, version=customer.version, name="苏州华星精密机械（有限责任公司）")
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 200 and "This customer may already exist" in response.content.decode()
    assert client.post(f"/customers/{customer.pk}/edit/", {**data, "allow_duplicate": "on"}).status_code == 302
    customer.refresh_from_db()
    assert customer.name == "苏州华星精密机械（有限责任公司）"


# One door: the service itself refuses likely duplicates unless the caller allows them.


def test_the_create_service_refuses_a_duplicate_unless_allowed(team, customer_of):
    from kehu.customers.services import DuplicateCustomerError, customer_create

    other = customer_of(team.rep3, "苏州华星精密机械有限公司")
    before = Customer.objects.count()
    with pytest.raises(DuplicateCustomerError) as caught:
        customer_create(actor=team.rep1, name="苏州华星精密机械（有限公司）", allow_duplicate=False)
    assert Customer.objects.count() == before
    [match] = caught.value.matches
    assert (match.customer_id, match.in_scope, match.reasons) == (other.pk, False, ["name"])
    created = customer_create(actor=team.rep1, name="苏州华星精密机械（有限公司）", allow_duplicate=True)
    assert created.pk and Customer.objects.count() == before + 1


def test_the_update_service_checks_only_changed_identifying_fields(team, customer_of):
    from kehu.customers.services import DuplicateCustomerError, customer_update

    customer_of(team.rep3, "杭州东方电子有限公司")
    mine = customer_of(team.rep1, "宁波北仑机械有限公司")
    # A change that leaves the identifying fields alone asks nothing.
    mine = customer_update(
        customer=mine, actor=team.rep1, expected_version=mine.version, city="宁波", allow_duplicate=False
    )
    with pytest.raises(DuplicateCustomerError):
        customer_update(
            customer=mine, actor=team.rep1, expected_version=mine.version, name="杭州东方电子", allow_duplicate=False
        )
    mine.refresh_from_db()
    assert mine.name == "宁波北仑机械有限公司"


@pytest.mark.parametrize("scan_from", [1, 10_000])  # phones by one pass over the search text, or by the index
def test_the_set_based_finder_agrees_with_the_single_one(team, customer_of, monkeypatch, scan_from):
    from kehu.customers import dedupe

    monkeypatch.setattr(dedupe, "PHONE_SCAN_FROM", scan_from)
    a = customer_of(team.rep1, "苏州华星精密机械有限公司", phone="0512-6666 8888", email="Info@HuaXing.cn")
    b = customer_of(team.rep3, "广州南方物流有限公司")
    contact_create(customer=b, actor=team.rep3, name="黄", mobile="+86 139 1234 5678", email="huang@nf.cn")
    queries = [
        {"name": "苏州 华星精密机械（有限公司）"},
        {"name": "无关", "phone": "51266668888"},
        {"name": "无关", "email": "info@huaxing.cn"},
        {"name": "无关", "phone": "13912345678", "email": "HUANG@nf.cn"},
        {"name": "完全不同"},
    ]
    many = dedupe.find_duplicates_many([dict(q) for q in queries])
    for query, found in zip(queries, many, strict=True):
        single = {m.customer_id: m.reasons for m in find_duplicates(**query)}
        assert found == single, query
    assert many[0] == {a.pk: ["name"]} and many[3] == {b.pk: ["phone", "email"]} and many[4] == {}
