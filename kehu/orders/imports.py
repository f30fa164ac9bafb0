"""Importing sales records (INT-1) through the shared import machinery in kehu.integrations
(upload, header detection with title rows and merged headers, note and total rows left out,
mapping, preview, all or nothing, progress).

Two targets:

- "sell_through" (销售记录 of the channel): one row per month, dealer, buyer and product: the month
  ("2026-03", "2026年3月", a date), the dealer (a customer the importer sees, by its name), the
  buyer's name (linked to a known customer of that exact name), the buyer's channel level (二批,
  零售 …), the product or specification code, the quantity and the amount. Every row is a record:
  the report's `created` + `skipped` add up to the file's rows.
- "orders" (the order books companies keep): one row per order line, grouped by an order-number
  column (the customer's or the company's own number; it becomes the order's "customer's order
  number"): customer, order date, code, quantity, and a unit price when the file has one (else
  the price book's). Imported orders are booked (confirmed) as history: no approval, no credit
  check. All or nothing: a row that cannot be priced or names an unknown customer fails the run.
"""

import re
import unicodedata
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.catalog.imports import parse_money
from kehu.catalog.models import Product, Specification
from kehu.core import events, money
from kehu.core.models import AuditAction
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.integrations.fields import CellError, ImportField, parse_date
from kehu.integrations.models import RowAction
from kehu.integrations.targets import ImportPlan, ImportTarget, Staged
from kehu.integrations.vcard import skip_reason
from kehu.orders import services
from kehu.orders.events import OrderEvent
from kehu.orders.models import (
    Order,
    OrderLine,
    OrderSource,
    OrderState,
    SellThrough,
)

SELL_THROUGH = "sell_through"
ORDERS = "orders"
MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:\s*[-/.]\s*\d{1,2}\s*日?)?(?:\s+[\d:]+)?$")
NUMBER = re.compile(r"^\d+(\.\d+)?$")
MAX_QUANTITY = Decimal("99999999999")


def _f(name, label, model, attr, synonyms, **kw):
    return name, ImportField(name, label, model, attr, tuple(synonyms), **kw)


def parse_month(text: str) -> date:
    """ "2026-03", "2026年3月", "2026/3/15", "2026-03-01 00:00:00", an Excel date → the month's first day."""
    clean = unicodedata.normalize("NFKC", text).strip()
    found = MONTH.match(clean)
    if found:
        year, month = int(found.group(1)), int(found.group(2))
        if 1 <= month <= 12 and 1900 <= year <= 2200:
            return date(year, month, 1)
        raise CellError(_("“%(value)s” is not a month (write it as 2026-03).") % {"value": text})
    try:
        return parse_date(clean).replace(day=1)
    except CellError:
        raise CellError(_("“%(value)s” is not a month (write it as 2026-03).") % {"value": text}) from None


def parse_quantity(text: str) -> Decimal:
    clean = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    if not NUMBER.match(clean):
        raise CellError(_("“%(value)s” is not a quantity.") % {"value": text})
    value = Decimal(clean)
    if value <= 0:
        raise CellError(_("The quantity must be more than zero."))
    if value > MAX_QUANTITY or value != value.quantize(Decimal("0.001")):
        raise CellError(_("“%(value)s” is not a quantity.") % {"value": text})
    return value


def may_import(user) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.has_perm("orders.import_orders")
        and user.has_perm("orders.add_order")
    )


def _names_of_customers(actor, names) -> dict[str, list[int]]:
    """Customers the actor sees by their exact name (one query)."""
    found: dict[str, list[int]] = defaultdict(list)
    for pk, name in customer_qs_visible_to(actor).filter(name__in=set(names)).values_list("pk", "name"):
        found[name].append(pk)
    return found


def _codes(codes) -> tuple[dict[str, Specification], dict[str, Product]]:
    """Specifications by code (exact, else ignoring case), else products by code."""
    codes = {c for c in codes if c}
    specs = services.specifications_by_code(codes)
    missing = {c.upper() for c in codes if c not in specs and c.upper() not in specs}
    products = {}
    if missing:
        for product in Product.objects.annotate(upper=Upper("code")).filter(upper__in=missing, deleted_at__isnull=True):
            products[product.upper] = product
    return specs, products


def _cell(cells, index) -> str:
    return cells[index].strip() if index < len(cells) and cells[index] is not None else ""


class _Stager:
    """Shared: the mapped cells of a row, each parsed by its field's parser."""

    fields: dict = {}
    parsers: dict = {}

    def __init__(self, job, actor):
        self.actor = actor
        self.mapping = [(int(col), name) for col, name in job.mapping.items() if name in self.fields]

    def read(self, cells) -> tuple[dict, dict]:
        raw, errors = {}, {}
        for index, name in self.mapping:
            text = _cell(cells, index)
            if not text:
                continue
            parser = self.parsers.get(name)
            try:
                raw[name] = parser(text) if parser else unicodedata.normalize("NFKC", text).strip()
            except CellError as exc:
                errors[name] = [str(exc)]
        return raw, errors


# ---- sell-through --------------------------------------------------------------------------------

SELL_THROUGH_FIELDS: dict[str, ImportField] = dict(
    [
        _f(
            "month",
            gettext_lazy("Month"),
            SellThrough,
            "month",
            ["月份", "年月", "销售月份", "期间", "日期", "month", "period"],
        ),
        _f(
            "dealer",
            gettext_lazy("Dealer"),
            SellThrough,
            "buyer_name",
            ["经销商", "经销商名称", "总经销", "一批商", "代理商", "客户名称", "dealer", "distributor", "seller"],
        ),
        _f(
            "buyer",
            gettext_lazy("Buyer"),
            SellThrough,
            "buyer_name",
            [
                "下游客户",
                "二批商",
                "二批",
                "分销商",
                "零售商",
                "终端",
                "门店",
                "购买方",
                "销往",
                "buyer",
                "retailer",
                "customer",
            ],
        ),
        _f(
            "buyer_level",
            gettext_lazy("Buyer's channel level"),
            SellThrough,
            "buyer_level",
            ["渠道级别", "客户级别", "渠道层级", "级别", "层级", "level", "channel level"],
        ),
        _f(
            "code",
            gettext_lazy("Product or specification code"),
            SellThrough,
            "buyer_name",
            ["规格编码", "产品编码", "物料编码", "商品编码", "编码", "货号", "code", "sku", "item code"],
        ),
        _f(
            "quantity",
            gettext_lazy("Quantity"),
            SellThrough,
            "buyer_name",
            ["数量", "销量", "销售数量", "qty", "quantity"],
        ),
        _f(
            "amount",
            gettext_lazy("Amount with tax"),
            SellThrough,
            "buyer_name",
            ["金额", "销售金额", "含税金额", "销售额", "amount", "sales amount"],
        ),
    ]
)


class SellThroughTarget(ImportTarget):
    name = SELL_THROUGH
    label = gettext_lazy("Sell-through records")
    title = gettext_lazy("Import sell-through (dealers' sales per month)")
    fields = SELL_THROUGH_FIELDS
    order = 40
    list_url_name = "orders:sell-through"
    list_label = gettext_lazy("Go to the sell-through records")
    record_label = gettext_lazy("Dealer")
    required_message = gettext_lazy("Choose the columns with the month, the dealer, the code and the quantity.")
    no_update_message = gettext_lazy("Sell-through records are only added.")
    no_longer_message = gettext_lazy("You may no longer import sales records.")
    owner_message = gettext_lazy("Sell-through records have no owner.")

    def may_import(self, user) -> bool:
        return may_import(user)

    def mapping_errors(self, used):
        return [] if {"month", "dealer", "code", "quantity"} <= used else [str(self.required_message)]

    def stager(self, job, actor):
        return SellThroughStager(job, actor)

    def match(self, rows, actor):
        return {}

    def row_view(self, row) -> dict:
        values = row.values
        return {
            "name": values.get("dealer", ""),
            "contact": f"{values.get('month', '')[:7]} · {values.get('code', '')} × {values.get('quantity', '')}",
            "phone": f"¥{values['amount']}" if values.get("amount") else "",
            "owner": values.get("buyer", ""),
            "matches": [],
        }

    def plan(self, job, actor):
        return SellThroughPlan(job, actor)


class SellThroughStager(_Stager):
    fields = SELL_THROUGH_FIELDS
    parsers = {
        "month": lambda text: parse_month(text).isoformat(),
        "quantity": lambda text: str(parse_quantity(text)),
        "amount": lambda text: str(money.round_fen(parse_money(text))),
    }

    def __init__(self, job, actor):
        super().__init__(job, actor)
        self.dealers: dict[str, list[int]] = {}
        self.codes: dict[str, tuple] = {}

    def _dealer(self, name: str) -> list[int]:
        if name not in self.dealers:
            self.dealers.update({name: []})
            self.dealers.update(_names_of_customers(self.actor, [name]))
        return self.dealers[name]

    def _code(self, code: str):
        if code not in self.codes:
            specs, products = _codes([code])
            spec = specs.get(code) or specs.get(code.upper())
            product = spec.product if spec else products.get(code.upper())
            self.codes[code] = (spec, product)
        return self.codes[code]

    def stage(self, number: int, cells) -> Staged:
        if (reason := skip_reason(cells)) is not None:
            return Staged(number, {}, {"__all__": [reason]}, RowAction.SKIP)
        raw, errors = self.read(cells)
        for name, message in (
            ("month", _("The month is missing.")),
            ("dealer", _("The dealer is missing.")),
            ("code", _("The code is missing.")),
            ("quantity", _("The quantity is missing.")),
        ):
            if name not in raw and name not in errors:
                errors[name] = [message]
        if not raw.get("buyer") and "buyer" not in errors:
            errors["buyer"] = [_("Name the buyer.")]
        if raw.get("dealer"):
            dealers = self._dealer(raw["dealer"])
            if not dealers:
                errors["dealer"] = [_("No customer you see is called “%(name)s”.") % {"name": raw["dealer"]}]
            elif len(dealers) > 1:
                errors["dealer"] = [_("Several customers are called “%(name)s”.") % {"name": raw["dealer"]}]
            else:
                raw["dealer_id"] = dealers[0]
        if raw.get("code"):
            spec, product = self._code(raw["code"])
            if product is None:
                errors["code"] = [_("No product has the code %(code)s.") % {"code": raw["code"]}]
            else:
                raw["product_id"], raw["specification_id"] = product.pk, spec.pk if spec else None
        if raw.get("buyer"):
            known = self._dealer(raw["buyer"])
            raw["buyer_id"] = known[0] if len(known) == 1 and known[0] != raw.get("dealer_id") else None
        for name, limit in (("buyer", 200), ("buyer_level", 20)):
            if len(raw.get(name, "")) > limit:
                errors[name] = [_("Use at most %(n)s characters.") % {"n": limit}]
        return Staged(number, raw, errors, RowAction.SKIP if errors else RowAction.CREATE)


class SellThroughPlan(ImportPlan):
    def __init__(self, job, actor):
        self.job, self.actor = job, actor
        self.records: list[SellThrough] = []
        self.skipped = 0

    def add(self, batch) -> None:
        if not may_import(self.actor):
            raise PermissionDenied
        for _number, values, errors, action, _target in batch:
            if errors or action == RowAction.SKIP:
                self.skipped += 1
                continue
            self.records.append(
                SellThrough(
                    month=date.fromisoformat(values["month"]),
                    seller_id=values["dealer_id"],
                    buyer_id=values.get("buyer_id"),
                    buyer_name=values["buyer"],
                    buyer_level=values.get("buyer_level", ""),
                    product_id=values["product_id"],
                    specification_id=values.get("specification_id"),
                    quantity=Decimal(values["quantity"]),
                    amount=Decimal(values.get("amount") or "0"),
                    import_job=self.job,
                    created_by=self.actor,
                )
            )

    def write(self) -> dict:
        visible = set(
            customer_qs_visible_to(self.actor)
            .filter(pk__in={r.seller_id for r in self.records})
            .values_list("pk", flat=True)
        )
        if any(r.seller_id not in visible for r in self.records):
            raise PermissionDenied
        SellThrough.objects.bulk_create(self.records, batch_size=1000)
        by_dealer: dict[int, int] = defaultdict(int)
        for record in self.records:
            by_dealer[record.seller_id] += 1
        events.record_many(
            [
                events.build(
                    OrderEvent.SELL_THROUGH,
                    actor=self.actor,
                    customer_id=dealer,
                    summary=_("%(n)s sell-through records imported") % {"n": count},
                    payload={"import": self.job.pk},
                )
                for dealer, count in by_dealer.items()
            ]
        )
        return {
            "created": len(self.records),
            "updated": 0,
            "skipped": self.skipped,
            "quantity": str(sum((r.quantity for r in self.records), Decimal(0))),
            "amount": str(money.round_fen(sum((r.amount for r in self.records), Decimal(0)))),
        }


# ---- orders --------------------------------------------------------------------------------------

ORDER_FIELDS: dict[str, ImportField] = dict(
    [
        _f(
            "number",
            gettext_lazy("Order number"),
            Order,
            "external_reference",
            ["订单号", "订单编号", "单号", "销售单号", "合同号", "order no", "order number", "po", "po number"],
        ),
        _f(
            "customer",
            gettext_lazy("Customer name"),
            Order,
            "external_reference",
            ["客户名称", "客户", "购货单位", "购买方", "customer", "customer name", "buyer"],
        ),
        _f(
            "ordered_on",
            gettext_lazy("Order date"),
            Order,
            "ordered_on",
            ["订单日期", "下单日期", "日期", "销售日期", "order date", "date"],
            is_date=True,
        ),
        _f(
            "code",
            gettext_lazy("Product or specification code"),
            Order,
            "external_reference",
            ["规格编码", "产品编码", "物料编码", "商品编码", "编码", "货号", "code", "sku", "item code"],
        ),
        _f("quantity", gettext_lazy("Quantity"), Order, "external_reference", ["数量", "订购数量", "qty", "quantity"]),
        _f(
            "unit_price",
            gettext_lazy("Unit price with tax"),
            Order,
            "external_reference",
            ["含税单价", "单价", "成交价", "价格", "unit price", "price"],
        ),
        _f("notes", gettext_lazy("Notes"), Order, "notes", ["备注", "说明", "notes", "remark"]),
    ]
)


class OrderTarget(ImportTarget):
    name = ORDERS
    label = gettext_lazy("Orders (sales records)")
    title = gettext_lazy("Import orders (one row per order line)")
    fields = ORDER_FIELDS
    order = 41
    list_url_name = "orders:list"
    list_label = gettext_lazy("Go to the orders")
    record_label = pgettext_lazy("sales order", "Order")
    required_message = gettext_lazy(
        "Choose the columns with the order number, the customer, the order date, the code and the quantity."
    )
    no_update_message = gettext_lazy("Orders are only added.")
    no_longer_message = gettext_lazy("You may no longer import sales records.")
    owner_message = gettext_lazy("Imported orders belong to the customer's owner.")

    def may_import(self, user) -> bool:
        return may_import(user)

    def mapping_errors(self, used):
        needed = {"number", "customer", "ordered_on", "code", "quantity"}
        return [] if needed <= used else [str(self.required_message)]

    def stager(self, job, actor):
        return OrderStager(job, actor)

    def match(self, rows, actor):
        """An order number already imported for that customer is a duplicate (skipped)."""
        wanted = {(values["customer_id"], values["number"]) for _n, values in rows if values.get("customer_id")}
        if not wanted:
            return {}
        existing = set(
            Order.objects.filter(
                customer_id__in={c for c, _n in wanted},
                external_reference__in={n for _c, n in wanted},
                deleted_at__isnull=True,
            ).values_list("customer_id", "external_reference", "pk")
        )
        by_key = {(c, n): pk for c, n, pk in existing}
        found = {}
        for number, values in rows:
            pk = by_key.get((values.get("customer_id"), values.get("number")))
            if pk is not None:
                match = {"id": pk, "name": values["number"], "owner": "", "reasons": ["number"], "in_scope": True}
                found[number] = ([match], None)
        return found

    def row_view(self, row) -> dict:
        values = row.values
        matches = [{**m, "url": reverse("orders:detail", args=[m["id"]]) if m.get("id") else ""} for m in row.matches]
        return {
            "name": f"{values.get('number', '')} · {values.get('customer', '')}",
            "contact": f"{values.get('code', '')} × {values.get('quantity', '')}",
            "phone": f"¥{values['unit_price']}" if values.get("unit_price") else "",
            "owner": values.get("ordered_on", ""),
            "matches": matches,
        }

    def plan(self, job, actor):
        return OrderPlan(job, actor)


class OrderStager(SellThroughStager):
    fields = ORDER_FIELDS
    parsers = {
        "ordered_on": lambda text: parse_date(text).isoformat(),
        "quantity": lambda text: str(parse_quantity(text)),
        "unit_price": lambda text: str(parse_money(text)),
    }

    def stage(self, number: int, cells) -> Staged:
        if (reason := skip_reason(cells)) is not None:
            return Staged(number, {}, {"__all__": [reason]}, RowAction.SKIP)
        raw, errors = self.read(cells)
        for name, message in (
            ("number", _("The order number is missing.")),
            ("customer", _("The customer is missing.")),
            ("ordered_on", _("The order date is missing.")),
            ("code", _("The code is missing.")),
            ("quantity", _("The quantity is missing.")),
        ):
            if name not in raw and name not in errors:
                errors[name] = [message]
        if len(raw.get("number", "")) > 60:
            errors["number"] = [_("Use at most %(n)s characters.") % {"n": 60}]
        if raw.get("customer"):
            found = self._dealer(raw["customer"])
            if not found:
                errors["customer"] = [_("No customer you see is called “%(name)s”.") % {"name": raw["customer"]}]
            elif len(found) > 1:
                errors["customer"] = [_("Several customers are called “%(name)s”.") % {"name": raw["customer"]}]
            else:
                raw["customer_id"] = found[0]
        if raw.get("code"):
            spec, _product = self._code(raw["code"])
            if spec is None:
                errors["code"] = [_("No specification has the code %(code)s.") % {"code": raw["code"]}]
            else:
                raw["specification_id"] = spec.pk
        if raw.get("ordered_on") and raw["ordered_on"] > timezone.localdate().isoformat():
            errors["ordered_on"] = [_("An imported order cannot be dated in the future.")]
        return Staged(number, raw, errors, RowAction.SKIP if errors else RowAction.CREATE)


class OrderPlan(ImportPlan):
    """Rows grouped by (customer, order number) into orders; all written through the order services'
    own line rules (prices from the file, else the price book), booked at once."""

    def __init__(self, job, actor):
        self.job, self.actor = job, actor
        self.groups: dict[tuple[int, str], list[tuple[int, dict]]] = defaultdict(list)
        self.skipped = 0

    def add(self, batch) -> None:
        if not may_import(self.actor):
            raise PermissionDenied
        for number, values, errors, action, _target in batch:
            if errors or action == RowAction.SKIP:
                self.skipped += 1
                continue
            self.groups[(values["customer_id"], values["number"])].append((number, values))

    def write(self) -> dict:
        customers = {
            c.pk: c
            for c in customer_qs_visible_to(self.actor)
            .filter(pk__in={c for c, _n in self.groups})
            .select_related("owner")
        }
        specs = {s.pk: s for s in Specification.objects.select_related("product").filter(
            pk__in={v["specification_id"] for rows in self.groups.values() for _n, v in rows}
        )}  # fmt: skip
        created = lines = 0
        total = Decimal(0)
        for (customer_id, number), rows in self.groups.items():
            customer = customers.get(customer_id)
            if customer is None:
                raise PermissionDenied
            dates = {v["ordered_on"] for _n, v in rows}
            if len(dates) > 1:
                raise ValidationError(
                    _("Rows %(rows)s: order %(number)s has more than one order date.")
                    % {"rows": ", ".join(str(n) for n, _v in rows), "number": number}
                )
            order = self._order(customer, number, date.fromisoformat(dates.pop()), rows)
            pairs = [(specs[v["specification_id"]], Decimal(v["quantity"])) for _n, v in rows]
            prices = [Decimal(v["unit_price"]) if v.get("unit_price") else None for _n, v in rows]
            try:
                services._add(order, pairs, prices)
            except ValidationError as exc:
                raise ValidationError(
                    _("Order %(number)s (rows %(rows)s): %(problem)s")
                    % {"number": number, "rows": ", ".join(str(n) for n, _v in rows), "problem": " ".join(exc.messages)}
                ) from None
            services._recount(order)
            OrderLine.objects.filter(order=order).update(is_booked=True)
            services._contract_rollups(order.contract_id)
            events.record(
                OrderEvent.CONFIRMED,
                actor=self.actor,
                subject=order,
                customer_id=customer.pk,
                summary=_("%(number)s imported (%(reference)s) · ¥%(total)s")
                % {"number": order.number, "reference": number, "total": f"{order.total:,.2f}"},
                payload={"order": order.pk, "import": self.job.pk},
                audit=AuditAction.CREATE,
            )
            created += 1
            lines += len(rows)
            total += order.total
        return {
            "created": created,
            "updated": 0,
            "skipped": self.skipped,
            "lines": lines,
            "total": str(money.round_fen(total)),
        }

    def _order(self, customer: Customer, number: str, ordered_on: date, rows) -> Order:
        now = timezone.now()
        notes = "\n".join(dict.fromkeys(v["notes"] for _n, v in rows if v.get("notes")))[:2000]
        order = Order(
            customer=customer,
            owner=customer.owner if customer.owner_id and customer.owner.is_active else self.actor,
            source=OrderSource.IMPORT,
            state=OrderState.CONFIRMED,
            ordered_on=ordered_on,
            external_reference=number,
            notes=notes,
            approved_at=now,
            confirmed_at=now,
            created_by=self.actor,
        )
        return services._save_numbered(order)
