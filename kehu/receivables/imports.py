"""Importing payments (回款) from the spreadsheets finance keeps (INT-1): the receivables' target for
the shared import machinery in kehu.integrations (upload, header detection past title rows, note
and total rows left out, mapping, preview, all or nothing, progress).

One row per payment: date received, customer (its name as Kehu knows it, or its unified social
credit code), amount, method, bank reference, account, payer, notes. A negative amount (or 退款 in
the method) is a refund. Each payment is recorded through `payment_record` and allocated to the
customer's plans oldest due first; what is left stays unallocated. Whoever may import payments
(finance, managers) records them without the approval step. A row whose customer is unknown or
outside the importer's scope, or whose bank reference was already recorded for that customer, is
shown as an error and not imported. The report counts rows created, skipped and refused, the
total received, allocated and left unallocated.
"""

import unicodedata
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.catalog.imports import parse_money
from kehu.core.money import round_fen
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.integrations.fields import CellError, ImportField, UnmatchedChoiceError, parse_cell
from kehu.integrations.models import RowAction
from kehu.integrations.targets import ImportPlan, ImportTarget, Staged
from kehu.integrations.vcard import skip_reason
from kehu.receivables.models import Payment, PaymentMethod

PAYMENTS = "payments"


def _f(name, label, attr, synonyms, **kw):
    return name, ImportField(name, label, Payment, attr, tuple(synonyms), **kw)


PAYMENT_FIELDS: dict[str, ImportField] = dict(
    [
        _f(
            "received_on",
            gettext_lazy("Date received"),
            "received_on",
            ["回款日期", "到账日期", "收款日期", "日期", "入账日期", "交易日期", "date", "receivedon", "paymentdate"],
            is_date=True,
        ),
        _f(
            "customer",
            gettext_lazy("Customer"),
            "payer_name",
            ["客户名称", "客户", "付款单位", "单位名称", "客户全称", "customer", "customername", "company"],
        ),
        _f(
            "credit_code",
            gettext_lazy("Unified social credit code"),
            "payer_name",
            ["统一社会信用代码", "信用代码", "税号", "creditcode", "taxnumber"],
        ),
        _f(
            "amount",
            gettext_lazy("Amount (CNY)"),
            "reference",
            ["回款金额", "收款金额", "到账金额", "金额", "金额（元）", "金额(元)", "amount", "sum"],
        ),
        _f(
            "method",
            gettext_lazy("Method"),
            "method",
            ["付款方式", "收款方式", "结算方式", "回款方式", "方式", "method", "paymentmethod"],
            choices=PaymentMethod,
            extra={
                "choice_synonyms": {
                    "转账": "transfer",
                    "银行转账": "transfer",
                    "电汇": "transfer",
                    "网银": "transfer",
                    "汇款": "transfer",
                    "承兑": "acceptance",
                    "承兑汇票": "acceptance",
                    "银行承兑": "acceptance",
                    "银承": "acceptance",
                    "商票": "acceptance",
                    "现金": "cash",
                    "支票": "cheque",
                    "微信": "online",
                    "支付宝": "online",
                    "在线支付": "online",
                    "其他": "other",
                    "退款": "other",
                }
            },
        ),
        _f(
            "reference",
            gettext_lazy("Bank reference"),
            "reference",
            ["银行流水号", "流水号", "交易流水号", "凭证号", "回单号", "票据号", "reference", "bankreference"],
        ),
        _f(
            "bank_account",
            gettext_lazy("Received into account"),
            "bank_account",
            ["收款账户", "收款账号", "收款银行", "入账账户", "账户", "account", "bankaccount"],
        ),
        _f(
            "payer_name", gettext_lazy("Paid by"), "payer_name", ["付款人", "付款户名", "汇款人", "付款账户名", "payer"]
        ),
        _f("notes", gettext_lazy("Notes"), "notes", ["备注", "说明", "摘要", "notes", "remarks", "memo"]),
    ]
)


def may_import(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.has_perm("receivables.import_payments")


def parse_signed_money(text: str) -> Decimal:
    """An amount as finance writes it ("¥12,800.00", "12800元", "-300", "(300.00)"), to the fen."""
    clean = unicodedata.normalize("NFKC", text).strip()
    negative = clean.startswith("-") or (clean.startswith("(") and clean.endswith(")"))
    clean = clean.strip("()").lstrip("-")
    value = round_fen(parse_money(clean))
    if value == 0:
        raise CellError(_("The amount is zero."))
    return -value if negative else value


class PaymentTarget(ImportTarget):
    name = PAYMENTS
    label = gettext_lazy("Payments received (回款)")
    title = gettext_lazy("Import payments received")
    fields = PAYMENT_FIELDS
    order = 60
    list_url_name = "receivables:payment-list"
    list_label = gettext_lazy("Go to the payments")
    record_label = gettext_lazy("Payment")
    required_message = gettext_lazy("Choose the columns with the date, the customer and the amount.")
    no_update_message = gettext_lazy("A payment is never updated by an import; it can only be added.")
    no_longer_message = gettext_lazy("You may no longer import payments.")
    owner_message = gettext_lazy("A payment is credited to the customer's owner.")

    def may_import(self, user) -> bool:
        return may_import(user)

    def mapping_errors(self, used):
        ok = {"received_on", "amount"} <= used and bool({"customer", "credit_code"} & used)
        return [] if ok else [str(self.required_message)]

    def stager(self, job, actor):
        return PaymentStager(job, actor)

    def match(self, rows, actor):
        return {}

    def row_view(self, row) -> dict:
        v = row.values
        return {
            "name": v.get("customer_name", ""),
            "contact": " · ".join(p for p in (v.get("received_on", ""), v.get("reference", "")) if p),
            "phone": f"¥{v['amount']}" if v.get("amount") else "",
            "owner": v.get("method_label", ""),
            "matches": [],
        }

    def plan(self, job, actor):
        return PaymentPlanWriter(job, actor)


class PaymentStager:
    """File row → a staged payment with its customer resolved (names and codes looked up once each)."""

    def __init__(self, job, actor):
        self.mapping = [(int(col), PAYMENT_FIELDS[name]) for col, name in job.mapping.items() if name in PAYMENT_FIELDS]
        self.chosen = job.value_mapping or {}
        self.actor = actor
        self.visible = customer_qs_visible_to(actor)
        self.customers: dict[tuple[str, str], Customer | None] = {}
        self.references: dict[tuple[int, str], int] = {}

    def _customer(self, name: str, code: str) -> Customer | None:
        key = (name, code)
        if key not in self.customers:
            qs = self.visible.filter(credit_code=code) if code else self.visible.filter(name=name)
            found = list(qs.only("pk", "name", "owner_id")[:2])
            self.customers[key] = found[0] if len(found) == 1 else None
        return self.customers[key]

    def stage(self, number: int, cells) -> Staged:
        if (reason := skip_reason(cells)) is not None:
            return Staged(number, {}, {"__all__": [reason]}, RowAction.SKIP)
        errors: dict[str, list[str]] = {}
        warnings: dict[str, list[str]] = {}
        raw: dict[str, object] = {}
        for index, fld in self.mapping:
            text = cells[index].strip() if index < len(cells) and cells[index] else ""
            if not text:
                continue
            try:
                if fld.name == "amount":
                    raw["amount"] = parse_signed_money(text)
                else:
                    raw[fld.name] = parse_cell(fld, text, self.chosen.get(fld.name))
                    if fld.name == "method" and "退" in text:
                        raw["refund"] = True
            except UnmatchedChoiceError as exc:
                warnings[fld.name] = [str(exc)]
            except CellError as exc:
                errors[fld.name] = [str(exc)]
        name, code = str(raw.get("customer", "")), str(raw.get("credit_code", "")).upper()
        amount = raw.get("amount")
        if not raw.get("received_on") and "received_on" not in errors:
            errors["received_on"] = [_("The date is missing.")]
        if amount is None and "amount" not in errors:
            errors["amount"] = [_("The amount is missing.")]
        customer = None
        if not name and not code:
            errors["customer"] = [_("The customer is missing.")]
        else:
            customer = self._customer(name, code)
            if customer is None:
                errors["customer"] = [
                    _("No customer of yours is called “%(name)s”; add it or correct the name.") % {"name": code or name}
                ]
        for fld, limit in (("reference", 60), ("bank_account", 60), ("payer_name", 200)):
            if len(str(raw.get(fld, ""))) > limit:
                errors[fld] = [_("At most %(n)s characters.") % {"n": limit}]
        reference = str(raw.get("reference", ""))
        if customer is not None and reference:
            key = (customer.pk, reference)
            if key in self.references:
                errors["reference"] = [
                    _("The bank reference “%(ref)s” is already in row %(row)s.")
                    % {"ref": reference, "row": self.references[key]}
                ]
            elif Payment.objects.filter(customer=customer, reference=reference, reverses__isnull=True).exists():
                errors["reference"] = [
                    _("A payment with the bank reference “%(ref)s” is recorded already.") % {"ref": reference}
                ]
            else:
                self.references[key] = number
        is_refund = bool(raw.get("refund")) or (amount is not None and amount < 0)
        method = raw.get("method") or PaymentMethod.TRANSFER
        values = {
            "customer_id": customer.pk if customer else None,
            "customer_name": customer.name if customer else (name or code),
            "received_on": raw.get("received_on", ""),
            "amount": str(abs(amount)) if amount is not None else "",
            "is_refund": is_refund,
            "method": method,
            "method_label": str(PaymentMethod(method).label),
            "reference": reference,
            "bank_account": str(raw.get("bank_account", "")),
            "payer_name": str(raw.get("payer_name", "")),
            "notes": str(raw.get("notes", "")),
        }
        return Staged(number, values, errors, RowAction.SKIP if errors else RowAction.CREATE, warnings=warnings)


class PaymentPlanWriter(ImportPlan):
    """The chosen rows, recorded one by one through the payment service inside the run's one
    transaction (a failure anywhere writes nothing)."""

    def __init__(self, job, actor):
        self.job = job
        self.actor = actor
        self.rows: list[tuple[int, dict]] = []
        self.skipped = 0

    def add(self, batch: list[tuple]) -> None:
        if not may_import(self.actor):
            raise PermissionDenied
        for number, values, errors, action, _target_id in batch:
            if errors or action == RowAction.SKIP:
                self.skipped += 1
                continue
            self.rows.append((number, values))

    def write(self) -> dict:
        from django.core.exceptions import ValidationError

        from kehu.receivables.services import payment_record

        customers = Customer.objects.in_bulk({v["customer_id"] for _n, v in self.rows})
        received = refunded = allocated = Decimal("0.00")
        for number, v in sorted(self.rows, key=lambda r: (r[1]["received_on"], r[0])):
            customer = customers.get(v["customer_id"])
            try:
                payment = payment_record(
                    actor=self.actor,
                    customer=customer,
                    amount=v["amount"],
                    received_on=v["received_on"],
                    method=v["method"],
                    bank_account=v["bank_account"],
                    payer_name=v["payer_name"],
                    reference=v["reference"],
                    notes=v["notes"],
                    is_refund=v["is_refund"],
                    import_job=self.job,
                    approval=False,
                )
            except ValidationError as exc:
                raise ValidationError(
                    _("Row %(row)s: %(error)s") % {"row": number, "error": " ".join(exc.messages)}
                ) from None
            if payment.is_refund:
                refunded += payment.amount
            else:
                received += payment.amount
                allocated += payment.allocated_amount
        return {
            "created": len(self.rows),
            "updated": 0,
            "skipped": self.skipped,
            "received": str(received),
            "refunded": str(refunded),
            "allocated": str(allocated),
            "unallocated": str(received - allocated),
        }


def register() -> None:
    from kehu.integrations.targets import register as register_target

    register_target(PaymentTarget())
