"""Every write of contracts (CON-1/CON-2): validate, write in one transaction, record an event.

Rules kept here:
- Stages move only along `TRANSITIONS` (one table, one door: `_transition`, a conditional UPDATE
  so two people acting at once cannot both move a contract). A draft is submitted; it is approved
  through the approvals engine when `ContractSettings.approval_above` says so (else at once) and
  stays "pending" with `approved_at` set until it is marked signed with its signing date.
- Only a draft is edited. A signed contract changes through amendments (补充协议) only, each of
  which keeps what it changed (amount, payment terms, other terms, end date, before and after);
  a signed contract is never deleted (it is voided), drafts go to the recycle bin.
- Numbers are `HT<year>-<six digits>`, counted per year; the unique index makes numbering safe
  when two contracts are created at once (the loser of a race takes the next number).
- Amounts: lines by `kehu.core.money.line_amounts` (per line rounded to the fen); the contract's
  amount is the sum of its rounded lines (or typed when it has no lines).
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog import pricing
from kehu.catalog.models import Specification
from kehu.contracts.events import ContractEvent
from kehu.contracts.models import (
    AmendmentState,
    Contract,
    ContractAmendment,
    ContractAttachment,
    ContractLine,
    ContractSettings,
    ContractStage,
    ContractTemplate,
)
from kehu.core import events, money
from kehu.core.audit import diff, snapshot
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction
from kehu.core.numbering import save_numbered
from kehu.core.text import changed, check_text, full_clean
from kehu.core.versioning import update_versioned
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

S = ContractStage
ZERO = Decimal("0")
MAX_AMOUNT = Decimal("99999999999999")
MAX_QUANTITY = Decimal("99999999999")
MAX_LINES = 2000
NUMBER_WIDTH = 6
MAX_ATTACHMENT = 20 * 1024 * 1024
ATTACHMENT_TYPES = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}

ROLLUP_FIELDS = (
    "ordered_amount",
    "delivered_amount",
    "invoiced_amount",
    "received_amount",
    "plans_count",
    "plans_done",
)

HEADER_FIELDS = [
    "title",
    "contact",
    "opportunity",
    "owner",
    "template",
    "language",
    "amount",
    "payment_terms",
    "delivery_terms",
    "other_terms",
    "starts_on",
    "ends_on",
    "our_signatory",
    "notes",
]
FOREIGN_KEYS = ("contact", "opportunity", "owner", "template")
AUDITED_FIELDS = [*HEADER_FIELDS, "stage", "signed_on"]

# The one table of allowed moves: stage -> {next stage: what makes the move}.
TRANSITIONS: dict[str, dict[str, str]] = {
    S.DRAFT: {S.PENDING: "submit"},
    S.PENDING: {S.DRAFT: "not approved / withdrawn", S.SIGNED: "sign (once approved)"},
    S.SIGNED: {
        S.PERFORMING: "performance starts (first order or delivery)",
        S.COMPLETED: "complete",
        S.TERMINATED: "terminate",
        S.VOID: "void",
    },
    S.PERFORMING: {S.COMPLETED: "complete", S.TERMINATED: "terminate"},
    S.COMPLETED: {},
    S.TERMINATED: {},
    S.VOID: {},
}
# Moves a person asks for by name through `contract_transition` (the others follow from the engine).
CLOSING = {S.COMPLETED: ContractEvent.COMPLETED, S.TERMINATED: ContractEvent.TERMINATED, S.VOID: ContractEvent.VOIDED}


# --- helpers -------------------------------------------------------------------------------------


def contract_link(contract: Contract) -> str:
    return f"/contracts/{contract.pk}/"


def may_change(actor: User, contract: Contract) -> bool:
    """The responsible person and the managers whose scope covers them (account team members read)."""
    return (
        actor.is_authenticated
        and actor.has_perm("contracts.change_contract")
        and contract.deleted_at is None
        and is_in_team_of(actor, contract.owner)
    )


def _check_change(actor: User, contract: Contract, perm: str = "contracts.change_contract") -> None:
    if not actor.is_authenticated or not actor.has_perm(perm) or not is_in_team_of(actor, contract.owner):
        raise PermissionDenied
    if contract.deleted_at is not None:
        raise ValidationError(_("This contract is in the recycle bin."))


def _locked(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().select_related("customer", "owner").get(pk=contract.pk)


def stage_label(stage: str) -> str:
    return str(dict(ContractStage.choices).get(stage, stage))


def stage_display(contract: Contract) -> str:
    """The stage as people read it: an approved contract waiting for its signature says so."""
    if contract.stage == S.PENDING and contract.approved_at:
        return _("Approved, to be signed")
    return stage_label(contract.stage)


def _check_draft(contract: Contract) -> None:
    if contract.stage != S.DRAFT:
        raise ValidationError(
            _("Only a draft can be changed; this contract is %(stage)s. Change a signed contract with an amendment.")
            % {"stage": stage_label(contract.stage).lower()},
            code="not_draft",
        )


def may_follow(source: str, to: str) -> bool:
    return to in TRANSITIONS.get(source, {})


def _transition(contract: Contract, to: str, *, fields: dict | None = None) -> Contract:
    """Move `contract` to `to` if the table allows it and nobody moved it first (a conditional UPDATE)."""
    source = contract.stage
    if not may_follow(source, to):
        raise ValidationError(
            _("A contract that is %(from)s cannot become %(to)s.")
            % {"from": stage_label(source).lower(), "to": stage_label(to).lower()},
            code="transition",
        )
    now = timezone.now()
    values = {"stage": to, **(fields or {})}
    updated = Contract.objects.filter(pk=contract.pk, stage=source).update(
        version=F("version") + 1, updated_at=now, **values
    )
    if not updated:
        raise ValidationError(_("Someone else changed this contract's stage: reload it."), code="transition")
    for name, value in values.items():
        setattr(contract, name, value)
    contract.version += 1
    contract.updated_at = now
    return contract


def webhook_payload(contract: Contract) -> dict:
    return {
        "id": contract.pk,
        "number": contract.number,
        "title": contract.title,
        "customer_id": contract.customer_id,
        "quote_id": contract.quote_id,
        "owner_id": contract.owner_id,
        "stage": contract.stage,
        "currency": contract.currency,
        "signed_amount": str(contract.signed_amount),
        "amount": str(contract.amount),
        "starts_on": contract.starts_on.isoformat() if contract.starts_on else None,
        "ends_on": contract.ends_on.isoformat() if contract.ends_on else None,
        "signed_on": contract.signed_on.isoformat() if contract.signed_on else None,
    }


def _summary(contract: Contract, extra: str = "") -> str:
    text = f"{contract.number} {contract.title} · ¥{contract.amount:,.2f}"
    return f"{text} · {extra}" if extra else text


def _record(kind, contract: Contract, *, actor, timeline=True, audit=AuditAction.UPDATE, changes=None, **fields):
    return events.record(
        kind,
        actor=actor,
        subject=contract,
        customer_id=contract.customer_id if timeline else None,
        summary=fields.pop("summary", None) or _summary(contract),
        payload={
            "contract": contract.pk,
            "number": contract.number,
            "stage": contract.stage,
            "amount": str(contract.amount),
        },
        audit=audit,
        changes=changes or {},
        link=contract_link(contract),
        **fields,
    )


# --- numbering -----------------------------------------------------------------------------------


def _save_numbered(contract: Contract) -> Contract:
    return save_numbered(
        contract,
        prefix=f"HT{timezone.localdate().year}-",
        width=NUMBER_WIDTH,
        failure=_("Could not give the contract a number; try again."),
    )


# --- creating and editing ------------------------------------------------------------------------


def _amount(value, field: str = "amount") -> Decimal:
    try:
        amount = money.round_fen(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("Enter an amount.")}) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ValidationError({field: _("Enter an amount between 0 and %(max)s.") % {"max": f"{MAX_AMOUNT:,}"}})
    return amount


def _clean_header(contract: Contract, *, actor: User, changed_fields=None) -> None:
    errors = {}
    if not (contract.title or "").strip():
        errors["title"] = _("Give the contract a title.")
    if contract.starts_on and contract.ends_on and contract.ends_on < contract.starts_on:
        errors["ends_on"] = _("A contract cannot end before it starts.")
    if contract.contact_id and (
        contract.contact.customer_id != contract.customer_id or contract.contact.deleted_at is not None
    ):
        errors["contact"] = _("Choose a contact of this customer.")
    if contract.opportunity_id and (
        contract.opportunity.customer_id != contract.customer_id or contract.opportunity.deleted_at is not None
    ):
        errors["opportunity"] = _("Choose an opportunity of this customer.")
    if contract.template_id and not contract.template.is_active:
        errors["template"] = _("This template is no longer in use.")
    if not contract.owner.is_active:
        errors["owner"] = _("The responsible person must be an active user.")
    elif contract.owner_id != actor.pk and not is_in_team_of(actor, contract.owner):
        errors["owner"] = _("You may not give contracts to this user.")
    if errors:
        raise ValidationError(errors)
    full_clean(
        contract,
        exclude=[
            "customer",
            "opportunity",
            "contact",
            "owner",
            "quote",
            "template",
            "created_by",
            "deleted_by",
            "number",
        ],
        text_fields=changed_fields,
        validate_constraints=False,
    )


def _customer_visible(actor: User, customer: Customer) -> bool:
    return customer_qs_visible_to(actor).filter(pk=customer.pk).exists()


LINE_COPY = [
    "position",
    "product_id",
    "specification_id",
    "code",
    "name",
    "specification_name",
    "unit",
    "quantity",
    "unit_price",
    "discount",
    "tax_rate",
    "amount",
    "amount_net",
    "tax",
]


@transaction.atomic
def contract_create(
    *,
    actor: User,
    customer: Customer | None = None,
    quote=None,
    opportunity=None,
    owner: User | None = None,
    **header,
) -> Contract:
    """A draft contract for a customer in the actor's view, for one of its opportunities, or from an
    ACCEPTED quote (its lines, terms, contact and opportunity copied). Numbered HT<year>-nnnnnn."""
    if not actor.is_authenticated or not actor.has_perm("contracts.add_contract"):
        raise PermissionDenied
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    if quote is not None:
        from kehu.quotes.models import QuoteState
        from kehu.quotes.selectors import quote_qs_visible_to

        if not quote_qs_visible_to(actor).filter(pk=quote.pk).exists():
            raise PermissionDenied
        if quote.state != QuoteState.ACCEPTED:
            raise ValidationError({"quote": _("Only an accepted quote becomes a contract.")})
        if customer is not None and customer.pk != quote.customer_id:
            raise ValidationError({"quote": _("This quote is for another customer.")})
        customer = quote.customer
        opportunity = opportunity or quote.opportunity
        header.setdefault("title", quote.title or _("Contract for quote %(number)s") % {"number": str(quote)})
        header.setdefault("contact", quote.contact)
        header.setdefault("language", quote.language)
        header.setdefault("payment_terms", quote.payment_terms)
        header.setdefault("delivery_terms", quote.delivery_terms)
    if customer is None:
        if opportunity is None:
            raise ValidationError({"customer": _("Choose a customer, an opportunity or an accepted quote.")})
        customer = opportunity.customer
    if customer.deleted_at is not None:
        raise ValidationError({"customer": _("This customer is in the recycle bin.")})
    if not _customer_visible(actor, customer):
        raise PermissionDenied
    if not header.get("title"):
        header["title"] = _("Contract with %(customer)s") % {"customer": customer.name}
    amount = _amount(header.pop("amount", ZERO) or ZERO)
    contract = Contract(
        customer=customer,
        opportunity=opportunity,
        quote=quote,
        owner=owner or actor,
        stage=S.DRAFT,
        amount=amount,
        signed_amount=amount,
        created_by=actor,
        **header,
    )
    _clean_header(contract, actor=actor)
    _save_numbered(contract)
    if quote is not None:
        from kehu.quotes.models import QuoteLine

        lines = [
            ContractLine(contract=contract, **{name: getattr(line, name) for name in LINE_COPY})
            for line in QuoteLine.objects.filter(quote=quote).order_by("position", "pk")
        ]
        ContractLine.objects.bulk_create(lines, batch_size=500)
        _recount(contract)
    _record(
        ContractEvent.CREATED,
        contract,
        actor=actor,
        audit=AuditAction.CREATE,
        changes={k: [None, v] for k, v in snapshot(contract, AUDITED_FIELDS).items() if v not in ("", None)},
    )
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, actor: User, expected_version: int, **header) -> Contract:
    """Change a draft's header; `expected_version` is the version the editor read (409 when stale).
    The amount is typed only while the contract has no lines (else it is the sum of the lines)."""
    _check_change(actor, contract)
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    current = _locked(contract)
    _check_draft(current)
    if "amount" in header:
        typed = _amount(header["amount"] if header["amount"] is not None else ZERO)
        if current.line_count:
            header.pop("amount")
        else:
            header["amount"] = typed
            header["signed_amount"] = typed
    before = snapshot(contract, AUDITED_FIELDS)
    changing = changed(contract, header)
    for name, value in header.items():
        setattr(contract, name, value)
    _clean_header(contract, actor=actor, changed_fields=changing)
    changes = diff(before, snapshot(contract, AUDITED_FIELDS))
    if not changes:
        if expected_version != current.version:
            raise ConcurrentEditError()
        return contract
    fields = [f"{name}_id" if name in FOREIGN_KEYS else name for name in header]
    update_versioned(contract, expected_version=expected_version, fields=fields)
    _record(ContractEvent.CHANGED, contract, actor=actor, changes=changes)
    return contract


# --- lines ---------------------------------------------------------------------------------------


def _recount(contract: Contract) -> Contract:
    """Amount and line count from the rounded lines (one aggregate, one update)."""
    sums = ContractLine.objects.filter(contract=contract).aggregate(n=Count("pk"), total=Sum("amount"))
    contract.line_count = sums["n"] or 0
    if contract.line_count:
        contract.amount = contract.signed_amount = sums["total"] or ZERO
    Contract.objects.filter(pk=contract.pk).update(
        line_count=contract.line_count, amount=contract.amount, signed_amount=contract.signed_amount
    )
    return contract


def _decimal(value, field: str, *, places: str, low: Decimal, high: Decimal, message: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: message}) from None
    if not number.is_finite() or number < low or number > high:
        raise ValidationError({field: message})
    return number.quantize(Decimal(places))


@transaction.atomic
def contract_line_add(
    *, contract: Contract, actor: User, specification_id, quantity, unit_price=None, discount=ZERO
) -> ContractLine:
    """A line for a product specification; without a typed price the price book's price for the
    customer today (as on quotes)."""
    _check_change(actor, contract)
    contract = _locked(contract)
    _check_draft(contract)
    if contract.line_count >= MAX_LINES:
        raise ValidationError({"lines": _("A contract has at most %(n)s lines.") % {"n": MAX_LINES}})
    spec = Specification.objects.select_related("product").filter(pk=specification_id).first()
    if spec is None:
        raise ValidationError({"specification": _("Choose a product specification.")})
    qty = _decimal(
        quantity,
        "quantity",
        places="0.001",
        low=Decimal("0.001"),
        high=MAX_QUANTITY,
        message=_("Enter a quantity above zero."),
    )
    pct = _decimal(
        discount or 0,
        "discount",
        places="0.01",
        low=ZERO,
        high=Decimal("100"),
        message=_("Enter a discount between 0 and 100."),
    )
    if unit_price in (None, ""):
        resolved = pricing.prices_resolve(customer=contract.customer, lines=[(spec.pk, qty)])[0]
        if resolved.price is None:
            raise ValidationError({"unit_price": _("There is no price for %(code)s: type one.") % {"code": spec.code}})
        price = resolved.price
    else:
        price = _decimal(
            unit_price,
            "unit_price",
            places="0.0001",
            low=ZERO,
            high=MAX_QUANTITY,
            message=_("Enter a unit price of 0 or more."),
        )
    tax_rate = spec.product.tax_rate if spec.product.tax_rate is not None else Decimal("13")
    amounts = money.line_amounts(qty, price, pct, tax_rate)
    position = (ContractLine.objects.filter(contract=contract).aggregate(m=Max("position"))["m"] or 0) + 1
    line = ContractLine.objects.create(
        contract=contract,
        position=position,
        product_id=spec.product_id,
        specification=spec,
        code=spec.code,
        name=spec.product.name,
        specification_name=spec.name,
        unit=spec.product.unit,
        quantity=qty,
        unit_price=amounts.unit_price,
        discount=pct,
        tax_rate=tax_rate,
        amount=amounts.amount,
        amount_net=amounts.amount_net,
        tax=amounts.tax,
    )
    _recount(contract)
    Contract.objects.filter(pk=contract.pk).update(version=F("version") + 1, updated_at=timezone.now())
    _record(
        ContractEvent.CHANGED,
        contract,
        actor=actor,
        changes={"lines": [None, f"{spec.code} × {qty}"]},
    )
    return line


@transaction.atomic
def contract_line_remove(*, line: ContractLine, actor: User) -> None:
    contract = line.contract
    _check_change(actor, contract)
    contract = _locked(contract)
    _check_draft(contract)
    ContractLine.objects.filter(pk=line.pk).delete()
    _recount(contract)
    Contract.objects.filter(pk=contract.pk).update(version=F("version") + 1, updated_at=timezone.now())
    _record(ContractEvent.CHANGED, contract, actor=actor, changes={"lines": [line.code, None]})


# --- the lifecycle -------------------------------------------------------------------------------


def needs_approval(amount: Decimal) -> bool:
    """ContractSettings.approval_above: 0 means every contract (and amendment) is approved; the
    approvals engine's flow for contracts may be switched off by an administrator."""
    from kehu.approvals import services as approval_services
    from kehu.contracts import approval

    limit = ContractSettings.current().approval_above
    if limit and amount <= limit:
        return False
    return approval_services.approval_required(approval.CODE)


@transaction.atomic
def contract_submit(*, contract: Contract, actor: User) -> Contract:
    """A draft goes to approval (an approval request is opened) or, when none is needed, is approved at once."""
    from kehu.contracts import approval

    _check_change(actor, contract)
    contract = _locked(contract)
    _check_draft(contract)
    if contract.amount <= 0:
        raise ValidationError({"amount": _("Give the contract an amount or lines before submitting it.")})
    _transition(contract, S.PENDING)
    _record(ContractEvent.SUBMITTED, contract, actor=actor, changes={"stage": [S.DRAFT, S.PENDING]})
    if needs_approval(contract.amount):
        approval.submit(contract=contract, actor=actor)
        contract.refresh_from_db()
    else:
        contract_approved(contract=contract, actor=actor, direct=True)
    return contract


def contract_approved(*, contract: Contract, actor, direct: bool = False) -> Contract:
    """The approval (or a submit that needed none): the contract may now be signed."""
    now = timezone.now()
    updated = Contract.objects.filter(pk=contract.pk, stage=S.PENDING, approved_at__isnull=True).update(
        approved_at=now, version=F("version") + 1, updated_at=now
    )
    if not updated:
        return contract
    contract.approved_at = now
    contract.version += 1
    _record(
        ContractEvent.APPROVED,
        contract,
        actor=actor,
        changes={"approved_at": [None, now.isoformat()]},
        notify=[] if direct else [contract.owner_id],
    )
    return contract


def contract_back_to_draft(*, contract: Contract, actor, comment: str = "", withdrawn: bool = False) -> Contract:
    """An approval rejected (with the approver's comment on the timeline) or withdrawn."""
    if contract.stage != S.PENDING:
        return contract
    _transition(contract, S.DRAFT, fields={"approved_at": None})
    if withdrawn:
        summary = _summary(contract, _("approval request withdrawn"))
    else:
        summary = _summary(contract, comment) if comment else _summary(contract)
    _record(
        ContractEvent.APPROVAL_REJECTED,
        contract,
        actor=actor,
        changes={"stage": [S.PENDING, S.DRAFT]},
        summary=summary,
        notify=[] if withdrawn else [contract.owner_id],
    )
    return contract


@transaction.atomic
def contract_withdraw(*, contract: Contract, actor: User) -> Contract:
    """Take a contract back out of approval (or an approved, unsigned one back) to change it."""
    from kehu.approvals import services as approval_services
    from kehu.contracts import approval

    _check_change(actor, contract)
    contract = _locked(contract)
    if contract.stage != S.PENDING:
        raise ValidationError(_("Only a contract waiting for approval or signature can be withdrawn."))
    if approval_services.open_request(approval.CODE, contract.pk) is not None:
        approval.withdraw(contract=contract, actor=actor)
        contract.refresh_from_db()
    if contract.stage == S.PENDING:
        contract_back_to_draft(contract=contract, actor=actor, withdrawn=True)
    return contract


def _sign(contract: Contract, actor: User, signed_on) -> Contract:
    if contract.stage == S.PENDING and not contract.approved_at:
        raise ValidationError(_("This contract is waiting for approval; it can be signed once approved."))
    if not signed_on:
        raise ValidationError({"signed_on": _("Enter the signing date.")})
    if isinstance(signed_on, str):
        try:
            signed_on = date.fromisoformat(signed_on)
        except ValueError:
            raise ValidationError({"signed_on": _("Enter a valid date.")}) from None
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("The signing date cannot be in the future.")})
    fields = {"signed_on": signed_on, "signed_amount": contract.amount}
    if not contract.starts_on:
        fields["starts_on"] = signed_on
    _transition(contract, S.SIGNED, fields=fields)
    _record(
        ContractEvent.SIGNED,
        contract,
        actor=actor,
        changes={"stage": [S.PENDING, S.SIGNED], "signed_on": [None, signed_on.isoformat()]},
        webhook=webhook_payload(contract),
    )
    return contract


@transaction.atomic
def contract_transition(*, contract: Contract, to: str, actor: User, signed_on=None, reason: str = "") -> Contract:
    """The one door for the stage moves people ask for: "pending" (submit), "draft" (withdraw),
    "signed" (with `signed_on`), "completed", "terminated" and "void" (with a reason)."""
    if to == S.PENDING:
        return contract_submit(contract=contract, actor=actor)
    if to == S.DRAFT:
        return contract_withdraw(contract=contract, actor=actor)
    _check_change(actor, contract)
    contract = _locked(contract)
    if not may_follow(contract.stage, to) or to == S.PERFORMING:
        raise ValidationError(
            _("A contract that is %(from)s cannot become %(to)s.")
            % {"from": stage_label(contract.stage).lower(), "to": stage_label(to).lower()},
            code="transition",
        )
    if to == S.SIGNED:
        return _sign(contract, actor, signed_on)
    reason = (reason or "").strip()
    if to in (S.TERMINATED, S.VOID) and not reason:
        raise ValidationError({"reason": _("Say why the contract is closed.")})
    if reason:
        check_text(reason, field="reason", multiline=True)
    source = contract.stage
    _transition(contract, to, fields={"closed_at": timezone.now(), "close_reason": reason})
    _record(
        CLOSING[to],
        contract,
        actor=actor,
        changes={"stage": [source, to]},
        summary=_summary(contract, reason) if reason else None,
    )
    return contract


@transaction.atomic
def contract_delete(*, contract: Contract, actor: User) -> None:
    """A draft to the recycle bin; anything submitted or signed stays (a signed contract is voided)."""
    _check_change(actor, contract, "contracts.delete_contract")
    contract = _locked(contract)
    if contract.stage != S.DRAFT:
        raise ValidationError(_("Only a draft can be deleted; a signed contract is voided instead."), code="transition")
    now = timezone.now()
    Contract.objects.filter(pk=contract.pk).update(deleted_at=now, deleted_by=actor, updated_at=now)
    contract.deleted_at, contract.deleted_by = now, actor
    _record(ContractEvent.DELETED, contract, actor=actor, audit=AuditAction.DELETE)


@transaction.atomic
def contract_restore(*, contract: Contract, actor: User) -> Contract:
    if (
        not actor.is_authenticated
        or not actor.has_perm("contracts.delete_contract")
        or not is_in_team_of(actor, contract.owner)
    ):
        raise PermissionDenied
    if contract.customer.deleted_at is not None:
        raise ValidationError(
            _("%(customer)s is in the recycle bin; restore the customer first.") % {"customer": contract.customer.name}
        )
    now = timezone.now()
    if Contract.objects.filter(pk=contract.pk, deleted_at__isnull=False).update(
        deleted_at=None, deleted_by=None, updated_at=now
    ):
        contract.deleted_at = contract.deleted_by = None
        _record(ContractEvent.RESTORED, contract, actor=actor, audit=AuditAction.RESTORE)
    return contract


def contract_rollups_set(*, contract_id: int, **values) -> None:
    """Write rollup columns of a contract (the apps above call this in the transaction of the change
    that moves them, each with the sums of its own records). A signed contract with something ordered
    or delivered is in performance from then on. The version is not bumped: a rollup is not an edit,
    and must not refuse someone's form opened before it."""
    unknown = set(values) - set(ROLLUP_FIELDS)
    if unknown:
        raise ValueError(f"not a contract rollup: {', '.join(sorted(unknown))}")
    if not values:
        return
    with transaction.atomic():
        updated = Contract.objects.filter(pk=contract_id).update(**values)
        if updated and (values.get("ordered_amount") or values.get("delivered_amount")):
            Contract.objects.filter(pk=contract_id, stage=ContractStage.SIGNED).update(
                stage=ContractStage.PERFORMING, updated_at=timezone.now()
            )


# --- amendments (补充协议) -------------------------------------------------------------------------

AMENDMENT_FIELDS = ("summary", "amount_after", "payment_terms_after", "other_terms_after", "ends_on_after", "signed_on")


def _amendment_clean(amendment: ContractAmendment, contract: Contract) -> None:
    errors = {}
    if not (amendment.summary or "").strip():
        errors["summary"] = _("Say what changes and why.")
    if amendment.ends_on_after and contract.starts_on and amendment.ends_on_after < contract.starts_on:
        errors["ends_on_after"] = _("A contract cannot end before it starts.")
    if (
        amendment.amount_after == amendment.amount_before
        and (amendment.payment_terms_after or "") == (amendment.payment_terms_before or "")
        and (amendment.other_terms_after or "") == (amendment.other_terms_before or "")
        and amendment.ends_on_after == amendment.ends_on_before
    ):
        errors["summary"] = _("The amendment changes nothing: change the amount, the terms or the end date.")
    if errors:
        raise ValidationError(errors)
    check_text(amendment.summary, field="summary", multiline=True)
    check_text(amendment.payment_terms_after or "", field="payment_terms_after", multiline=True)
    check_text(amendment.other_terms_after or "", field="other_terms_after", multiline=True)


def _amendment_values(values: dict) -> dict:
    unknown = set(values) - set(AMENDMENT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    if "amount_after" in values and values["amount_after"] is not None:
        values["amount_after"] = _amount(values["amount_after"], "amount_after")
    for name in ("ends_on_after", "signed_on"):
        if isinstance(values.get(name), str):
            try:
                values[name] = date.fromisoformat(values[name])
            except ValueError:
                raise ValidationError({name: _("Enter a valid date.")}) from None
    return values


@transaction.atomic
def amendment_create(*, contract: Contract, actor: User, **values) -> ContractAmendment:
    """A draft amendment of a contract in force; unset fields keep what the contract says."""
    _check_change(actor, contract)
    contract = _locked(contract)
    if contract.stage not in (S.SIGNED, S.PERFORMING):
        raise ValidationError(_("Only a signed contract in force is amended; a draft is edited."))
    if ContractAmendment.objects.filter(
        contract=contract, state__in=[AmendmentState.DRAFT, AmendmentState.PENDING]
    ).exists():
        raise ValidationError(_("This contract already has an amendment in progress: finish or discard it first."))
    values = _amendment_values(values)
    sequence = (ContractAmendment.objects.filter(contract=contract).aggregate(m=Max("sequence"))["m"] or 0) + 1
    amendment = ContractAmendment(
        contract=contract,
        sequence=sequence,
        summary=values.get("summary", ""),
        signed_on=values.get("signed_on"),
        amount_before=contract.amount,
        amount_after=values["amount_after"] if values.get("amount_after") is not None else contract.amount,
        payment_terms_before=contract.payment_terms,
        payment_terms_after=values.get("payment_terms_after") or contract.payment_terms,
        other_terms_before=contract.other_terms,
        other_terms_after=values.get("other_terms_after") or contract.other_terms,
        ends_on_before=contract.ends_on,
        ends_on_after=values.get("ends_on_after") or contract.ends_on,
        created_by=actor,
    )
    _amendment_clean(amendment, contract)
    amendment.save()
    _record(
        ContractEvent.AMENDMENT_CHANGED,
        contract,
        actor=actor,
        summary=_summary(contract, _("amendment %(n)s drafted") % {"n": sequence}),
    )
    return amendment


def _amendment_locked(amendment: ContractAmendment) -> ContractAmendment:
    found = ContractAmendment.objects.select_for_update().get(pk=amendment.pk)
    found.contract = amendment.contract
    return found


@transaction.atomic
def amendment_update(*, amendment: ContractAmendment, actor: User, **values) -> ContractAmendment:
    _check_change(actor, amendment.contract)
    amendment = _amendment_locked(amendment)
    if amendment.state != AmendmentState.DRAFT:
        raise ValidationError(_("Only a draft amendment can be changed."))
    for name, value in _amendment_values(values).items():
        setattr(amendment, name, value)
    _amendment_clean(amendment, amendment.contract)
    amendment.save()
    return amendment


@transaction.atomic
def amendment_submit(*, amendment: ContractAmendment, actor: User) -> ContractAmendment:
    """To approval by the same rule as contracts (the amount after the change against
    `approval_above`), else in effect at once."""
    from kehu.contracts import approval

    _check_change(actor, amendment.contract)
    amendment = _amendment_locked(amendment)
    if amendment.state != AmendmentState.DRAFT:
        raise ValidationError(_("Only a draft amendment can be submitted."))
    contract = _locked(amendment.contract)
    if contract.stage not in (S.SIGNED, S.PERFORMING):
        raise ValidationError(_("Only a signed contract in force is amended; a draft is edited."))
    # The contract may have moved since the draft was written: the "before" is what it says now.
    amendment.amount_before = contract.amount
    amendment.payment_terms_before = contract.payment_terms
    amendment.other_terms_before = contract.other_terms
    amendment.ends_on_before = contract.ends_on
    amendment.state = AmendmentState.PENDING
    amendment.save()
    amendment.contract = contract
    if needs_approval(amendment.amount_after):
        approval.submit_amendment(amendment=amendment, actor=actor)
        amendment.refresh_from_db()
        amendment.contract = contract
    else:
        amendment_effective(amendment=amendment, actor=actor)
    return amendment


def amendment_effective(*, amendment: ContractAmendment, actor) -> ContractAmendment:
    """Approved (or needing no approval): the change applies to the contract, the amendment keeps
    what was there before."""
    if not ContractAmendment.objects.filter(pk=amendment.pk, state=AmendmentState.PENDING).exists():
        return amendment
    contract = _locked(amendment.contract)
    now = timezone.now()
    ContractAmendment.objects.filter(pk=amendment.pk).update(state=AmendmentState.EFFECTIVE, effective_at=now)
    amendment.state, amendment.effective_at = AmendmentState.EFFECTIVE, now
    before = snapshot(contract, ["amount", "payment_terms", "other_terms", "ends_on"])
    contract.amount = amendment.amount_after
    contract.payment_terms = amendment.payment_terms_after
    contract.other_terms = amendment.other_terms_after
    contract.ends_on = amendment.ends_on_after
    fields = {"amount": contract.amount, "payment_terms": contract.payment_terms}
    fields |= {"other_terms": contract.other_terms, "ends_on": contract.ends_on}
    if contract.ends_on != before["ends_on"]:
        fields["expiry_reminded_on"] = None  # a new end date is reminded of again
    Contract.objects.filter(pk=contract.pk).update(version=F("version") + 1, updated_at=now, **fields)
    contract.version += 1
    changes = diff(before, snapshot(contract, ["amount", "payment_terms", "other_terms", "ends_on"]))
    _record(
        ContractEvent.AMENDED,
        contract,
        actor=actor,
        changes=changes,
        summary=_summary(
            contract, _("amendment %(n)s: %(summary)s") % {"n": amendment.sequence, "summary": amendment.summary}
        ),
        notify=[contract.owner_id] if getattr(actor, "pk", None) != contract.owner_id else [],
    )
    amendment.contract = contract
    return amendment


def amendment_back_to_draft(*, amendment: ContractAmendment, actor, comment: str = "") -> ContractAmendment:
    if ContractAmendment.objects.filter(pk=amendment.pk, state=AmendmentState.PENDING).update(
        state=AmendmentState.DRAFT
    ):
        amendment.state = AmendmentState.DRAFT
        contract = amendment.contract
        _record(
            ContractEvent.AMENDMENT_CHANGED,
            contract,
            actor=actor,
            summary=_summary(
                contract, _("amendment %(n)s not approved: %(comment)s") % {"n": amendment.sequence, "comment": comment}
            ),
            notify=[contract.owner_id],
        )
    return amendment


@transaction.atomic
def amendment_discard(*, amendment: ContractAmendment, actor: User) -> ContractAmendment:
    """A draft amendment nobody wants any more is void (kept in the history)."""
    _check_change(actor, amendment.contract)
    amendment = _amendment_locked(amendment)
    if amendment.state != AmendmentState.DRAFT:
        raise ValidationError(_("Only a draft amendment can be discarded."))
    ContractAmendment.objects.filter(pk=amendment.pk).update(state=AmendmentState.VOID)
    amendment.state = AmendmentState.VOID
    return amendment


# --- attachments ---------------------------------------------------------------------------------


def _check_file(upload) -> str:
    import os

    name = os.path.basename(getattr(upload, "name", "") or "")
    ext = os.path.splitext(name)[1].lower()
    if ext not in ATTACHMENT_TYPES:
        raise ValidationError({"file": _("Attach a PDF or an image (PDF, PNG, JPEG).")})
    size = getattr(upload, "size", 0) or 0
    if size <= 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > MAX_ATTACHMENT:
        raise ValidationError(
            {"file": _("The file is larger than %(mb)s MB.") % {"mb": MAX_ATTACHMENT // 1024 // 1024}}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ATTACHMENT_TYPES[ext]):
        raise ValidationError({"file": _("The file is not the %(kind)s its name says.") % {"kind": ext[1:].upper()}})
    return name


@transaction.atomic
def attachment_add(*, contract: Contract, actor: User, upload, is_signed_copy: bool = False) -> ContractAttachment:
    _check_change(actor, contract)
    name = _check_file(upload)
    check_text(name, field="file")
    attachment = ContractAttachment(
        contract=contract, name=name[:200], size=upload.size, is_signed_copy=is_signed_copy, uploaded_by=actor
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    _record(
        ContractEvent.ATTACHMENT,
        contract,
        actor=actor,
        audit=None,
        summary=_summary(contract, _("attached %(name)s") % {"name": attachment.name}),
    )
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: ContractAttachment, actor: User) -> None:
    """Soft: the file stays on disk and the row in the table, out of every list."""
    _check_change(actor, attachment.contract)
    if ContractAttachment.objects.filter(pk=attachment.pk, deleted_at__isnull=True).update(deleted_at=timezone.now()):
        _record(
            ContractEvent.ATTACHMENT,
            attachment.contract,
            actor=actor,
            audit=None,
            summary=_summary(attachment.contract, _("removed %(name)s") % {"name": attachment.name}),
        )


# --- templates and settings ----------------------------------------------------------------------

TEMPLATE_FIELDS = ("name", "language", "body", "is_default", "is_active")


@transaction.atomic
def template_save(*, actor: User, template: ContractTemplate | None = None, **values) -> ContractTemplate:
    """Create or change a template; its merge fields must all be known (see `document.unknown_fields`)."""
    from kehu.contracts import document

    if not actor.is_authenticated or not actor.has_perm("contracts.manage_contract_templates"):
        raise PermissionDenied
    unknown = set(values) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    template = template or ContractTemplate()
    for name, value in values.items():
        setattr(template, name, value)
    template.updated_by = actor
    problems = document.unknown_fields(template.body or "")
    if problems:
        raise ValidationError(
            {"body": _("Unknown merge fields: %(fields)s.") % {"fields": ", ".join(problems)}}, code="merge_field"
        )
    full_clean(template, exclude=["updated_by"])
    template.save()
    if template.is_default:
        ContractTemplate.objects.filter(language=template.language, is_default=True).exclude(pk=template.pk).update(
            is_default=False
        )
    return template


@transaction.atomic
def settings_save(*, actor: User, remind_days_before_end: int, approval_above) -> ContractSettings:
    if not actor.is_authenticated or not actor.has_perm("contracts.manage_contract_templates"):
        raise PermissionDenied
    current = ContractSettings.objects.select_for_update().order_by("pk").first() or ContractSettings()
    try:
        days = int(remind_days_before_end)
    except (TypeError, ValueError):
        raise ValidationError({"remind_days_before_end": _("Enter a number of days.")}) from None
    if days < 0 or days > 365:
        raise ValidationError({"remind_days_before_end": _("Enter a number of days between 0 and 365.")})
    current.remind_days_before_end = days
    current.approval_above = _amount(approval_above, "approval_above")
    current.updated_by = actor
    current.save()
    return current
