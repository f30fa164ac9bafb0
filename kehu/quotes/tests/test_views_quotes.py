"""The quote pages: list, new quote, the quote and its lines, state changes; who may do what."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kehu.catalog.models import Specification
from kehu.core.money import capital_amount
from kehu.quotes.models import Quote, QuoteLine, QuoteState
from kehu.quotes.services import quote_lines_add, quote_mark_sent, quote_submit
from kehu.quotes.tests.factories import Book, make_quote

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def book(db):
    return Book()


@pytest.fixture
def quote(team, customer_of, book):
    customer = customer_of(team.rep1, name="杭州华星精密机械有限公司")
    return make_quote(customer, team.rep1, lines=[(book.lathe_a.pk, 10), (book.oil_46.pk, 2)], title="一季度设备")


def _detail(quote):
    return reverse("quotes:quote-detail", args=[quote.pk])


def _state(quote):
    return (
        Quote.objects.filter(pk=quote.pk)
        .values_list("state", "line_count", "total", "version", "title", "deleted_at")
        .get()
    )


def _lines(quote):
    return list(QuoteLine.objects.filter(quote=quote).order_by("pk").values_list("pk", "quantity", "discount"))


# -- Who sees what ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, quote):
    for url in (reverse("quotes:quote-list"), _detail(quote), reverse("quotes:quote-create")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_owner_and_manager_open_the_quote_another_rep_does_not(client, team, quote):
    for user, status in ((team.rep1, 200), (team.manager1, 200), (team.gm, 200), (team.rep2, 404), (team.rep3, 404)):
        client.force_login(user)
        assert client.get(_detail(quote)).status_code == status, user


def test_the_quote_page_shows_lines_prices_their_source_and_totals(client, team, quote):
    client.force_login(team.rep1)
    page = client.get(_detail(quote)).content.decode()
    assert page.count('<tr id="line-') == 2
    assert "CK6140-A" in page and "数控车床" in page and "1000mm" in page
    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    assert line.price_source and line.price_source in page
    quote.refresh_from_db()
    assert quote.total == Decimal("1500.00")  # 10 × 100 + 2 × 250
    assert "¥1,500.00" in page
    assert capital_amount(quote.total) in page  # 壹仟伍佰元整
    assert 'id="line-add"' in page and 'id="paste-form"' in page and 'id="import-form"' in page


def test_the_list_shows_the_users_quotes_only(client, team, quote, customer_of):
    other = make_quote(customer_of(team.rep3, name="广州南方机电有限公司"), team.rep3)
    client.force_login(team.rep1)
    page = client.get(reverse("quotes:quote-list")).content.decode()
    assert str(quote) in page and str(other) not in page
    assert 'name="owner"' not in page  # a rep sees only their own: no owner filter
    client.force_login(team.manager1)
    page = client.get(reverse("quotes:quote-list")).content.decode()
    assert str(quote) in page and str(other) not in page and 'name="owner"' in page
    client.force_login(team.gm)
    page = client.get(reverse("quotes:quote-list")).content.decode()
    assert str(quote) in page and str(other) in page


def test_the_list_filters_by_state_customer_search_and_expiry(client, team, quote, customer_of, book):
    other_customer = customer_of(team.rep1, name="宁波东港化工股份有限公司")
    later = make_quote(other_customer, team.rep1, valid_until=timezone.localdate() + timedelta(days=60))
    submitted = quote_submit(quote=quote, actor=team.rep1)
    assert submitted.state == QuoteState.APPROVED
    client.force_login(team.rep1)

    def shown(query):
        page = client.get(reverse("quotes:quote-list") + query).content.decode()
        return {q for q in (str(quote), str(later)) if f">{q}<" in page}

    assert shown("") == {str(quote), str(later)}
    assert shown("?state=approved") == {str(quote)}
    assert shown("?state=draft") == {str(later)}
    assert shown(f"?customer={other_customer.pk}") == {str(later)}
    assert shown("?q=东港") == {str(later)}
    assert shown(f"?q={quote.number}") == {str(quote)}
    assert shown("?expiring=on") == set()  # both valid for 30 and 60 days
    Quote.objects.filter(pk__in=[quote.pk, later.pk]).update(valid_until=timezone.localdate() + timedelta(days=3))
    assert shown("?expiring=on") == {str(quote)}  # the approved one: a draft is not with the customer
    Quote.objects.filter(pk=quote.pk).update(state=QuoteState.ACCEPTED)
    assert shown("?expiring=on") == set()  # decided: nothing left to expire


def test_the_list_runs_a_fixed_number_of_queries(client, team, customer_of, book):
    client.force_login(team.manager1)
    customer = customer_of(team.rep1)
    counts = []
    for n in (3, 30):
        while Quote.objects.count() < n:
            make_quote(customer, team.manager1, owner=team.rep1 if Quote.objects.count() % 2 else team.rep2)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("quotes:quote-list"))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def _specs(book, n):
    Specification.objects.bulk_create(
        [Specification(product=book.lathe, code=f"CK6140-X{i:04d}", name=f"{i} mm", position=10 + i) for i in range(n)]
    )
    return list(Specification.objects.filter(code__startswith="CK6140-X").order_by("code").values_list("pk", flat=True))


def test_the_quote_page_runs_the_same_queries_for_5_and_300_lines(client, team, customer_of, book):
    customer = customer_of(team.rep1)
    specs = _specs(book, 300)
    small = make_quote(customer, team.rep1, lines=[(pk, 1) for pk in specs[:5]])
    big = make_quote(customer, team.rep1, lines=[(pk, 2) for pk in specs])
    client.force_login(team.rep1)
    counts = []
    for q in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(_detail(q)).content.decode()
        counts.append(len(ctx.captured_queries))
        assert page.count('<tr id="line-') == q.line_count
    assert counts[0] == counts[1], counts
    assert counts[0] <= 14, counts


# -- New quote ----------------------------------------------------------------------------------


def test_new_quote_from_a_customer(client, team, customer_of, book):
    customer = customer_of(team.rep1)
    client.force_login(team.rep1)
    url = reverse("quotes:quote-create") + f"?customer={customer.pk}"
    page = client.get(url).content.decode()
    default = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert f'value="{default}"' in page
    response = client.post(
        reverse("quotes:quote-create"),
        {"customer": customer.pk, "title": "五轴加工中心", "language": "en", "valid_until": default,
         "payment_terms": "30% 预付", "delivery_terms": "", "notes": ""},
    )  # fmt: skip
    quote = Quote.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == _detail(quote)
    assert (quote.title, quote.language, quote.owner, quote.state) == ("五轴加工中心", "en", team.rep1, "draft")


def test_new_quote_from_an_opportunity(client, team, customer_of, book):
    from kehu.sales.services import opportunity_create

    customer = customer_of(team.rep1)
    deal = opportunity_create(customer=customer, actor=team.rep1, name="贴片机 3 台")
    client.force_login(team.rep1)
    page = client.get(reverse("sales:opportunity-detail", args=[deal.pk])).content.decode()
    assert f"{reverse('quotes:quote-create')}?opportunity={deal.pk}" in page
    valid = (timezone.localdate() + timedelta(days=10)).isoformat()
    client.post(reverse("quotes:quote-create"), {"opportunity": deal.pk, "language": "zh-hans", "valid_until": valid})
    quote = Quote.objects.get(opportunity=deal)
    assert quote.customer == customer


def test_another_rep_cannot_start_a_quote_for_a_customer_they_do_not_see(client, team, customer_of, book):
    customer = customer_of(team.rep1)
    client.force_login(team.rep3)
    response = client.post(
        reverse("quotes:quote-create"),
        {"customer": customer.pk, "language": "zh-hans", "valid_until": "2030-01-01"},
    )
    assert response.status_code == 302 and not Quote.objects.exists()


def test_the_customer_page_offers_a_new_quote(client, team, customer_of):
    customer = customer_of(team.rep1)
    client.force_login(team.rep1)
    page = client.get(reverse("workspace:customer-detail", args=[customer.pk])).content.decode()
    assert f"{reverse('quotes:quote-create')}?customer={customer.pk}" in page
    client.force_login(team.service1)  # reads customers, makes no quotes
    page = client.get(reverse("workspace:customer-detail", args=[customer.pk])).content.decode()
    assert reverse("quotes:quote-create") not in page


def test_the_header_is_edited_with_its_version(client, team, quote):
    client.force_login(team.rep1)
    url = reverse("quotes:quote-edit", args=[quote.pk])
    data = {"title": "新标题", "language": "zh-hans", "valid_until": quote.valid_until.isoformat(),
            "version": quote.version}  # fmt: skip
    assert client.post(url, data).status_code == 302
    assert Quote.objects.get(pk=quote.pk).title == "新标题"
    # A stale version is refused and says so.
    response = client.post(url, {**data, "title": "更旧的"})
    assert response.status_code == 200 and Quote.objects.get(pk=quote.pk).title == "新标题"


# -- Lines --------------------------------------------------------------------------------------


def test_paste_adds_every_row(client, team, quote, book):
    client.force_login(team.rep1)
    text = "CK6140-B\t5\r\nYY-46-200L\t1\r\n"
    response = client.post(reverse("quotes:lines-paste", args=[quote.pk]), {"text": text})
    assert response.status_code == 302
    assert [(c, q) for c, q in QuoteLine.objects.filter(quote=quote).order_by("position").values_list("code", "quantity")] == [
        ("CK6140-A", Decimal("10")), ("YY-46-200L", Decimal("2")), ("CK6140-B", Decimal("5")), ("YY-46-200L", Decimal("1"))
    ]  # fmt: skip


def test_a_bad_paste_lists_each_bad_row_keeps_the_text_and_adds_nothing(client, team, quote, book):
    client.force_login(team.rep1)
    before = _state(quote)
    text = "CK6140-B\t5\nNOPE-1\t2\nYY-46-200L\tzwei\n"
    response = client.post(reverse("quotes:lines-paste", args=[quote.pk]), {"text": text})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Row 2: no product has the code NOPE-1." in page
    assert "Row 3: zwei is not a quantity." in page
    assert "CK6140-B\t5\nNOPE-1\t2\nYY-46-200L\tzwei\n" in page  # the textarea keeps what was pasted
    assert 'id="paste" open' in page
    assert _state(quote) == before


def test_keyboard_entry_answers_htmx_with_the_new_row_and_the_totals(client, team, quote, book):
    client.force_login(team.rep1)
    response = client.post(
        reverse("quotes:line-add", args=[quote.pk]), {"code": "ck6140-b", "quantity": "3"}, headers=HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('<tr id="line-') == 1 and "CK6140-B" in page
    assert 'id="quote-totals" hx-swap-oob="true"' in page and "¥1,800.00" in page
    assert QuoteLine.objects.filter(quote=quote).count() == 3


def test_keyboard_entry_of_an_unknown_code_says_why_in_plain_text(client, team, quote):
    client.force_login(team.rep1)
    before = _state(quote)
    response = client.post(reverse("quotes:line-add", args=[quote.pk]), {"code": "ZZZ", "quantity": "1"}, headers=HTMX)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "Row 1: no product has the code ZZZ."
    assert _state(quote) == before


def test_a_row_edit_changes_the_line_and_answers_with_row_and_totals(client, team, quote):
    client.force_login(team.rep1)
    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    url = reverse("quotes:line-update", args=[quote.pk, line.pk])
    # The row posts all its numbers; the discount is the one that changed.
    response = client.post(url, {"quantity": "10", "discount": "5", "unit_price": "100"}, headers=HTMX)
    page = response.content.decode()
    line.refresh_from_db()
    assert (line.discount, line.unit_price, line.amount) == (Decimal("5.00"), Decimal("95.0000"), Decimal("950.00"))
    assert f'<tr id="line-{line.pk}"' in page and 'hx-swap-oob="true"' in page and "¥1,450.00" in page
    # Then the unit price: the discount follows from it.
    client.post(url, {"quantity": "10", "discount": "5", "unit_price": "90"}, headers=HTMX)
    line.refresh_from_db()
    assert (line.discount, line.unit_price) == (Decimal("10.00"), Decimal("90.0000"))
    # Then the quantity.
    client.post(url, {"quantity": "4", "discount": "10", "unit_price": "90"}, headers=HTMX)
    line.refresh_from_db()
    assert (line.quantity, line.amount) == (Decimal("4"), Decimal("360.00"))


def test_a_discount_above_your_limit_is_flagged(client, team, quote):
    client.force_login(team.rep1)
    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    page = client.post(
        reverse("quotes:line-update", args=[quote.pk, line.pk]),
        {"quantity": "10", "discount": "8", "unit_price": "100"},
        headers=HTMX,
    ).content.decode()
    assert 'class="over-limit"' in page and "above the discount limit" in page
    assert "The largest discount (8%) is above the owner's limit (5%)" in page
    page = client.post(
        reverse("quotes:line-update", args=[quote.pk, line.pk]),
        {"quantity": "10", "discount": "8", "unit_price": "70"},
        headers=HTMX,
    ).content.decode()
    assert 'class="below-floor"' in page and "below floor" in page


def test_a_bad_row_edit_is_refused_and_changes_nothing(client, team, quote):
    client.force_login(team.rep1)
    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    before = _lines(quote)
    response = client.post(
        reverse("quotes:line-update", args=[quote.pk, line.pk]),
        {"quantity": "0", "discount": "0", "unit_price": "100"},
        headers=HTMX,
    )
    assert response.status_code == 400 and response.content.decode()
    assert _lines(quote) == before


def test_removing_a_line_updates_the_totals(client, team, quote):
    client.force_login(team.rep1)
    line = QuoteLine.objects.get(quote=quote, code="YY-46-200L")
    response = client.post(reverse("quotes:line-remove", args=[quote.pk, line.pk]), headers=HTMX)
    page = response.content.decode()
    assert "<tr" not in page and "¥1,000.00" in page
    assert not QuoteLine.objects.filter(pk=line.pk).exists()


def test_other_reps_cannot_change_lines_and_nothing_changes(client, team, quote):
    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    before, before_lines = _state(quote), _lines(quote)
    client.force_login(team.rep3)
    posts = [
        (reverse("quotes:line-update", args=[quote.pk, line.pk]), {"quantity": "99"}),
        (reverse("quotes:line-remove", args=[quote.pk, line.pk]), {}),
        (reverse("quotes:line-add", args=[quote.pk]), {"code": "CK6140-B", "quantity": "1"}),
        (reverse("quotes:lines-paste", args=[quote.pk]), {"text": "CK6140-B\t1"}),
        (reverse("quotes:quote-edit", args=[quote.pk]), {"title": "x", "language": "en", "valid_until": "2030-01-01"}),
        (reverse("quotes:quote-submit", args=[quote.pk]), {}),
        (reverse("quotes:quote-delete", args=[quote.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    client.logout()
    for url, data in posts:
        assert client.post(url, data).status_code == 302, url  # to sign in
    assert _state(quote) == before and _lines(quote) == before_lines


def test_a_reader_on_the_account_team_sees_the_quote_but_cannot_change_it(client, team, quote):
    from kehu.customers.teams import team_member_add

    team_member_add(customer=quote.customer, user=team.rep3, role="technical_support", actor=team.admin)
    before = _state(quote)
    client.force_login(team.rep3)
    page = client.get(_detail(quote)).content.decode()
    assert "CK6140-A" in page
    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    response = client.post(reverse("quotes:line-update", args=[quote.pk, line.pk]), {"quantity": "99"})
    assert response.status_code == 403
    assert _state(quote) == before


def test_import_from_an_xlsx_file(client, team, quote, book):
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["报价明细"])
    sheet.append(["序号", "产品编码", "名称", "数量"])
    sheet.append([1, "CK6140-B", "数控车床", 4])
    sheet.append([2, "YY-46-200L", "液压油", 6])
    sheet.append(["合计", "", "", 10])
    data = BytesIO()
    workbook.save(data)
    client.force_login(team.rep1)
    upload = SimpleUploadedFile("明细.xlsx", data.getvalue())
    response = client.post(reverse("quotes:lines-import", args=[quote.pk]), {"file": upload})
    assert response.status_code == 302
    added = list(QuoteLine.objects.filter(quote=quote).order_by("position").values_list("code", "quantity"))[2:]
    assert added == [("CK6140-B", Decimal("4")), ("YY-46-200L", Decimal("6"))]


def test_an_import_with_a_bad_row_names_its_spreadsheet_row_and_adds_nothing(client, team, quote):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _state(quote)
    client.force_login(team.rep1)
    upload = SimpleUploadedFile("lines.csv", b"code,quantity\nCK6140-B,4\nNOPE,2\n")
    page = client.post(reverse("quotes:lines-import", args=[quote.pk]), {"file": upload}).content.decode()
    assert "Row 3: no product has the code NOPE." in page
    assert _state(quote) == before
    upload = SimpleUploadedFile("lines.csv", "名称,备注\nA,B\n".encode())
    page = client.post(reverse("quotes:lines-import", args=[quote.pk]), {"file": upload}).content.decode()
    assert "needs a code column" in page


# -- States -------------------------------------------------------------------------------------


def test_submit_send_accept(client, team, quote):
    client.force_login(team.rep1)
    client.post(reverse("quotes:quote-submit", args=[quote.pk]))
    assert _state(quote)[0] == QuoteState.APPROVED
    page = client.get(_detail(quote)).content.decode()
    assert 'id="line-add"' not in page and 'name="quantity"' not in page  # no editing after the draft
    client.post(reverse("quotes:quote-send", args=[quote.pk]))
    assert _state(quote)[0] == QuoteState.SENT
    client.post(reverse("quotes:quote-accept", args=[quote.pk]), {"note": "客户已盖章回传"})
    quote.refresh_from_db()
    assert (quote.state, quote.decision_note) == (QuoteState.ACCEPTED, "客户已盖章回传")
    assert "客户已盖章回传" in client.get(_detail(quote)).content.decode()


def test_reject_with_a_note(client, team, quote):
    quote_submit(quote=quote, actor=team.rep1)
    quote_mark_sent(quote=quote, actor=team.rep1)
    client.force_login(team.rep1)
    client.post(reverse("quotes:quote-reject", args=[quote.pk]), {"note": "价格高于竞品"})
    quote.refresh_from_db()
    assert (quote.state, quote.decision_note) == (QuoteState.REJECTED, "价格高于竞品")


def test_a_discount_beyond_the_limit_waits_for_approval_and_links_to_the_request(client, team, quote):
    from kehu.approvals.models import ApprovalRequest

    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    client.force_login(team.rep1)
    client.post(reverse("quotes:line-update", args=[quote.pk, line.pk]), {"discount": "10"})
    client.post(reverse("quotes:quote-submit", args=[quote.pk]))
    assert _state(quote)[0] == QuoteState.PENDING
    request = ApprovalRequest.objects.get(document_type="quote", object_id=quote.pk)
    for user in (team.rep1, team.manager1):
        client.force_login(user)
        page = client.get(_detail(quote)).content.decode()
        assert reverse("approvals:request-detail", args=[request.pk]) in page and 'id="approval-link"' in page


def test_revise_keeps_the_earlier_version_readable(client, team, quote):
    quote_submit(quote=quote, actor=team.rep1)
    client.force_login(team.rep1)
    response = client.post(reverse("quotes:quote-revise", args=[quote.pk]))
    revision = Quote.objects.get(number=quote.number, revision=2)
    assert response["Location"] == _detail(revision)
    page = client.get(_detail(quote)).content.decode()
    assert "Replaced by a revision" in page and _detail(revision) in page
    assert 'id="line-add"' not in page
    page = client.get(_detail(revision)).content.decode()
    assert 'id="quote-versions"' in page and _detail(quote) in page and 'id="line-add"' in page


def test_delete_moves_the_quote_to_the_recycle_bin(client, team, quote):
    client.force_login(team.rep1)
    response = client.post(reverse("quotes:quote-delete", args=[quote.pk]))
    assert response["Location"] == reverse("quotes:quote-list")
    assert _state(quote)[5] is not None
    assert client.get(_detail(quote)).status_code == 404


def test_a_manager_may_act_on_the_reps_quote(client, team, quote):
    client.force_login(team.manager1)
    client.post(reverse("quotes:quote-submit", args=[quote.pk]))
    assert _state(quote)[0] == QuoteState.APPROVED


def test_lines_are_added_to_a_quote_only_while_it_is_a_draft(client, team, quote):
    quote_submit(quote=quote, actor=team.rep1)
    before = _state(quote)
    client.force_login(team.rep1)
    response = client.post(reverse("quotes:lines-paste", args=[quote.pk]), {"text": "CK6140-B\t1"}, follow=True)
    assert "Only a draft can be changed" in response.content.decode()
    assert _state(quote) == before


def test_quote_lines_add_is_the_same_door(team, quote, book):
    quote_lines_add(quote=quote, actor=team.rep1, lines=[(book.lathe_b.pk, 1)])
    assert QuoteLine.objects.filter(quote=quote).count() == 3


def test_quotes_are_in_the_menu_of_those_who_may_read_them(client, team):
    for user, shown in ((team.rep1, True), (team.manager1, True), (team.service1, False), (team.marketing1, False)):
        client.force_login(user)
        page = client.get(reverse("workspace:home")).content.decode()
        assert (f'href="{reverse("quotes:quote-list")}"' in page) is shown, user
    client.force_login(team.service1)
    assert client.get(reverse("quotes:quote-list")).status_code == 403


def test_submitting_an_empty_draft_says_what_is_missing(client, team, customer_of, book):
    quote = make_quote(customer_of(team.rep1), team.rep1)
    client.force_login(team.rep1)
    page = client.post(reverse("quotes:quote-submit", args=[quote.pk]), follow=True).content.decode()
    assert "Add at least one line before submitting the quote." in page
    assert _state(quote)[0] == QuoteState.DRAFT


def test_the_quote_page_in_chinese(client, team, quote):
    line = QuoteLine.objects.get(quote=quote, code="CK6140-A")
    client.force_login(team.rep1)
    client.post(reverse("quotes:line-update", args=[quote.pk, line.pk]), {"discount": "8"})
    page = client.get(_detail(quote), headers={"Accept-Language": "zh-Hans"}).content.decode()
    # 10 × 92 + 2 × 250 = 1,420
    for words in (
        "报价单",
        "超出折扣权限",
        "税额",
        "含税合计",
        "有效期至",
        "从 Excel 粘贴",
        "大写：",
        "壹仟肆佰贰拾元整",
    ):
        assert words in page, words
