"""Every write of invoices (发票, SAL-5 CON-2): titles, requests, approval, issue and red-letter reversal.

Rules kept here:
- A customer keeps several invoice titles (抬头), one the default: making one the default unsets the
  old one in the same transaction (a partial unique index holds it). A company's title needs its
  taxpayer number, a valid unified social credit code; a special VAT invoice (专票) needs a company
  title with taxpayer number, bank, account, registered address and phone.
- A request bills an order's lines (by default each line's quantity not yet invoiced) or typed lines
  (an invoice without an order). An order line is never invoiced beyond its quantity: the quantities
  of the order's requests pending, approved and issued count (checked on request, submit and issue,
  with the order row locked).
- Amounts (`kehu.core.money`): a line's amount is quantity × unit price (tax included) rounded to the
  fen; the part of an order line that takes all that is left of it takes the order line's amount
  less what its other invoices hold, so an order invoiced in full is invoiced to the fen. Without
  tax = amount / (1 + rate) rounded to the fen, tax = the difference; totals are sums of the lines.
- draft → pending (approval; a credit exception first when the credit check holds the amount) →
  approved → issued by finance → reversed by a red-letter invoice (红冲), which is issued at once
  with negative amounts and lines and `reverses` the original. Both stay.
- Invoiced amounts (issued invoices, red ones negative) roll up to the order (with the quantity per
  order line) and to the contract (its own invoices and its orders'), in the transaction of the
  issue or the reversal.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.contracts.models import Contract, ContractStage
from kehu.contracts.services import contract_rollups_set
from kehu.core import events, lookups, money
from kehu.core.audit import audit_record
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction
from kehu.core.numbering import save_numbered
from kehu.core.text import check_text
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.services import credit_code_is_valid
from kehu.invoices import selectors
from kehu.invoices.events import InvoiceEvent
from kehu.invoices.models import Invoice, InvoiceLine, InvoiceState, InvoiceTitle, InvoiceType, TitleKind
from kehu.orders.models import BOOKED_STATES, Order, OrderLine
from kehu.orders.services import order_rollups_set
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

S = InvoiceState
ZERO = Decimal("0")
HUNDRED = Decimal("100")
QUANTITY_PLACES = Decimal("0.001")
MAX_QUANTITY = Decimal("99999999999")
MAX_AMOUNT = Decimal("99999999999999")
MAX_LINES = 500
NUMBER_WIDTH = 6
CONTRACT_STATES = (ContractStage.SIGNED, ContractStage.PERFORMING, ContractStage.COMPLETED)
TITLE_FIELDS = ("kind", "name", "tax_number", "bank_name", "bank_account", "address", "phone")
SNAPSHOT = {
    "name": "title_name",
    "tax_number": "tax_number",
    "bank_name": "bank_name",
    "bank_account": "bank_account",
    "address": "address",
    "phone": "phone",
}
INVOICE_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,40}$")
TAX_NUMBER = re.compile(r"^[0-9A-Z]{15,20}$")

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.PENDING, S.APPROVED, S.CANCELLED},
    S.PENDING: {S.APPROVED, S.DRAFT},
    S.APPROVED: {S.ISSUED, S.CANCELLED},
    S.ISSUED: {S.REVERSED},
    S.REVERSED: set(),
    S.CANCELLED: set(),
}


# --- helpers -------------------------------------------------------------------------------------


def invoice_link(invoice: Invoice) -> str:
    return f"/invoices/{invoice.pk}/"


def _state_label(state: str) -> str:
    return str(dict(InvoiceState.choices).get(state, state)).lower()


def may_change(actor: User, invoice: Invoice) -> bool:
    """Who asked for it and the managers over them change a request (not finance's issue)."""
    return (
        actor.is_authenticated
        and actor.has_perm("invoices.request_invoice")
        and invoice.deleted_at is None
        and is_in_team_of(actor, invoice.owner)
    )


def may_issue(actor: User) -> bool:
    return actor.is_authenticated and actor.has_perm("invoices.issue_invoice")


def _check_change(actor: User, invoice: Invoice) -> None:
    if not may_change(actor, invoice):
        raise PermissionDenied


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("customer", "owner").get(pk=invoice.pk)


def _transition(invoice: Invoice, to: str, *, fields: dict | None = None) -> Invoice:
    """Move `invoice` to `to` if the table allows it and nobody moved it first (a conditional UPDATE)."""
    source = invoice.state
    if to not in TRANSITIONS.get(source, set()):
        raise ValidationError(
            _("An invoice that is %(from)s cannot become %(to)s.")
            % {"from": _state_label(source), "to": _state_label(to)},
            code="transition",
        )
    now = timezone.now()
    values = {"state": to, **(fields or {})}
    updated = Invoice.objects.filter(pk=invoice.pk, state=source).update(
        version=F("version") + 1, updated_at=now, **values
    )
    if not updated:
        raise ValidationError(_("Someone else changed this invoice's state: reload it."), code="transition")
    for name, value in values.items():
        setattr(invoice, name, value)
    invoice.version += 1
    invoice.updated_at = now
    return invoice


def webhook_payload(invoice: Invoice) -> dict:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "invoice_number": invoice.invoice_number,
        "customer_id": invoice.customer_id,
        "order_id": invoice.order_id,
        "contract_id": invoice.contract_id,
        "owner_id": invoice.owner_id,
        "state": invoice.state,
        "invoice_type": invoice.invoice_type,
        "is_red": invoice.is_red,
        "reverses_id": invoice.reverses_id,
        "title_name": invoice.title_name,
        "tax_number": invoice.tax_number,
        "amount": str(invoice.amount),
        "amount_net": str(invoice.amount_net),
        "tax": str(invoice.tax),
        "issued_on": invoice.issued_on.isoformat() if invoice.issued_on else None,
    }


def _summary(invoice: Invoice, extra: str = "") -> str:
    text = f"{invoice.invoice_number or invoice.number} · {money.cny(invoice.amount)}"
    return f"{text} · {extra}" if extra else text


def _record(kind, invoice: Invoice, *, actor, timeline=True, audit=AuditAction.UPDATE, changes=None, **fields):
    return events.record(
        kind,
        actor=actor,
        subject=invoice,
        customer_id=invoice.customer_id if timeline else None,
        summary=fields.pop("summary", None) or _summary(invoice),
        payload={
            "invoice": invoice.pk,
            "number": invoice.number,
            "state": invoice.state,
            "amount": str(invoice.amount),
            "is_red": invoice.is_red,
        },
        audit=audit,
        changes=changes or {},
        link=invoice_link(invoice),
        **fields,
    )


# --- numbering -----------------------------------------------------------------------------------


def _save_numbered(invoice: Invoice) -> Invoice:
    return save_numbered(
        invoice,
        prefix=f"FP{timezone.localdate().year}-",
        width=NUMBER_WIDTH,
        failure=_("Could not give the invoice a number; try again."),
    )


# --- titles (抬头) --------------------------------------------------------------------------------


def may_manage_titles(actor: User, customer: Customer) -> bool:
    return (
        actor.is_authenticated
        and actor.has_perm("invoices.request_invoice")
        and customer.deleted_at is None
        and customer_qs_visible_to(actor).filter(pk=customer.pk).exists()
    )


def _clean_title(values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    clean = {}
    for name in TITLE_FIELDS:
        value = values.get(name, "")
        value = "" if value is None else str(value).strip()
        clean[name] = value
    if clean["kind"] not in TitleKind.values:
        errors["kind"] = [_("Choose a company or a person.")]
    max_lengths = {f: InvoiceTitle._meta.get_field(f).max_length for f in TITLE_FIELDS}
    for name in TITLE_FIELDS:
        if name == "kind":
            continue
        try:
            check_text(clean[name], field=name, max_length=max_lengths[name])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not clean["name"]:
        errors["name"] = [_("Enter the title the invoice is made out to.")]
    tax_number = clean["tax_number"].replace(" ", "").upper()
    clean["tax_number"] = tax_number
    if clean["kind"] == TitleKind.COMPANY:
        if not tax_number:
            errors["tax_number"] = [_("A company's invoice title needs its taxpayer number (税号).")]
        elif not credit_code_is_valid(tax_number):
            errors["tax_number"] = [
                _("%(code)s is not a valid unified social credit code (18 characters with its check character).")
                % {"code": tax_number}
            ]
    elif tax_number and not TAX_NUMBER.match(tax_number):
        errors["tax_number"] = [_("A taxpayer number has 15 to 20 letters and digits.")]
    account = clean["bank_account"].replace(" ", "")
    if account and not re.fullmatch(r"[0-9-]{4,40}", account):
        errors["bank_account"] = [_("A bank account has digits only.")]
    clean["bank_account"] = account
    if errors:
        raise ValidationError(errors)
    return clean


def _title_event(kind, title: InvoiceTitle, actor, audit) -> None:
    events.record(
        kind,
        actor=actor,
        subject=title,
        customer_id=title.customer_id,
        summary=f"{title.name} {title.tax_number}".strip(),
        payload={"title": title.pk, "is_default": title.is_default},
        audit=audit,
    )


def _make_default(title: InvoiceTitle) -> None:
    """The one default of its customer: the old one is unset first, in this transaction."""
    InvoiceTitle.objects.filter(customer_id=title.customer_id, is_default=True).exclude(pk=title.pk).update(
        is_default=False, updated_at=timezone.now()
    )
    InvoiceTitle.objects.filter(pk=title.pk).update(is_default=True, updated_at=timezone.now())
    title.is_default = True


@transaction.atomic
def invoice_title_create(*, customer: Customer, actor: User, is_default: bool = False, **values) -> InvoiceTitle:
    """A title of the customer; its first one, or one asked to be, becomes the default."""
    if not may_manage_titles(actor, customer):
        raise PermissionDenied
    clean = _clean_title(values)
    Customer.objects.select_for_update().filter(pk=customer.pk).first()  # titles of one customer in turn
    first = not InvoiceTitle.objects.filter(customer=customer, deleted_at__isnull=True).exists()
    title = InvoiceTitle.objects.create(customer=customer, is_default=False, **clean)
    if first or is_default:
        _make_default(title)
    _title_event(InvoiceEvent.TITLE_SAVED, title, actor, AuditAction.CREATE)
    return title


@transaction.atomic
def invoice_title_update(*, title: InvoiceTitle, actor: User, is_default: bool | None = None, **values) -> InvoiceTitle:
    """Change a title (issued invoices keep the title as it was: they copied it)."""
    if not may_manage_titles(actor, title.customer):
        raise PermissionDenied
    current = {name: getattr(title, name) for name in TITLE_FIELDS}
    clean = _clean_title({**current, **values})
    for name, value in clean.items():
        setattr(title, name, value)
    title.updated_at = timezone.now()
    title.save(update_fields=[*TITLE_FIELDS, "updated_at"])
    if is_default:
        _make_default(title)
    _title_event(InvoiceEvent.TITLE_SAVED, title, actor, AuditAction.UPDATE)
    return title


@transaction.atomic
def invoice_title_set_default(*, title: InvoiceTitle, actor: User) -> InvoiceTitle:
    if not may_manage_titles(actor, title.customer):
        raise PermissionDenied
    Customer.objects.select_for_update().filter(pk=title.customer_id).first()
    _make_default(title)
    _title_event(InvoiceEvent.TITLE_SAVED, title, actor, AuditAction.UPDATE)
    return title


@transaction.atomic
def invoice_title_delete(*, title: InvoiceTitle, actor: User) -> None:
    """Remove a title (invoices keep their copy); when it was the default, the next one by name is."""
    if not may_manage_titles(actor, title.customer):
        raise PermissionDenied
    Customer.objects.select_for_update().filter(pk=title.customer_id).first()
    now = timezone.now()
    InvoiceTitle.objects.filter(pk=title.pk).update(deleted_at=now, deleted_by=actor, is_default=False, updated_at=now)
    title.deleted_at, title.is_default = now, False
    following = (
        InvoiceTitle.objects.filter(customer_id=title.customer_id, deleted_at__isnull=True)
        .order_by("name", "pk")
        .first()
    )
    if (
        following is not None
        and not InvoiceTitle.objects.filter(
            customer_id=title.customer_id, deleted_at__isnull=True, is_default=True
        ).exists()
    ):
        _make_default(following)
    _title_event(InvoiceEvent.TITLE_DELETED, title, actor, AuditAction.DELETE)


# --- lines ---------------------------------------------------------------------------------------


def _decimal(value, field: str, message: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: [message]}) from None
    if not number.is_finite():
        raise ValidationError({field: [message]})
    return number


def _quantity(value, field: str = "quantity") -> Decimal:
    quantity = _decimal(value, field, _("Enter a quantity."))
    if quantity <= 0:
        raise ValidationError({field: [_("The quantity must be more than zero.")]})
    if quantity > MAX_QUANTITY:
        raise ValidationError({field: [_("This quantity is too large.")]})
    if quantity != quantity.quantize(QUANTITY_PLACES):
        raise ValidationError({field: [_("A quantity has at most three decimal places.")]})
    return quantity


def _price(value) -> Decimal:
    price = _decimal(value, "unit_price", _("Enter a unit price."))
    if price < 0:
        raise ValidationError({"unit_price": [_("A unit price cannot be negative.")]})
    if price >= MAX_AMOUNT / 100:
        raise ValidationError({"unit_price": [_("This unit price is too large.")]})
    if price != price.quantize(money.PRICE_PLACES):
        raise ValidationError({"unit_price": [_("A unit price has at most four decimal places.")]})
    return price


def _rate(value) -> Decimal:
    rate = _decimal(value, "tax_rate", _("Enter a tax rate in percent."))
    if not ZERO <= rate <= HUNDRED:
        raise ValidationError({"tax_rate": [_("A tax rate is between 0 and 100 %.")]})
    if rate != rate.quantize(Decimal("0.01")):
        raise ValidationError({"tax_rate": [_("A tax rate has at most two decimal places.")]})
    return rate


def _split(amount: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    net = money.round_fen(amount / (1 + rate / HUNDRED))
    return net, amount - net


def _prefixed(index: int, exc: ValidationError) -> list[str]:
    messages = [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "error_dict") else exc.messages
    return [_("Line %(n)s: %(problem)s") % {"n": index, "problem": m} for m in messages]


def remaining_of(order: Order, *, exclude_invoice_id: int | None = None) -> list[tuple[OrderLine, Decimal]]:
    """The order's lines with the quantity not yet held by an invoice, in order."""
    claimed = selectors.claimed_quantities(order.pk, exclude_invoice_id=exclude_invoice_id)
    lines = OrderLine.objects.filter(order=order).order_by("position", "pk")
    return [(line, max(line.quantity - claimed.get(line.pk, ZERO), ZERO)) for line in lines]


def _order_lines(invoice: Invoice, wanted) -> list[InvoiceLine]:
    """Lines from the order: [(order line id, quantity)], or None for every line's remaining quantity."""
    claimed = selectors.claimed_quantities(invoice.order_id, exclude_invoice_id=invoice.pk)
    claimed_amount = selectors.claimed_amounts(invoice.order_id, exclude_invoice_id=invoice.pk)
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order_id=invoice.order_id)}
    if wanted is None:
        wanted = [
            (line.pk, line.quantity - claimed.get(line.pk, ZERO))
            for line in sorted(order_lines.values(), key=lambda x: (x.position, x.pk))
            if line.quantity - claimed.get(line.pk, ZERO) > 0
        ]
        if not wanted:
            raise ValidationError({"lines": [_("Every line of this order is invoiced already.")]})
    elif not wanted:
        raise ValidationError({"lines": [_("Add at least one line.")]})
    errors: list[str] = []
    made: list[InvoiceLine] = []
    seen: set[int] = set()
    for index, item in enumerate(wanted, start=1):
        order_line_id, quantity = item
        line = order_lines.get(_int(order_line_id))
        if line is None:
            errors.append(_("Line %(n)s: not a line of this order.") % {"n": index})
            continue
        if line.pk in seen:
            errors.append(_("Line %(n)s: %(name)s is listed twice.") % {"n": index, "name": line.name})
            continue
        seen.add(line.pk)
        try:
            quantity = _quantity(quantity)
        except ValidationError as exc:
            errors.extend(_prefixed(index, exc))
            continue
        left = line.quantity - claimed.get(line.pk, ZERO)
        if quantity > left:
            errors.append(
                _("Line %(n)s: %(name)s has %(left)s %(unit)s left to invoice, not %(quantity)s.")
                % {"n": index, "name": line.name, "left": _plain(left), "unit": line.unit, "quantity": _plain(quantity)}
            )
            continue
        if quantity == left:  # the last part of the line takes what is left of its amount
            amount = line.amount - claimed_amount.get(line.pk, ZERO)
        else:
            amount = money.round_fen(quantity * line.unit_price)
        net, tax = _split(amount, line.tax_rate)
        made.append(
            InvoiceLine(
                invoice=invoice,
                position=len(made) + 1,
                order_line=line,
                product_id=line.product_id,
                specification_id=line.specification_id,
                name=line.name,
                specification_name=line.specification_name,
                unit=line.unit,
                quantity=quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                amount=amount,
                amount_net=net,
                tax=tax,
            )
        )
    if errors:
        raise ValidationError({"lines": errors})
    return made


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _typed_lines(invoice: Invoice, wanted) -> list[InvoiceLine]:
    """Typed lines: dicts of name, specification_name, unit, quantity, unit_price, tax_rate."""
    errors: list[str] = []
    made: list[InvoiceLine] = []
    for index, item in enumerate(wanted or [], start=1):
        try:
            name = check_text(str(item.get("name") or "").strip(), field="name", max_length=200)
            if not name:
                raise ValidationError({"name": [_("Name the goods or service.")]})
            spec = check_text(
                str(item.get("specification_name") or "").strip(), field="specification_name", max_length=200
            )
            unit = check_text(str(item.get("unit") or "").strip(), field="unit", max_length=10)
            quantity = _quantity(item.get("quantity"))
            price = _price(item.get("unit_price"))
            rate = _rate(item.get("tax_rate"))
        except ValidationError as exc:
            errors.extend(_prefixed(index, exc))
            continue
        amount = money.round_fen(quantity * price)
        if amount > MAX_AMOUNT:
            errors.append(_("Line %(n)s: the amount is too large.") % {"n": index})
            continue
        net, tax = _split(amount, rate)
        made.append(
            InvoiceLine(
                invoice=invoice,
                position=len(made) + 1,
                name=name,
                specification_name=spec,
                unit=unit,
                quantity=quantity,
                unit_price=price,
                tax_rate=rate,
                amount=amount,
                amount_net=net,
                tax=tax,
            )
        )
    if errors:
        raise ValidationError({"lines": errors})
    if not made:
        raise ValidationError({"lines": [_("Add at least one line.")]})
    return made


def _write_lines(invoice: Invoice, lines) -> Invoice:
    """Replace the lines and total them (sums of the rounded lines)."""
    if invoice.order_id:
        made = _order_lines(invoice, lines)
    else:
        made = _typed_lines(invoice, lines)
    if len(made) > MAX_LINES:
        raise ValidationError({"lines": [_("An invoice has at most %(n)s lines.") % {"n": MAX_LINES}]})
    InvoiceLine.objects.filter(invoice=invoice).delete()
    InvoiceLine.objects.bulk_create(made, batch_size=500)
    invoice.line_count = len(made)
    invoice.amount = sum((line.amount for line in made), ZERO)
    invoice.amount_net = sum((line.amount_net for line in made), ZERO)
    invoice.tax = sum((line.tax for line in made), ZERO)
    if invoice.amount > MAX_AMOUNT:
        raise ValidationError({"lines": [_("The invoice's amount is too large.")]})
    Invoice.objects.filter(pk=invoice.pk).update(
        line_count=invoice.line_count, amount=invoice.amount, amount_net=invoice.amount_net, tax=invoice.tax
    )
    return invoice


def _copy_title(invoice: Invoice, title: InvoiceTitle) -> None:
    invoice.title = title
    for source, target in SNAPSHOT.items():
        setattr(invoice, target, getattr(title, source))


def _check_title(invoice: Invoice, title: InvoiceTitle | None) -> None:
    if title is None:
        raise ValidationError({"title": [_("Add an invoice title (抬头) for this customer first.")]})
    if title.customer_id != invoice.customer_id or title.deleted_at is not None:
        raise ValidationError({"title": [_("Choose one of this customer's invoice titles.")]})
    if invoice.invoice_type == InvoiceType.SPECIAL:
        missing = [
            str(InvoiceTitle._meta.get_field(f).verbose_name)
            for f in ("tax_number", "bank_name", "bank_account", "address", "phone")
            if not getattr(title, f)
        ]
        if title.kind != TitleKind.COMPANY:
            raise ValidationError({"title": [_("A special VAT invoice (专票) is made out to a company only.")]})
        if missing:
            raise ValidationError(
                {
                    "title": [
                        _("A special VAT invoice (专票) needs the title's %(fields)s.") % {"fields": ", ".join(missing)}
                    ]
                }
            )


def _default_title(customer: Customer) -> InvoiceTitle | None:
    return InvoiceTitle.objects.filter(customer=customer, deleted_at__isnull=True, is_default=True).first()


# --- requesting ----------------------------------------------------------------------------------


def _order_for(actor: User, customer: Customer, order: Order) -> Order:
    if order.customer_id != customer.pk or order.deleted_at is not None:
        raise ValidationError({"order": [_("Choose an order of this customer.")]})
    if order.state not in BOOKED_STATES:
        raise ValidationError({"order": [_("Only a confirmed or completed order is invoiced.")]})
    return order


def _contract_for(customer: Customer, contract: Contract) -> Contract:
    if contract.customer_id != customer.pk or contract.deleted_at is not None:
        raise ValidationError({"contract": [_("Choose a contract of this customer.")]})
    if contract.stage not in CONTRACT_STATES:
        raise ValidationError({"contract": [_("Only a signed contract is invoiced.")]})
    return contract


def _lock_order(order_id: int | None) -> None:
    """Requests and issues of one order run one after the other (the quantities left are read after)."""
    if order_id:
        Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True).first()


@transaction.atomic
def invoice_request(
    *,
    customer: Customer,
    actor: User,
    order: Order | None = None,
    contract: Contract | None = None,
    title: InvoiceTitle | None = None,
    invoice_type: str = InvoiceType.SPECIAL,
    lines=None,
    notes: str = "",
    submit: bool = False,
) -> Invoice:
    """A draft invoice request for a customer in the actor's view: of an order's lines (`lines`
    [(order line id, quantity)], None for what is left of every line), of a contract or of nothing
    (typed `lines`: dicts). The title defaults to the customer's default one and is copied.
    With `submit`, it goes on to approval at once (see `invoice_submit`)."""
    if not actor.is_authenticated or not actor.has_perm("invoices.request_invoice"):
        raise PermissionDenied
    if customer.deleted_at is not None:
        raise ValidationError({"customer": [_("This customer is in the recycle bin.")]})
    if not customer_qs_visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied
    if invoice_type not in InvoiceType.values:
        raise ValidationError({"invoice_type": [_("Choose a special or an ordinary VAT invoice.")]})
    notes = check_text((notes or "").strip(), field="notes", multiline=True, max_length=2000)
    if order is not None:
        # An order's invoice belongs to the order's contract, whatever stage that is in now.
        order = _order_for(actor, customer, order)
        if contract is not None and contract.pk != order.contract_id:
            raise ValidationError({"contract": [_("This order belongs to another contract.")]})
        contract = Contract.objects.get(pk=order.contract_id) if order.contract_id else None
    elif contract is not None:
        contract = _contract_for(customer, contract)
    invoice = Invoice(
        customer=customer,
        order=order,
        contract=contract,
        owner=actor,
        invoice_type=invoice_type,
        notes=notes,
        created_by=actor,
    )
    title = title or _default_title(customer)
    _check_title(invoice, title)
    _copy_title(invoice, title)
    _lock_order(order.pk if order else None)
    _save_numbered(invoice)
    _write_lines(invoice, lines)
    _record(
        InvoiceEvent.REQUESTED,
        invoice,
        actor=actor,
        audit=AuditAction.CREATE,
        changes={"amount": [None, str(invoice.amount)], "state": [None, S.DRAFT]},
    )
    if submit:
        return invoice_submit(invoice=invoice, actor=actor)
    return invoice


def _check_draft(invoice: Invoice) -> None:
    if invoice.state != S.DRAFT:
        raise ValidationError(
            _("Only a draft request can be changed; this invoice is %(state)s.")
            % {"state": _state_label(invoice.state)},
            code="not_draft",
        )


@transaction.atomic
def invoice_update(
    *,
    invoice: Invoice,
    actor: User,
    expected_version: int | None = None,
    title: InvoiceTitle | None = None,
    invoice_type: str | None = None,
    notes: str | None = None,
    lines=None,
    replace_lines: bool = False,
) -> Invoice:
    """Change a draft: its title (copied again), type, notes, and with `replace_lines` its lines."""
    _check_change(actor, invoice)
    current = _locked(invoice)
    _check_draft(current)
    if expected_version is not None and expected_version != current.version:
        raise ConcurrentEditError()
    before = {"amount": str(current.amount), "title": current.title_name, "type": current.invoice_type}
    if invoice_type is not None:
        if invoice_type not in InvoiceType.values:
            raise ValidationError({"invoice_type": [_("Choose a special or an ordinary VAT invoice.")]})
        current.invoice_type = invoice_type
    if notes is not None:
        current.notes = check_text(notes.strip(), field="notes", multiline=True, max_length=2000)
    chosen = title or current.title or _default_title(current.customer)
    if chosen is not None and chosen.pk:
        chosen = InvoiceTitle.objects.filter(pk=chosen.pk).first()
    _check_title(current, chosen)
    _copy_title(current, chosen)
    current.updated_at = timezone.now()
    current.version += 1
    current.save(update_fields=["invoice_type", "notes", "title", *SNAPSHOT.values(), "updated_at", "version"])
    if replace_lines:
        _lock_order(current.order_id)
        _write_lines(current, lines)
    after = {"amount": str(current.amount), "title": current.title_name, "type": current.invoice_type}
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    _record(InvoiceEvent.CHANGED, current, actor=actor, timeline=False, changes=changes)
    invoice.__dict__.update({k: v for k, v in current.__dict__.items() if not k.startswith("_")})
    return current


def _check_quantities(invoice: Invoice) -> None:
    """Nobody invoiced the same order lines meanwhile: the lines still fit what is left."""
    if not invoice.order_id:
        return
    _lock_order(invoice.order_id)
    claimed = selectors.claimed_quantities(invoice.order_id, exclude_invoice_id=invoice.pk)
    problems = []
    for line in InvoiceLine.objects.filter(invoice=invoice, order_line__isnull=False).select_related("order_line"):
        left = line.order_line.quantity - claimed.get(line.order_line_id, ZERO)
        if line.quantity > left:
            problems.append(
                _("%(name)s has %(left)s %(unit)s left to invoice, not %(quantity)s.")
                % {"name": line.name, "left": _plain(left), "unit": line.unit, "quantity": _plain(line.quantity)}
            )
    if problems:
        raise ValidationError({"lines": problems}, code="over_invoiced")


@transaction.atomic
def invoice_submit(*, invoice: Invoice, actor: User) -> Invoice:
    """Send a draft on: the credit check at the "invoice" stage first (held: a credit-exception
    approval), then the invoice approval (unless administrators switched that flow off)."""
    from kehu.invoices import approval

    _check_change(actor, invoice)
    given, invoice = invoice, _locked(invoice)
    _check_draft(invoice)
    if invoice.line_count == 0 or invoice.amount <= 0:
        raise ValidationError(_("Add at least one line with an amount before sending the request."))
    _check_title(invoice, InvoiceTitle.objects.filter(pk=invoice.title_id).first())
    _check_quantities(invoice)
    verdict = lookups.ask_call(lookups.CREDIT_CHECK, invoice.customer_id, invoice.amount, "invoice")
    held = verdict is not None and verdict.held and approval.credit_required()
    if held or approval.invoice_required():
        _transition(invoice, S.PENDING)
        _record(InvoiceEvent.SUBMITTED, invoice, actor=actor, timeline=False, changes={"state": [S.DRAFT, S.PENDING]})
        if held:
            approval.submit_credit(invoice=invoice, actor=actor, verdict=verdict)
        else:
            approval.submit_invoice(invoice=invoice, actor=actor)
    else:
        invoice_approved(invoice=invoice, actor=actor, direct=True)
    given.refresh_from_db()
    return given


def invoice_approved(*, invoice: Invoice, actor, direct: bool = False) -> Invoice:
    """The approval (or a submit that needed none): finance may issue it now."""
    source = invoice.state
    _transition(invoice, S.APPROVED, fields={"approved_at": timezone.now()})
    _record(
        InvoiceEvent.APPROVED,
        invoice,
        actor=actor,
        changes={"state": [source, S.APPROVED]},
        notify=[] if direct else [invoice.owner_id],
    )
    return invoice


def invoice_back_to_draft(*, invoice: Invoice, actor, comment: str = "", withdrawn: bool = False) -> Invoice:
    """An approval (or a credit exception) rejected, or the request withdrawn."""
    if invoice.state != S.PENDING:
        return invoice
    _transition(invoice, S.DRAFT)
    extra = _("request withdrawn") if withdrawn else comment
    _record(
        InvoiceEvent.APPROVAL_REJECTED,
        invoice,
        actor=actor,
        changes={"state": [S.PENDING, S.DRAFT]},
        summary=_summary(invoice, extra),
        notify=[] if withdrawn else [invoice.owner_id],
    )
    return invoice


@transaction.atomic
def invoice_withdraw(*, invoice: Invoice, actor: User) -> Invoice:
    """Take a request back out of approval (its open request is withdrawn) to change it."""
    from kehu.invoices import approval

    _check_change(actor, invoice)
    given, invoice = invoice, _locked(invoice)
    if invoice.state != S.PENDING:
        raise ValidationError(_("Only a request waiting for approval can be withdrawn."))
    approval.withdraw(invoice=invoice, actor=actor)
    invoice.refresh_from_db()
    if invoice.state == S.PENDING:
        invoice_back_to_draft(invoice=invoice, actor=actor, withdrawn=True)
    given.refresh_from_db()
    return given


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, actor: User) -> Invoice:
    """A draft, or an approved request not yet issued, is cancelled (by who asked, or by finance)."""
    if not (may_change(actor, invoice) or (may_issue(actor) and invoice.state == S.APPROVED)):
        raise PermissionDenied
    given, invoice = invoice, _locked(invoice)
    source = invoice.state
    if source not in (S.DRAFT, S.APPROVED):
        raise ValidationError(
            _("An invoice that is %(state)s cannot be cancelled.") % {"state": _state_label(source)},
            code="transition",
        )
    _transition(invoice, S.CANCELLED)
    _record(InvoiceEvent.CANCELLED, invoice, actor=actor, changes={"state": [source, S.CANCELLED]})
    given.refresh_from_db()
    return given


# --- issuing and reversing -----------------------------------------------------------------------


def _invoice_number(value, field: str = "invoice_number", *, required: bool = True) -> str:
    number = (value or "").strip().replace(" ", "")
    if not number:
        if required:
            raise ValidationError({field: [_("Enter the invoice number.")]})
        return ""
    if not INVOICE_NUMBER.match(number):
        raise ValidationError({field: [_("An invoice number has up to 40 letters, digits and dashes.")]})
    if Invoice.objects.filter(invoice_number=number, deleted_at__isnull=True).exists():
        raise ValidationError({field: [_("Invoice number %(number)s is already recorded.") % {"number": number}]})
    return number


def _issue_day(value, field: str = "issued_on") -> date:
    day = value or timezone.localdate()
    if not isinstance(day, date):
        raise ValidationError({field: [_("Enter the invoice date.")]})
    if day > timezone.localdate():
        raise ValidationError({field: [_("The invoice date cannot be in the future.")]})
    return day


@transaction.atomic
def invoice_issue(
    *,
    invoice: Invoice,
    actor: User,
    invoice_number: str,
    issued_on: date | None = None,
    invoice_type: str | None = None,
    logistics_number: str = "",
) -> Invoice:
    """Finance issues an approved request: the invoice's number, date, type and how it was sent.
    The order's and the contract's invoiced amounts follow in this transaction."""
    if not may_issue(actor):
        raise PermissionDenied
    given, invoice = invoice, _locked(invoice)
    if invoice.state != S.APPROVED:
        raise ValidationError(
            _("Only an approved request is issued; this invoice is %(state)s.")
            % {"state": _state_label(invoice.state)},
            code="transition",
        )
    fields = {
        "invoice_number": _invoice_number(invoice_number),
        "issued_on": _issue_day(issued_on),
        "logistics_number": check_text((logistics_number or "").strip(), field="logistics_number", max_length=60),
        "issued_by": actor,
    }
    if invoice_type is not None:
        if invoice_type not in InvoiceType.values:
            raise ValidationError({"invoice_type": [_("Choose a special or an ordinary VAT invoice.")]})
        fields["invoice_type"] = invoice_type
        invoice.invoice_type = invoice_type
        _check_title(invoice, InvoiceTitle.objects.filter(pk=invoice.title_id).first() or _snapshot_title(invoice))
    _check_quantities(invoice)
    _transition(invoice, S.ISSUED, fields=fields)
    rollups_refresh(order_id=invoice.order_id, contract_id=invoice.contract_id)
    _record(
        InvoiceEvent.ISSUED,
        invoice,
        actor=actor,
        changes={"state": [S.APPROVED, S.ISSUED], "invoice_number": [None, invoice.invoice_number]},
        webhook=webhook_payload(invoice),
        notify=[invoice.owner_id],
    )
    given.refresh_from_db()
    return given


def _snapshot_title(invoice: Invoice) -> InvoiceTitle:
    """The title as the invoice copied it (its title removed since)."""
    return InvoiceTitle(
        customer_id=invoice.customer_id,
        kind=TitleKind.COMPANY if invoice.tax_number else TitleKind.PERSON,
        **{source: getattr(invoice, target) for source, target in SNAPSHOT.items()},
    )


@transaction.atomic
def invoice_logistics_set(*, invoice: Invoice, actor: User, logistics_number: str) -> Invoice:
    """The logistics number of an issued invoice sent later by post."""
    if not may_issue(actor):
        raise PermissionDenied
    invoice = _locked(invoice)
    if invoice.state not in (S.ISSUED, S.REVERSED):
        raise ValidationError(_("Only an issued invoice is sent."))
    number = check_text((logistics_number or "").strip(), field="logistics_number", max_length=60)
    Invoice.objects.filter(pk=invoice.pk).update(logistics_number=number, updated_at=timezone.now())
    invoice.logistics_number = number
    _record(InvoiceEvent.CHANGED, invoice, actor=actor, timeline=False, changes={"logistics_number": [None, number]})
    return invoice


@transaction.atomic
def invoice_reverse(
    *,
    invoice: Invoice,
    actor: User,
    reason: str,
    invoice_number: str = "",
    issued_on: date | None = None,
) -> Invoice:
    """红冲: a red-letter invoice with the negated lines and amounts, issued now, `reverses` the
    original, which becomes reversed; both stay. Returns the red invoice."""
    if not may_issue(actor):
        raise PermissionDenied
    original = _locked(invoice)
    reason = check_text((reason or "").strip(), field="reason", multiline=True, max_length=2000)
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for the reversal.")]})
    if original.is_red:
        raise ValidationError(_("A red-letter invoice is not reversed."), code="transition")
    if original.state != S.ISSUED:
        raise ValidationError(
            _("Only an issued invoice is reversed; this invoice is %(state)s.")
            % {"state": _state_label(original.state)},
            code="transition",
        )
    red = Invoice(
        customer_id=original.customer_id,
        order_id=original.order_id,
        contract_id=original.contract_id,
        owner_id=original.owner_id,
        state=S.ISSUED,
        invoice_type=original.invoice_type,
        title_id=original.title_id,
        amount=-original.amount,
        amount_net=-original.amount_net,
        tax=-original.tax,
        line_count=original.line_count,
        notes="",
        invoice_number=_invoice_number(invoice_number, required=False),
        issued_on=_issue_day(issued_on),
        issued_by=actor,
        approved_at=timezone.now(),
        is_red=True,
        reverses=original,
        reversal_reason=reason,
        created_by=actor,
        **{target: getattr(original, target) for target in SNAPSHOT.values()},
    )
    if red.issued_on < original.issued_on:
        raise ValidationError(
            {"issued_on": [_("A red-letter invoice cannot be dated before the invoice it reverses.")]}
        )
    _save_numbered(red)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=red,
                position=line.position,
                order_line_id=line.order_line_id,
                product_id=line.product_id,
                specification_id=line.specification_id,
                name=line.name,
                specification_name=line.specification_name,
                unit=line.unit,
                quantity=-line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                amount=-line.amount,
                amount_net=-line.amount_net,
                tax=-line.tax,
            )
            for line in InvoiceLine.objects.filter(invoice=original).order_by("position")
        ],
        batch_size=500,
    )
    _transition(original, S.REVERSED, fields={"reversal_reason": reason})
    rollups_refresh(order_id=original.order_id, contract_id=original.contract_id)
    _record(
        InvoiceEvent.REVERSED,
        original,
        actor=actor,
        changes={"state": [S.ISSUED, S.REVERSED], "reversed_by": [None, red.number]},
        summary=_summary(original, reason),
        webhook={**webhook_payload(red), "reverses": webhook_payload(original)},
        notify=[original.owner_id],
    )
    audit_record(actor=actor, action=AuditAction.CREATE, instance=red, changes={"reverses": [None, original.number]})
    invoice.refresh_from_db()
    return red


# --- rollups -------------------------------------------------------------------------------------


def _invoiced(qs) -> Decimal:
    return (
        qs.filter(state__in=selectors.INVOICED_STATES, deleted_at__isnull=True).aggregate(s=Sum("amount"))["s"] or ZERO
    )


def order_invoiced(order_id: int) -> tuple[Decimal, dict[int, Decimal]]:
    """What was invoiced of an order: the amount (red invoices negative) and the quantity per line."""
    amount = _invoiced(Invoice.objects.filter(order_id=order_id))
    quantities = {line_id: ZERO for line_id in OrderLine.objects.filter(order_id=order_id).values_list("pk", flat=True)}
    for row in (
        InvoiceLine.objects.filter(
            invoice__order_id=order_id,
            invoice__state__in=selectors.INVOICED_STATES,
            invoice__deleted_at__isnull=True,
            order_line__isnull=False,
        )
        .values("order_line")
        .annotate(q=Sum("quantity"))
    ):
        quantities[row["order_line"]] = row["q"] or ZERO
    return amount, quantities


def contract_invoiced(contract_id: int) -> Decimal:
    """What was invoiced of a contract: its own invoices and its orders' (red ones negative)."""
    return _invoiced(Invoice.objects.filter(Q(contract_id=contract_id) | Q(order__contract_id=contract_id)))


def rollups_refresh(*, order_id: int | None = None, contract_id: int | None = None) -> None:
    """Write the invoiced amounts to the order and the contracts an invoice touches."""
    contracts = {contract_id} if contract_id else set()
    if order_id:
        amount, quantities = order_invoiced(order_id)
        order_rollups_set(order_id=order_id, invoiced_amount=amount, invoiced_quantities=quantities)
        order_contract = Order.objects.filter(pk=order_id).values_list("contract_id", flat=True).first()
        if order_contract:
            contracts.add(order_contract)
    for pk in contracts:
        contract_rollups_set(contract_id=pk, invoiced_amount=contract_invoiced(pk))


def rollups_rebuild() -> int:
    """Write every order's and contract's invoiced amounts again from the invoices (a repair)."""
    done = 0
    for order_id in Invoice.objects.exclude(order_id=None).values_list("order_id", flat=True).distinct():
        rollups_refresh(order_id=order_id)
        done += 1
    for contract_id in Invoice.objects.exclude(contract_id=None).values_list("contract_id", flat=True).distinct():
        rollups_refresh(contract_id=contract_id)
        done += 1
    return done
