"""Money: rounding to the fen, line amounts and amounts in Chinese capitals (大写金额).

Prices are tax included (含税), as Chinese quotes, orders and VAT invoices state them. A line's
amount is `quantity × price × (1 − discount)` rounded to the fen; its amount without tax is the
amount divided by `1 + rate`, rounded to the fen; its tax is the difference, so the two always
add up to the amount. Documents total their rounded lines: a total is never re-rounded.
Rounding is half up (四舍五入).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")
HUNDRED = Decimal("100")


def round_fen(value) -> Decimal:
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def round_price(value) -> Decimal:
    return Decimal(value).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    unit_price: Decimal  # after the discount, to 4 places
    amount: Decimal  # with tax
    amount_net: Decimal  # without tax
    tax: Decimal


def line_amounts(quantity, price, discount, tax_rate) -> LineAmounts:
    factor = 1 - Decimal(discount) / HUNDRED
    amount = round_fen(Decimal(quantity) * Decimal(price) * factor)
    amount_net = round_fen(amount / (1 + Decimal(tax_rate) / HUNDRED))
    return LineAmounts(round_price(Decimal(price) * factor), amount, amount_net, amount - amount_net)


DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
SECTIONS = ("", "万", "亿", "万亿")


def _section(value: int) -> str:
    """0 < value < 10000 in capitals, zeros inside written once (一千零五 → 壹仟零伍)."""
    out, zero = [], False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[digit] + PLACES[place])
    return "".join(out)


def capital_amount(value) -> str:
    """An amount in yuan in Chinese capitals as written on cheques and invoices:
    1005 → 壹仟零伍元整, 16 → 壹拾陆元整, 325.04 → 叁佰贰拾伍元零肆分, 0.5 → 伍角整, −3 → 负叁元整."""
    value = round_fen(value)
    sign = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if len(str(yuan)) > 16:
        raise ValueError("amount too large for capitals")
    words = []
    sections = []
    rest = yuan
    while rest:
        sections.append(rest % 10000)
        rest //= 10000
    pending_zero = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            pending_zero = bool(words)
            continue
        if words and (pending_zero or section < 1000):
            words.append("零")
        pending_zero = False
        words.append(_section(section) + SECTIONS[index])
    text = "".join(words)
    if yuan:
        text += "元"
    if jiao == 0 and fen == 0:
        return sign + (text or "零元") + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return sign + text


def price_text(value) -> str:
    """12.5 → "12.50", 12.3456 → "12.3456", 1234 → "1,234.00" (a price keeps up to 4 places)."""
    value = Decimal(value)
    if value == value.quantize(FEN):
        return f"{value:,.2f}"
    places = max(2, min(-int(value.normalize().as_tuple().exponent), 4))
    return f"{value:,.{places}f}"


def cny(value) -> str:
    """An amount with its currency sign, the minus in front: -5300 → "-¥5,300.00"; nothing → "¥0.00"."""
    value = Decimal(value or 0)
    return f"-¥{price_text(-value)}" if value < 0 else f"¥{price_text(value)}"
