"""Importing products with their specifications (SAL-4, INT-1): the catalog's target for the
shared import machinery in kehu.integrations (upload, header detection with title rows and merged
headers, note and total rows left out, mapping, preview, all or nothing, progress).

One row per specification: product code, name, category path ("泵/离心泵"), unit, tax rate,
specification code and name, list price, cost, floor price, status. Rows of one product share its
code; the product's fields are read from its first row. A row whose specification code already
exists is a duplicate: skipped unless the importer chooses to update it (its product's fields,
the specification's name and its list price). The write is set-based: categories, products,
specifications and list prices are inserted or updated in bulk in the run's one transaction.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.catalog import services
from kehu.catalog.models import PriceItem, PriceList, Product, ProductStatus, Specification
from kehu.core.models import AuditAction, AuditEntry
from kehu.integrations.fields import CellError, ImportField, UnmatchedChoiceError, parse_cell
from kehu.integrations.models import ImportRow, RowAction
from kehu.integrations.targets import ImportPlan, ImportTarget, Staged
from kehu.integrations.vcard import skip_reason

PRODUCTS = "products"
PRODUCT_ATTRS = ("name", "category", "unit", "tax_rate", "cost", "floor_price", "status")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _f(name, label, model, attr, synonyms, **kw):
    return name, ImportField(name, label, model, attr, tuple(synonyms), **kw)


PRODUCT_FIELDS: dict[str, ImportField] = dict(
    [
        _f(
            "code",
            gettext_lazy("Product code"),
            Product,
            "code",
            [
                "产品编码",
                "产品编号",
                "产品代码",
                "商品编码",
                "商品编号",
                "物料编码",
                "物料号",
                "货号",
                "编码",
                "productcode",
                "sku",
                "itemcode",
            ],
        ),
        _f(
            "name",
            gettext_lazy("Product name"),
            Product,
            "name",
            ["产品名称", "品名", "商品名称", "产品", "名称", "物料名称", "productname", "product", "name", "item"],
        ),
        _f(
            "category",
            gettext_lazy("Category"),
            Product,
            "name",
            ["产品分类", "产品类别", "分类", "类别", "品类", "大类", "category", "productcategory"],
        ),
        _f("unit", gettext_lazy("Unit"), Product, "unit", ["单位", "计量单位", "unit", "uom"]),
        _f(
            "tax_rate",
            gettext_lazy("Tax rate"),
            Product,
            "unit",
            ["税率", "增值税税率", "税率%", "taxrate", "vat", "tax"],
        ),
        _f(
            "spec_code",
            gettext_lazy("Specification code"),
            Specification,
            "code",
            [
                "规格编码",
                "规格编号",
                "型号编码",
                "规格代码",
                "speccode",
                "specificationcode",
                "variantcode",
                "modelcode",
            ],
        ),
        _f(
            "spec_name",
            gettext_lazy("Specification / model"),
            Specification,
            "name",
            ["规格型号", "规格", "型号", "规格/型号", "specification", "spec", "model", "variant"],
        ),
        _f(
            "list_price",
            gettext_lazy("List price (CNY)"),
            Product,
            "unit",
            [
                "目录价",
                "目录价格",
                "列表价",
                "标准价",
                "含税单价",
                "单价",
                "销售价",
                "售价",
                "价格",
                "listprice",
                "price",
                "unitprice",
            ],
        ),
        _f(
            "cost", gettext_lazy("Unit cost (CNY)"), Product, "unit", ["成本", "成本价", "单位成本", "cost", "unitcost"]
        ),
        _f(
            "floor_price",
            gettext_lazy("Floor price (CNY)"),
            Product,
            "unit",
            ["最低价", "底价", "最低售价", "限价", "floorprice", "minimumprice", "minprice"],
        ),
        _f(
            "status",
            gettext_lazy("Status"),
            Product,
            "status",
            ["状态", "销售状态", "产品状态", "status"],
            choices=ProductStatus,
            extra={
                "choice_synonyms": {
                    "在售": "active",
                    "正常": "active",
                    "上架": "active",
                    "有效": "active",
                    "停售": "discontinued",
                    "停产": "discontinued",
                    "下架": "discontinued",
                    "淘汰": "discontinued",
                    "未上市": "draft",
                    "待上市": "draft",
                    "草稿": "draft",
                    "新品": "draft",
                }
            },
        ),
    ]
)
MONEY_FIELDS = ("list_price", "cost", "floor_price")


def may_import(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.has_perm("catalog.manage_catalog")


def parse_money(text: str) -> Decimal:
    """ "¥1,280.00", "1280元", "１２８０" → Decimal; CellError otherwise (negative too)."""
    clean = unicodedata.normalize("NFKC", text).strip()
    for mark in ("¥", "￥", "RMB", "CNY", "元", ",", " "):
        clean = clean.replace(mark, "")
    if not NUMBER.match(clean):
        raise CellError(_("“%(value)s” is not an amount.") % {"value": text})
    value = Decimal(clean)
    if value < 0:
        raise CellError(_("An amount cannot be negative."))
    if value >= Decimal("1e10"):
        raise CellError(_("“%(value)s” is too large.") % {"value": text})
    return value.quantize(Decimal("0.0001"))


def parse_tax_rate(text: str) -> Decimal:
    """ "13%", "13", "0.13", "13.00" → Decimal("13.00")."""
    clean = unicodedata.normalize("NFKC", text).strip().replace("%", "").replace(" ", "")
    if clean in ("免税", "零税率"):
        return Decimal("0.00")
    try:
        value = Decimal(clean)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a tax rate (write 13% or 13).") % {"value": text}) from None
    if not value.is_finite():
        raise CellError(_("“%(value)s” is not a tax rate (write 13% or 13).") % {"value": text})
    if Decimal("0") < value < Decimal("1"):
        value *= 100  # 0.13 written as a fraction
    if not Decimal("0") <= value <= Decimal("100"):
        raise CellError(_("A tax rate lies between 0 and 100%."))
    return value.quantize(Decimal("0.01"))


class ProductTarget(ImportTarget):
    name = PRODUCTS
    label = gettext_lazy("Products and specifications")
    title = gettext_lazy("Import products and specifications")
    fields = PRODUCT_FIELDS
    order = 30
    list_url_name = "catalog:product-list"
    list_label = gettext_lazy("Go to the products")
    record_label = gettext_lazy("Product")
    required_message = gettext_lazy("Choose the columns with the product code and the product name.")
    no_update_message = gettext_lazy("No existing specification has this code; it can only be added.")
    no_longer_message = gettext_lazy("You may no longer change the catalog.")
    owner_message = gettext_lazy("Products have no owner.")

    def may_import(self, user) -> bool:
        return may_import(user)

    def mapping_errors(self, used):
        return [] if {"code", "name"} <= used else [str(self.required_message)]

    def stager(self, job, actor):
        return ProductStager(job, actor)

    def match(self, rows, actor):
        codes = {values["spec"]["code"]: number for number, values in rows}
        found = {}
        existing = Specification.objects.filter(code__in=list(codes)).select_related("product")
        by_code = {s.code: s for s in existing}
        for number, values in rows:
            spec = by_code.get(values["spec"]["code"])
            if spec is not None:
                match = {
                    "id": spec.product_id,
                    "name": f"{spec.product.code} {spec.product.name} · {spec.name}",
                    "owner": "",
                    "reasons": ["code"],
                    "in_scope": True,
                }
                found[number] = ([match], spec.pk)
        return found

    def row_view(self, row: ImportRow) -> dict:
        product = row.values.get("product", {})
        spec = row.values.get("spec", {})
        matches = [
            {**m, "url": reverse("catalog:product-detail", args=[m["id"]]) if m.get("id") else ""} for m in row.matches
        ]
        price = row.values.get("list_price")
        return {
            "name": " ".join(p for p in (product.get("code", ""), product.get("name", "")) if p),
            "contact": " ".join(p for p in (spec.get("code", ""), spec.get("name", "")) if p),
            "phone": f"¥{price}" if price else "",
            "owner": row.values.get("category", ""),
            "matches": matches,
        }

    def plan(self, job, actor):
        return ProductPlan(job, actor)


class ProductStager:
    """File row → staged specification row with its product's fields. A specification code seen
    in an earlier row of the file is an error (it would be two specifications with one code)."""

    def __init__(self, job, actor):
        self.mapping = [(int(col), PRODUCT_FIELDS[name]) for col, name in job.mapping.items() if name in PRODUCT_FIELDS]
        self.chosen = job.value_mapping or {}
        self.spec_rows: dict[str, int] = {}
        self.spec_counts: dict[str, int] = {}

    def stage(self, number: int, cells: list[str] | None) -> Staged:
        if (reason := skip_reason(cells)) is not None:
            return Staged(number, {}, {"__all__": [reason]}, RowAction.SKIP)
        errors: dict[str, list[str]] = {}
        warnings: dict[str, list[str]] = {}
        raw: dict[str, object] = {}
        for index, fld in self.mapping:
            text = cells[index].strip() if index < len(cells) else ""
            if not text:
                continue
            try:
                if fld.name in MONEY_FIELDS:
                    raw[fld.name] = str(parse_money(text))
                elif fld.name == "tax_rate":
                    raw[fld.name] = str(parse_tax_rate(text))
                else:
                    raw[fld.name] = parse_cell(fld, text, self.chosen.get(fld.name))
            except UnmatchedChoiceError as exc:
                warnings[fld.name] = [str(exc)]
            except CellError as exc:
                errors[fld.name] = [str(exc)]
        code = str(raw.get("code", ""))
        if not code:
            errors.setdefault("code", []).append(_("The product code is missing."))
        elif len(code) > 40:
            errors.setdefault("code", []).append(_("A product code has at most 40 characters."))
        if not raw.get("name"):
            errors.setdefault("name", []).append(_("The product name is missing."))
        spec_code = str(raw.get("spec_code") or code)
        spec_name = str(raw.get("spec_name") or _("Standard"))
        if len(spec_code) > 60:
            errors.setdefault("spec_code", []).append(_("A specification code has at most 60 characters."))
        if len(str(raw.get("name", ""))) > 200 or len(spec_name) > 200:
            errors.setdefault("name", []).append(_("Use at most 200 characters."))
        if len(str(raw.get("unit", ""))) > 10:
            errors.setdefault("unit", []).append(_("A unit has at most 10 characters."))
        if spec_code and spec_code in self.spec_rows:
            errors.setdefault("spec_code", []).append(
                _("The specification code “%(code)s” is already in row %(row)s.")
                % {"code": spec_code, "row": self.spec_rows[spec_code]}
            )
        elif spec_code and not errors:
            self.spec_rows[spec_code] = number
        product = {k: raw[k] for k in PRODUCT_ATTRS if k in raw and k != "category"}
        product["code"] = code
        values = {
            "product": product,
            "category": str(raw.get("category", "")),
            "spec": {"code": spec_code, "name": spec_name},
            "list_price": raw.get("list_price"),
        }
        return Staged(number, values, errors, RowAction.SKIP if errors else RowAction.CREATE, warnings=warnings)


class ProductPlan(ImportPlan):
    """The chosen rows, grouped by product; `write` inserts and updates them all at once."""

    def __init__(self, job, actor):
        self.job = job
        self.actor = actor
        self.rows: list[tuple[int, dict, str]] = []  # (number, values, action)
        self.skipped = 0

    def add(self, batch: list[tuple]) -> None:
        if not may_import(self.actor):
            raise PermissionDenied
        for number, values, errors, action, _target_id in batch:
            if errors or action == RowAction.SKIP:
                self.skipped += 1
                continue
            self.rows.append((number, values, action))

    def write(self) -> dict:
        now = timezone.now()
        actor = self.actor
        codes = {values["product"]["code"] for _n, values, _a in self.rows}
        spec_codes = {values["spec"]["code"] for _n, values, _a in self.rows}
        products = {p.code: p for p in Product.objects.filter(code__in=codes)}
        specs = {s.code: s for s in Specification.objects.filter(code__in=spec_codes)}
        categories: dict = {}
        new_products: dict[str, Product] = {}
        changed_products: dict[str, dict] = {}
        new_specs: list[tuple[str, Specification]] = []
        changed_specs: list[Specification] = []
        prices: dict[tuple[str, str], Decimal] = {}
        for number, values, action in self.rows:
            fields = dict(values["product"])
            code = fields.pop("code")
            category = (
                services.category_for_path(values["category"], actor=actor, cache=categories)
                if values["category"]
                else None
            )
            spec_values = values["spec"]
            existing_spec = specs.get(spec_values["code"])
            product = products.get(code) or new_products.get(code)
            if existing_spec is not None and action != RowAction.UPDATE:
                raise ValidationError(
                    _("Row %(row)s: the specification code “%(code)s” exists already; choose to update it.")
                    % {"row": number, "code": spec_values["code"]}
                )
            if existing_spec is not None and product is not None and existing_spec.product_id != product.pk:
                raise ValidationError(
                    _("Row %(row)s: the specification “%(code)s” belongs to another product.")
                    % {"row": number, "code": spec_values["code"]}
                )
            if product is None:
                product = Product(
                    code=code,
                    name=fields.get("name", code),
                    category=category,
                    unit=fields.get("unit") or "台",
                    status=fields.get("status") or ProductStatus.ACTIVE,
                    tax_rate=Decimal(fields["tax_rate"]) if fields.get("tax_rate") else Decimal("13.00"),
                    cost=Decimal(fields["cost"]) if fields.get("cost") else None,
                    floor_price=Decimal(fields["floor_price"]) if fields.get("floor_price") else None,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                )
                new_products[code] = product
            elif product.pk is not None:
                if product.is_deleted:
                    raise ValidationError(
                        _("Row %(row)s: the product “%(code)s” is in the recycle bin; restore it first.")
                        % {"row": number, "code": code}
                    )
                if action == RowAction.UPDATE and code not in changed_products:
                    changes = self._apply(product, fields, category)
                    changed_products[code] = changes
            if existing_spec is None:
                new_specs.append((code, Specification(code=spec_values["code"], name=spec_values["name"])))
            elif existing_spec.name != spec_values["name"] and spec_values["name"]:
                existing_spec.name = spec_values["name"]
                existing_spec.updated_at = now
                changed_specs.append(existing_spec)
            if values.get("list_price"):
                prices[(code, spec_values["code"])] = Decimal(values["list_price"])
        for product in new_products.values():
            services._product_clean(product)  # the service's own checks, on every new product
        Product.objects.bulk_create(list(new_products.values()), batch_size=500)
        for code, product in new_products.items():
            products[code] = product
        updated = [products[c] for c, ch in changed_products.items() if ch]
        for product in updated:
            product.version += 1
            product.updated_at = now
        Product.objects.bulk_update(updated, [*PRODUCT_ATTRS, "version", "updated_at"], batch_size=500)
        positions: dict[int, int] = {}
        for code, spec in new_specs:
            spec.product = products[code]
            pid = spec.product.pk
            if pid not in positions:
                positions[pid] = Specification.objects.filter(product_id=pid).count() if code not in new_products else 0
            spec.position = positions[pid]
            positions[pid] += 1
            spec.created_at = spec.updated_at = now
        Specification.objects.bulk_create([s for _c, s in new_specs], batch_size=1000)
        Specification.objects.bulk_update(changed_specs, ["name", "updated_at"], batch_size=1000)
        price_count = self._write_prices(prices, products)
        self._refresh_search_text([p.pk for p in products.values() if p.pk])
        audits = [
            AuditEntry(
                at=now,
                actor=actor,
                action=AuditAction.CREATE,
                target_type="catalog.product",
                target_id=p.pk,
                target_repr=str(p)[:200],
                changes={"import": [None, self.job.pk]},
            )
            for p in new_products.values()
        ] + [
            AuditEntry(
                at=now,
                actor=actor,
                action=AuditAction.UPDATE,
                target_type="catalog.product",
                target_id=products[c].pk,
                target_repr=str(products[c])[:200],
                changes={**ch, "import": [None, self.job.pk]},
            )
            for c, ch in changed_products.items()
            if ch
        ]
        AuditEntry.objects.bulk_create(audits, batch_size=1000)
        return {
            "created": len(new_products),
            "updated": len(updated),
            "skipped": self.skipped,
            "specifications_created": len(new_specs),
            "specifications_updated": len(changed_specs),
            "list_prices": price_count,
        }

    def _apply(self, product: Product, fields: dict, category) -> dict:
        changes = {}
        wanted = dict(fields)
        if category is not None:
            wanted["category"] = category
        for name, value in wanted.items():
            if name in ("tax_rate", "cost", "floor_price") and value not in (None, ""):
                value = Decimal(value)
            if value in (None, ""):
                continue
            before = getattr(product, name)
            if before != value:
                changes[name] = [str(before) if before is not None else None, str(value)]
                setattr(product, name, value)
        return changes

    def _write_prices(self, prices: dict, products: dict) -> int:
        """The list prices, in the list-price list in force today (a new one when there is none):
        an existing base price of the specification is changed, else one is added."""
        if not prices:
            return 0
        book: PriceList = services.list_price_list(actor=self.actor)
        spec_ids = dict(Specification.objects.filter(code__in=[s for _c, s in prices]).values_list("code", "pk"))
        existing = {
            item.specification_id: item
            for item in PriceItem.objects.filter(
                price_list=book,
                specification_id__in=list(spec_ids.values()),
                min_quantity__lte=1,
                valid_from__isnull=True,
            )
        }
        new, changed = [], []
        for (code, spec_code), price in prices.items():
            spec_id = spec_ids[spec_code]
            item = existing.get(spec_id)
            if item is None:
                new.append(
                    PriceItem(
                        price_list=book, product=products[code], specification_id=spec_id, min_quantity=1, price=price
                    )
                )
            elif item.price != price or item.percent_of_list is not None:
                item.price, item.percent_of_list = price, None
                changed.append(item)
        PriceItem.objects.bulk_create(new, batch_size=1000)
        PriceItem.objects.bulk_update(changed, ["price", "percent_of_list"], batch_size=1000)
        if new or changed:
            AuditEntry.objects.create(
                actor=self.actor,
                action=AuditAction.UPDATE,
                target_type="catalog.pricelist",
                target_id=book.pk,
                target_repr=str(book)[:200],
                changes={"prices": [None, len(new) + len(changed)], "import": [None, self.job.pk]},
            )
        return len(new) + len(changed)

    def _refresh_search_text(self, product_ids: list[int]) -> None:
        specs: dict[int, list] = {}
        for spec in Specification.objects.filter(product_id__in=product_ids).order_by("position", "id"):
            specs.setdefault(spec.product_id, []).append(spec)
        touched = list(Product.objects.filter(pk__in=product_ids))
        for product in touched:
            product.search_text = services.search_text_of(product, specs.get(product.pk, []))
        Product.objects.bulk_update(touched, ["search_text"], batch_size=1000)
