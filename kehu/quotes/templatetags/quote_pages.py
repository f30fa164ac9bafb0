"""Number formats of the quote pages: prices to at least two places (four when the fen does not
end them), quantities without trailing zeros, both with thousands separators."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kehu.core.money import cny, price_text

register = template.Library()

TWO = Decimal("0.01")


def _grouped(value: Decimal, places: int) -> str:
    return f"{value:,.{places}f}"


@register.filter
def price(value) -> str:
    """12.5 → "12.50", 12.3456 → "12.3456", 1234 → "1,234.00"; None → "—"."""
    if value is None or value == "":
        return "—"
    return price_text(value)


register.filter("cny", cny)


@register.filter
def qty(value) -> str:
    """12.000 → "12", 2.500 → "2.5", 1200 → "1,200"."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return _grouped(value, 0)
    return _grouped(value, max(0, -int(value.normalize().as_tuple().exponent)))


@register.filter
def plain(value) -> str:
    """A decimal as typed back into an input: no separators, no trailing zeros ("2.5", "12").
    Text that is no number (a form sent back with its error) is shown as it was typed."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    value = number
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


@register.simple_tag
def line_rows(lines, *, editable: bool, line_base: str, limit) -> str:
    """The quote's line rows, one string per line built here rather than by the template engine: a
    row of a draft holds three inputs and a button, and 300 rows through template nodes took most of
    the page's time. Text fields are escaped; numbers are formatted by the filters above. Each line
    is flagged `below-floor` (unit price under the floor price) or `over-limit` (a discount beyond
    `limit`, the owner's limit)."""
    line_base = escape(line_base)
    # (The words are looked up outside the f-strings: xgettext does not read calls inside them.)
    below_word, over_word = escape(_("below floor")), escape(_("above the discount limit"))
    below_badge = f' <span class="badge bg-red-lt">{below_word}</span>'
    over_badge = f' <span class="badge bg-yellow-lt">{over_word}</span>'
    if editable:
        labels = {name: escape(_(text)) for name, text in EDIT_LABELS.items()}
    rows = []
    for line in lines:
        pk = line.pk
        below = line.floor_price is not None and line.unit_price < line.floor_price
        over = not below and line.discount > limit
        spec = (
            f' <span class="text-secondary">{escape(line.specification_name)}</span>' if line.specification_name else ""
        )
        head = f'<tr id="line-{pk}"'
        if editable:
            head += f' hx-post="{line_base}{pk}/" hx-trigger="change"'
        if below:
            head += ' class="below-floor"'
        elif over:
            head += ' class="over-limit"'
        cells = [
            f'{head}>\n<td class="ql-pos">{line.position}</td><td class="ql-code">{escape(line.code)}</td>'
            f'<td class="ql-name">{escape(line.name)}{spec}{below_badge if below else over_badge if over else ""}</td>'
            f'<td class="ql-unit">{escape(line.unit)}</td>'
        ]
        if editable:
            cells.append(
                f'<td class="ql-qty"><input class="ql-in" name="quantity" value="{plain(line.quantity)}" '
                f'inputmode="decimal" aria-label="{labels["quantity"]}"></td>'
            )
        else:
            cells.append(f'<td class="ql-qty text-end">{qty(line.quantity)}</td>')
        cells.append(
            f'<td class="ql-book text-end">{price(line.base_price)}'
            f'<div class="ql-src">{escape(line.price_source)}</div></td>'
        )
        if editable:
            cells.append(
                f'<td class="ql-disc"><input class="ql-in" name="discount" value="{plain(line.discount)}" '
                f'inputmode="decimal" aria-label="{labels["discount"]}"></td>'
                f'<td class="ql-price"><input class="ql-in" name="unit_price" value="{plain(line.unit_price)}" '
                f'inputmode="decimal" aria-label="{labels["unit_price"]}"></td>'
            )
        else:
            discount = f"{qty(line.discount)}%" if line.discount else ""
            cells.append(
                f'<td class="ql-disc text-end">{discount}</td><td class="ql-price text-end">{price(line.unit_price)}</td>'
            )
        cells.append(
            f'<td class="ql-tax text-end">{qty(line.tax_rate)}%</td><td class="ql-amount text-end">{price(line.amount)}</td>'
        )
        if editable:
            cells.append(
                f'<td class="ql-act"><button class="btn btn-sm btn-ghost-danger" type="button" '
                f'hx-post="{line_base}{pk}/remove/" aria-label="{labels["remove"]}">×</button></td>'
            )
        cells.append("\n</tr>")
        rows.append("".join(cells))
    return mark_safe("".join(rows))  # noqa: S308 - every text field above is escaped


EDIT_LABELS = {
    "quantity": gettext_noop("Quantity"),
    "discount": gettext_noop("Discount %"),
    "unit_price": gettext_noop("Unit price"),
    "remove": gettext_noop("Remove line"),
}
