"""The complaint statistics report (投诉统计报表): complaints registered in a period, counted by cause,
category, product, responsible department, customer and month / quarter / year, with each one's
share of the whole; the charts' data and the .xlsx export.

Each grouping is one grouped query on the complaint's own columns (the product and department are
copied onto it), read through a covering index that starts with the grouped column and goes on with
the registration day (`support_complaint_r_*`): no table rows are read and nothing is sorted but the
groups. The period column is counted per day and folded into months, quarters
or years here (at most 366 rows a year). Those who see every customer read it (it counts all
complaints)."""

import io
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count
from django.utils.translation import gettext as _

from kehu.catalog.models import Product
from kehu.customers.models import Customer
from kehu.support.models_complaints import Complaint, ComplaintCategory, ComplaintCause
from kehu.users.models import Department

PERIODS = ("month", "quarter", "year")
TOP = 20


def may_read_report(user) -> bool:
    return (
        user.is_authenticated
        and user.has_perm("support.view_complaint")
        and (user.is_superuser or getattr(user, "data_scope", "") == "all")
    )


@dataclass
class Row:
    key: object
    label: str
    count: int
    share: float = 0.0  # percent of the period's complaints, one decimal


@dataclass
class ComplaintStats:
    first: date
    last: date
    period: str
    total: int = 0
    by_cause: list[Row] = field(default_factory=list)
    by_category: list[Row] = field(default_factory=list)
    by_product: list[Row] = field(default_factory=list)
    by_department: list[Row] = field(default_factory=list)
    by_customer: list[Row] = field(default_factory=list)
    by_period: list[Row] = field(default_factory=list)

    @property
    def tables(self) -> list[tuple[str, str, str, list[Row]]]:
        """(key, title, the first column's heading, rows) of each grouping."""
        return [
            ("cause", _("By cause"), _("Cause"), self.by_cause),
            ("category", _("By category"), _("Category"), self.by_category),
            ("product", _("By product"), _("Product"), self.by_product),
            ("department", _("By responsible department"), _("Department"), self.by_department),
            ("customer", _("By customer"), _("Customer"), self.by_customer),
            ("period", _("By period"), _("Period"), self.by_period),
        ]

    def chart(self) -> dict:
        """What the page's charts draw (labels and counts; no names of people)."""
        return {
            "period": {"labels": [r.label for r in self.by_period], "counts": [r.count for r in self.by_period]},
            "cause": [{"name": r.label, "value": r.count} for r in self.by_cause],
            "department": {
                "labels": [r.label for r in self.by_department],
                "counts": [r.count for r in self.by_department],
            },
            "product": {"labels": [r.label for r in self.by_product], "counts": [r.count for r in self.by_product]},
        }


def _share(rows: list[Row], total: int) -> list[Row]:
    for row in rows:
        row.share = round(100.0 * row.count / total, 1) if total else 0.0
    return rows


def period_key(day: date, period: str) -> str:
    if period == "year":
        return f"{day.year}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def _grouped(qs, column: str) -> list[tuple[object, int]]:
    """(value, count) of each value of `column`, the largest first (then by value)."""
    rows = qs.values_list(column).annotate(n=Count("pk")).order_by()
    return sorted(rows, key=lambda row: (-row[1], row[0] is None, row[0] if row[0] is not None else 0))


def complaint_stats(*, first: date, last: date, period: str = "month", top: int = TOP) -> ComplaintStats:
    """The report for complaints registered from `first` to `last` (inclusive). Products and customers
    list the `top` largest, then the rest as one row."""
    period = period if period in PERIODS else "month"
    stats = ComplaintStats(first=first, last=last, period=period)
    qs = Complaint.objects.filter(registered_on__gte=first, registered_on__lte=last)
    buckets: dict[str, int] = {}
    for day, n in qs.values_list("registered_on").annotate(n=Count("pk")).order_by():
        key = period_key(day, period)
        buckets[key] = buckets.get(key, 0) + n
    stats.total = sum(buckets.values())
    stats.by_period = _share([Row(k, k, n) for k, n in sorted(buckets.items())], stats.total)
    causes = dict(ComplaintCause.choices)
    stats.by_cause = _share(
        [Row(k, str(causes.get(k, _("Not yet investigated"))), n) for k, n in _grouped(qs, "cause")], stats.total
    )
    categories = dict(ComplaintCategory.choices)
    stats.by_category = _share([Row(k, str(categories.get(k, k)), n) for k, n in _grouped(qs, "category")], stats.total)
    departments = _grouped(qs, "department_id")
    names = dict(Department.objects.filter(pk__in=[k for k, _n in departments if k]).values_list("pk", "name"))
    stats.by_department = _share(
        [Row(k, names.get(k, "") if k else _("Not yet assigned"), n) for k, n in departments], stats.total
    )
    # "> 0" keeps SQLite on the product-first and customer-first covering indexes (the registration
    # day's index would have it sort a year of rows); complaints without a product are the rest.
    products = _grouped(qs.filter(product_id__gt=0), "product_id")
    without = stats.total - sum(n for _k, n in products)
    stats.by_product = _share(
        _top(products, Product, "name", top, _("No product"))
        + ([Row(None, _("No product"), without)] if without else []),
        stats.total,
    )
    stats.by_customer = _share(
        _top(_grouped(qs.filter(customer_id__gt=0), "customer_id"), Customer, "name", top, ""), stats.total
    )
    return stats


def _top(groups: list[tuple[object, int]], model, name: str, top: int, none_label: str) -> list[Row]:
    shown, rest = groups[:top], groups[top:]
    names = dict(model.objects.filter(pk__in=[k for k, _n in shown if k]).values_list("pk", name))
    rows = [Row(k, names.get(k, "") if k else none_label, n) for k, n in shown]
    if rest:
        rows.append(Row(None, _("Others (%(n)d)") % {"n": len(rest)}, sum(n for _k, n in rest)))
    return rows


def stats_xlsx(stats: ComplaintStats) -> bytes:
    """The report as a workbook: a summary sheet, then one sheet per grouping (label, count, share)."""
    from openpyxl import Workbook

    from kehu.core.spreadsheet_safety import xlsx_row

    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    sheet.append(xlsx_row(sheet, [_("Complaint statistics report")]))
    sheet.append(xlsx_row(sheet, [_("From"), stats.first.isoformat()]))
    sheet.append(xlsx_row(sheet, [_("To"), stats.last.isoformat()]))
    sheet.append(xlsx_row(sheet, [_("Complaints"), stats.total]))
    for _key, title, heading, rows in stats.tables:
        ws = book.create_sheet(title[:31])
        ws.append(xlsx_row(ws, [heading, _("Complaints"), _("Share (%)")]))
        for row in rows:
            # Product and customer names are people's text: a name starting with "=" stays text.
            ws.append(xlsx_row(ws, [row.label, row.count, row.share]))
        ws.column_dimensions["A"].width = 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def quality_section(day: date):
    """The day's complaints for the daily quality-anomaly report: registered that day by category
    and cause, and the open ones whose step deadline has passed."""
    from kehu.support.models_complaints import COMPLAINT_OPEN_STATES
    from kehu.support.quality_report import Section

    registered = list(
        Complaint.objects.filter(registered_on=day)
        .values("category", "cause")
        .annotate(n=Count("pk"))
        .order_by("-n", "category", "cause")
    )
    late = list(
        Complaint.objects.filter(state__in=COMPLAINT_OPEN_STATES, due_on__lt=day)
        .order_by("due_on", "pk")
        .values_list("number", "due_on")[:50]
    )
    causes = dict(ComplaintCause.choices)
    # Plain strings: the report is stored as JSON.
    rows = [[str(ComplaintCategory(r["category"]).label), str(causes.get(r["cause"], "—")), r["n"]] for r in registered]
    rows += [[_("Step overdue"), f"{number} ({due_on:%Y-%m-%d})", ""] for number, due_on in late]
    if not rows:
        return None
    return Section(
        key="complaints",
        title=_("Complaints"),
        columns=[_("Category"), _("Cause"), _("Complaints")],
        rows=rows,
    )
