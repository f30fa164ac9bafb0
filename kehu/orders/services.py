"""Every write of orders, deliveries and sell-through (SAL-5): validate, write in one transaction,
record an event.

Rules kept here:
- Lines are priced by the price book (`kehu.catalog.pricing.prices_resolve`) and amounts worked
  out by `kehu.core.money.line_amounts`: per line rounded to the fen (half up), the order's totals
  are sums of the rounded lines. An order from a quote copies the quote's lines and prices (approved
  there); from a contract it copies what of the contract's lines is not ordered yet, at the signed
  prices. The line helpers (quantity, discount, price checks and the "code<TAB>quantity" paste
  parser) are the quotes' own (`kehu.quotes.services`), reused as they are.
- Only drafts are edited. Moves between states follow `TRANSITIONS` (one table; `order_transition`
  is the one door, and `_move` a conditional UPDATE so two people acting at once cannot both move an
  order).
- Confirming: price approval first when a discount is beyond the owner's limit or a line is below
  its floor (the approvals engine, as for quotes; prices copied from an approved quote or a signed
  contract need none), then the credit check (CLS-4: `lookups.CREDIT_CHECK` at the "order" stage).
  A held verdict keeps the order pending with `credit_hold` until a credit exception is approved
  (document type "order.credit"). Recording a delivery asks the check at the "delivery" stage; a
  held delivery does not count as delivered until the exception is approved. The check itself is
  the receivables' (CLS-4): exposure = open receivables + orders not yet invoiced, i.e. Σ over booked
  orders not cancelled of (total − received) + Σ contract-level plans not tied to an order
  (outstanding); orders only ask it and act on the verdict.
- Booked = confirmed or completed. The order lines' `is_booked`, `ordered_on` and `customer` follow
  the order; the contract's ordered and delivered amounts are the sums over its booked orders,
  written through `contract_rollups_set` in the transaction of every change that moves them.
- Numbers are `SO<year>-<five digits>` (SO2026-00001), counted per year by order date.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.models import Specification
from kehu.contracts.models import IN_FORCE, Contract, ContractLine
from kehu.contracts.services import contract_rollups_set
from kehu.core import events, lookups, money
from kehu.core.audit import diff, snapshot
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction
from kehu.core.numbering import save_numbered
from kehu.core.text import changed, check_text, full_clean
from kehu.core.versioning import update_versioned
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.orders.events import OrderEvent
from kehu.orders.models import (
    BOOKED_STATES,
    Delivery,
    DeliveryLine,
    DeliveryStatus,
    Order,
    OrderLine,
    OrderSource,
    OrderState,
    SellThrough,
    SettlementStatus,
)
from kehu.quotes.models import Quote, QuoteLine, QuoteState
from kehu.quotes.services import (
    _derived_discount,
    _no_price_error,
    _paste_quantity,
    _percent,
    _price,
    _quantity,
    _row_order,
    _sellable_problem,
    paste_parse,
)
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

S = OrderState
ZERO = Decimal("0")
HUNDRED = Decimal("100")
MAX_AMOUNT = Decimal("99999999999999")
MAX_LINES = 2000
NUMBER_WIDTH = 5
ORDER_STAGE, DELIVERY_STAGE = "order", "delivery"

HEADER_FIELDS = [
    "owner",
    "ordered_on",
    "delivery_address",
    "payment_terms",
    "notes",
    "external_reference",
]
AUDITED_FIELDS = [*HEADER_FIELDS, "state"]

# The one table of allowed moves: state -> {next state: what makes the move}.
TRANSITIONS: dict[str, dict[str, str]] = {
    S.DRAFT: {S.PENDING: "submit (approval or credit hold)", S.CONFIRMED: "confirm", S.CANCELLED: "cancel"},
    S.PENDING: {S.CONFIRMED: "approved", S.DRAFT: "approval refused / withdrawn"},
    S.CONFIRMED: {S.COMPLETED: "complete", S.CANCELLED: "cancel"},
    S.COMPLETED: {},
    S.CANCELLED: {},
}
# What a person may ask for through `order_transition` (the rest follows from approvals).
ASKABLE = (S.CONFIRMED, S.DRAFT, S.COMPLETED, S.CANCELLED)

# Line fields copied from a quote line.
QUOTE_LINE_COPY = [
    "product_id",
    "specification_id",
    "code",
    "name",
    "specification_name",
    "unit",
    "quantity",
    "list_price",
    "base_price",
    "price_source",
    "discount",
    "unit_price",
    "floor_price",
    "tax_rate",
    "amount",
    "amount_net",
    "tax",
    "notes",
    "position",
]


# --- helpers -------------------------------------------------------------------------------------


def order_link(order: Order) -> str:
    return f"/orders/{order.pk}/"


def may_change(actor: User, order: Order, perm: str = "orders.change_order") -> bool:
    """The owner and the managers whose scope covers the owner (account team members only read)."""
    return (
        actor.is_authenticated
        and actor.has_perm(perm)
        and order.deleted_at is None
        and is_in_team_of(actor, order.owner)
    )


def _check_change(actor: User, order: Order, perm: str = "orders.change_order") -> None:
    if not actor.is_authenticated or not actor.has_perm(perm) or not is_in_team_of(actor, order.owner):
        raise PermissionDenied
    if order.deleted_at is not None:
        raise ValidationError(_("This order is in the recycle bin."))


def _locked(order: Order) -> Order:
    """The order row locked for this transaction (writers of one order run one after the other)."""
    return Order.objects.select_for_update().select_related("customer", "owner").get(pk=order.pk)


def _state_label(state: str) -> str:
    return str(dict(OrderState.choices).get(state, state)).lower()


def _check_draft(order: Order) -> None:
    if order.state != S.DRAFT:
        raise ValidationError(
            _("Only a draft order can be changed; this order is %(state)s.") % {"state": _state_label(order.state)},
            code="not_draft",
        )


def _sync_lines(order: Order) -> None:
    """The denormalised columns of the lines follow the order (booked, date, customer)."""
    OrderLine.objects.filter(order_id=order.pk).exclude(
        is_booked=order.state in BOOKED_STATES, ordered_on=order.ordered_on, customer_id=order.customer_id
    ).update(is_booked=order.state in BOOKED_STATES, ordered_on=order.ordered_on, customer_id=order.customer_id)


def _contract_rollups(contract_id: int | None) -> None:
    """The contract's ordered and delivered amounts: sums over its live booked orders."""
    if not contract_id:
        return
    row = Order.objects.filter(contract_id=contract_id, state__in=BOOKED_STATES, deleted_at__isnull=True).aggregate(
        ordered=Sum("total"), delivered=Sum("delivered_amount")
    )
    contract_rollups_set(
        contract_id=contract_id, ordered_amount=row["ordered"] or ZERO, delivered_amount=row["delivered"] or ZERO
    )


def _move(order: Order, to: str, *, fields: dict | None = None) -> Order:
    """Move `order` to `to` if the table allows it and nobody moved it first (a conditional UPDATE);
    the lines and the contract's rollups follow."""
    source = order.state
    if to not in TRANSITIONS.get(source, {}):
        raise ValidationError(
            _("An order that is %(from)s cannot become %(to)s.")
            % {"from": _state_label(source), "to": _state_label(to)},
            code="transition",
        )
    now = timezone.now()
    values = {"state": to, **(fields or {})}
    updated = Order.objects.filter(pk=order.pk, state=source).update(version=F("version") + 1, updated_at=now, **values)
    if not updated:
        raise ValidationError(_("Someone else changed this order's state: reload it."), code="transition")
    for name, value in values.items():
        setattr(order, name, value)
    order.version += 1
    order.updated_at = now
    if (source in BOOKED_STATES) != (to in BOOKED_STATES):
        _sync_lines(order)
        _contract_rollups(order.contract_id)
    return order


def webhook_payload(order: Order) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "customer_id": order.customer_id,
        "contract_id": order.contract_id,
        "quote_id": order.quote_id,
        "owner_id": order.owner_id,
        "state": order.state,
        "currency": order.currency,
        "ordered_on": order.ordered_on.isoformat(),
        "total": str(order.total),
        "total_net": str(order.total_net),
        "total_tax": str(order.total_tax),
        "delivered_amount": str(order.delivered_amount),
        "delivery_status": order.delivery_status,
        "line_count": order.line_count,
    }


def _summary(order: Order, extra: str = "") -> str:
    text = f"{order.number} · ¥{order.total:,.2f}"
    return f"{text} · {extra}" if extra else text


def _record(kind, order: Order, *, actor, timeline=True, audit=AuditAction.UPDATE, changes=None, **fields):
    return events.record(
        kind,
        actor=actor,
        subject=order,
        customer_id=order.customer_id if timeline else None,
        summary=fields.pop("summary", None) or _summary(order),
        payload={"order": order.pk, "number": order.number, "state": order.state, "total": str(order.total)},
        audit=audit,
        changes=changes or {},
        link=order_link(order),
        **fields,
    )


# --- numbering -----------------------------------------------------------------------------------


def _save_numbered(order: Order) -> Order:
    return save_numbered(
        order,
        prefix=f"SO{order.ordered_on.year}-",
        width=NUMBER_WIDTH,
        failure=_("Could not give the order a number; try again."),
    )


# --- creating and editing the header -------------------------------------------------------------


def _clean_header(order: Order, *, actor: User, changed_fields=None) -> None:
    errors = {}
    if not order.owner.is_active:
        errors["owner"] = _("The owner must be an active user.")
    elif order.owner_id != actor.pk and not is_in_team_of(actor, order.owner):
        errors["owner"] = _("You may not give orders to this user.")
    if order.ordered_on is None:
        errors["ordered_on"] = _("Enter the order date.")
    if errors:
        raise ValidationError(errors)
    full_clean(
        order,
        exclude=["customer", "contract", "quote", "opportunity", "owner", "created_by", "deleted_by", "number"],
        text_fields=changed_fields,
        validate_constraints=False,
    )


def _customer_visible(actor: User, customer: Customer) -> bool:
    return customer_qs_visible_to(actor).filter(pk=customer.pk).exists()


def _lines_from_quote(order: Order, quote: Quote) -> None:
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                customer_id=order.customer_id,
                ordered_on=order.ordered_on,
                **{name: getattr(line, name) for name in QUOTE_LINE_COPY},
            )
            for line in QuoteLine.objects.filter(quote=quote).order_by("position", "pk")
        ],
        batch_size=500,
    )


def contract_remaining(
    contract: Contract, *, exclude_order_id: int | None = None
) -> list[tuple[ContractLine, Decimal]]:
    """The contract's lines with the quantity not yet on a live, not cancelled order (by specification)."""
    ordered = dict(
        OrderLine.objects.filter(order__contract=contract, order__deleted_at__isnull=True)
        .exclude(order__state=S.CANCELLED)
        .exclude(order_id=exclude_order_id)
        .values("specification_id")
        .annotate(n=Sum("quantity"))
        .values_list("specification_id", "n")
    )
    remaining = []
    for line in ContractLine.objects.filter(contract=contract).order_by("position", "pk"):
        taken = min(ordered.get(line.specification_id, ZERO), line.quantity)
        ordered[line.specification_id] = ordered.get(line.specification_id, ZERO) - taken
        left = line.quantity - taken
        if left > 0:
            remaining.append((line, left))
    return remaining


def _lines_from_contract(order: Order, contract: Contract) -> None:
    lines = []
    for position, (line, quantity) in enumerate(contract_remaining(contract), start=1):
        amounts = money.line_amounts(quantity, line.unit_price, ZERO, line.tax_rate)
        factor = 1 - line.discount / HUNDRED
        base = money.round_price(line.unit_price / factor) if factor > 0 else line.unit_price
        lines.append(
            OrderLine(
                order=order,
                position=position,
                customer_id=order.customer_id,
                ordered_on=order.ordered_on,
                product_id=line.product_id,
                specification_id=line.specification_id,
                code=line.code,
                name=line.name,
                specification_name=line.specification_name,
                unit=line.unit,
                quantity=quantity,
                base_price=base,
                price_source=_("contract %(number)s") % {"number": contract.number},
                discount=line.discount,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                amount=amounts.amount,
                amount_net=amounts.amount_net,
                tax=amounts.tax,
            )
        )
    if not lines:
        raise ValidationError({"contract": _("Everything on this contract is already ordered.")})
    OrderLine.objects.bulk_create(lines, batch_size=500)


@transaction.atomic
def order_create(
    *,
    customer: Customer | None = None,
    actor: User,
    quote: Quote | None = None,
    contract: Contract | None = None,
    owner: User | None = None,
    lines: list[tuple[int, object]] | None = None,
    **header,
) -> Order:
    """A draft order for a customer in the actor's view: from an accepted or approved quote (its lines
    and prices), from a contract in force (what of its lines is not ordered yet, at the signed
    prices) or directly (then `lines` [(specification id, quantity)] priced by the price book).
    Header fields: ordered_on, delivery_address, payment_terms, notes, external_reference."""
    if not actor.is_authenticated or not actor.has_perm("orders.add_order"):
        raise PermissionDenied
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    if quote is not None and contract is not None:
        raise ValidationError({"quote": _("An order comes from a quote or a contract, not both.")})
    source = OrderSource.DIRECT
    approved_at = None
    if quote is not None:
        if quote.state not in (QuoteState.ACCEPTED, QuoteState.APPROVED, QuoteState.SENT) or quote.deleted_at:
            raise ValidationError({"quote": _("Only an approved or accepted quote can become an order.")})
        customer = customer or quote.customer
        source, approved_at = OrderSource.QUOTE, quote.approved_at or timezone.now()
        header.setdefault("payment_terms", quote.payment_terms)
    if contract is not None:
        if contract.stage not in IN_FORCE or contract.deleted_at:
            raise ValidationError({"contract": _("Only a contract in force (signed) can be ordered against.")})
        customer = customer or contract.customer
        source, approved_at = OrderSource.CONTRACT, timezone.now()
        header.setdefault("payment_terms", contract.payment_terms)
    if customer is None:
        raise ValidationError({"customer": _("Choose a customer.")})
    if customer.deleted_at is not None:
        raise ValidationError({"customer": _("This customer is in the recycle bin.")})
    if (quote and quote.customer_id != customer.pk) or (contract and contract.customer_id != customer.pk):
        raise ValidationError({"customer": _("The quote or contract is of another customer.")})
    if not _customer_visible(actor, customer):
        raise PermissionDenied
    if quote is not None and lines:
        raise ValidationError({"lines": _("An order from a quote takes the quote's lines.")})
    ordered_on = header.pop("ordered_on", None) or timezone.localdate()
    order = Order(
        customer=customer,
        quote=quote,
        contract=contract,
        opportunity_id=quote.opportunity_id if quote else None,
        owner=owner or actor,
        source=source,
        state=S.DRAFT,
        ordered_on=ordered_on,
        approved_at=approved_at,
        created_by=actor,
        **header,
    )
    _clean_header(order, actor=actor)
    _save_numbered(order)
    if quote is not None:
        _lines_from_quote(order, quote)
    elif contract is not None and not lines:
        _lines_from_contract(order, contract)
    _recount(order)
    _record(
        OrderEvent.CREATED,
        order,
        actor=actor,
        audit=AuditAction.CREATE,
        changes={k: [None, v] for k, v in snapshot(order, AUDITED_FIELDS).items() if v not in ("", None)},
        summary=_summary(order, _source_note(order)),
    )
    if lines:
        order_lines_add(order=order, actor=actor, lines=lines)
        order.refresh_from_db()
    return order


def _source_note(order: Order) -> str:
    if order.quote_id:
        return _("from quote %(number)s") % {"number": str(order.quote)}
    if order.contract_id:
        return _("from contract %(number)s") % {"number": order.contract.number}
    return ""


@transaction.atomic
def order_update(*, order: Order, actor: User, expected_version: int, **header) -> Order:
    """Change a draft's header; `expected_version` is the version the editor read (409 when stale)."""
    _check_change(actor, order)
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    current = _locked(order)
    _check_draft(current)
    before = snapshot(order, AUDITED_FIELDS)
    changing = changed(order, header)
    for name, value in header.items():
        setattr(order, name, value)
    _clean_header(order, actor=actor, changed_fields=changing)
    changes = diff(before, snapshot(order, AUDITED_FIELDS))
    if not changes:
        if expected_version != current.version:
            raise ConcurrentEditError()
        return order
    fields = [f"{name}_id" if name == "owner" else name for name in header]
    update_versioned(order, expected_version=expected_version, fields=fields)
    if "ordered_on" in changes:
        _sync_lines(order)
    _record(OrderEvent.CHANGED, order, actor=actor, timeline=False, changes=changes)
    return order


# --- lines ---------------------------------------------------------------------------------------


def _set_price(line: OrderLine, resolved) -> None:
    line.list_price = money.round_price(resolved.list_price) if resolved.list_price is not None else None
    line.base_price = money.round_price(resolved.price)
    line.price_source = (resolved.source or "")[:200]
    line.floor_price = resolved.floor_price
    line.tax_rate = resolved.tax_rate


def _compute(line: OrderLine, *, typed_price: Decimal | None = None) -> None:
    """Unit price and amounts from the book price and discount, or from a typed unit price."""
    if typed_price is not None:
        line.discount = _derived_discount(line.base_price, typed_price)
        amounts = money.line_amounts(line.quantity, typed_price, ZERO, line.tax_rate)
        line.unit_price = typed_price
    else:
        amounts = money.line_amounts(line.quantity, line.base_price, line.discount, line.tax_rate)
        line.unit_price = amounts.unit_price
    if amounts.amount > MAX_AMOUNT:
        raise ValidationError({"quantity": _("The amount of line %(n)s is too large.") % {"n": line.position}})
    line.amount, line.amount_net, line.tax = amounts.amount, amounts.amount_net, amounts.tax


def _resolve(customer: Customer, pairs: list[tuple[int, Decimal]], on: date, codes: dict[int, str]) -> list:
    from kehu.catalog import pricing

    resolved = pricing.prices_resolve(customer=customer, lines=pairs, on=on)
    missing = [codes.get(r.specification_id, str(r.specification_id)) for r in resolved if r.price is None]
    if missing:
        raise _no_price_error(list(dict.fromkeys(missing)), customer, on)
    return resolved


def _recount(order: Order) -> Order:
    """Totals from the rounded lines, the largest discount and the floor flag: one aggregate, one update."""
    row = OrderLine.objects.filter(order=order).aggregate(
        n=Count("pk"),
        total=Sum("amount"),
        net=Sum("amount_net"),
        tax=Sum("tax"),
        discount=Max("discount"),
        below=Count("pk", filter=Q(floor_price__isnull=False, unit_price__lt=F("floor_price"))),
    )
    order.line_count = row["n"] or 0
    order.total = row["total"] or ZERO
    order.total_net = row["net"] or ZERO
    order.total_tax = row["tax"] or ZERO
    order.max_discount = row["discount"] or ZERO
    order.below_floor = bool(row["below"])
    order.updated_at = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        line_count=order.line_count,
        total=order.total,
        total_net=order.total_net,
        total_tax=order.total_tax,
        max_discount=order.max_discount,
        below_floor=order.below_floor,
        updated_at=order.updated_at,
    )
    return order


def _lines_changed(order: Order, actor: User, before: tuple, what: str, *, prices: bool = True) -> None:
    """After a line write: a new line or a new price undoes the copied approval (a quantity changed
    or a line removed keeps it); the change is recorded."""
    if prices and order.approved_at is not None:
        order.approved_at = None
        Order.objects.filter(pk=order.pk).update(approved_at=None)
    after = (order.line_count, str(order.total))
    changes = {}
    if before[0] != after[0]:
        changes["lines"] = [before[0], after[0]]
    if before[1] != after[1]:
        changes["total"] = [before[1], after[1]]
    _record(OrderEvent.CHANGED, order, actor=actor, timeline=False, changes=changes, summary=_summary(order, what))


def _specifications(ids) -> dict[int, Specification]:
    return {s.pk: s for s in Specification.objects.select_related("product").filter(pk__in=set(ids))}


def _add(order: Order, pairs: list[tuple[Specification, Decimal]], prices: list | None = None) -> list[OrderLine]:
    """Lines for (specification, quantity) pairs; `prices` (unit prices with tax, or None) come from a
    file, the price book gives the rest (and every book price: the discount is derived from it)."""
    if order.line_count + len(pairs) > MAX_LINES:
        raise ValidationError({"lines": _("An order has at most %(n)s lines.") % {"n": MAX_LINES}})
    problems = list(dict.fromkeys(p for spec, _q in pairs if (p := _sellable_problem(spec))))
    if problems and prices is None:
        raise ValidationError({"lines": problems})
    from kehu.catalog import pricing

    typed = prices or [None] * len(pairs)
    codes = {s.pk: s.code for s, _q in pairs}
    if prices is None:
        book = _resolve(order.customer, [(s.pk, q) for s, q in pairs], order.ordered_on, codes)
    else:  # a price from the file needs no book price; the book's, when there is one, gives the discount
        book = pricing.prices_resolve(customer=order.customer, lines=[(s.pk, q) for s, q in pairs], on=order.ordered_on)
        missing = [s.code for (s, _q), p, b in zip(pairs, typed, book, strict=True) if p is None and b.price is None]
        if missing:
            raise _no_price_error(list(dict.fromkeys(missing)), order.customer, order.ordered_on)
    start = (OrderLine.objects.filter(order=order).aggregate(m=Max("position"))["m"] or 0) + 1
    lines = []
    for offset, ((spec, quantity), price) in enumerate(zip(pairs, typed, strict=True)):
        line = OrderLine(
            order=order,
            position=start + offset,
            customer_id=order.customer_id,
            ordered_on=order.ordered_on,
            is_booked=order.state in BOOKED_STATES,
            product_id=spec.product_id,
            specification=spec,
            code=spec.code,
            name=spec.product.name,
            specification_name=spec.name,
            unit=spec.product.unit,
            quantity=quantity,
        )
        found = book[offset]
        if found.price is not None:
            _set_price(line, found)
        else:
            line.base_price, line.tax_rate = price, spec.product.tax_rate
        if price is None:
            _compute(line)
        else:
            line.price_source = _("imported")
            _compute(line, typed_price=price)
        lines.append(line)
    OrderLine.objects.bulk_create(lines, batch_size=500)
    return lines


@transaction.atomic
def order_lines_add(*, order: Order, actor: User, lines: list[tuple[int, object]]) -> list[OrderLine]:
    """Add lines [(specification id, quantity)] priced by the price book; all or nothing."""
    _check_change(actor, order)
    order = _locked(order)
    _check_draft(order)
    if not lines:
        raise ValidationError({"lines": _("Add at least one line.")})
    specs = _specifications(spec_id for spec_id, _q in lines)
    errors, pairs = [], []
    for index, (spec_id, quantity) in enumerate(lines, start=1):
        spec = specs.get(spec_id)
        if spec is None:
            errors.append(_("Line %(n)s: no such specification.") % {"n": index})
            continue
        try:
            pairs.append((spec, _quantity(quantity)))
        except ValidationError as exc:
            errors.append(
                _("Line %(n)s (%(code)s): %(problem)s")
                % {"n": index, "code": spec.code, "problem": exc.message_dict["quantity"][0]}
            )
    if errors:
        raise ValidationError({"lines": errors})
    before = (order.line_count, str(order.total))
    added = _add(order, pairs)
    _recount(order)
    _lines_changed(order, actor, before, _("%(n)s lines added") % {"n": len(added)})
    return added


def specifications_by_code(codes) -> dict[str, Specification]:
    """Specifications by code, exact first, else ignoring case (two queries at most)."""
    codes = {c for c in codes if c}
    found = {s.code: s for s in Specification.objects.select_related("product").filter(code__in=codes)}
    missing = {c.upper() for c in codes if c not in found}
    if missing:
        for spec in (
            Specification.objects.select_related("product").annotate(upper=Upper("code")).filter(upper__in=missing)
        ):
            found.setdefault(spec.upper, spec)
    return found


@transaction.atomic
def order_lines_paste(*, order: Order, actor: User, text: str) -> list[OrderLine]:
    """Add lines pasted from a spreadsheet, one "code<TAB>quantity" a row (the quotes' parser). Every
    bad row is listed (unknown code, bad quantity, no price) and then nothing is added."""
    _check_change(actor, order)
    order = _locked(order)
    _check_draft(order)
    rows, problems = paste_parse(text)
    if not rows and not problems:
        raise ValidationError({"text": _("Paste rows of a code and a quantity, one row per line.")})
    found = specifications_by_code(code for _n, code, _q in rows)
    pairs = []
    for number, code, quantity_text in rows:
        spec = found.get(code) or found.get(code.upper())
        if spec is None:
            problems.append(_("Row %(row)s: no product has the code %(code)s.") % {"row": number, "code": code})
            continue
        quantity = _paste_quantity(quantity_text)
        problem = None
        if quantity is None:
            problem = _("Row %(row)s: %(value)s is not a quantity.") % {"row": number, "value": quantity_text}
        else:
            try:
                quantity = _quantity(quantity)
            except ValidationError as exc:
                problem = _("Row %(row)s: %(problem)s") % {"row": number, "problem": exc.message_dict["quantity"][0]}
        sellable = _sellable_problem(spec)
        if problem or sellable:
            problems.append(problem or _("Row %(row)s: %(problem)s") % {"row": number, "problem": sellable})
            continue
        pairs.append((spec, quantity))
    if problems:
        raise ValidationError({"text": sorted(problems, key=_row_order)}, code="paste")
    before = (order.line_count, str(order.total))
    try:
        added = _add(order, pairs)
    except ValidationError as exc:
        raise ValidationError({"text": exc.message_dict.get("lines", exc.messages)}, code="paste") from None
    _recount(order)
    _lines_changed(order, actor, before, _("%(n)s lines pasted") % {"n": len(added)})
    return added


def _line_order(line: OrderLine, actor: User) -> Order:
    order = Order.objects.select_related("owner").get(pk=line.order_id)
    _check_change(actor, order)
    order = _locked(order)
    _check_draft(order)
    return order


@transaction.atomic
def order_line_update(
    *, line: OrderLine, actor: User, quantity=None, discount=None, unit_price=None, notes=None
) -> OrderLine:
    """Change a line's quantity (priced again from the book; the discount stays), its discount or its
    unit price (the discount is then derived), or its notes."""
    order = _line_order(line, actor)
    if discount is not None and unit_price is not None:
        raise ValidationError({"unit_price": _("Give a discount or a unit price, not both.")})
    line = OrderLine.objects.get(pk=line.pk)
    if notes is not None:
        line.notes = check_text(notes.strip(), field="notes", max_length=200)
    if quantity is not None:
        line.quantity = _quantity(quantity)
        if order.source not in (OrderSource.CONTRACT, OrderSource.IMPORT):
            spec = Specification.objects.select_related("product").get(pk=line.specification_id)
            resolved = _resolve(order.customer, [(spec.pk, line.quantity)], order.ordered_on, {spec.pk: spec.code})
            _set_price(line, resolved[0])
    if discount is not None:
        line.discount = _percent(discount)
    if unit_price is not None:
        _compute(line, typed_price=_price(unit_price))
    elif quantity is not None and order.source in (OrderSource.CONTRACT, OrderSource.IMPORT):
        _compute(line, typed_price=line.unit_price)
    else:
        _compute(line)
    before = (order.line_count, str(order.total))
    line.save()
    _recount(order)
    _lines_changed(
        order,
        actor,
        before,
        _("line %(n)s changed") % {"n": line.position},
        prices=discount is not None or unit_price is not None,
    )
    return line


@transaction.atomic
def order_line_remove(*, line: OrderLine, actor: User) -> None:
    order = _line_order(line, actor)
    before = (order.line_count, str(order.total))
    OrderLine.objects.filter(pk=line.pk).delete()
    OrderLine.objects.filter(order=order, position__gt=line.position).update(position=F("position") - 1)
    _recount(order)
    _lines_changed(order, actor, before, _("line %(n)s removed") % {"n": line.position}, prices=False)


# --- the lifecycle -------------------------------------------------------------------------------


def credit_verdict(order: Order, amount: Decimal, stage: str):
    """The credit check's verdict (None: nobody checks credit, or not at this stage)."""
    return lookups.ask_call(lookups.CREDIT_CHECK, order.customer_id, amount, stage)


def _verdict_note(verdict) -> str:
    reasons = "; ".join(str(r) for r in verdict.reasons)
    figures = _("limit ¥%(limit)s, exposure ¥%(exposure)s, overdue ¥%(overdue)s") % {
        "limit": f"{verdict.limit:,.2f}",
        "exposure": f"{verdict.exposure:,.2f}",
        "overdue": f"{verdict.overdue:,.2f}",
    }
    return f"{reasons} ({figures})" if reasons else figures


@transaction.atomic
def order_transition(*, order: Order, to: str, actor: User, note: str = "") -> Order:
    """The one door for moving an order, by what a person asks:

    - confirmed (from a draft): price approval if needed (→ pending), then the credit check (held →
      pending with a credit exception request), else confirmed;
    - draft (from pending): the requester withdraws the open approval request;
    - completed: a confirmed order delivered in full;
    - cancelled: a draft, or a confirmed order nothing of which was delivered or invoiced.
    """
    from kehu.orders import approval

    if to not in ASKABLE:
        raise ValidationError({"to": _("Unknown state.")}, code="transition")
    _check_change(actor, order)
    order = _locked(order)
    note = check_text((note or "").strip(), field="note", multiline=True, max_length=2000)
    source = order.state
    if to not in TRANSITIONS.get(source, {}):
        raise ValidationError(
            _("An order that is %(from)s cannot become %(to)s.")
            % {"from": _state_label(source), "to": _state_label(to)},
            code="transition",
        )
    if to == S.CONFIRMED:
        if source == S.PENDING:
            raise ValidationError(_("This order is waiting for approval."), code="transition")
        if order.line_count == 0:
            raise ValidationError(_("Add at least one line before confirming the order."))
        if approval.needs_approval(order):
            approval.check_approvable(order)
            _move(order, S.PENDING)
            _record(OrderEvent.SUBMITTED, order, actor=actor, changes={"state": [source, S.PENDING]})
            approval.submit(order=order, actor=actor)
            order.refresh_from_db()
            return order
        return _credit_then_confirm(order, actor=actor, requester=actor)
    if to == S.DRAFT:
        approval.withdraw(order=order, actor=actor)
        order.refresh_from_db()
        if order.state == S.PENDING:
            order_back_to_draft(order=order, actor=actor, withdrawn=True)
        return order
    if to == S.COMPLETED:
        if order.delivery_status != DeliveryStatus.FULL:
            raise ValidationError(
                _("Only an order delivered in full can be completed; record the deliveries first."), code="transition"
            )
        if Delivery.objects.filter(order=order, is_held=True).exists():
            raise ValidationError(_("A delivery of this order is held for credit."), code="transition")
        _move(order, S.COMPLETED, fields={"closed_at": timezone.now()})
        _record(OrderEvent.COMPLETED, order, actor=actor, changes={"state": [source, S.COMPLETED]})
        return order
    # cancelled
    if Delivery.objects.filter(order=order).exists():
        raise ValidationError(_("Goods of this order were delivered: it cannot be cancelled."), code="transition")
    if order.invoiced_amount:
        raise ValidationError(_("This order is invoiced: reverse the invoices first."), code="transition")
    _move(order, S.CANCELLED, fields={"closed_at": timezone.now()})
    _record(
        OrderEvent.CANCELLED,
        order,
        actor=actor,
        changes={"state": [source, S.CANCELLED]},
        summary=_summary(order, note),
        webhook=webhook_payload(order),
    )
    return order


def _credit_then_confirm(order: Order, *, actor, requester) -> Order:
    """Ask the credit check at the order stage; held: pending with a credit exception request."""
    from kehu.orders import approval

    source = order.state
    verdict = credit_verdict(order, order.total, ORDER_STAGE)
    if verdict is not None and verdict.held:
        text = _verdict_note(verdict)
        if source != S.PENDING:
            _move(order, S.PENDING, fields={"credit_hold": True, "credit_note": text})
        else:
            Order.objects.filter(pk=order.pk).update(credit_hold=True, credit_note=text)
            order.credit_hold, order.credit_note = True, text
        _record(
            OrderEvent.CREDIT_HELD,
            order,
            actor=actor,
            changes={"state": [source, S.PENDING]},
            summary=_summary(order, text),
            notify=[order.owner_id],
        )
        approval.credit_submit(order=order, actor=requester, stage=ORDER_STAGE, verdict=verdict)
        return order
    _move(order, S.CONFIRMED, fields={"confirmed_at": timezone.now(), "credit_hold": False})
    _record(
        OrderEvent.CONFIRMED,
        order,
        actor=actor,
        changes={"state": [source, S.CONFIRMED]},
        webhook=webhook_payload(order),
    )
    return order


def order_price_approved(*, order: Order, actor) -> Order:
    """The price approval came through: the owner is told, then the credit check as on confirm."""
    order = _locked(order)
    if order.state != S.PENDING:
        return order
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(approved_at=now)
    order.approved_at = now
    _record(OrderEvent.APPROVED, order, actor=actor, notify=[order.owner_id])
    return _credit_then_confirm(order, actor=actor, requester=order.owner)


def order_back_to_draft(*, order: Order, actor, comment: str = "", withdrawn: bool = False) -> Order:
    """A price approval refused (the approver's comment on the timeline) or withdrawn."""
    if order.state != S.PENDING:
        return order
    _move(order, S.DRAFT, fields={"credit_hold": False})
    extra = _("approval request withdrawn") if withdrawn else comment
    _record(
        OrderEvent.APPROVAL_REJECTED,
        order,
        actor=actor,
        changes={"state": [S.PENDING, S.DRAFT]},
        summary=_summary(order, extra),
        notify=[] if withdrawn else [order.owner_id],
    )
    return order


def order_credit_approved(*, order: Order, actor) -> Order:
    """The credit exception is approved: a held order is confirmed, held deliveries count."""
    order = _locked(order)
    source = order.state
    _record(
        OrderEvent.CREDIT_APPROVED,
        order,
        actor=actor,
        summary=_summary(order, order.credit_note),
        notify=[order.owner_id],
    )
    if source == S.PENDING:
        _move(order, S.CONFIRMED, fields={"confirmed_at": timezone.now(), "credit_hold": False})
        _record(
            OrderEvent.CONFIRMED,
            order,
            actor=actor,
            changes={"state": [source, S.CONFIRMED]},
            webhook=webhook_payload(order),
        )
    held = list(Delivery.objects.filter(order=order, is_held=True))
    if held:
        Delivery.objects.filter(pk__in=[d.pk for d in held]).update(is_held=False)
        Order.objects.filter(pk=order.pk).update(credit_hold=False)
        order.credit_hold = False
        _delivery_rollups(order)
        for delivery in held:
            _delivered_event(order, delivery, actor)
    return order


def order_credit_rejected(*, order: Order, actor, comment: str = "", withdrawn: bool = False) -> Order:
    """The credit exception is refused (or withdrawn): a held order goes back to draft, held
    deliveries are dropped (they did not leave)."""
    order = _locked(order)
    extra = _("credit exception request withdrawn") if withdrawn else comment
    _record(
        OrderEvent.CREDIT_REJECTED,
        order,
        actor=actor,
        summary=_summary(order, extra),
        notify=[] if withdrawn else [order.owner_id],
    )
    if order.state == S.PENDING:
        _move(order, S.DRAFT, fields={"credit_hold": False})
    dropped = Delivery.objects.filter(order=order, is_held=True)
    if dropped.exists():
        DeliveryLine.objects.filter(delivery__in=dropped).delete()
        dropped.delete()
        Order.objects.filter(pk=order.pk).update(credit_hold=False)
        order.credit_hold = False
        _delivery_rollups(order)
    return order


# --- deliveries ----------------------------------------------------------------------------------


def _delivery_rollups(order: Order) -> None:
    """Delivered quantity per line, the order's delivered amount and delivery status (held deliveries
    do not count), and the contract's delivered amount."""
    per_line = dict(
        DeliveryLine.objects.filter(delivery__order=order, delivery__is_held=False)
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
        .values_list("order_line_id", "n")
    )
    lines = list(OrderLine.objects.filter(order=order).only("pk", "quantity", "delivered_quantity"))
    changed_lines = []
    for line in lines:
        delivered = per_line.get(line.pk, ZERO)
        if line.delivered_quantity != delivered:
            line.delivered_quantity = delivered
            changed_lines.append(line)
    if changed_lines:
        OrderLine.objects.bulk_update(changed_lines, ["delivered_quantity"], batch_size=500)
    amount = Delivery.objects.filter(order=order, is_held=False).aggregate(s=Sum("amount"))["s"] or ZERO
    if lines and all(line.delivered_quantity >= line.quantity for line in lines):
        status = DeliveryStatus.FULL
    elif any(line.delivered_quantity > 0 for line in lines):
        status = DeliveryStatus.PARTIAL
    else:
        status = DeliveryStatus.NONE
    Order.objects.filter(pk=order.pk).update(delivered_amount=amount, delivery_status=status)
    order.delivered_amount, order.delivery_status = amount, status
    if order.state in BOOKED_STATES:
        _contract_rollups(order.contract_id)


def _delivered_event(order: Order, delivery: Delivery, actor) -> None:
    extra = _("delivered ¥%(amount)s on %(date)s") % {
        "amount": f"{delivery.amount:,.2f}",
        "date": delivery.delivered_on.isoformat(),
    }
    _record(
        OrderEvent.DELIVERED,
        order,
        actor=actor,
        summary=_summary(order, extra),
        webhook={**webhook_payload(order), "delivery_id": delivery.pk, "delivery_amount": str(delivery.amount)},
    )


@transaction.atomic
def delivery_record(
    *,
    order: Order,
    actor: User,
    lines: list[tuple[int, object]],
    delivered_on: date | None = None,
    carrier: str = "",
    tracking_number: str = "",
    notes: str = "",
) -> Delivery:
    """A (partial) delivery of a confirmed order: [(order line id, quantity)]. More than what is left
    to deliver of a line is refused. The credit check is asked at the delivery stage: a held delivery
    waits for a credit exception (and does not count as delivered until then)."""
    from kehu.orders import approval

    _check_change(actor, order, "orders.deliver_order")
    order = _locked(order)
    if order.state != S.CONFIRMED:
        raise ValidationError(
            _("Only a confirmed order can be delivered; this order is %(state)s.")
            % {"state": _state_label(order.state)},
            code="transition",
        )
    carrier = check_text((carrier or "").strip(), field="carrier", max_length=100)
    tracking_number = check_text((tracking_number or "").strip(), field="tracking_number", max_length=60)
    notes = check_text((notes or "").strip(), field="notes", multiline=True, max_length=2000)
    delivered_on = delivered_on or timezone.localdate()
    if delivered_on < order.ordered_on:
        raise ValidationError({"delivered_on": _("A delivery cannot be before the order date.")})
    if delivered_on > timezone.localdate():
        raise ValidationError({"delivered_on": _("A delivery date cannot be in the future.")})
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    so_far = dict(
        DeliveryLine.objects.filter(delivery__order=order)
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
        .values_list("order_line_id", "n")
    )
    amounts_so_far = dict(
        DeliveryLine.objects.filter(delivery__order=order)
        .values("order_line_id")
        .annotate(s=Sum("amount"))
        .values_list("order_line_id", "s")
    )
    errors, rows, seen = [], [], set()
    for index, (line_id, quantity_value) in enumerate(lines or [], start=1):
        line = order_lines.get(_int(line_id))
        if line is None:
            errors.append(_("Row %(n)s: not a line of this order.") % {"n": index})
            continue
        if line.pk in seen:
            errors.append(_("Line %(n)s is given twice.") % {"n": line.position})
            continue
        seen.add(line.pk)
        try:
            quantity = _quantity(quantity_value)
        except ValidationError as exc:
            errors.append(
                _("Line %(n)s (%(code)s): %(problem)s")
                % {"n": line.position, "code": line.code, "problem": exc.message_dict["quantity"][0]}
            )
            continue
        left = line.quantity - so_far.get(line.pk, ZERO)
        if quantity > left:
            errors.append(
                _("Line %(n)s (%(code)s): %(quantity)s is more than the %(left)s %(unit)s left to deliver.")
                % {
                    "n": line.position,
                    "code": line.code,
                    "quantity": _plain(quantity),
                    "left": _plain(left),
                    "unit": line.unit,
                }
            )
            continue
        if quantity == left:  # the last of a line takes what is left of its amount, so sums add up
            amount = line.amount - amounts_so_far.get(line.pk, ZERO)
        else:
            amount = money.round_fen(line.amount * quantity / line.quantity)
        rows.append((line, quantity, amount))
    if errors:
        raise ValidationError({"lines": errors}, code="delivery")
    if not rows:
        raise ValidationError({"lines": _("Enter a quantity for at least one line.")})
    total = sum((amount for _l, _q, amount in rows), ZERO)
    open_credit = approval.credit_request_open(order)
    verdict = None if open_credit else credit_verdict(order, total, DELIVERY_STAGE)
    held = open_credit or (verdict is not None and verdict.held)
    delivery = Delivery.objects.create(
        order=order,
        delivered_on=delivered_on,
        carrier=carrier,
        tracking_number=tracking_number,
        notes=notes,
        amount=total,
        is_held=held,
        created_by=actor,
    )
    DeliveryLine.objects.bulk_create(
        [DeliveryLine(delivery=delivery, order_line=line, quantity=q, amount=a) for line, q, a in rows]
    )
    if held:
        text = _verdict_note(verdict) if verdict is not None else order.credit_note
        Order.objects.filter(pk=order.pk).update(credit_hold=True, credit_note=text)
        order.credit_hold, order.credit_note = True, text
        _record(
            OrderEvent.CREDIT_HELD,
            order,
            actor=actor,
            summary=_summary(
                order, _("delivery of ¥%(amount)s held: %(why)s") % {"amount": f"{total:,.2f}", "why": text}
            ),
            notify=[order.owner_id],
        )
        if not open_credit:
            approval.credit_submit(order=order, actor=actor, stage=DELIVERY_STAGE, verdict=verdict, amount=total)
        return delivery
    _delivery_rollups(order)
    _delivered_event(order, delivery, actor)
    return delivery


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- the recycle bin -----------------------------------------------------------------------------


@transaction.atomic
def order_delete(*, order: Order, actor: User) -> None:
    """Drafts and cancelled orders go to the recycle bin; a booked or pending order stays."""
    _check_change(actor, order, "orders.delete_order")
    order = _locked(order)
    if order.state not in (S.DRAFT, S.CANCELLED):
        raise ValidationError(
            _("An order that is %(state)s cannot be deleted.") % {"state": _state_label(order.state)},
            code="transition",
        )
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(deleted_at=now, deleted_by=actor, updated_at=now)
    order.deleted_at, order.deleted_by = now, actor
    _record(OrderEvent.DELETED, order, actor=actor, audit=AuditAction.DELETE)


@transaction.atomic
def order_restore(*, order: Order, actor: User) -> Order:
    if not actor.is_authenticated or not actor.has_perm("orders.delete_order") or not is_in_team_of(actor, order.owner):
        raise PermissionDenied
    if order.customer.deleted_at is not None:
        raise ValidationError(
            _("%(customer)s is in the recycle bin; restore the customer first.") % {"customer": order.customer.name}
        )
    now = timezone.now()
    if Order.objects.filter(pk=order.pk, deleted_at__isnull=False).update(
        deleted_at=None, deleted_by=None, updated_at=now
    ):
        order.deleted_at = order.deleted_by = None
        _record(OrderEvent.RESTORED, order, actor=actor, audit=AuditAction.RESTORE)
    return order


# --- rollups the apps above write ----------------------------------------------------------------


def settlement_of(total: Decimal, received: Decimal) -> str:
    if total > ZERO and received >= total:
        return SettlementStatus.PAID
    return SettlementStatus.PARTIAL if received > ZERO else SettlementStatus.UNPAID


def order_rollups_set(
    *,
    order_id: int,
    invoiced_amount: Decimal | None = None,
    received_amount: Decimal | None = None,
    invoiced_quantities: dict[int, Decimal] | None = None,
) -> None:
    """Write what the apps above sum for an order: invoiced (invoices, with the invoiced quantity per
    order line id) and received (receivables), in the transaction of their change. The settlement
    status follows what was received. The version is not bumped (see `contract_rollups_set`)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().only("pk", "total", "received_amount").get(pk=order_id)
        values = {}
        if invoiced_amount is not None:
            values["invoiced_amount"] = invoiced_amount
        if received_amount is not None:
            values["received_amount"] = received_amount
            values["settlement_status"] = settlement_of(order.total, received_amount)
        if values:
            Order.objects.filter(pk=order_id).update(**values)
        for line_id, quantity in (invoiced_quantities or {}).items():
            OrderLine.objects.filter(pk=line_id, order_id=order_id).update(invoiced_quantity=quantity)


# --- sell-through --------------------------------------------------------------------------------


def first_of_month(day: date) -> date:
    return day.replace(day=1)


@transaction.atomic
def sell_through_create(
    *,
    actor: User,
    seller: Customer,
    month: date,
    specification: Specification,
    quantity,
    amount=ZERO,
    buyer: Customer | None = None,
    buyer_name: str = "",
    buyer_level: str = "",
    import_job=None,
    record_event: bool = True,
) -> SellThrough:
    """One sell-through record: what `seller` (a dealer) sold on in `month`."""
    if not actor.is_authenticated or not actor.has_perm("orders.add_order"):
        raise PermissionDenied
    if not _customer_visible(actor, seller):
        raise PermissionDenied
    buyer_name = check_text((buyer_name or "").strip(), field="buyer_name", max_length=200)
    buyer_level = check_text((buyer_level or "").strip(), field="buyer_level", max_length=20)
    if buyer is None and not buyer_name:
        raise ValidationError({"buyer_name": _("Name the buyer or choose a customer.")})
    if buyer is not None and buyer.pk == seller.pk:
        raise ValidationError({"buyer": _("A dealer does not sell to itself.")})
    quantity = _quantity(quantity)
    try:
        amount = money.round_fen(Decimal(str(amount or 0)))
    except ArithmeticError:
        raise ValidationError({"amount": _("Enter an amount.")}) from None
    if amount < 0 or amount > MAX_AMOUNT:
        raise ValidationError({"amount": _("Enter an amount between 0 and the largest amount Kehu keeps.")})
    record = SellThrough.objects.create(
        month=first_of_month(month),
        seller=seller,
        buyer=buyer,
        buyer_name=buyer_name or (buyer.name if buyer else ""),
        buyer_level=buyer_level,
        product_id=specification.product_id,
        specification=specification,
        quantity=quantity,
        amount=amount,
        import_job=import_job,
        created_by=actor,
    )
    if record_event:
        events.record(
            OrderEvent.SELL_THROUGH,
            actor=actor,
            subject=record,
            customer_id=seller.pk,
            summary=f"{record.month:%Y-%m} · {specification.code} × {_plain(quantity)} → {record.buyer_name}",
            audit=AuditAction.CREATE,
        )
    return record
