"""The sales record (销售记录) as .xlsx: the months with plan, actual and running totals, then the
details (order lines with their order's settlement and amount owed, and the sell-through rows)."""

import io
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.catalog.models import Product
from kehu.core.exports import export_log, export_require
from kehu.core.spreadsheet_safety import xlsx_row
from kehu.customers.models import Customer
from kehu.dealerplans import selectors
from kehu.dealerplans.export_kinds import SALES_RECORD

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _n(value):
    return float(value) if value is not None else None


def record_export(*, actor, customer: Customer, year: int, product: Product | None = None, reason: str = "") -> bytes:
    """The workbook, through the export policy (kehu.core.exports): the rows are counted as written, and
    the file is handed out only if the policy allows that many (PermissionDenied, ExportRefusedError)."""
    from openpyxl import Workbook

    export_require(actor, SALES_RECORD)

    record = selectors.sales_record(customer, year=year, product=product)
    workbook = Workbook(write_only=True)
    months = workbook.create_sheet(_("Sales record")[:31])
    months.append(xlsx_row(months, [customer.name, str(year), product.name if product else _("All products")]))
    months.append(
        xlsx_row(
            months,
            [
                _("Month"),
                _("Plan quantity"),
                _("Plan amount"),
                _("Quantity"),
                _("Amount"),
                _("Of plan"),
                _("Plan to date"),
                _("Amount to date"),
                _("Of plan to date"),
                _("Sold on (amount)"),
            ],
        )
    )
    for row in record.months:
        months.append(
            xlsx_row(
                months,
                [
                    f"{row.month:%Y-%m}",
                    _n(row.plan_quantity) if product else None,
                    _n(row.plan_amount),
                    _n(row.quantity) if product else None,
                    _n(row.amount),
                    _n(row.amount_percent),
                    _n(row.running_plan),
                    _n(row.running_amount),
                    _n(row.running_percent),
                    _n(row.sold_on_amount),
                ],
            )
        )
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    details = workbook.create_sheet(_("Details")[:31])
    count = 0
    if not record.lower:
        details.append(
            xlsx_row(
                details,
                [
                    _("Order date"),
                    pgettext("sales order", "Order"),
                    _("Code"),
                    _("Product"),
                    _("Specification"),
                    _("Unit"),
                    _("Quantity"),
                    _("Unit price"),
                    _("Amount"),
                    _("Settlement"),
                    _("Owed on the order"),
                ],
            )
        )
        for line in selectors.record_order_lines(customer, start=start, end=end, product=product).iterator():
            details.append(
                xlsx_row(
                    details,
                    [
                        line.ordered_on.isoformat(),
                        line.order.number,
                        line.code,
                        line.name,
                        line.specification_name,
                        line.unit,
                        _n(line.quantity),
                        _n(line.unit_price),
                        _n(line.amount),
                        str(line.order.get_settlement_status_display()),
                        _n(line.order.owed_amount),
                    ],
                )
            )
            count += 1
    for bought in (True, False) if record.lower else (False,):
        sheet = workbook.create_sheet((_("Bought through the channel") if bought else _("Sold on"))[:31])
        sheet.append(
            xlsx_row(
                sheet,
                [_("Month"), _("Seller"), _("Buyer"), _("Product"), _("Specification"), _("Quantity"), _("Amount")],
            )
        )
        for st in selectors.record_sell_through(customer, start=start, end=end, product=product, bought=bought):
            sheet.append(
                xlsx_row(
                    sheet,
                    [
                        f"{st.month:%Y-%m}",
                        st.seller.name,
                        st.buyer.name if st.buyer_id else st.buyer_name,
                        st.product.name,
                        st.specification.name if st.specification_id else "",
                        _n(st.quantity),
                        _n(st.amount),
                    ],
                )
            )
            count += 1
    reason = export_require(actor, SALES_RECORD, count, reason)
    buffer = io.BytesIO()
    workbook.save(buffer)
    export_log(
        actor=actor,
        kind=SALES_RECORD,
        rows=count,
        reason=reason,
        fmt="xlsx",
        customer=customer.pk,
        year=year,
        product=product.pk if product else None,
    )
    return buffer.getvalue()
