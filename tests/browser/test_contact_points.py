"""A contact's phones, e-mails and messaging accounts on a phone without JavaScript: add rows,
remove one, save; the customer's page dials them."""

import pytest
from playwright.sync_api import expect

from .helpers import no_horizontal_overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_several_numbers_on_a_phone_without_javascript(live_server, make_context, make_user):
    from kehu.customers.models import Contact
    from kehu.customers.points import points_of
    from kehu.customers.services import customer_create

    rep = make_user("wangfang", last_name="王", first_name="芳")
    customer = customer_create(actor=rep, name="杭州华星精密机械有限公司")
    page = make_context(java_script_enabled=False, viewport={"width": 390, "height": 800}, locale="zh-CN").new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/{customer.pk}/contacts/new/")
    assert no_horizontal_overflow(page)
    page.fill("#id_name", "王建国")
    page.fill("#id_department", "采购部")
    page.fill("#id_phones-0-value", "138 5711 2345")
    page.fill("#id_phones-1-value", "0571-8812 3456")
    # "Add a phone" brings one more row, keeps what was typed and saves nothing.
    page.locator('button[name="add"][value="phones"]').click()
    expect(page.locator("#id_phones-2-value")).to_be_visible()
    expect(page.locator("#id_phones-0-value")).to_have_value("138 5711 2345")
    assert not Contact.objects.exists()
    page.select_option("#id_phones-2-kind", "home")
    page.fill("#id_phones-2-value", "0571-8765 4321")
    page.fill("#id_phones-2-label", "家")
    page.fill("#id_emails-0-value", "wangjg@hzhuaxing.example.cn")
    page.fill("#id_handles-0-value", "wangjg_hz")
    page.select_option("#id_birthday_month", "12")
    page.select_option("#id_birthday_day", "24")
    assert no_horizontal_overflow(page)
    # Enter in a text box saves (it does not press "add another").
    page.press("#id_handles-0-value", "Enter")
    expect(page.locator("#contacts")).to_contain_text("王建国")
    wang = Contact.objects.get(name="王建国")
    assert [(p.kind, p.value, p.label) for p in points_of(wang)] == [
        ("mobile", "138 5711 2345", ""),
        ("work", "0571-8812 3456", ""),
        ("home", "0571-8765 4321", "家"),
        ("work", "wangjg@hzhuaxing.example.cn", ""),
        ("wechat", "wangjg_hz", ""),
    ]
    assert (wang.birthday_month, wang.birthday_day, wang.department) == (12, 24, "采购部")
    expect(page.locator('#contacts a[href="tel:057187654321"]')).to_have_text("0571-8765 4321")
    assert no_horizontal_overflow(page)

    # Remove one number again.
    page.goto(f"{live_server.url}/customers/contacts/{wang.pk}/edit/")
    page.check("#id_phones-1-DELETE")
    page.locator("#contact-form button.btn-primary[type=submit]").click()
    expect(page.locator("#contacts")).not_to_contain_text("0571-8812 3456")
    assert [p.value for p in points_of(wang) if p.medium == "phone"] == ["138 5711 2345", "0571-8765 4321"]
