"""The quote's line editor in Chromium: a 100-line quote entered by pasting rows copied from Excel,
keyboard entry, an in-place edit that updates the row and the totals, and the quote on a phone."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401 (the browser tests' fixtures)
    browser_context_args,
    browser_type_launch_args,
    content_policy_refusals,
    context,
    make_context,
    make_user,
)
from tests.browser.helpers import no_horizontal_overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 100


def _book_and_customer(rep):
    """The tests' price book with 100 specifications over two products (list prices 100 and 250),
    and a customer's own price list that sells the hydraulic oil cheaper from 10 barrels."""
    from datetime import date

    from kehu.catalog.models import PriceItem, PriceList, PriceListKind, Specification
    from kehu.customers.services import customer_create
    from kehu.quotes.tests.factories import Book

    book = Book()
    customer = customer_create(actor=rep, owner=rep, name="杭州华星精密机械有限公司")
    own = PriceList.objects.create(
        name="华星专用价", kind=PriceListKind.CUSTOMER, customer=customer, valid_from=date(2020, 1, 1)
    )
    PriceItem.objects.create(price_list=own, product=book.oil, min_quantity=Decimal(10), price=Decimal("231.50"))
    Specification.objects.bulk_create(
        [
            Specification(
                product=book.lathe if i % 3 else book.oil, code=f"P-{i:03d}", name=f"型号 {i}", position=5 + i
            )
            for i in range(ROWS)
        ]
    )
    return book, customer


def _expected_total(customer, rows) -> Decimal:
    """What the quote must come to: each row priced by the price book, rounded per line to the fen."""
    from kehu.catalog.models import Specification
    from kehu.catalog.pricing import prices_resolve
    from kehu.core.money import line_amounts

    ids = dict(Specification.objects.filter(code__in=[c for c, _q in rows]).values_list("code", "pk"))
    resolved = prices_resolve(customer=customer, lines=[(ids[c], q) for c, q in rows])
    return sum((line_amounts(r.quantity, r.price, Decimal(0), r.tax_rate).amount for r in resolved), Decimal(0))


def test_a_100_line_quote_entered_by_paste(live_server, make_user, make_context):  # noqa: F811
    rep = make_user("zhangwei", last_name="张", first_name="伟")
    _book, customer = _book_and_customer(rep)
    rows = [(f"P-{i:03d}", Decimal(1 + (i * 7) % 23)) for i in range(ROWS)]
    expected = _expected_total(customer, rows)

    page = make_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    with page.expect_navigation():
        page.click("#new-quote")
    page.fill("#id_title", "年度备件报价")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the quote").click()
    expect(page.locator("#no-lines")).to_be_visible()

    # Two columns copied in Excel arrive as tab-separated rows with CRLF line ends.
    text = "\r\n".join(f"{code}\t{qty}" for code, qty in rows) + "\r\n"
    page.click("#paste summary")
    page.focus("#paste-text")
    page.keyboard.insert_text(text)  # what a paste puts into the box
    with page.expect_navigation():
        page.get_by_role("button", name="Add the pasted lines").click()

    expect(page.locator("#quote-lines-body tr")).to_have_count(ROWS)
    expect(page.locator("#quote-line-count")).to_have_text(str(ROWS))
    expect(page.locator("#quote-total")).to_have_text(f"¥{expected:,.2f}")
    first = page.locator("#quote-lines-body tr").first
    expect(first.locator(".ql-code")).to_have_text("P-000")
    expect(first.locator(".ql-src")).not_to_be_empty()
    assert no_horizontal_overflow(page)


def test_a_bad_paste_shows_each_bad_row_and_keeps_the_text(live_server, make_user, make_context):  # noqa: F811
    from kehu.quotes.tests.factories import make_quote

    rep = make_user("lina", last_name="李", first_name="娜")
    _book, customer = _book_and_customer(rep)
    quote = make_quote(customer, rep)
    page = make_context().new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/quotes/{quote.pk}/")
    page.click("#paste summary")
    text = "P-001\t2\nNOPE-9\t1\nP-002\tviel\n"
    page.fill("#paste-text", text)
    with page.expect_navigation():
        page.get_by_role("button", name="Add the pasted lines").click()
    expect(page.locator("#paste-errors li")).to_have_text(
        ["Row 2: no product has the code NOPE-9.", "Row 3: viel is not a quantity."]
    )
    assert page.input_value("#paste-text") == text
    expect(page.locator("#quote-lines-body tr")).to_have_count(0)


def test_keyboard_entry_and_an_edit_in_place(live_server, make_user, make_context):  # noqa: F811
    from kehu.quotes.tests.factories import make_quote

    rep = make_user("wangfang", last_name="王", first_name="芳")
    _book, customer = _book_and_customer(rep)
    quote = make_quote(customer, rep)
    page = make_context().new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/quotes/{quote.pk}/")

    # Code, Tab, quantity, Enter: the line is added and the cursor is back in the code field.
    page.click("#line-code")
    page.keyboard.type("P-001")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.locator("#line-quantity")).to_be_focused()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#quote-lines-body tr")).to_have_count(1)
    expect(page.locator("#line-code")).to_be_focused()
    expect(page.locator("#line-code")).to_have_value("")
    page.keyboard.type("P-000")  # an oil specification: 250 each
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("#quote-lines-body tr")).to_have_count(2)
    expect(page.locator("#quote-total")).to_have_text("¥800.00")  # 3 × 100 + 2 × 250
    expect(page.locator("#no-lines")).to_be_hidden()

    # An unknown code says why and adds nothing.
    page.keyboard.type("NOPE")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator("#line-add-error")).to_have_text("Row 1: no product has the code NOPE.")
    expect(page.locator("#quote-lines-body tr")).to_have_count(2)

    # Ten barrels of oil reach the customer's own price (231.50): the row and the totals follow.
    oil_row = page.locator("#quote-lines-body tr").nth(1)
    oil_row.locator("input[name=quantity]").fill("10")
    oil_row.locator("input[name=quantity]").press("Tab")
    expect(page.locator("#quote-total")).to_have_text("¥2,615.00")  # 300 + 10 × 231.50
    expect(page.locator("#quote-lines-body tr").nth(1).locator(".ql-amount")).to_have_text("2,315.00")
    expect(page.locator("#quote-lines-body tr").nth(1).locator(".ql-src")).to_contain_text("华星专用价")

    # A discount beyond the rep's limit (5 %) is flagged and said to need approval.
    first = page.locator("#quote-lines-body tr").first
    first.locator("input[name=discount]").fill("8")
    first.locator("input[name=discount]").press("Tab")
    expect(page.locator("#quote-lines-body tr").first).to_have_class("over-limit")
    expect(page.locator("#quote-total")).to_have_text("¥2,591.00")  # 3 × 92 + 2,315
    expect(page.locator("#quote-totals")).to_contain_text("above the owner's limit")

    # A quantity of 0 is refused: the reason shows above the table and the row keeps its line.
    first.locator("input[name=quantity]").fill("0")
    first.locator("input[name=quantity]").press("Tab")
    expect(page.locator("#line-edit-error")).to_be_visible()
    expect(page.locator("#line-edit-error")).not_to_be_empty()
    expect(page.locator("#quote-total")).to_have_text("¥2,591.00")

    # Removing a line.
    page.locator("#quote-lines-body tr").first.get_by_role("button", name="Remove line").click()
    expect(page.locator("#quote-lines-body tr")).to_have_count(1)
    expect(page.locator("#quote-total")).to_have_text("¥2,315.00")


def test_the_approver_reads_the_quote_on_a_phone(live_server, make_user, make_context):  # noqa: F811
    from kehu.quotes.models import QuoteLine
    from kehu.quotes.services import quote_line_update, quote_submit
    from kehu.quotes.tests.factories import make_quote
    from kehu.users.roles import Role
    from kehu.users.services import department_create

    east = department_create(name="华东销售部", parent=None, actor=None)
    manager = make_user("chenjing", role=Role.SALES_MANAGER, last_name="陈", first_name="静", department=east)
    rep = make_user("zhaolei", last_name="赵", first_name="磊", manager=manager, department=east)
    book, customer = _book_and_customer(rep)
    quote = make_quote(customer, rep, lines=[(book.lathe_a.pk, 10), (book.oil_46.pk, 12)])
    quote_line_update(line=QuoteLine.objects.get(quote=quote, code="CK6140-A"), actor=rep, discount=Decimal(12))
    quote = quote_submit(quote=quote, actor=rep)
    assert quote.state == "pending"

    page = make_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    sign_in(page, live_server.url, manager.username)
    page.goto(f"{live_server.url}/quotes/{quote.pk}/")
    expect(page.locator("#quote-state")).to_have_text("待审批")
    expect(page.locator("#approval-link")).to_be_in_viewport()
    expect(page.locator("#quote-total")).to_be_visible()
    rows = page.locator("#quote-lines-body tr")
    expect(rows).to_have_count(2)
    # Each line is a compact card: code and amount on one line, the product below.
    box = rows.first.bounding_box()
    assert box["width"] <= 390 and box["height"] < 120
    assert no_horizontal_overflow(page)
    with page.expect_navigation():
        page.click("#approval-link")
    assert "/approvals/" in page.url


def test_the_typeahead_is_walked_with_the_arrow_keys(live_server, make_user, make_context):  # noqa: F811
    from kehu.quotes.tests.factories import make_quote

    rep = make_user("sunli", last_name="孙", first_name="丽")
    _book, customer = _book_and_customer(rep)
    quote = make_quote(customer, rep)
    page = make_context().new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/quotes/{quote.pk}/")
    page.click("#line-code")
    page.keyboard.type("P-01")
    options = page.locator("#line-suggestions [role=option]")
    expect(options).to_have_count(10)  # P-010 … P-019, by code
    expect(options.first).to_have_class("list-group-item list-group-item-action py-1 px-2 active")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.nth(2)).to_contain_text("P-012")
    expect(page.locator("#line-code")).to_have_attribute("aria-activedescendant", "line-suggestion-2")
    page.keyboard.press("Tab")  # takes the highlighted suggestion and moves on to the quantity
    expect(page.locator("#line-code")).to_have_value("P-012")
    expect(page.locator("#line-quantity")).to_be_focused()
    expect(page.locator("#line-suggestions")).to_be_hidden()
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    expect(page.locator("#quote-lines-body tr .ql-code")).to_have_text(["P-012"])
    expect(page.locator("#line-code")).to_be_focused()
    # Enter on a highlighted suggestion chooses it too.
    page.keyboard.type("P-02")
    expect(options).to_have_count(10)
    page.keyboard.press("ArrowUp")  # from the first to the last
    page.keyboard.press("Enter")
    expect(page.locator("#line-code")).to_have_value("P-029")
    expect(page.locator("#line-quantity")).to_be_focused()
