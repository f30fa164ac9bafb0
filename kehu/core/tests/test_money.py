"""Money (kehu.core.money): rounding per line to the fen and amounts in Chinese capitals."""

from decimal import Decimal

import pytest

from kehu.core import money
from kehu.core.money import capital_amount, line_amounts, round_fen

D = Decimal


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.5", "伍角整"),
        ("16", "壹拾陆元整"),
        ("10.50", "壹拾元伍角整"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("1005", "壹仟零伍元整"),
        ("1000.05", "壹仟元零伍分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10001", "壹万零壹元整"),
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("100010", "壹拾万零壹拾元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("1000500", "壹佰万零伍佰元整"),
        ("10000000", "壹仟万元整"),
        ("100001000", "壹亿零壹仟元整"),
        ("120000000", "壹亿贰仟万元整"),
        ("99999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        ("-3", "负叁元整"),
        ("2.345", "贰元叁角伍分"),  # rounded half up to the fen first
    ],
)
def test_capital_amount(amount, capitals):
    assert capital_amount(D(amount)) == capitals


def test_rounding_is_half_up_to_the_fen():
    assert [round_fen(D(x)) for x in ("0.005", "0.004", "-0.005", "2.675")] == [
        D("0.01"),
        D("0.00"),
        D("-0.01"),
        D("2.68"),
    ]


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "rate", "unit_price", "amount", "net", "tax"),
    [
        ("3", "113", "0", "13", "113.0000", "339.00", "300.00", "39.00"),
        ("7", "99.99", "5", "13", "94.9905", "664.93", "588.43", "76.50"),
        ("0.333", "10", "0", "9", "10.0000", "3.33", "3.06", "0.27"),
        ("1", "0.01", "50", "6", "0.0050", "0.01", "0.01", "0.00"),
        ("12", "45.50", "0", "0", "45.5000", "546.00", "546.00", "0.00"),
    ],
)
def test_line_amounts(quantity, price, discount, rate, unit_price, amount, net, tax):
    line = line_amounts(D(quantity), D(price), D(discount), D(rate))
    assert (line.unit_price, line.amount, line.amount_net, line.tax) == (D(unit_price), D(amount), D(net), D(tax))
    assert line.amount_net + line.tax == line.amount


def test_totals_are_sums_of_rounded_lines():
    # Three lines of 0.333 × 10.00 each round to 3.33; the document says 9.99, not round(9.99 unrounded).
    lines = [line_amounts(D("0.333"), D("10"), D("0"), D("13")) for _ in range(3)]
    assert sum(x.amount for x in lines) == D("9.99")
    assert sum(x.amount_net for x in lines) == D("8.85")


@pytest.mark.parametrize(
    "value, text",
    [
        (Decimal("5300"), "¥5,300.00"),
        (Decimal("-5300"), "-¥5,300.00"),  # a red-letter invoice, a customer in credit
        (Decimal("12.3456"), "¥12.3456"),
        (Decimal("-0.5"), "-¥0.50"),
        (None, "¥0.00"),
    ],
)
def test_amounts_with_the_currency_sign(value, text):
    assert money.cny(value) == text
