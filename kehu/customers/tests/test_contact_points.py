"""Every phone, e-mail and messaging account of a contact (ContactPoint): the services keep the
columns as the first of each kind, the data migration, search and duplicates over all numbers,
merges that lose nothing, a birthday without its year."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from kehu.core.models import AuditEntry
from kehu.customers.dedupe import find_duplicates, find_duplicates_many
from kehu.customers.merge import contact_merge
from kehu.customers.models import Contact, ContactPoint
from kehu.customers.points import Point, points_of
from kehu.customers.selectors import CustomerFilters, customer_page, duplicate_contacts
from kehu.customers.services import contact_create, contact_update

pytestmark = pytest.mark.django_db


def phone(kind, value, label=""):
    return Point("phone", kind, value, label)


def email(kind, value, label=""):
    return Point("email", kind, value, label)


def handle(service, value, label=""):
    return Point("im", service, value, label)


def listed(contact):
    return [(p.medium, p.kind, p.value, p.label) for p in points_of(Contact.objects.get(pk=contact.pk))]


@pytest.fixture
def huaxing(team, customer_of):
    return customer_of(team.rep1, "杭州华星精密机械有限公司")


@pytest.fixture
def wang(team, huaxing):
    return contact_create(
        customer=huaxing,
        actor=team.rep1,
        name="王建国",
        phones=[
            phone("home", "0571-8765 4321"),
            phone("mobile", "138 5711 2345"),
            phone("work", "0571-8812 3456", "总机"),
            phone("mobile", "139 0571 6688", "iPhone"),
        ],
        emails=[email("work", "wangjg@hzhuaxing.example.cn"), email("home", "wang@163.example.com")],
        handles=[handle("qq", "12345678"), handle("wechat", "wangjg_hz")],
    )


def test_the_columns_are_the_first_of_each_kind(wang):
    assert (wang.mobile, wang.office_phone, wang.email, wang.wechat) == (
        "138 5711 2345",
        "0571-8812 3456",
        "wangjg@hzhuaxing.example.cn",
        "wangjg_hz",
    )
    assert listed(wang) == [
        ("phone", "home", "0571-8765 4321", ""),
        ("phone", "mobile", "138 5711 2345", ""),
        ("phone", "work", "0571-8812 3456", "总机"),
        ("phone", "mobile", "139 0571 6688", "iPhone"),
        ("email", "work", "wangjg@hzhuaxing.example.cn", ""),
        ("email", "home", "wang@163.example.com", ""),
        ("im", "qq", "12345678", ""),
        ("im", "wechat", "wangjg_hz", ""),
    ]
    keys = dict(ContactPoint.objects.filter(contact=wang).values_list("value", "key"))
    assert keys["0571-8765 4321"] == "57187654321" and keys["wang@163.example.com"] == "wang@163.example.com"
    audit = AuditEntry.objects.get(target_type="customers.contact", target_id=wang.pk, action="create")
    assert audit.changes["points"][1][:2] == ["home: 0571-8765 4321", "mobile: 138 5711 2345"]


def test_callers_with_only_the_columns_keep_working(team, huaxing):
    li = contact_create(
        customer=huaxing,
        actor=team.rep1,
        name="李娜",
        mobile="13900001111",
        office_phone="0571-8888 0000",
        email="li@x.cn",
        wechat="lina",
    )
    assert listed(li) == [
        ("phone", "mobile", "13900001111", ""),
        ("phone", "work", "0571-8888 0000", ""),
        ("email", "work", "li@x.cn", ""),
        ("im", "wechat", "lina", ""),
    ]
    # A changed column replaces the first of its kind (label kept); the other numbers stay.
    li = contact_update(contact=li, actor=team.rep1, expected_version=li.version, mobile="13900002222", wechat="")
    assert listed(li) == [
        ("phone", "mobile", "13900002222", ""),
        ("phone", "work", "0571-8888 0000", ""),
        ("email", "work", "li@x.cn", ""),
    ]
    assert (li.mobile, li.wechat) == ("13900002222", "")


def test_a_list_replaces_its_kind_only_and_a_column_then_leads(team, wang):
    wang = contact_update(
        contact=wang,
        actor=team.rep1,
        expected_version=wang.version,
        phones=[phone("fax", "0571-8812 3499"), phone("mobile", "138 5711 2345")],
        office_phone="0571-8812 0000",
    )
    assert listed(wang)[:3] == [
        ("phone", "fax", "0571-8812 3499", ""),
        ("phone", "mobile", "138 5711 2345", ""),
        ("phone", "work", "0571-8812 0000", ""),
    ]
    assert [p[2] for p in listed(wang)[3:]] == [
        "wangjg@hzhuaxing.example.cn",
        "wang@163.example.com",
        "12345678",
        "wangjg_hz",
    ]
    assert (wang.mobile, wang.office_phone) == ("138 5711 2345", "0571-8812 0000")


def test_saving_the_same_points_changes_nothing(team, wang):
    version = wang.version
    same = [p for p in points_of(wang) if p.medium == "phone"]
    again = contact_update(contact=wang, actor=team.rep1, expected_version=version, phones=same)
    assert again.version == version


@pytest.mark.parametrize(
    ("lists", "errors"),
    [
        (
            {"emails": [email("work", "not an address")]},
            {"emails": ["Row 1: “not an address” is not an email address."]},
        ),
        (
            {"phones": [phone("mobile", "138"), phone("pager", "139")]},
            {"phones": ["Row 2: choose one of the kinds offered."]},
        ),
        ({"phones": [phone("mobile", "call me")]}, {"phones": ["Row 1: “call me” has no digits."]}),
        (
            {"handles": [handle("wechat", "a\tb")]},
            {"handles": ["Row 1: remove the control characters (line breaks, tabs)."]},
        ),
        ({"phones": [phone("mobile", "1" * 41)]}, {"phones": ["Row 1: at most 40 characters."]}),
        (
            {"phones": [phone("mobile", str(13900000000 + i)) for i in range(31)]},
            {"phones": ["At most 30 entries of one kind."]},
        ),
    ],
)
def test_bad_points_are_refused_with_the_row(team, huaxing, lists, errors):
    with pytest.raises(ValidationError) as caught:
        contact_create(customer=huaxing, actor=team.rep1, name="李娜", **lists)
    assert caught.value.message_dict == errors
    assert not Contact.objects.filter(name="李娜").exists()


def test_the_same_number_twice_is_kept_once(team, huaxing):
    li = contact_create(
        customer=huaxing,
        actor=team.rep1,
        name="李娜",
        phones=[phone("mobile", "139 0000 1111"), phone("work", "+86 139-0000-1111")],
    )
    assert listed(li) == [("phone", "mobile", "139 0000 1111", "")]


def test_the_data_migration_moves_the_columns_into_points(team, huaxing, wang):
    migration = importlib.import_module("kehu.customers.migrations.0010_contact_points")
    old = Contact.objects.create(
        customer=huaxing,
        name="老联系人",
        mobile="13800001111",
        office_phone="0571-1234 5678",
        email="old@x.cn",
        wechat="old_wx",
    )
    bare = Contact.objects.create(customer=huaxing, name="只有名字")
    before = listed(wang)
    for _run in range(2):  # twice: the second run changes nothing
        migration.copy_columns_to_points(apps, None)
        assert listed(old) == [
            ("phone", "mobile", "13800001111", ""),
            ("phone", "work", "0571-1234 5678", ""),
            ("email", "work", "old@x.cn", ""),
            ("im", "wechat", "old_wx", ""),
        ]
        assert listed(bare) == [] and listed(wang) == before


def test_search_and_duplicates_cover_every_number_and_address(team, huaxing, wang, customer_of):
    # The home number and the second mobile find the customer, in the list and as a duplicate.
    page = customer_page(team.rep1, CustomerFilters(q="87654321"), offset=0, limit=10)
    assert [c.pk for c in page.rows] == [huaxing.pk]
    page = customer_page(team.rep1, CustomerFilters(q="13905716688"), offset=0, limit=10)
    assert [c.pk for c in page.rows] == [huaxing.pk]
    found = find_duplicates(name="别的公司", phone="+86 139 0571 6688")
    assert [(m.customer_id, m.reasons) for m in found] == [(huaxing.pk, ["phone"])]
    found = find_duplicates(name="别的公司", email="Wang@163.example.com")
    assert [(m.customer_id, m.reasons) for m in found] == [(huaxing.pk, ["email"])]
    many = find_duplicates_many(
        [
            {"name": "甲", "phones": ["0571 87654321"], "emails": []},
            {"name": "乙", "phones": [], "emails": ["wang@163.example.com"]},
            {"name": "丙", "phones": ["0571-8765 4300"], "emails": []},
        ]
    )
    assert many == [{huaxing.pk: ["phone"]}, {huaxing.pk: ["email"]}, {}]
    # A removed number no longer finds it.
    contact_update(
        contact=wang, actor=team.rep1, expected_version=wang.version, phones=[phone("mobile", "138 5711 2345")]
    )
    assert not customer_page(team.rep1, CustomerFilters(q="87654321"), offset=0, limit=10).rows
    assert find_duplicates(name="别的公司", phone="0571-8765 4321") == []


def test_contacts_sharing_a_personal_number_are_duplicates_a_shared_switchboard_is_not(team, huaxing, wang):
    contact_create(customer=huaxing, actor=team.rep1, name="前台", phones=[phone("work", "0571-8812 3456")])
    assert duplicate_contacts(huaxing) == []
    twin = contact_create(customer=huaxing, actor=team.rep1, name="王总", phones=[phone("home", "0571 87654321")])
    assert [[c.pk for c in g] for g in duplicate_contacts(huaxing)] == [[wang.pk, twin.pk]]


def test_a_contact_merge_keeps_every_number(team, huaxing, wang):
    twin = contact_create(
        customer=huaxing,
        actor=team.rep1,
        name="王建国",
        phones=[phone("mobile", "137 0000 9999"), phone("home", "0571-8765 4321")],
        emails=[email("other", "wjg@qq.example.com")],
        handles=[handle("dingtalk", "wjg-dd")],
    )
    kept = contact_merge(target=wang, sources=[twin], actor=team.rep1, field_choices={"mobile": twin.pk})
    assert listed(kept) == [
        ("phone", "home", "0571-8765 4321", ""),
        ("phone", "mobile", "137 0000 9999", ""),
        ("phone", "mobile", "138 5711 2345", ""),
        ("phone", "work", "0571-8812 3456", "总机"),
        ("phone", "mobile", "139 0571 6688", "iPhone"),
        ("email", "work", "wangjg@hzhuaxing.example.cn", ""),
        ("email", "home", "wang@163.example.com", ""),
        ("email", "other", "wjg@qq.example.com", ""),
        ("im", "qq", "12345678", ""),
        ("im", "wechat", "wangjg_hz", ""),
        ("im", "dingtalk", "wjg-dd", ""),
    ]
    assert kept.mobile == "137 0000 9999"
    assert not ContactPoint.objects.filter(contact=twin).exists()
    assert "13700009999" in huaxing.__class__.objects.get(pk=huaxing.pk).search_text.split()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"birthday_month": 12}, {"birthday_month": ["Give both the month and the day of the birthday, or neither."]}),
        ({"birthday_month": 2, "birthday_day": 30}, {"birthday_day": ["This month has no such day."]}),
        (
            {"birthday_month": 13, "birthday_day": 1},
            {"birthday_month": ["Ensure this value is less than or equal to 12."]},
        ),
    ],
)
def test_a_birthday_without_its_year(team, huaxing, fields, error):
    with pytest.raises(ValidationError) as caught:
        contact_create(customer=huaxing, actor=team.rep1, name="李娜", **fields)
    assert caught.value.message_dict == error


def test_a_full_birthday_replaces_month_and_day(team, huaxing):
    from datetime import date

    li = contact_create(customer=huaxing, actor=team.rep1, name="李娜", birthday_month=2, birthday_day=29)
    assert (li.birthday_text, li.birthday_month, li.birthday_day) == ("02-29", 2, 29)
    li = contact_update(contact=li, actor=team.rep1, expected_version=li.version, birthday=date(1980, 2, 29))
    li.refresh_from_db()
    assert (li.birthday_text, li.birthday_month, li.birthday_day) == ("1980-02-29", None, None)
