"""Lines: priced by the price book, amounts per line to the fen, totals from the rounded lines; paste."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.catalog.models import PriceItem, Product, Specification
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditEntry
from kehu.quotes import services
from kehu.quotes.models import Quote, QuoteState
from kehu.quotes.tests.factories import make_quote

D = Decimal


def amounts(quote):
    return [
        (ln.code, ln.quantity, ln.base_price, ln.discount, ln.unit_price, ln.amount, ln.amount_net, ln.tax)
        for ln in quote.lines.order_by("position")
    ]


def test_numbers_count_per_year_and_revisions_keep_the_number(book, customer, team):
    first = services.quote_create(customer=customer, actor=team.rep1)
    second = services.quote_create(customer=customer, actor=team.rep1)
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"Q{year}-000001", f"Q{year}-000002")
    old = services.quote_create(customer=customer, actor=team.rep1, quoted_on=timezone.localdate().replace(year=2025))
    assert old.number == "Q2025-000001"
    third = services.quote_create(customer=customer, actor=team.rep1)
    assert third.number == f"Q{year}-000003"
    assert first.state == QuoteState.DRAFT and first.owner == team.rep1 and first.revision == 1
    assert first.valid_until == first.quoted_on + timedelta(days=30)


def test_lines_copy_the_book_price_and_totals_are_sums_of_rounded_lines(draft):
    assert amounts(draft) == [
        ("CK6140-A", D("3.000"), D("100.0000"), D("0.00"), D("100.0000"), D("300.00"), D("265.49"), D("34.51")),
        ("YY-46-200L", D("2.500"), D("250.0000"), D("0.00"), D("250.0000"), D("625.00"), D("573.39"), D("51.61")),
    ]
    line = draft.lines.get(code="CK6140-A")
    assert (line.name, line.specification_name, line.unit, line.tax_rate, line.floor_price) == (
        "数控车床",
        "1000mm",
        "台",
        D("13.00"),
        D("80.0000"),
    )
    assert line.customer_id == draft.customer_id and line.price_source
    assert (draft.total, draft.total_net, draft.total_tax, draft.line_count) == (
        D("925.00"),
        D("838.88"),
        D("86.12"),
        2,
    )
    assert draft.max_discount == 0 and draft.below_floor is False


def test_a_discount_or_a_typed_unit_price(draft, team):
    lathe = draft.lines.get(code="CK6140-A")
    services.quote_line_update(line=lathe, actor=team.rep1, discount=D("12"))
    lathe.refresh_from_db()
    assert (lathe.unit_price, lathe.amount, lathe.amount_net, lathe.tax) == (
        D("88.0000"),
        D("264.00"),
        D("233.63"),
        D("30.37"),
    )
    services.quote_line_update(line=lathe, actor=team.rep1, unit_price=D("87.3333"))
    lathe.refresh_from_db()
    # The derived discount is rounded up: approval never reads less than was given.
    assert (lathe.discount, lathe.unit_price, lathe.amount) == (D("12.67"), D("87.3333"), D("262.00"))
    draft.refresh_from_db()
    assert draft.max_discount == D("12.67") and draft.total == D("887.00")
    services.quote_line_update(line=lathe, actor=team.rep1, unit_price=D("120"))
    lathe.refresh_from_db()
    assert (lathe.discount, lathe.amount) == (D("0.00"), D("360.00"))
    with pytest.raises(ValidationError) as both:
        services.quote_line_update(line=lathe, actor=team.rep1, discount=D("1"), unit_price=D("99"))
    assert "unit_price" in both.value.message_dict
    for bad in ({"discount": D("101")}, {"discount": D("-1")}, {"discount": D("1.234")}, {"quantity": D("0")},
                {"quantity": D("1.0001")}, {"unit_price": D("-1")}, {"notes": "a\x00b"}):  # fmt: skip
        with pytest.raises(ValidationError):
            services.quote_line_update(line=lathe, actor=team.rep1, **bad)
    lathe.refresh_from_db()
    assert lathe.amount == D("360.00")


def test_a_quantity_change_prices_the_line_again_and_keeps_the_discount(draft, team, book):
    from kehu.catalog.models import PriceList, PriceListKind

    own = PriceList.objects.create(
        name="华星专用价", kind=PriceListKind.CUSTOMER, customer=draft.customer, valid_from=timezone.localdate()
    )
    PriceItem.objects.create(price_list=own, product=book.lathe, min_quantity=D("10"), price=D("90"))
    lathe = draft.lines.get(code="CK6140-A")
    services.quote_line_update(line=lathe, actor=team.rep1, discount=D("2"))
    services.quote_line_update(line=lathe, actor=team.rep1, quantity=D("10"))
    lathe.refresh_from_db()
    assert (lathe.base_price, lathe.discount, lathe.unit_price, lathe.amount) == (
        D("90.0000"), D("2.00"), D("88.2000"), D("882.00"),
    )  # fmt: skip
    assert lathe.price_list_id == own.pk


def test_a_specification_without_a_price_is_a_clear_error_and_nothing_is_added(draft, team, book):
    with pytest.raises(ValidationError) as refused:
        services.quote_lines_add(quote=draft, actor=team.rep1, lines=[(book.lathe_b.pk, 1), (book.unpriced_1.pk, 2)])
    message = refused.value.message_dict["lines"]
    assert message == [
        f"NP-1-X has no price for {draft.customer.name} on {timezone.localdate().isoformat()}: "
        "add it to the price book first."
    ]
    assert draft.lines.count() == 2


def test_bad_lines_are_listed(draft, team, book):
    with pytest.raises(ValidationError) as refused:
        services.quote_lines_add(
            quote=draft, actor=team.rep1, lines=[(10**9, 1), (book.lathe_b.pk, 0), (book.lathe_b.pk, "x")]
        )
    assert refused.value.message_dict["lines"] == [
        "Line 1: no such specification.",
        "Line 2 (CK6140-B): The quantity must be more than zero.",
        "Line 3 (CK6140-B): Enter a quantity.",
    ]
    book.oil.status = "discontinued"
    book.oil.save()
    with pytest.raises(ValidationError) as refused:
        services.quote_lines_add(quote=draft, actor=team.rep1, lines=[(book.oil_46.pk, 1)])
    assert refused.value.message_dict["lines"] == ["YY-46-200L is no longer sold."]
    assert draft.lines.count() == 2


def test_five_hundred_lines_resolve_prices_once(book, customer, team, django_assert_max_num_queries):
    product = Product.objects.create(code="LS", name="螺栓", unit="件", tax_rate=D("13"))
    specs = Specification.objects.bulk_create(
        [Specification(product=product, code=f"LS-M{i}", name=f"M{i}") for i in range(500)]
    )
    PriceItem.objects.create(price_list=book.list, product=product, price=D("0.35"))
    quote = services.quote_create(customer=customer, actor=team.rep1)
    with django_assert_max_num_queries(30):
        services.quote_lines_add(quote=quote, actor=team.rep1, lines=[(s.pk, 3) for s in specs])
    quote.refresh_from_db()
    assert quote.line_count == 500 and quote.total == D("525.00")
    assert list(quote.lines.values_list("position", flat=True)) == list(range(1, 501))
    with django_assert_max_num_queries(30):
        services.quote_reprice(quote=quote, actor=team.rep1)


def test_totals_are_sums_of_rounded_lines(book, customer, team):
    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, "0.333"), (book.lathe_b.pk, "0.333")])
    assert [ln.amount for ln in quote.lines.all()] == [D("33.30"), D("33.30")]
    services.quote_line_update(line=quote.lines.first(), actor=team.rep1, discount=D("3.33"))
    quote.refresh_from_db()
    rounded = sorted(quote.lines.values_list("amount", flat=True))
    assert rounded == [D("32.19"), D("33.30")]  # 33.3 × 0.9667 = 32.19111
    assert quote.total == sum(rounded) and quote.total_net == sum(quote.lines.values_list("amount_net", flat=True))


def test_only_drafts_are_edited(draft, team, book):
    services.quote_submit(quote=draft, actor=team.rep1)
    draft.refresh_from_db()
    line = draft.lines.first()
    calls = [
        lambda: services.quote_lines_add(quote=draft, actor=team.rep1, lines=[(book.lathe_b.pk, 1)]),
        lambda: services.quote_lines_paste(quote=draft, actor=team.rep1, text="CK6140-B\t1"),
        lambda: services.quote_line_update(line=line, actor=team.rep1, discount=D("1")),
        lambda: services.quote_line_remove(line=line, actor=team.rep1),
        lambda: services.quote_reprice(quote=draft, actor=team.rep1),
        lambda: services.quote_update(quote=draft, actor=team.rep1, expected_version=draft.version, title="x"),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.messages == [
            "Only a draft can be changed; this quote is approved. Revise it to make a new version."
        ]
    assert draft.lines.count() == 2


def test_header_edits_check_the_version(draft, team):
    version = draft.version
    services.quote_update(quote=draft, actor=team.rep1, expected_version=version, title="数控车床报价", notes="含运费")
    assert Quote.objects.get(pk=draft.pk).version == version + 1
    stale = Quote.objects.get(pk=draft.pk)
    with pytest.raises(ConcurrentEditError):
        services.quote_update(quote=stale, actor=team.rep1, expected_version=version, title="别的")
    assert Quote.objects.get(pk=draft.pk).title == "数控车床报价"
    entry = AuditEntry.objects.filter(target_type="quotes.quote", target_id=draft.pk, action="update").latest("pk")
    assert entry.changes["title"] == ["", "数控车床报价"]
    with pytest.raises(ValidationError) as bad:
        services.quote_update(
            quote=Quote.objects.get(pk=draft.pk), actor=team.rep1, expected_version=version + 1,
            valid_until=draft.quoted_on - timedelta(days=1),
        )  # fmt: skip
    assert bad.value.message_dict == {"valid_until": ["A quote cannot expire before its date."]}
    with pytest.raises(ValidationError):
        services.quote_update(quote=draft, actor=team.rep1, expected_version=version + 1, number="X")


def test_remove_a_line(draft, team):
    services.quote_line_remove(line=draft.lines.get(code="YY-46-200L"), actor=team.rep1)
    draft.refresh_from_db()
    assert (draft.line_count, draft.total) == (1, D("300.00"))


def test_the_lines_after_a_removed_one_move_up(draft, team):
    codes = [line.code for line in draft.lines.order_by("position")]
    services.quote_line_remove(line=draft.lines.get(position=1), actor=team.rep1)
    services.quote_lines_paste(quote=draft, actor=team.rep1, text="CK6140-A\t1\n")
    assert list(draft.lines.order_by("position").values_list("position", "code")) == [
        (1, codes[1]),
        (2, "CK6140-A"),
    ]


# --- paste ---------------------------------------------------------------------------------------

PASTES = [
    ("CK6140-A\t3\nYY-46-200L\t2.5\n", [("CK6140-A", "3"), ("YY-46-200L", "2.5")]),
    ("编码\t数量\r\nCK6140-A\t1,200\r\n\r\n  \nck6140-b\t7\r\n", [("CK6140-A", "1200"), ("CK6140-B", "7")]),
    ("CK6140-A,3\nCK6140-B;4\n", [("CK6140-A", "3"), ("CK6140-B", "4")]),
    ("ＣＫ６１４０－Ａ\t１，０００\n", [("CK6140-A", "1000")]),  # full-width, as a Chinese IME types them
    ("CK6140-A,1,000.5\n", [("CK6140-A", "1000.5")]),
    ("code\tqty\nCK6140-A\t\t2\n", [("CK6140-A", "2")]),  # an empty column between
]


@pytest.mark.parametrize(("text", "expected"), PASTES)
def test_paste_understands_what_spreadsheets_copy(book, customer, team, text, expected):
    quote = services.quote_create(customer=customer, actor=team.rep1)
    services.quote_lines_paste(quote=quote, actor=team.rep1, text=text)
    assert [(ln.code, str(ln.quantity.normalize())) for ln in quote.lines.order_by("position")] == [
        (code, str(D(q).normalize())) for code, q in expected
    ]


def test_a_bad_paste_lists_every_bad_row_and_adds_nothing(draft, team, book):
    text = (
        "编码\t数量\nCK6140-A\t2\nXX-404\t1\nCK6140-B\tabc\nCK6140-B\t0\nYY-46-200L\t1.2345\n\t5\nCK6140-A\nNP-1-X\t1\n"
    )
    with pytest.raises(ValidationError) as refused:
        services.quote_lines_paste(quote=draft, actor=team.rep1, text=text)
    assert refused.value.message_dict["text"] == [
        "Row 3: no product has the code XX-404.",
        "Row 4: abc is not a quantity.",
        "Row 5: The quantity must be more than zero.",
        "Row 6: A quantity has at most three decimal places.",
        "Row 7: no code.",
        "Row 8: no quantity after CK6140-A.",
    ]
    assert draft.lines.count() == 2
    with pytest.raises(ValidationError) as refused:
        services.quote_lines_paste(quote=draft, actor=team.rep1, text="CK6140-B\t1\nNP-1-X\t1\n")
    assert refused.value.message_dict["text"][0].startswith("NP-1-X has no price for")
    assert draft.lines.count() == 2
    with pytest.raises(ValidationError) as empty:
        services.quote_lines_paste(quote=draft, actor=team.rep1, text="\n \n")
    assert "text" in empty.value.message_dict
