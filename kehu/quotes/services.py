"""Every write of quotes (SAL-3/SAL-4): validate, write in one transaction, record an event.

Rules kept here:
- Lines are priced by the price book (`kehu.catalog.pricing.prices_resolve`, one call for all the
  lines of a write) and amounts are worked out by `kehu.core.money.line_amounts`: per line rounded
  to the fen, the quote's totals are sums of the rounded lines. The largest line discount and
  whether a line is below its floor price are kept on the quote for approval.
- A rep gives a discount (%) or types a unit price; the discount is then derived from the book
  price (rounded up to 0.01 %, so approval never under-reads it). A price above the book price is
  no discount.
- Only drafts are edited. Moves between states follow `TRANSITIONS` (one table, one door:
  `_transition`, a conditional UPDATE so two people acting at once cannot both move a quote).
- Numbers are `Q<year>-<six digits>` (Q2026-000123), counted per year; a revision keeps the number
  and counts `revision` up. The unique (number, revision) constraint makes numbering safe when two
  quotes are created at once: the loser of a race takes the next number.
"""

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog import pricing
from kehu.catalog.models import ProductStatus, Specification
from kehu.core import events, money
from kehu.core.audit import diff, snapshot
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction
from kehu.core.numbering import save_numbered
from kehu.core.text import changed, check_text, full_clean
from kehu.core.versioning import update_versioned
from kehu.customers.models import Contact, Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.quotes.events import QuoteEvent
from kehu.quotes.insights_services import price_conflicts_tell
from kehu.quotes.models import OPEN_STATES, Quote, QuoteLine, QuoteState
from kehu.sales.models import Opportunity
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

S = QuoteState
ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
PLACES4 = Decimal("0.0001")
QUANTITY_PLACES = Decimal("0.001")
MAX_QUANTITY = Decimal("99999999999")  # 14 digits, 3 decimals
MAX_AMOUNT = Decimal("99999999999999")  # 16 digits, 2 decimals
MAX_LINES = 2000
VALID_DAYS = 30  # a new quote is valid for this many days unless told
NUMBER_WIDTH = 6

HEADER_FIELDS = [
    "title",
    "contact",
    "opportunity",
    "owner",
    "language",
    "quoted_on",
    "valid_until",
    "payment_terms",
    "delivery_terms",
    "notes",
]
AUDITED_FIELDS = [*HEADER_FIELDS, "state"]

# The one table of allowed moves: state -> {next state: the service that makes the move}.
TRANSITIONS: dict[str, dict[str, str]] = {
    S.DRAFT: {S.PENDING: "submit", S.APPROVED: "submit"},
    S.PENDING: {S.APPROVED: "approve", S.DRAFT: "approval rejected / withdrawn"},
    S.APPROVED: {
        S.SENT: "mark sent",
        S.ACCEPTED: "accept",
        S.REJECTED: "reject",
        S.EXPIRED: "expire",
        S.SUPERSEDED: "revise",
    },
    S.SENT: {S.ACCEPTED: "accept", S.REJECTED: "reject", S.EXPIRED: "expire", S.SUPERSEDED: "revise"},
    S.REJECTED: {S.SUPERSEDED: "revise"},
    S.EXPIRED: {S.SUPERSEDED: "revise"},
    S.ACCEPTED: {},
    S.SUPERSEDED: {},
}
SEND_WAYS = ("manual", "email", "link")

# What else happens when a customer accepts a quote. The orders app, once it exists, appends here
# from its AppConfig.ready a function (quote, actor) that turns the accepted quote into an order
# (inside the same transaction as the acceptance).
ON_ACCEPTED: list[Callable] = []


# --- helpers -------------------------------------------------------------------------------------


def quote_link(quote: Quote) -> str:
    return f"/quotes/{quote.pk}/"


def may_change(actor: User, quote: Quote) -> bool:
    """The owner and the managers whose scope covers the owner (account team members only read)."""
    return (
        actor.is_authenticated
        and actor.has_perm("quotes.change_quote")
        and quote.deleted_at is None
        and is_in_team_of(actor, quote.owner)
    )


def _check_change(actor: User, quote: Quote, perm: str = "quotes.change_quote") -> None:
    if not actor.is_authenticated or not actor.has_perm(perm) or not is_in_team_of(actor, quote.owner):
        raise PermissionDenied
    if quote.deleted_at is not None:
        raise ValidationError(_("This quote is in the recycle bin."))


def _locked(quote: Quote) -> Quote:
    """The quote row locked for this transaction (writers of one quote run one after the other)."""
    return Quote.objects.select_for_update().select_related("customer", "owner").get(pk=quote.pk)


def _check_draft(quote: Quote) -> None:
    if quote.state != S.DRAFT:
        raise ValidationError(
            _("Only a draft can be changed; this quote is %(state)s. Revise it to make a new version.")
            % {"state": quote.get_state_display().lower()},
            code="not_draft",
        )


def _state_label(state: str) -> str:
    return str(dict(QuoteState.choices).get(state, state)).lower()


def _transition(quote: Quote, to: str, *, fields: dict | None = None) -> Quote:
    """Move `quote` to `to` if the table allows it and nobody moved it first (a conditional UPDATE)."""
    source = quote.state
    if to not in TRANSITIONS.get(source, {}):
        raise ValidationError(
            _("A quote that is %(from)s cannot become %(to)s.")
            % {"from": _state_label(source), "to": _state_label(to)},
            code="transition",
        )
    now = timezone.now()
    values = {"state": to, **(fields or {})}
    updated = Quote.objects.filter(pk=quote.pk, state=source).update(version=F("version") + 1, updated_at=now, **values)
    if not updated:
        raise ValidationError(_("Someone else changed this quote's state: reload it."), code="transition")
    for name, value in values.items():
        setattr(quote, name, value)
    quote.version += 1
    quote.updated_at = now
    if to not in OPEN_STATES:
        price_conflicts_tell(quote)  # a closed quote's warnings are forgotten
    return quote


def webhook_payload(quote: Quote) -> dict:
    return {
        "id": quote.pk,
        "number": quote.number,
        "revision": quote.revision,
        "customer_id": quote.customer_id,
        "opportunity_id": quote.opportunity_id,
        "owner_id": quote.owner_id,
        "state": quote.state,
        "currency": quote.currency,
        "total": str(quote.total),
        "total_net": str(quote.total_net),
        "total_tax": str(quote.total_tax),
        "max_discount": str(quote.max_discount),
        "below_floor": quote.below_floor,
        "line_count": quote.line_count,
        "quoted_on": quote.quoted_on.isoformat(),
        "valid_until": quote.valid_until.isoformat(),
        "approved_at": quote.approved_at.isoformat() if quote.approved_at else None,
        "decided_at": quote.decided_at.isoformat() if quote.decided_at else None,
    }


def _summary(quote: Quote, extra: str = "") -> str:
    text = f"{quote} · ¥{quote.total:,.2f}"
    return f"{text} · {extra}" if extra else text


def _record(kind, quote: Quote, *, actor, timeline=True, audit=AuditAction.UPDATE, changes=None, **fields):
    return events.record(
        kind,
        actor=actor,
        subject=quote,
        customer_id=quote.customer_id if timeline else None,
        summary=fields.pop("summary", None) or _summary(quote),
        payload={"quote": quote.pk, "number": str(quote), "state": quote.state, "total": str(quote.total)},
        audit=audit,
        changes=changes or {},
        link=quote_link(quote),
        **fields,
    )


# --- numbering -----------------------------------------------------------------------------------


def _save_numbered(quote: Quote) -> Quote:
    return save_numbered(
        quote,
        prefix=f"Q{quote.quoted_on.year}-",
        width=NUMBER_WIDTH,
        failure=_("Could not give the quote a number; try again."),
    )


# --- creating and editing the header -------------------------------------------------------------


def _clean_header(quote: Quote, *, actor: User, changed_fields=None) -> None:
    errors = {}
    if quote.valid_until is None:
        errors["valid_until"] = _("Enter the date the quote is valid until.")
    elif quote.quoted_on and quote.valid_until < quote.quoted_on:
        errors["valid_until"] = _("A quote cannot expire before its date.")
    if quote.contact_id and quote.contact.customer_id != quote.customer_id:
        errors["contact"] = _("Choose a contact of this customer.")
    if quote.contact_id and quote.contact.deleted_at is not None:
        errors["contact"] = _("This contact is in the recycle bin.")
    if quote.opportunity_id and (
        quote.opportunity.customer_id != quote.customer_id or quote.opportunity.deleted_at is not None
    ):
        errors["opportunity"] = _("Choose an opportunity of this customer.")
    if not quote.owner.is_active:
        errors["owner"] = _("The owner must be an active user.")
    elif quote.owner_id != actor.pk and not is_in_team_of(actor, quote.owner):
        errors["owner"] = _("You may not give quotes to this user.")
    if errors:
        raise ValidationError(errors)
    full_clean(
        quote,
        exclude=["customer", "opportunity", "contact", "owner", "previous", "created_by", "deleted_by", "number"],
        text_fields=changed_fields,
        validate_constraints=False,
    )


def _customer_visible(actor: User, customer: Customer) -> bool:
    return customer_qs_visible_to(actor).filter(pk=customer.pk).exists()


@transaction.atomic
def quote_create(
    *,
    actor: User,
    customer: Customer | None = None,
    opportunity: Opportunity | None = None,
    owner: User | None = None,
    **header,
) -> Quote:
    """A draft quote for a customer in the actor's view, or for one of its opportunities; numbered
    Q<year>-nnnnnn. Header fields: title, contact, language, quoted_on, valid_until (default: 30
    days on), payment_terms, delivery_terms, notes."""
    if not actor.is_authenticated or not actor.has_perm("quotes.add_quote"):
        raise PermissionDenied
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    if customer is None:
        if opportunity is None:
            raise ValidationError({"customer": _("Choose a customer or an opportunity.")})
        customer = opportunity.customer
    if customer.deleted_at is not None:
        raise ValidationError({"customer": _("This customer is in the recycle bin.")})
    if not _customer_visible(actor, customer):
        raise PermissionDenied
    quoted_on = header.pop("quoted_on", None) or timezone.localdate()
    valid_until = header.pop("valid_until", None) or quoted_on + timedelta(days=VALID_DAYS)
    quote = Quote(
        customer=customer,
        opportunity=opportunity,
        owner=owner or actor,
        state=S.DRAFT,
        quoted_on=quoted_on,
        valid_until=valid_until,
        created_by=actor,
        **header,
    )
    _clean_header(quote, actor=actor)
    _save_numbered(quote)
    _record(
        QuoteEvent.CREATED,
        quote,
        actor=actor,
        audit=AuditAction.CREATE,
        changes={k: [None, v] for k, v in snapshot(quote, AUDITED_FIELDS).items() if v not in ("", None)},
    )
    return quote


@transaction.atomic
def quote_update(*, quote: Quote, actor: User, expected_version: int, **header) -> Quote:
    """Change a draft's header; `expected_version` is the version the editor read (409 when stale)."""
    _check_change(actor, quote)
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    current = _locked(quote)
    _check_draft(current)
    before = snapshot(quote, AUDITED_FIELDS)
    changing = changed(quote, header)
    for name, value in header.items():
        setattr(quote, name, value)
    _clean_header(quote, actor=actor, changed_fields=changing)
    changes = diff(before, snapshot(quote, AUDITED_FIELDS))
    if not changes:
        if expected_version != current.version:
            raise ConcurrentEditError()
        return quote
    fields = [f"{name}_id" if name in ("contact", "opportunity", "owner") else name for name in header]
    update_versioned(quote, expected_version=expected_version, fields=fields)
    _record(QuoteEvent.CHANGED, quote, actor=actor, timeline=False, changes=changes)
    return quote


# --- lines ---------------------------------------------------------------------------------------


def _quantity(value, field: str = "quantity") -> Decimal:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("Enter a quantity.")}) from None
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({field: _("The quantity must be more than zero.")})
    if quantity > MAX_QUANTITY:
        raise ValidationError({field: _("This quantity is too large.")})
    if quantity != quantity.quantize(QUANTITY_PLACES):
        raise ValidationError({field: _("A quantity has at most three decimal places.")})
    return quantity


def _percent(value) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"discount": _("Enter a discount in percent.")}) from None
    if not number.is_finite() or not ZERO <= number <= HUNDRED:
        raise ValidationError({"discount": _("A discount is between 0 and 100 %.")})
    if number != number.quantize(CENT):
        raise ValidationError({"discount": _("A discount has at most two decimal places.")})
    return number


def _price(value) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"unit_price": _("Enter a unit price.")}) from None
    if not number.is_finite() or number < 0:
        raise ValidationError({"unit_price": _("A unit price cannot be negative.")})
    if number >= MAX_AMOUNT / 100:
        raise ValidationError({"unit_price": _("This unit price is too large.")})
    if number != number.quantize(PLACES4):
        raise ValidationError({"unit_price": _("A unit price has at most four decimal places.")})
    return number


def _derived_discount(base: Decimal, unit_price: Decimal) -> Decimal:
    if base <= 0 or unit_price >= base:
        return ZERO
    return min(HUNDRED, ((1 - unit_price / base) * HUNDRED).quantize(CENT, rounding=ROUND_UP))


def _set_price(line: QuoteLine, resolved) -> None:
    line.list_price = money.round_price(resolved.list_price) if resolved.list_price is not None else None
    line.base_price = money.round_price(resolved.price)  # what the line shows is what it computes with
    line.price_source = (resolved.source or "")[:200]
    line.price_list_id = resolved.price_list_id
    line.floor_price = resolved.floor_price
    line.tax_rate = resolved.tax_rate


def _compute(line: QuoteLine, *, typed_price: Decimal | None = None) -> None:
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


def _no_price_error(codes: list[str], customer: Customer, on: date) -> ValidationError:
    return ValidationError(
        {
            "lines": [
                _("%(code)s has no price for %(customer)s on %(date)s: add it to the price book first.")
                % {"code": code, "customer": customer.name, "date": on.isoformat()}
                for code in codes
            ]
        },
        code="no_price",
    )


def _resolve(customer: Customer, pairs: list[tuple[int, Decimal]], on: date, codes: dict[int, str]) -> list:
    resolved = pricing.prices_resolve(customer=customer, lines=pairs, on=on)
    missing = [codes.get(r.specification_id, str(r.specification_id)) for r in resolved if r.price is None]
    if missing:
        raise _no_price_error(list(dict.fromkeys(missing)), customer, on)
    return resolved


def _recount(quote: Quote) -> Quote:
    """Totals from the rounded lines, the largest discount and the floor flag: one aggregate, one update."""
    row = QuoteLine.objects.filter(quote=quote).aggregate(
        n=Count("pk"),
        total=Sum("amount"),
        net=Sum("amount_net"),
        tax=Sum("tax"),
        discount=Max("discount"),
        below=Count("pk", filter=Q(floor_price__isnull=False, unit_price__lt=F("floor_price"))),
    )
    quote.line_count = row["n"] or 0
    quote.total = row["total"] or ZERO
    quote.total_net = row["net"] or ZERO
    quote.total_tax = row["tax"] or ZERO
    quote.max_discount = row["discount"] or ZERO
    quote.below_floor = bool(row["below"])
    quote.updated_at = timezone.now()
    Quote.objects.filter(pk=quote.pk).update(
        line_count=quote.line_count,
        total=quote.total,
        total_net=quote.total_net,
        total_tax=quote.total_tax,
        max_discount=quote.max_discount,
        below_floor=quote.below_floor,
        updated_at=quote.updated_at,
    )
    return quote


def _line_event(quote: Quote, actor: User, before: tuple, what: str) -> None:
    after = (quote.line_count, str(quote.total))
    changes = {}
    if before[0] != after[0]:
        changes["lines"] = [before[0], after[0]]
    if before[1] != after[1]:
        changes["total"] = [before[1], after[1]]
    _record(QuoteEvent.CHANGED, quote, actor=actor, timeline=False, changes=changes, summary=_summary(quote, what))
    price_conflicts_tell(quote, actor)


def _specifications(ids) -> dict[int, Specification]:
    return {s.pk: s for s in Specification.objects.select_related("product").filter(pk__in=set(ids))}


def _sellable_problem(spec: Specification) -> str | None:
    if not spec.is_active or spec.product.deleted_at is not None or spec.product.status != ProductStatus.ACTIVE:
        return _("%(code)s is no longer sold.") % {"code": spec.code}
    return None


def _add(quote: Quote, actor: User, pairs: list[tuple[Specification, Decimal]]) -> list[QuoteLine]:
    if quote.line_count + len(pairs) > MAX_LINES:
        raise ValidationError({"lines": _("A quote has at most %(n)s lines.") % {"n": MAX_LINES}})
    problems = list(dict.fromkeys(p for spec, _q in pairs if (p := _sellable_problem(spec))))
    if problems:
        raise ValidationError({"lines": problems})
    on = timezone.localdate()
    resolved = _resolve(
        quote.customer, [(spec.pk, quantity) for spec, quantity in pairs], on, {s.pk: s.code for s, _q in pairs}
    )
    start = (QuoteLine.objects.filter(quote=quote).aggregate(m=Max("position"))["m"] or 0) + 1
    lines = []
    for offset, ((spec, quantity), price) in enumerate(zip(pairs, resolved, strict=True)):
        line = QuoteLine(
            quote=quote,
            position=start + offset,
            customer_id=quote.customer_id,
            product_id=spec.product_id,
            specification=spec,
            code=spec.code,
            name=spec.product.name,
            specification_name=spec.name,
            unit=spec.product.unit,
            quantity=quantity,
        )
        _set_price(line, price)
        _compute(line)
        lines.append(line)
    QuoteLine.objects.bulk_create(lines, batch_size=500)
    return lines


@transaction.atomic
def quote_lines_add(*, quote: Quote, actor: User, lines: list[tuple[int, object]]) -> list[QuoteLine]:
    """Add lines [(specification id, quantity)] priced by the price book; all or nothing."""
    _check_change(actor, quote)
    quote = _locked(quote)
    _check_draft(quote)
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
    before = (quote.line_count, str(quote.total))
    added = _add(quote, actor, pairs)
    _recount(quote)
    _line_event(quote, actor, before, _("%(n)s lines added") % {"n": len(added)})
    return added


# Paste: "code<TAB>quantity" as Excel copies it; also "code,qty" and "code;qty".
_SEPARATOR = re.compile(r"\t|;|,")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _paste_quantity(text: str) -> Decimal | None:
    text = text.replace(" ", "").replace("\u00a0", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        return None
    return Decimal(text)


def paste_parse(text: str) -> tuple[list[tuple[int, str, str]], list[str]]:
    """[(row number, code, quantity text)] of the pasted rows and the rows' problems of form.
    Full-width characters are read as their ASCII twins (NFKC: "１，０００" is "1,000");
    blank rows are skipped; a first row whose quantity is not a number is a header."""
    rows, problems = [], []
    text = unicodedata.normalize("NFKC", text or "")
    first = True
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        line = raw.strip(" \r\n\u00a0")  # a leading tab is an empty code column
        parts = _SEPARATOR.split(line, maxsplit=1) if "\t" not in line else line.split("\t")
        code = parts[0].strip()
        rest = [p.strip() for p in parts[1:] if p.strip()] if "\t" in line else [p.strip() for p in parts[1:]]
        quantity = rest[0] if rest else ""
        if first and code and quantity and _paste_quantity(quantity) is None:
            first = False
            continue  # a header row: 编码 / 数量
        first = False
        if not code:
            problems.append(_("Row %(row)s: no code.") % {"row": number})
        elif not quantity:
            problems.append(_("Row %(row)s: no quantity after %(code)s.") % {"row": number, "code": code})
        elif "\t" in line and len(rest) > 1:
            problems.append(_("Row %(row)s: expected a code and a quantity only.") % {"row": number})
        else:
            rows.append((number, code, quantity))
    return rows, problems


@transaction.atomic
def quote_lines_paste(*, quote: Quote, actor: User, text: str) -> list[QuoteLine]:
    """Add lines pasted from a spreadsheet, one "code<TAB>quantity" a row. Every bad row is listed
    (unknown code, bad quantity, no price) and then nothing is added."""
    _check_change(actor, quote)
    quote = _locked(quote)
    _check_draft(quote)
    rows, problems = paste_parse(text)
    if not rows and not problems:
        raise ValidationError({"text": _("Paste rows of a code and a quantity, one row per line.")})
    codes = {code for _n, code, _q in rows}
    found = {s.code: s for s in Specification.objects.select_related("product").filter(code__in=codes)}
    missing = {c.upper() for c in codes if c not in found}
    if missing:
        for spec in (
            Specification.objects.select_related("product").annotate(upper=Upper("code")).filter(upper__in=missing)
        ):
            found.setdefault(spec.upper, spec)
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
    if len(pairs) + quote.line_count > MAX_LINES:
        raise ValidationError({"text": _("A quote has at most %(n)s lines.") % {"n": MAX_LINES}})
    before = (quote.line_count, str(quote.total))
    try:
        added = _add(quote, actor, pairs)
    except ValidationError as exc:
        raise ValidationError({"text": exc.message_dict.get("lines", exc.messages)}, code="paste") from None
    _recount(quote)
    _line_event(quote, actor, before, _("%(n)s lines pasted") % {"n": len(added)})
    return added


def _row_order(message: str):
    found = re.search(r"\d+", message)
    return int(found.group()) if found else 0


def _line_quote(line: QuoteLine, actor: User) -> Quote:
    quote = Quote.objects.select_related("owner").get(pk=line.quote_id)
    _check_change(actor, quote)
    quote = _locked(quote)
    _check_draft(quote)
    return quote


@transaction.atomic
def quote_line_update(
    *, line: QuoteLine, actor: User, quantity=None, discount=None, unit_price=None, notes=None
) -> QuoteLine:
    """Change a line's quantity (priced again: a quantity break may apply; the discount stays), its
    discount or its unit price (the discount is then derived), or its notes."""
    quote = _line_quote(line, actor)
    if discount is not None and unit_price is not None:
        raise ValidationError({"unit_price": _("Give a discount or a unit price, not both.")})
    line = QuoteLine.objects.get(pk=line.pk)
    if notes is not None:
        line.notes = check_text(notes.strip(), field="notes", max_length=200)
    if quantity is not None:
        line.quantity = _quantity(quantity)
        spec = Specification.objects.select_related("product").get(pk=line.specification_id)
        resolved = _resolve(quote.customer, [(spec.pk, line.quantity)], timezone.localdate(), {spec.pk: spec.code})
        _set_price(line, resolved[0])
    if discount is not None:
        line.discount = _percent(discount)
    # A typed unit price is kept as the discount it gave off the book price.
    _compute(line, typed_price=_price(unit_price) if unit_price is not None else None)
    before = (quote.line_count, str(quote.total))
    line.save()
    _recount(quote)
    _line_event(quote, actor, before, _("line %(n)s changed") % {"n": line.position})
    return line


@transaction.atomic
def quote_line_remove(*, line: QuoteLine, actor: User) -> None:
    quote = _line_quote(line, actor)
    before = (quote.line_count, str(quote.total))
    QuoteLine.objects.filter(pk=line.pk).delete()
    # The lines after it move up, so the numbers on the page and the PDF stay 1, 2, 3 …
    QuoteLine.objects.filter(quote=quote, position__gt=line.position).update(position=F("position") - 1)
    _recount(quote)
    _line_event(quote, actor, before, _("line %(n)s removed") % {"n": line.position})


@transaction.atomic
def quote_reprice(*, quote: Quote, actor: User) -> Quote:
    """Price every line again from today's price book (discounts kept); all or nothing."""
    _check_change(actor, quote)
    quote = _locked(quote)
    _check_draft(quote)
    lines = list(QuoteLine.objects.filter(quote=quote).order_by("position"))
    if lines:
        resolved = _resolve(
            quote.customer,
            [(line.specification_id, line.quantity) for line in lines],
            timezone.localdate(),
            {line.specification_id: line.code for line in lines},
        )
        for line, price in zip(lines, resolved, strict=True):
            _set_price(line, price)
            _compute(line)
        QuoteLine.objects.bulk_update(
            lines,
            [
                "list_price",
                "base_price",
                "price_source",
                "price_list",
                "floor_price",
                "tax_rate",
                "unit_price",
                "amount",
                "amount_net",
                "tax",
            ],
            batch_size=500,
        )
    before = (quote.line_count, str(quote.total))
    _recount(quote)
    _line_event(quote, actor, before, _("priced again"))
    return quote


# --- the lifecycle -------------------------------------------------------------------------------


@transaction.atomic
def quote_submit(*, quote: Quote, actor: User) -> Quote:
    """A draft goes to approval when a discount is beyond the owner's limit or a line is below its
    floor price (an approval request is opened); otherwise it is approved at once."""
    from kehu.quotes import approval

    _check_change(actor, quote)
    quote = _locked(quote)
    _check_draft(quote)
    if quote.line_count == 0:
        raise ValidationError(_("Add at least one line before submitting the quote."))
    if quote.valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("This quote's validity has passed: change the date first.")})
    if approval.needs_approval(quote):
        approval.check_approvable(quote)
        _transition(quote, S.PENDING)
        _record(QuoteEvent.SUBMITTED, quote, actor=actor, changes={"state": [S.DRAFT, S.PENDING]})
        approval.submit(quote=quote, actor=actor)
        quote.refresh_from_db()
        return quote
    quote_approved(quote=quote, actor=actor, direct=True)
    return quote


def quote_approved(*, quote: Quote, actor, direct: bool = False) -> Quote:
    """The approval (or a submit that needed none): the owner is told unless they approved it themselves."""
    source = quote.state
    _transition(quote, S.APPROVED, fields={"approved_at": timezone.now()})
    _record(
        QuoteEvent.APPROVED,
        quote,
        actor=actor,
        changes={"state": [source, S.APPROVED]},
        webhook=webhook_payload(quote),
        notify=[] if direct else [quote.owner_id],
    )
    return quote


def quote_back_to_draft(*, quote: Quote, actor, comment: str = "", withdrawn: bool = False) -> Quote:
    """An approval rejected (with the approver's comment on the timeline) or withdrawn."""
    if quote.state != S.PENDING:
        return quote
    _transition(quote, S.DRAFT)
    if withdrawn:
        summary = _summary(quote, _("approval request withdrawn"))
    else:
        summary = _summary(quote, comment) if comment else _summary(quote)
    _record(
        QuoteEvent.APPROVAL_REJECTED,
        quote,
        actor=actor,
        changes={"state": [S.PENDING, S.DRAFT]},
        summary=summary,
        notify=[] if withdrawn else [quote.owner_id],
    )
    return quote


@transaction.atomic
def quote_withdraw(*, quote: Quote, actor: User) -> Quote:
    """Take a quote back out of approval (its request is withdrawn) to change it."""
    from kehu.quotes import approval

    _check_change(actor, quote)
    quote = _locked(quote)
    if quote.state != S.PENDING:
        raise ValidationError(_("Only a quote waiting for approval can be withdrawn."))
    approval.withdraw(quote=quote, actor=actor)
    quote.refresh_from_db()
    if quote.state == S.PENDING:  # no open request (a flow edited away): back to draft all the same
        quote_back_to_draft(quote=quote, actor=actor, withdrawn=True)
    return quote


@transaction.atomic
def quote_mark_sent(*, quote: Quote, actor: User, how: str = "manual") -> Quote:
    """The customer has the quote (handed over, e-mailed with its PDF, or through a share link).
    Handing over an already sent quote again is recorded and leaves it sent; an e-mail or a link
    to a sent or accepted quote changes nothing here (the mail or the link is on the timeline)."""
    if how not in SEND_WAYS:
        raise ValidationError({"how": _("Unknown way of sending.")})
    _check_change(actor, quote)
    quote = _locked(quote)
    if how != "manual" and quote.state in (S.SENT, S.ACCEPTED):
        return quote
    if quote.state == S.SENT:
        _record(QuoteEvent.SENT, quote, actor=actor, audit=None, summary=_summary(quote, _send_label(how)))
        return quote
    if quote.state in (S.PENDING, S.DRAFT):
        raise ValidationError(_("Only an approved quote can be sent to the customer."), code="transition")
    if quote.valid_until < timezone.localdate():
        raise ValidationError(_("This quote has expired; revise it to send a new version."), code="transition")
    _transition(quote, S.SENT, fields={"sent_at": timezone.now()})
    _record(
        QuoteEvent.SENT,
        quote,
        actor=actor,
        changes={"state": [S.APPROVED, S.SENT], "how": [None, how]},
        summary=_summary(quote, _send_label(how)),
    )
    return quote


def _send_label(how: str) -> str:
    return {"manual": _("handed over"), "email": _("by e-mail"), "link": _("by share link")}[how]


def _decide(quote: Quote, actor: User, to: str, note: str) -> tuple[Quote, str, str]:
    _check_change(actor, quote)
    note = check_text((note or "").strip(), field="note", multiline=True, max_length=2000)
    quote = _locked(quote)
    source = quote.state
    _transition(quote, to, fields={"decided_at": timezone.now(), "decision_note": note})
    return quote, source, note


@transaction.atomic
def quote_accept(*, quote: Quote, actor: User, note: str = "") -> Quote:
    """The customer accepts: its opportunity is won (the quote's total as the amount when it has
    none) and the ON_ACCEPTED hooks run (an order, once orders exist)."""
    quote, source, note = _decide(quote, actor, S.ACCEPTED, note)
    if quote.opportunity_id:
        from kehu.sales.services import opportunity_win

        opportunity = Opportunity.objects.get(pk=quote.opportunity_id)
        opportunity_win(
            opportunity=opportunity,
            actor=actor,
            reason=_("Quote %(number)s accepted") % {"number": str(quote)},
            amount=quote.total,
        )
    _record(
        QuoteEvent.ACCEPTED,
        quote,
        actor=actor,
        changes={"state": [source, S.ACCEPTED]},
        summary=_summary(quote, note),
        webhook=webhook_payload(quote),
    )
    for hook in ON_ACCEPTED:
        hook(quote, actor)
    return quote


@transaction.atomic
def quote_reject(*, quote: Quote, actor: User, note: str = "") -> Quote:
    """The customer says no (the note says why, when known)."""
    quote, source, note = _decide(quote, actor, S.REJECTED, note)
    _record(
        QuoteEvent.REJECTED, quote, actor=actor, changes={"state": [source, S.REJECTED]}, summary=_summary(quote, note)
    )
    return quote


def quote_expire(*, quote: Quote, now=None) -> bool:
    """The daily job: an approved or sent quote past its date expires (False: someone moved it first)."""
    try:
        with transaction.atomic():
            source = quote.state
            _transition(quote, S.EXPIRED)
            _record(
                QuoteEvent.EXPIRED,
                quote,
                actor=None,
                changes={"state": [source, S.EXPIRED]},
                notify=[quote.owner_id],
            )
    except ValidationError:
        return False
    return True


LINE_COPY = [
    "customer_id",
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
    "price_list_id",
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


@transaction.atomic
def quote_revise(*, quote: Quote, actor: User) -> Quote:
    """A new version: revision N+1 as a draft with the same number, header and lines (prices as they
    were; `quote_reprice` prices them again); the earlier version is superseded and stays readable."""
    _check_change(actor, quote)
    quote = _locked(quote)
    if S.SUPERSEDED not in TRANSITIONS.get(quote.state, {}):
        raise ValidationError(
            _("A quote that is %(state)s cannot be revised.") % {"state": _state_label(quote.state)},
            code="transition",
        )
    today = timezone.localdate()
    valid_days = max((quote.valid_until - quote.quoted_on).days, 1)
    revision = Quote(
        number=quote.number,
        revision=quote.revision + 1,
        previous=quote,
        customer_id=quote.customer_id,
        opportunity_id=quote.opportunity_id,
        contact_id=quote.contact_id,
        owner_id=quote.owner_id,
        state=S.DRAFT,
        title=quote.title,
        currency=quote.currency,
        language=quote.language,
        quoted_on=today,
        valid_until=today + timedelta(days=valid_days),
        payment_terms=quote.payment_terms,
        delivery_terms=quote.delivery_terms,
        notes=quote.notes,
        line_count=quote.line_count,
        total=quote.total,
        total_net=quote.total_net,
        total_tax=quote.total_tax,
        max_discount=quote.max_discount,
        below_floor=quote.below_floor,
        created_by=actor,
    )
    source = quote.state
    _transition(quote, S.SUPERSEDED)
    try:
        with transaction.atomic():
            revision.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_("This quote was already revised: reload it."), code="transition") from None
    QuoteLine.objects.bulk_create(
        [
            QuoteLine(quote=revision, **{name: getattr(line, name) for name in LINE_COPY})
            for line in QuoteLine.objects.filter(quote=quote).order_by("position")
        ],
        batch_size=500,
    )
    _record(
        QuoteEvent.REVISED,
        revision,
        actor=actor,
        audit=AuditAction.CREATE,
        changes={"revision": [quote.revision, revision.revision], "state": [source, S.SUPERSEDED]},
        summary=_summary(
            revision, _("revision %(n)s of %(number)s") % {"n": revision.revision, "number": quote.number}
        ),
    )
    price_conflicts_tell(revision, actor)
    return revision


@transaction.atomic
def quote_delete(*, quote: Quote, actor: User) -> None:
    """To the recycle bin. An accepted quote, or one waiting for approval, stays."""
    _check_change(actor, quote, "quotes.delete_quote")
    quote = _locked(quote)
    if quote.state in (S.ACCEPTED, S.PENDING):
        raise ValidationError(
            _("A quote that is %(state)s cannot be deleted.") % {"state": _state_label(quote.state)},
            code="transition",
        )
    now = timezone.now()
    Quote.objects.filter(pk=quote.pk).update(deleted_at=now, deleted_by=actor, updated_at=now)
    quote.deleted_at, quote.deleted_by = now, actor
    _record(QuoteEvent.DELETED, quote, actor=actor, audit=AuditAction.DELETE)
    price_conflicts_tell(quote)


@transaction.atomic
def quote_restore(*, quote: Quote, actor: User) -> Quote:
    if not actor.is_authenticated or not actor.has_perm("quotes.delete_quote") or not is_in_team_of(actor, quote.owner):
        raise PermissionDenied
    if quote.customer.deleted_at is not None:
        raise ValidationError(
            _("%(customer)s is in the recycle bin; restore the customer first.") % {"customer": quote.customer.name}
        )
    now = timezone.now()
    if Quote.objects.filter(pk=quote.pk, deleted_at__isnull=False).update(
        deleted_at=None, deleted_by=None, updated_at=now
    ):
        quote.deleted_at = quote.deleted_by = None
        _record(QuoteEvent.RESTORED, quote, actor=actor, audit=AuditAction.RESTORE)
    return quote


def contact_for(customer: Customer, contact_id) -> Contact | None:
    """A live contact of the customer, for forms and the API."""
    return Contact.objects.filter(pk=contact_id, customer=customer, deleted_at__isnull=True).first()
