"""The quote document as PDF and HTML: the Chinese text, totals and the total in Chinese capitals in
both languages, fonts embedded, the header on every page, page numbers, the draft watermark and
nothing internal (book price sources, floor prices, cost)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.customers.services import contact_create
from kehu.quotes.document import document_filename, document_html, document_pdf
from kehu.quotes.models import DocumentTemplate

from .document_fixtures import EXPECTED_TOTAL, make_quote, many_rows, pdf_fonts, pdf_pages, pdf_text, quote_of

pytestmark = pytest.mark.django_db
__all__ = ["quote_of"]

CAPITALS = "叁拾陆万贰仟贰佰叁拾柒元零壹分"


@pytest.fixture
def quote(team, customer_of):
    customer = customer_of(team.rep1, address="江苏省苏州市工业园区星湖街 328 号")
    contact = contact_create(
        customer=customer, actor=team.rep1, name="张伟", position="采购经理", email="zhang@example.com"
    )
    DocumentTemplate.objects.create(
        language="zh-hans", company_name="宁波恒达机电有限公司", letterhead="宁波市鄞州区启明路 818 号 电话 0574-88886666",
        introduction="感谢贵司垂询，现报价如下：", terms="1. 质保一年。\n2. 运费由供方承担。",
        signature_block="授权代表：李娜", footer="恒达机电 · 开户行：中国银行宁波分行 3901 0000 1234",
    )  # fmt: skip
    DocumentTemplate.objects.create(
        language="en", company_name="Ningbo Hengda Electromechanical Co., Ltd.", letterhead="818 Qiming Road, Ningbo",
        terms="Warranty: one year.", signature_block="Authorised: Li Na", footer="Hengda · Bank of China 3901",
    )  # fmt: skip
    return make_quote(team.rep1, customer, contact=contact, title="注塑车间改造")


def test_the_chinese_pdf_holds_the_chinese_text_totals_and_capitals(quote):
    text = pdf_text(document_pdf(quote))
    for expected in (
        "报价单", "宁波恒达机电有限公司", "宁波市鄞州区启明路 818 号", "苏州华星精密机械有限公司",
        "江苏省苏州市工业园区星湖街 328 号", "张伟", "zhang@example.com", "报价单号", "Q-2026-0001", "有效期至",
        "感谢贵司垂询，现报价如下：", "规格型号", "注塑机", "HX-160T 伺服节能型", "模具温控机", "安装调试服务",
        "不含税合计", "320,914.38", "税额", "41,322.63", "含税合计", "362,237.01", "大写金额", f"人民币 {CAPITALS}",
        "付款条件", "预付 30%，发货前付清余款", "交货条件", "质保一年。", "授权代表：李娜", "签字及盖章",
        "恒达机电 · 开户行：中国银行宁波分行 3901 0000 1234", "第 1 页，共 1 页",
    ):  # fmt: skip
        assert expected in text, expected
    # Each line's figures: quantity, unit price, discount, tax rate, amount.
    layout = pdf_text(document_pdf(quote), layout=True)
    assert "168,000.00" in layout and "5%" in layout and "319,200.00" in layout
    assert "12,345.67" in layout and "37,037.01" in layout and "6%" in layout


def test_the_english_pdf_has_english_words_and_the_capitals_too(quote):
    quote.language = "en"
    quote.save()
    text = pdf_text(document_pdf(quote))
    for expected in (
        "Quotation", "Ningbo Hengda Electromechanical Co., Ltd.", "Quote number", "Valid until", "Specification",
        "注塑机", "Total without tax", "320,914.38", "41,322.63", "Total with tax (CNY)", "362,237.01",
        "Total in Chinese capitals (大写金额)", f"RMB {CAPITALS}", "Payment terms", "Warranty: one year.",
        "Page 1 of 1", "Hengda · Bank of China 3901",
    ):  # fmt: skip
        assert expected in text, expected
    assert "报价单号" not in text and "宁波恒达机电有限公司" not in text


def test_the_fonts_are_embedded(quote, tmp_path):
    fonts = pdf_fonts(document_pdf(quote), tmp_path)
    assert fonts, "the PDF names no font"
    assert all(f["emb"] == "yes" and f["sub"] == "yes" and f["uni"] == "yes" for f in fonts), fonts
    assert {f["name"].split("+", 1)[1] for f in fonts} <= {"Noto-Sans-CJK-SC", "Noto-Sans-CJK-SC-Bold"}


def test_a_long_quote_repeats_the_table_header_and_numbers_its_pages(team, customer_of):
    quote = make_quote(team.rep1, customer_of(team.rep1), rows=many_rows(300))
    pdf = document_pdf(quote)
    pages = pdf_pages(pdf)
    assert pages >= 5
    text = pdf_text(pdf)
    assert text.count("规格型号") == pages
    assert [f"第 {n} 页，共 {pages} 页" in text for n in range(1, pages + 1)] == [True] * pages
    assert "精密轴承 300 号" in text and "精密轴承 1 号" in text
    total = sum((line.amount for line in quote.lines.all()), Decimal("0"))
    assert quote.total == total and f"{total:,.2f}" in text


def test_a_draft_is_watermarked_and_an_approved_quote_is_not(team, customer_of):
    customer = customer_of(team.rep1)
    draft = make_quote(team.rep1, customer, state="draft", number="Q-D")
    pending = make_quote(team.rep1, customer, state="pending", number="Q-P")
    approved = make_quote(team.rep1, customer, state="approved", number="Q-A")
    english = make_quote(team.rep1, customer, state="draft", number="Q-E", language="en")
    assert "草稿" in pdf_text(document_pdf(draft))
    assert "草稿" in pdf_text(document_pdf(pending))
    assert "草稿" not in pdf_text(document_pdf(approved))
    assert "DRAFT" in pdf_text(document_pdf(english))
    assert 'class="qd-watermark"' in document_html(draft, screen=True)
    assert 'class="qd-watermark"' not in document_html(approved, screen=True)


def test_nothing_internal_reaches_the_document(quote):
    html = document_html(quote) + document_html(quote, screen=True)
    text = pdf_text(document_pdf(quote))
    floor = f"{Decimal('168000') * Decimal('0.8'):,.2f}"  # 134,400.00
    cost = f"{Decimal('168000') / 3:,.2f}"
    for internal in ("二批价格表", floor, "134400", cost, "floor", "cost"):
        assert internal not in html, internal
        assert internal not in text, internal


def test_the_document_is_in_the_quote_language_whoever_asks(quote, settings):
    from django.utils import translation

    with translation.override("en"):
        html = document_html(quote)
    assert "报价单号" in html and "Quote number" not in html
    assert document_filename(quote) == "报价单 Q-2026-0001.pdf"
    assert document_filename(quote, language="en") == "Quote Q-2026-0001.pdf"


def test_without_a_template_the_company_settings_name_the_company(team, customer_of):
    from kehu.users.models import CompanySettings

    settings_row = CompanySettings.load()
    settings_row.company_name = "苏州科虎软件有限公司"
    settings_row.save()
    quote = make_quote(team.rep1, customer_of(team.rep1))
    assert "苏州科虎软件有限公司" in pdf_text(document_pdf(quote))


def test_dates_are_printed(quote):
    text = pdf_text(document_pdf(quote))
    assert quote.quoted_on.strftime("%Y-%m-%d") in text
    assert quote.valid_until.strftime("%Y-%m-%d") in text
    assert quote.quoted_on == timezone.localdate()


def test_the_expected_total_is_the_sum_of_rounded_lines(quote):
    assert quote.total == EXPECTED_TOTAL
