"""vCards through the import (preview, run, report): every phone, e-mail and messaging account,
the department and a birthday without its year reach the contact; company cards make a customer
without a contact; groups and unreadable cards are skipped with their reason; the report's
numbers add up to the file's BEGIN:VCARD lines, on the page and in the API."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from kehu.customers.models import Contact, Customer
from kehu.customers.points import points_of
from kehu.customers.selectors import customer_duplicates
from kehu.integrations.models import ImportRow, ImportStatus, RowAction

from .conftest import finish_import, preview_import, run_import

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).parent / "vcards"


@pytest.fixture(autouse=True)
def _english(team):
    for user in (team.rep1, team.rep2, team.manager1):
        user.language = "en"
        user.save(update_fields=["language"])
    with translation.override("en"):
        yield


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def listed(contact) -> list[tuple]:
    return [(p.medium, p.kind, p.value, p.label) for p in points_of(contact)]


def adds_up(vcard: dict) -> bool:
    return vcard["in_file"] == vcard["customers_created"] + vcard["added_to_existing"] + vcard["skipped"]


def test_an_iphone_address_book_keeps_every_number(team):
    job = preview_import(team.rep1, "iPhone.vcf", corpus("iphone-3.0.vcf"))
    assert job.status == ImportStatus.PREVIEW
    assert job.report == {
        "rows": 4,
        "errors": 1,
        "warnings": 2,
        "duplicates": 0,
        "not_records": {},
        "cards": 4,
        "cards_with_warnings": 2,
    }
    group = ImportRow.objects.get(job=job, number=3)
    assert group.action == RowAction.SKIP
    assert group.errors == {
        "__all__": ["card 3 (line 59) “展会客户”: A group of contacts (a list), not a person or a company: skipped."]
    }
    job = finish_import(team.rep1, job)
    assert job.status == ImportStatus.DONE, job.error
    assert job.report["vcard"] == {
        "in_file": 4,
        "read": 4,
        "customers_created": 3,
        "contacts_created": 2,
        "companies_created": 1,
        "added_to_existing": 0,
        "skipped": 1,
        "skipped_groups": 1,
        "skipped_unreadable": 0,
        "skipped_errors": 0,
        "skipped_by_choice": 0,
    }
    assert adds_up(job.report["vcard"])

    wang = Contact.objects.get(name="王建国")
    assert listed(wang) == [
        ("phone", "mobile", "138 5711 2345", ""),
        ("phone", "mobile", "139 0571 6688", "iPhone"),
        ("phone", "other", "0571-8812 3456", "秘书"),
        ("phone", "home", "0571-8765 4321", ""),
        ("phone", "fax", "0571-8812 3499", ""),
        ("phone", "work", "400-800-1234", "Main number"),
        ("email", "work", "wangjg@hzhuaxing.example.cn", ""),
        ("email", "home", "wangjianguo@163.example.com", ""),
        ("email", "other", "jg.wang@icloud.example.com", ""),
        ("im", "qq", "12345678", ""),
        ("im", "wechat", "wangjg_hz", ""),
    ]
    # The columns hold the first of each kind: the home number is never the office phone.
    assert (wang.mobile, wang.office_phone, wang.email, wang.wechat) == (
        "138 5711 2345",
        "400-800-1234",
        "wangjg@hzhuaxing.example.cn",
        "wangjg_hz",
    )
    assert (wang.department, wang.position, wang.is_primary) == ("采购部", "采购部经理", True)
    assert (wang.birthday, wang.birthday_month, wang.birthday_day) == (None, 12, 24)
    assert wang.address == "浙江 杭州 文一西路 100 号"
    huaxing = wang.customer
    assert (huaxing.name, huaxing.kind, huaxing.address, huaxing.city, huaxing.region) == (
        "杭州华星精密机械有限公司",
        "company",
        "良渚街道好运街 88 号",
        "杭州",
        "浙江",
    )
    assert huaxing.website == "http://www.hzhuaxing.example.cn/about?lang=zh&x=1,2"
    assert huaxing.notes == "展会认识\n喜欢喝龙井"

    # A company card: a customer with the company's phone and e-mail, the rest in its notes, no contact.
    donggang = Customer.objects.get(name="宁波东港化工股份有限公司")
    assert not donggang.contacts.exists()
    assert (donggang.phone, donggang.email, donggang.website) == (
        "0574-8765 1200",
        "info@donggang.example.cn",
        "http://www.donggang.example.cn",
    )
    assert donggang.notes == "Also on the card: Fax 0574-8765 1299"
    assert not Customer.objects.filter(name="展会客户").exists()


def test_every_number_of_an_imported_card_is_searched_and_compared(team):
    run_import(team.rep1, "iPhone.vcf", corpus("iphone-3.0.vcf"))
    huaxing = Customer.objects.get(name="杭州华星精密机械有限公司")
    # The fax and the home number, not only the mobile.
    assert "57187654321" in huaxing.search_text.split() and "57188123499" in huaxing.search_text.split()
    matches = customer_duplicates(team.rep2, name="某公司", phone="(0571) 8812-3499")
    assert [(m.customer_id, m.reasons, m.in_scope) for m in matches] == [(huaxing.pk, ["phone"], False)]
    matches = customer_duplicates(team.rep2, name="某公司", email="JG.Wang@icloud.example.com")
    assert [(m.customer_id, m.reasons) for m in matches] == [(huaxing.pk, ["email"])]


def test_odd_and_broken_cards_are_each_accounted_for(team):
    job = run_import(team.rep1, "cards.vcf", corpus("odd-and-broken.vcf"))
    assert job.status == ImportStatus.DONE, job.error
    vcard = job.report["vcard"]
    assert (vcard["in_file"], vcard["read"], vcard["customers_created"], vcard["contacts_created"]) == (7, 5, 5, 4)
    assert (vcard["companies_created"], vcard["skipped"], vcard["skipped_unreadable"]) == (1, 2, 2)
    assert adds_up(vcard)
    assert set(Contact.objects.values_list("name", flat=True)) == {"only.email@example.cn", "孙悦", "钱磊", "周杰"}
    assert not Customer.objects.get(name="只有公司的卡片有限公司").contacts.exists()
    errors = dict(ImportRow.objects.filter(job=job).exclude(errors={}).values_list("number", "errors"))
    reason = "Nothing on it could be read: no name, company, email or phone number."
    assert errors == {3: {"__all__": [f"card 3 (line 9): {reason}"]}, 6: {"__all__": [f"card 6 (line 26): {reason}"]}}
    zhou = Contact.objects.get(name="周杰")
    assert (zhou.birthday_month, zhou.birthday_day, zhou.office_phone, zhou.mobile) == (12, 24, "021-6666 8888", "")


@pytest.mark.parametrize(
    ("name", "people", "companies", "encoding"),
    [
        ("android-2.1-qp.vcf", {"陈志强", "赵敏", "sunli@example.net"}, set(), "UTF-8"),
        ("outlook-2.1-gbk.vcf", {"周丽", "王喆"}, set(), "GB2312, GBK"),
        ("gmail-3.0.vcf", {"Zhang, Wei"}, {"Huaxing Machinery Co., Ltd."}, "UTF-8"),
        # The company card has the name of the customer its person card makes: a duplicate, skipped.
        ("cardbook-4.0.vcf", {"周丽"}, set(), "UTF-8"),
        ("feature-phone-sjis.vcf", {"山田 太郎"}, set(), "SHIFT_JIS"),
        ("taiwan-big5.vcf", {"許功成"}, set(), "BIG5"),
        ("western-latin1.vcf", {"Jürgen Müller", "François Lefèvre"}, set(), "ISO-8859-1"),
        ("folded-utf8.vcf", {"欧阳明月"}, set(), "UTF-8"),
    ],
)
def test_each_client_imports(team, name, people, companies, encoding):
    job = run_import(team.rep1, name, corpus(name))
    assert job.status == ImportStatus.DONE, job.error
    assert job.encoding == encoding
    assert set(Contact.objects.values_list("name", flat=True)) == people
    assert {c.name for c in Customer.objects.all() if not c.contacts.exists()} == companies
    assert adds_up(job.report["vcard"])
    # Every contact's numbers, e-mails and handles are rows; the columns are the first of each kind.
    for contact in Contact.objects.all():
        points = points_of(contact)
        assert contact.mobile == next((p.value for p in points if p.kind == "mobile"), "")
        assert contact.office_phone == next((p.value for p in points if p.medium == "phone" and p.kind == "work"), "")


def test_the_cardbook_contact_in_full(team):
    run_import(team.rep1, "cardbook.vcf", corpus("cardbook-4.0.vcf"))
    zhou = Contact.objects.get(name="周丽")
    assert listed(zhou) == [
        ("phone", "mobile", "+86-135-1234-5678", ""),
        ("phone", "work", "+86-510-8234-5678 ext. 8001", ""),
        ("phone", "home", "+86-510-8111-2222", ""),
        ("email", "work", "zhouli@hengli.example.cn", ""),
        ("email", "home", "zhouli@qq.example.com", ""),
        ("im", "xmpp", "zhouli@jabber.example.org", ""),
        ("im", "skype", "zhou.li", ""),
        ("im", "dingtalk", "zhouli-hl", ""),
    ]
    assert (zhou.department, zhou.birthday_month, zhou.birthday_day, str(zhou.anniversary)) == (
        "销售部",
        5,
        3,
        "2010-05-18",
    )
    # The contact and the company card are two customers of the same name: the second card matched the first.
    job_rows = ImportRow.objects.filter(number=2).first()
    assert job_rows.matches == [{"row": 1, "reasons": ["name"]}]


def test_a_card_matching_a_customer_by_a_second_number_adds_its_numbers(team, customer_of):
    from kehu.customers.points import Point
    from kehu.customers.services import contact_create

    mine = customer_of(team.rep1, "恒力汽车")
    contact_create(
        customer=mine,
        actor=team.rep1,
        name="周丽",
        phones=[Point("phone", "mobile", "139 0000 0001"), Point("phone", "home", "0510-8111 2222")],
    )
    data = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:周丽\r\nORG:恒力汽车\r\nTEL;TYPE=HOME:+86 510 8111 2222\r\n"
        "TEL;TYPE=CELL:135 1234 5678\r\nEMAIL;TYPE=WORK:zhouli@hengli.example.cn\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:新人\r\nTEL;TYPE=CELL:136 0000 0000\r\nEND:VCARD\r\n"
    ).encode()
    job = preview_import(team.rep1, "update.vcf", data)
    row = ImportRow.objects.get(job=job, number=1)
    assert [(m["id"], m["reasons"]) for m in row.matches] == [(mine.pk, ["name", "phone"])]
    job = finish_import(team.rep1, job, choices={"1": "update"})
    assert job.status == ImportStatus.DONE, job.error
    vcard = job.report["vcard"]
    assert (vcard["added_to_existing"], vcard["customers_created"], vcard["skipped"]) == (1, 1, 0)
    assert adds_up(vcard)
    zhou = Contact.objects.get(customer=mine)
    # The card's numbers first, the ones the contact had kept.
    assert listed(zhou) == [
        ("phone", "home", "+86 510 8111 2222", ""),
        ("phone", "mobile", "135 1234 5678", ""),
        ("phone", "mobile", "139 0000 0001", ""),
        ("email", "work", "zhouli@hengli.example.cn", ""),
    ]
    assert (zhou.mobile, zhou.email) == ("135 1234 5678", "zhouli@hengli.example.cn")
    assert "13512345678" in Customer.objects.get(pk=mine.pk).search_text.split()


def test_the_preview_and_report_pages_say_what_became_of_the_cards(client, team):
    client.force_login(team.rep1)
    job = preview_import(team.rep1, "iPhone.vcf", corpus("iphone-3.0.vcf"))
    page = client.get(reverse("integrations:import-detail", args=[job.pk])).content.decode()
    assert "The file holds 4 cards (BEGIN:VCARD), one row each." in page
    assert "2 cards had something left out" in page
    assert "The photo could not be read and was left out." in page
    assert "Company, no contact" in page and "+10 more" in page
    job = finish_import(team.rep1, job)
    page = client.get(reverse("integrations:import-detail", args=[job.pk])).content.decode()
    assert "4 cards in the file" in page
    assert "3 new + 0 added to existing + 1 skipped = 4, the number of BEGIN:VCARD lines in the file." in page
    assert "Cards not imported, and why" in page and "A group of contacts (a list)" in page


def test_the_api_reports_the_cards(client, api_client, team):
    job = run_import(team.rep1, "cards.vcf", corpus("odd-and-broken.vcf"))
    body = api_client(team.rep1).get(f"/api/v1/transfer/imports/{job.pk}").json()
    assert body["report"]["cards"] == 7
    assert body["report"]["vcard"]["in_file"] == 7 and adds_up(body["report"]["vcard"])


def test_a_leads_import_of_vcards_skips_groups_with_the_reason(team):
    from kehu.integrations.services import import_job_create

    from .conftest import upload

    job = import_job_create(actor=team.manager1, uploaded=upload("c.vcf", corpus("cardbook-4.0.vcf")), target="leads")
    from django.test import TestCase

    from kehu.integrations.services import import_job_set_mapping

    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=team.manager1, mapping=job.mapping)
    errors = dict(ImportRow.objects.filter(job=job).exclude(errors={}).values_list("number", "errors"))
    assert errors == {
        3: {
            "__all__": [
                "card 3 (line 30) “无锡客户”: A group of contacts (a list), not a person or a company: skipped."
            ]
        }
    }


def test_the_mapping_step_of_a_vcard_says_what_is_read(client, team):
    from kehu.integrations.services import import_job_create

    from .conftest import upload

    client.force_login(team.rep1)
    job = import_job_create(actor=team.rep1, uploaded=upload("c.vcf", corpus("gmail-3.0.vcf")))
    page = client.get(reverse("integrations:import-detail", args=[job.pk])).content.decode()
    assert 'id="vcard-read"' in page and "Each card is read whole" in page
    assert "Zhang, Wei" in page and "<select" not in page.split('id="vcard-read"')[1].split("</form>")[0]
    hidden = dict(re.findall(r'<input type="hidden" name="(col_\d+)" value="([^"]*)"', page))
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("integrations:import-mapping", args=[job.pk]), hidden)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEW and job.report["cards"] == 2
