"""Exporting products with their specifications (SAL-4, INT-1): one row per specification, in
the import's columns (so an exported file imports again as it is), as .xlsx or CSV (UTF-8 with a
BOM, so Excel shows Chinese). Every export is audited."""

import csv
import io
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog import selectors
from kehu.catalog.export_kinds import PRODUCTS
from kehu.catalog.imports import PRODUCT_FIELDS
from kehu.catalog.models import Specification
from kehu.core.exports import count_cap, export_log, export_require
from kehu.core.spreadsheet_safety import csv_row, xlsx_row

COLUMNS = list(PRODUCT_FIELDS)
CHUNK = 2000
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def header_row() -> list[str]:
    return [str(PRODUCT_FIELDS[name].label) for name in COLUMNS]


def _plain(value) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)


def product_rows(user, filters: selectors.ProductFilters) -> Iterator[list]:
    """One row per specification of the products the list shows with these filters, by product code."""
    products = selectors._filtered(user, filters).order_by("pk").values_list("pk", flat=True)
    paths = selectors.category_path_labels()
    last = 0
    while True:
        ids = list(products.filter(pk__gt=last)[:CHUNK])
        if not ids:
            return
        last = ids[-1]
        specs = list(
            Specification.objects.filter(product_id__in=ids)
            .select_related("product")
            .order_by("product__code", "position", "id")
        )
        prices = selectors.list_prices([s.pk for s in specs])
        for spec in specs:
            p = spec.product
            yield [
                p.code,
                p.name,
                paths.get(p.category_id, "") if p.category_id else "",
                p.unit,
                f"{_plain(p.tax_rate)}%",
                spec.code,
                spec.name,
                _plain(prices.get(spec.pk)),
                _plain(p.cost),
                _plain(p.floor_price),
                str(p.get_status_display()),
            ]


def may_export(user) -> bool:
    from kehu.core.exports import may_export as policy_may_export

    return policy_may_export(user, PRODUCTS)


def products_count(user, filters: selectors.ProductFilters) -> int:
    """The rows (specifications) of the export, counted as far as the export policy needs."""
    products = selectors._filtered(user, filters).order_by().values("pk")
    return Specification.objects.filter(product_id__in=products).order_by()[: count_cap(user)].count()


def products_export(*, actor, filters: selectors.ProductFilters, fmt: str, reason: str = "") -> tuple[bytes, int]:
    """Through the export policy (kehu.core.exports): PermissionDenied or ExportRefusedError, else the file."""
    export_require(actor, PRODUCTS)
    reason = export_require(actor, PRODUCTS, products_count(actor, filters), reason)
    rows = product_rows(actor, filters)
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(csv_row(header_row()))
        count = 0
        for row in rows:
            writer.writerow(csv_row(row))
            count += 1
        content = out.getvalue().encode("utf-8")
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Products")[:31])
        sheet.append(xlsx_row(sheet, header_row()))
        count = 0
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
            count += 1
        buffer = io.BytesIO()
        workbook.save(buffer)
        content = buffer.getvalue()
    export_log(
        actor=actor,
        kind=PRODUCTS,
        rows=count,
        reason=reason,
        fmt=fmt,
        filters={
            k: v
            for k, v in {"q": filters.q, "category": filters.category_id, "status": filters.status}.items()
            if v not in ("", None)
        },
    )
    return content, count


def file_name(fmt: str) -> str:
    return f"products-{timezone.localdate().isoformat()}.{fmt}"
