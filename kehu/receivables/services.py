"""Every write of payment plans, payments and allocations.

Money is Decimal to the fen (`round_fen`, half up). Instalments by percentage are rounded to the
fen and the last instalment takes the rounding remainder, so the plans always add up to the total.

A plan's state (see `plan_state`): void (voided by a person), paid (received ≥ amount), overdue
(due date before today, whatever was received), partly paid (something received, not due yet or
due today), due (due today or within `ReceivablesSettings.remind_days_before_due` days), otherwise
not yet due (including a plan whose due date waits for an event: "N days after delivery").

Due dates "N days after" an event are filled when the event happens, by the in-transaction event
sink (`apps.balances_sink` → `plans_fill_due`): signing = the contract's signing date (an order
without a contract: its order date); delivery = the order's first delivery; invoice = the first
issued, not red-letter invoice of the order (or of the contract, for a contract-level plan).

Every service refreshes the customer's balances and writes the received sums on the orders and
contracts it touched (`order_rollups_set`, `contract_rollups_set`) in its transaction.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.contracts.models import Contract
from kehu.contracts.services import contract_rollups_set
from kehu.core import events
from kehu.core.checkpoints import checkpoint
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.money import round_fen
from kehu.core.numbering import save_numbered
from kehu.customers.models import Customer
from kehu.orders.models import Delivery, Order
from kehu.orders.services import order_rollups_set
from kehu.receivables.balances import balances_refresh
from kehu.receivables.events import ReceivablesEvent
from kehu.receivables.models import (
    OPEN_PLAN_STATES,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentPlan,
    PaymentState,
    PlanBasis,
    PlanState,
    ReceivablesSettings,
)
from kehu.users.models import User

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
APPROVAL_CODE = "payment"


# --- plan states ---------------------------------------------------------------------------------


def plan_state(plan: PaymentPlan, today: date, remind_days: int | None = None) -> str:
    """The state of a plan on `today` (pure: reads only the plan; see the module docstring)."""
    if plan.state == PlanState.VOID:
        return PlanState.VOID
    if plan.amount > ZERO and plan.received_amount >= plan.amount:
        return PlanState.PAID
    if plan.due_on is not None and plan.due_on < today:
        return PlanState.OVERDUE
    if plan.received_amount > ZERO:
        return PlanState.PARTLY_PAID
    window = 0 if remind_days is None else remind_days
    if plan.due_on is not None and plan.due_on <= today + timedelta(days=window):
        return PlanState.DUE
    return PlanState.NOT_DUE


def _restate(plans, today=None) -> list[PaymentPlan]:
    """Set the stored state of these plans from `plan_state`; returns those that changed."""
    today = today or timezone.localdate()
    days = ReceivablesSettings.current().remind_days_before_due
    changed = []
    for plan in plans:
        state = plan_state(plan, today, days)
        if state != plan.state:
            plan.state = state
            changed.append(plan)
    return changed


# --- permissions ---------------------------------------------------------------------------------


def may_record(user: User) -> bool:
    return user.is_authenticated and user.has_perm("receivables.record_payment")


def _check_customer(actor: User, customer: Customer) -> None:
    from kehu.receivables.selectors import customer_visible

    if not may_record(actor) or not customer_visible(actor, customer.pk):
        raise PermissionDenied(_("You may not record payments or plans for this customer."))


def _lock_customers(customer_ids) -> None:
    """Taken first by every write of a customer's plans, payments and allocations: on PostgreSQL
    two of them for the same customer run one after the other, so none reads plans or amounts that
    another is changing (a lost update, an over-allocation). SQLite's IMMEDIATE transactions run
    every writer alone already. Several customers are locked in the order of their ids, so two
    writers never wait on each other."""
    list(
        Customer.objects.select_for_update()
        .filter(pk__in=set(customer_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _lock_customer(customer_id: int) -> None:
    _lock_customers((customer_id,))


# --- rollups -------------------------------------------------------------------------------------


def _rollups(*, order_ids=(), contract_ids=(), customer_ids=(), due_keys=()) -> None:
    """Received sums of the orders and contracts (from their plans), plan counts of the contracts,
    and the customers' balances."""
    order_ids = {i for i in order_ids if i}
    contract_ids = {i for i in contract_ids if i}
    if order_ids:
        contract_ids |= set(
            Order.objects.filter(pk__in=order_ids, contract__isnull=False).values_list("contract_id", flat=True)
        )
        sums = dict(
            PaymentPlan.objects.filter(order_id__in=order_ids)
            .values("order_id")
            .annotate(s=Sum("received_amount"))
            .values_list("order_id", "s")
        )
        for pk in sorted(order_ids):
            order_rollups_set(order_id=pk, received_amount=sums.get(pk) or ZERO)
    if contract_ids:
        rows = (
            PaymentPlan.objects.filter(Q(contract_id__in=contract_ids) | Q(order__contract_id__in=contract_ids))
            .annotate(c=F("contract_id"), oc=F("order__contract_id"))
            .values("pk", "c", "oc", "received_amount", "state")
        )
        totals: dict[int, list] = defaultdict(lambda: [ZERO, 0, 0])
        for row in rows:
            key = row["c"] or row["oc"]
            totals[key][0] += row["received_amount"]
            if row["state"] != PlanState.VOID:
                totals[key][1] += 1
            if row["state"] == PlanState.PAID:
                totals[key][2] += 1
        for pk in sorted(contract_ids):
            received, count, done = totals.get(pk, [ZERO, 0, 0])
            contract_rollups_set(contract_id=pk, received_amount=received, plans_count=count, plans_done=done)
    balances_refresh(customer_ids, due_keys=due_keys)


def _plans_rollups(plans, customer_ids=(), due_keys=()) -> None:
    _rollups(
        order_ids={p.order_id for p in plans},
        contract_ids={p.contract_id for p in plans},
        customer_ids=set(customer_ids) | {p.customer_id for p in plans},
        due_keys=due_keys,
    )


# --- plans from terms ----------------------------------------------------------------------------


def _decimal(value, field: str, errors: dict, message: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        result = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors[field] = message
        return None
    if not result.is_finite():
        errors[field] = message
        return None
    return result


def instalments_split(total: Decimal, terms: list[dict]) -> list[Decimal]:
    """The amounts of instalments given each as `percent` or `amount`: percentages must add up to
    100, or amounts to the total; each is rounded to the fen and the last takes the remainder."""
    total = round_fen(total)
    if not terms:
        raise ValidationError(_("Enter at least one instalment."))
    errors: dict = {}
    percents = [_decimal(t.get("percent"), "percent", errors, _("Enter a percentage.")) for t in terms]
    amounts = [_decimal(t.get("amount"), "amount", errors, _("Enter an amount.")) for t in terms]
    if errors:
        raise ValidationError(errors)
    by_percent = all(p is not None for p in percents)
    if by_percent:
        if any(p <= 0 or p > HUNDRED for p in percents):
            raise ValidationError(_("Each percentage must be above 0 and at most 100."))
        if sum(percents) != HUNDRED:
            raise ValidationError(_("The percentages add up to %(sum)s %%, not 100 %%.") % {"sum": sum(percents)})
        split = [round_fen(total * p / HUNDRED) for p in percents[:-1]]
        return [*split, total - sum(split, ZERO)]
    if any(a is None for a in amounts):
        raise ValidationError(_("Give every instalment a percentage, or every instalment an amount."))
    if any(a <= 0 for a in amounts):
        raise ValidationError(_("Each instalment must be more than zero."))
    amounts = [round_fen(a) for a in amounts]
    if sum(amounts) != total:
        raise ValidationError(
            _("The instalments add up to %(sum)s, not the total %(total)s.") % {"sum": sum(amounts), "total": total}
        )
    return amounts


def _event_dates(*, order_ids=(), contract_ids=()) -> dict:
    """{("signing"|"delivery"|"invoice", "order"|"contract", pk): date} of the events that happened."""
    from kehu.invoices.models import Invoice, InvoiceState

    found: dict = {}
    order_ids, contract_ids = set(order_ids), set(contract_ids)
    if order_ids:
        for pk, ordered_on, signed_on in Order.objects.filter(pk__in=order_ids).values_list(
            "pk", "ordered_on", "contract__signed_on"
        ):
            found[("signing", "order", pk)] = signed_on or ordered_on
        for row in Delivery.objects.filter(order_id__in=order_ids).values("order_id").annotate(d=Min("delivered_on")):
            found[("delivery", "order", row["order_id"])] = row["d"]
        for row in (
            Invoice.objects.filter(order_id__in=order_ids, is_red=False, issued_on__isnull=False)
            .filter(state__in=[InvoiceState.ISSUED, InvoiceState.REVERSED])
            .values("order_id")
            .annotate(d=Min("issued_on"))
        ):
            found[("invoice", "order", row["order_id"])] = row["d"]
    if contract_ids:
        for pk, signed_on in Contract.objects.filter(pk__in=contract_ids).values_list("pk", "signed_on"):
            if signed_on:
                found[("signing", "contract", pk)] = signed_on
        for row in (
            Delivery.objects.filter(order__contract_id__in=contract_ids)
            .values("order__contract_id")
            .annotate(d=Min("delivered_on"))
        ):
            found[("delivery", "contract", row["order__contract_id"])] = row["d"]
        for row in (
            Invoice.objects.filter(Q(contract_id__in=contract_ids) | Q(order__contract_id__in=contract_ids))
            .filter(is_red=False, issued_on__isnull=False, state__in=[InvoiceState.ISSUED, InvoiceState.REVERSED])
            .annotate(k=F("contract_id"), ok=F("order__contract_id"))
            .values("k", "ok", "issued_on")
        ):
            key = ("invoice", "contract", row["k"] or row["ok"])
            if key not in found or row["issued_on"] < found[key]:
                found[key] = row["issued_on"]
    return found


def _due_from(plan: PaymentPlan, dates: dict) -> date | None:
    if plan.basis == PlanBasis.FIXED:
        return plan.due_on
    on = None
    if plan.order_id:
        on = dates.get((plan.basis, "order", plan.order_id))
    if on is None and plan.contract_id:
        on = dates.get((plan.basis, "contract", plan.contract_id))
    return on + timedelta(days=plan.days_after or 0) if on else None


def plans_fill_due(*, order_ids=(), contract_ids=(), customer_ids=()) -> list[PaymentPlan]:
    """Fill the due dates of live plans waiting for an event of these orders/contracts that has now
    happened, restate them, and refresh the customers' balances. Called by the event sink."""
    order_ids, contract_ids = set(order_ids), set(contract_ids)
    filled = []
    if order_ids or contract_ids:
        # The plans' states are set from what was received: lock their customers first, as every
        # other write of plans and payments does, so no allocation changes them in between.
        _lock_customers(customer_ids)
        waiting = list(
            PaymentPlan.objects.filter(
                Q(order_id__in=order_ids) | Q(contract_id__in=contract_ids),
                due_on__isnull=True,
                state__in=OPEN_PLAN_STATES,
            ).exclude(basis=PlanBasis.FIXED)
        )
        if waiting:
            dates = _event_dates(
                order_ids={p.order_id for p in waiting if p.order_id},
                contract_ids={p.contract_id for p in waiting if p.contract_id},
            )
            for plan in waiting:
                plan.due_on = _due_from(plan, dates)
                if plan.due_on:
                    filled.append(plan)
            _restate(filled)
            PaymentPlan.objects.bulk_update(filled, ["due_on", "state"])
    balances_refresh(set(customer_ids) | {p.customer_id for p in filled})
    return filled


def plans_from_terms(
    *,
    actor: User,
    terms: list[dict],
    contract: Contract | None = None,
    order: Order | None = None,
    total: Decimal | None = None,
    replace: bool = False,
) -> list[PaymentPlan]:
    """Instalments of a contract or an order: `terms` are dicts with `percent` or `amount`, `basis`
    (PlanBasis), `days_after` (basis other than fixed), `due_on` (fixed) and `notes`. The total is
    the order's total (with tax), else the contract's amount in force. `replace` voids the live
    plans nothing was received on first; without it, a record with live plans is refused."""
    if (contract is None) == (order is None):
        raise ValidationError(_("Choose a contract or an order."))
    record = order or contract
    customer = record.customer
    _check_customer(actor, customer)
    total = round_fen(total if total is not None else (order.total if order else contract.amount))
    if total <= 0:
        raise ValidationError(_("The amount is zero: there is nothing to plan."))
    amounts = instalments_split(total, terms)
    errors = {}
    for index, term in enumerate(terms, start=1):
        basis = term.get("basis") or PlanBasis.FIXED
        if basis not in PlanBasis.values:
            errors["basis"] = _("Instalment %(n)s: choose when it is due.") % {"n": index}
        elif basis == PlanBasis.FIXED and not term.get("due_on"):
            errors["due_on"] = _("Instalment %(n)s: enter the due date.") % {"n": index}
        elif basis != PlanBasis.FIXED:
            try:
                days = int(term.get("days_after") or 0)
            except (TypeError, ValueError):
                days = -1
            if not 0 <= days <= 3650:
                errors["days_after"] = _("Instalment %(n)s: enter the days, 0 to 3650.") % {"n": index}
        if len(str(term.get("notes") or "")) > 200:
            errors["notes"] = _("Instalment %(n)s: the note is longer than 200 characters.") % {"n": index}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _lock_customer(customer.pk)
        key = {"order": order} if order else {"contract": contract, "order__isnull": True}
        live = list(PaymentPlan.objects.select_for_update().filter(state__in=OPEN_PLAN_STATES, **key))
        old_keys = [(p.owner_id, p.due_on) for p in live]
        if live and not replace:
            raise ValidationError(_("This record already has payment plans: replace them or edit them."))
        if any(p.received_amount > 0 for p in live):
            raise ValidationError(
                _("Something was received on the current plans: reverse or move those payments first.")
            )
        for plan in live:
            plan.state = PlanState.VOID
        PaymentPlan.objects.bulk_update(live, ["state"])
        last = PaymentPlan.objects.filter(**key).order_by("-sequence").values_list("sequence", flat=True).first()
        plans = []
        for index, (term, amount) in enumerate(zip(terms, amounts, strict=True), start=1):
            basis = term.get("basis") or PlanBasis.FIXED
            percent = term.get("percent")
            plans.append(
                PaymentPlan(
                    customer=customer,
                    contract=contract or (order.contract if order else None),
                    order=order,
                    owner=record.owner,
                    sequence=(last or 0) + index,
                    basis=basis,
                    days_after=None if basis == PlanBasis.FIXED else int(term.get("days_after") or 0),
                    percent=Decimal(str(percent)) if percent not in (None, "") else None,
                    amount=amount,
                    due_on=_as_date(term.get("due_on")) if basis == PlanBasis.FIXED else None,
                    notes=str(term.get("notes") or "")[:200],
                )
            )
        dates = _event_dates(
            order_ids={order.pk} if order else set(),
            contract_ids={p.contract_id for p in plans if p.contract_id},
        )
        for plan in plans:
            plan.due_on = _due_from(plan, dates)
        _restate(plans)
        PaymentPlan.objects.bulk_create(plans)
        _plans_rollups(plans, due_keys=old_keys)
        events.record(
            ReceivablesEvent.PLANS_SET,
            actor=actor,
            subject=record,
            customer_id=customer.pk,
            summary=_("%(n)s instalments, %(total)s in all") % {"n": len(plans), "total": total},
            payload={"plans": [p.pk for p in plans], "total": str(total)},
            audit="create",
        )
    return plans


def _as_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({"due_on": _("Enter a valid date.")}) from None


def plan_update(*, plan: PaymentPlan, actor: User, version: int | None = None, **changes) -> PaymentPlan:
    """Change an instalment's amount, due date, basis / days after, or notes. The amount may not go
    below what was already received."""
    _check_customer(actor, plan.customer)
    allowed = {"amount", "due_on", "basis", "days_after", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic():
        _lock_customer(plan.customer_id)
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if version is not None and plan.version != version:
            raise ConcurrentEditError(_("Someone changed this plan in the meantime: reload it and try again."))
        if plan.state == PlanState.VOID:
            raise ValidationError(_("A void plan cannot be changed."), code="transition")
        old_key = (plan.owner_id, plan.due_on)
        errors = {}
        before = {f: str(getattr(plan, f)) for f in changes}
        if "amount" in changes:
            amount = _decimal(changes["amount"], "amount", errors, _("Enter an amount."))
            if amount is not None:
                amount = round_fen(amount)
                if amount <= 0:
                    errors["amount"] = _("The amount must be more than zero.")
                elif amount < plan.received_amount:
                    errors["amount"] = _("%(received)s was already received on this plan.") % {
                        "received": plan.received_amount
                    }
                else:
                    plan.amount = amount
                    plan.percent = None
        if "basis" in changes:
            if changes["basis"] not in PlanBasis.values:
                errors["basis"] = _("Choose when it is due.")
            else:
                plan.basis = changes["basis"]
        if "days_after" in changes:
            try:
                days = int(changes["days_after"]) if changes["days_after"] not in (None, "") else None
            except (TypeError, ValueError):
                days = -1
            if days is not None and not 0 <= days <= 3650:
                errors["days_after"] = _("Enter the days, 0 to 3650.")
            else:
                plan.days_after = days
        if "notes" in changes:
            notes = str(changes["notes"] or "")
            if len(notes) > 200:
                errors["notes"] = _("At most 200 characters.")
            plan.notes = notes
        if errors:
            raise ValidationError(errors)
        if plan.basis == PlanBasis.FIXED:
            if "due_on" in changes:
                plan.due_on = _as_date(changes["due_on"])
            if plan.due_on is None:
                raise ValidationError({"due_on": _("Enter the due date.")})
            plan.days_after = None
        else:
            plan.due_on = _due_from(
                plan,
                _event_dates(
                    order_ids={plan.order_id} if plan.order_id else (),
                    contract_ids={plan.contract_id} if plan.contract_id else (),
                ),
            )
        _restate([plan])
        plan.version += 1
        plan.save()
        _plans_rollups([plan], due_keys=[old_key])
        events.record(
            ReceivablesEvent.PLAN_CHANGED,
            actor=actor,
            subject=plan,
            customer_id=plan.customer_id,
            summary=_("Instalment %(n)s: %(amount)s due %(due)s")
            % {"n": plan.sequence, "amount": plan.amount, "due": plan.due_on or "—"},
            audit="update",
            changes={f: [before[f], str(getattr(plan, f))] for f in before},
        )
    return plan


def plan_void(*, plan: PaymentPlan, actor: User, reason: str = "") -> PaymentPlan:
    """Void an instalment nothing was received on (a plan with money on it: undo the allocations first)."""
    _check_customer(actor, plan.customer)
    with transaction.atomic():
        _lock_customer(plan.customer_id)
        plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.state == PlanState.VOID:
            raise ValidationError(_("This plan is already void."))
        if plan.received_amount != 0:
            raise ValidationError(
                _("%(received)s was received on this plan: undo or reverse those payments first.")
                % {"received": plan.received_amount}
            )
        plan.state = PlanState.VOID
        if reason:
            plan.notes = reason[:200]
        plan.version += 1
        plan.save()
        _plans_rollups([plan], due_keys=[(plan.owner_id, plan.due_on)])
        events.record(
            ReceivablesEvent.PLAN_VOIDED,
            actor=actor,
            subject=plan,
            customer_id=plan.customer_id,
            summary=_("Instalment %(n)s (%(amount)s) voided") % {"n": plan.sequence, "amount": plan.amount},
            audit="delete",
        )
    return plan


# --- payments ------------------------------------------------------------------------------------


def _save_numbered(payment: Payment) -> Payment:
    return save_numbered(
        payment,
        prefix=f"HK{timezone.localdate().year}-",
        width=6,
        failure=_("Could not give the payment a number; try again."),
    )


def open_plans(customer_id: int) -> list[PaymentPlan]:
    """A customer's live plans with something outstanding, oldest due first (undated last)."""
    return list(
        PaymentPlan.objects.filter(customer_id=customer_id, state__in=OPEN_PLAN_STATES)
        .filter(amount__gt=F("received_amount"))
        .select_related("order", "contract")
        .order_by(F("due_on").asc(nulls_last=True), "sequence", "pk")
    )


def allocation_preview(customer_id: int, amount: Decimal) -> list[tuple[PaymentPlan, Decimal]]:
    """How `amount` would be allocated automatically: oldest due first, each plan up to its outstanding."""
    left = round_fen(amount)
    found = []
    for plan in open_plans(customer_id):
        if left <= 0:
            break
        take = min(left, plan.amount - plan.received_amount)
        found.append((plan, take))
        left -= take
    return found


def _clean_allocations(payment: Payment, allocations, left: Decimal) -> list[tuple[PaymentPlan, Decimal]]:
    """Hand allocations [(plan id, amount), ...] checked against the customer's open plans."""
    plans = {p.pk: p for p in open_plans(payment.customer_id)}
    wanted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    errors = []
    for plan_id, raw in allocations:
        try:
            amount = round_fen(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            errors.append(_("Enter the amounts as numbers."))
            continue
        if amount == 0:
            continue
        try:
            plan_id = int(plan_id)
        except (TypeError, ValueError):
            plan_id = None
        if amount < 0:
            errors.append(_("An allocation must be more than zero."))
        elif plan_id not in plans:
            errors.append(_("Choose open plans of this payment's customer."))
        else:
            wanted[plan_id] += amount
    for plan_id, amount in wanted.items():
        plan = plans[plan_id]
        if amount > plan.amount - plan.received_amount:
            errors.append(
                _("Instalment %(n)s has %(left)s outstanding; %(amount)s is too much.")
                % {"n": plan.sequence, "left": plan.amount - plan.received_amount, "amount": amount}
            )
    if sum(wanted.values(), ZERO) > left:
        errors.append(
            _("The allocations add up to %(sum)s; only %(left)s of the payment is unallocated.")
            % {"sum": sum(wanted.values(), ZERO), "left": left}
        )
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))
    return [(plans[pk], amount) for pk, amount in wanted.items()]


def _apply_allocations(payment: Payment, chosen, *, actor, automatic: bool) -> list[PaymentAllocation]:
    rows = []
    plans = []
    for plan, amount in chosen:
        rows.append(
            PaymentAllocation(
                payment=payment,
                plan=plan,
                amount=amount,
                is_automatic=automatic,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
        )
        plan.received_amount += amount
        plans.append(plan)
    PaymentAllocation.objects.bulk_create(rows)
    _restate(plans)
    for plan in plans:
        plan.updated_at = timezone.now()
    PaymentPlan.objects.bulk_update(plans, ["received_amount", "state", "updated_at"])
    checkpoint("allocation.plans")  # the crash tests stop here (kehu.core.checkpoints)
    payment.allocated_amount += sum((r.amount for r in rows), ZERO)
    Payment.objects.filter(pk=payment.pk).update(allocated_amount=payment.allocated_amount, updated_at=timezone.now())
    return rows


def payment_record(
    *,
    actor: User,
    customer: Customer,
    amount,
    received_on: date | None = None,
    method: str = PaymentMethod.TRANSFER,
    bank_account: str = "",
    payer_name: str = "",
    reference: str = "",
    notes: str = "",
    is_refund: bool = False,
    owner: User | None = None,
    allocations=None,
    auto_allocate: bool = True,
    import_job=None,
    approval: bool = True,
) -> Payment:
    """Record money received from a customer (or refunded to it). Allocations: `allocations` by hand
    [(plan id, amount)], else automatically oldest first when `auto_allocate`; the rest stays
    unallocated. A refund is paid out of the customer's unallocated money and allocates nothing.
    When `ReceivablesSettings.payments_need_approval` and the recorder may not approve payments,
    the payment waits for approval (nothing counts until approved) and is allocated on approval."""
    _check_customer(actor, customer)
    errors = {}
    amount = _decimal(amount, "amount", errors, _("Enter the amount as a number."))
    if amount is not None:
        amount = round_fen(amount)
        if amount <= 0:
            errors["amount"] = _("The amount must be more than zero.")
        elif amount >= Decimal("1e14"):
            errors["amount"] = _("The amount is too large.")
    received_on = _as_date(received_on) or timezone.localdate()
    if received_on > timezone.localdate():
        errors["received_on"] = _("The date received cannot be in the future.")
    if method not in PaymentMethod.values:
        errors["method"] = _("Choose a method.")
    for field, value, limit in (
        ("bank_account", bank_account, 60),
        ("payer_name", payer_name, 200),
        ("reference", reference, 60),
    ):
        if len(value or "") > limit:
            errors[field] = _("At most %(n)s characters.") % {"n": limit}
    if errors:
        raise ValidationError(errors)
    owner = owner or customer.owner
    needs_approval = (
        approval
        and ReceivablesSettings.current().payments_need_approval
        and not actor.has_perm("receivables.approve_payment")
    )
    with transaction.atomic():
        _lock_customer(customer.pk)
        if is_refund:
            available = _customer_unallocated(customer.pk)
            if amount > available:
                raise ValidationError(
                    {
                        "amount": _("Only %(left)s of this customer's money is unallocated; a refund cannot be more.")
                        % {"left": available}
                    }
                )
        payment = Payment(
            customer=customer,
            owner=owner,
            state=PaymentState.PENDING if needs_approval else PaymentState.CONFIRMED,
            received_on=received_on,
            amount=amount,
            is_refund=is_refund,
            method=method,
            bank_account=bank_account or "",
            payer_name=payer_name or "",
            reference=reference or "",
            notes=notes or "",
            import_job=import_job,
            created_by=actor,
            approved_at=None if needs_approval else timezone.now(),
        )
        chosen = None
        if allocations and not is_refund:
            chosen = _clean_allocations(payment, allocations, amount)
        _save_numbered(payment)
        if needs_approval:
            from kehu.approvals import services as approval_services

            approval_services.request_submit(
                document_type=APPROVAL_CODE,
                record=payment,
                actor=actor,
                proposal={"allocations": [[p.pk, str(a)] for p, a in chosen]} if chosen else {"auto": auto_allocate},
            )
            events.record(
                ReceivablesEvent.PAYMENT_PENDING,
                actor=actor,
                subject=payment,
                customer_id=customer.pk,
                summary=_("%(number)s: %(amount)s waits for approval") % {"number": payment.number, "amount": amount},
                audit="create",
            )
            return payment
        _confirm(payment, actor=actor, chosen=chosen, auto=auto_allocate and not is_refund)
    return payment


def _customer_unallocated(customer_id: int) -> Decimal:
    from kehu.receivables.balances import COUNTED_PAYMENT_STATES, payment_sign

    found = Payment.objects.filter(customer_id=customer_id, state__in=COUNTED_PAYMENT_STATES).aggregate(
        u=Sum(payment_sign() * (F("amount") - F("allocated_amount")))
    )["u"]
    return round_fen(found or ZERO)


def _confirm(payment: Payment, *, actor, chosen=None, auto=True) -> None:
    automatic = False
    if not chosen and auto and not payment.is_refund:
        chosen, automatic = allocation_preview(payment.customer_id, payment.amount), True
    rows = _apply_allocations(payment, chosen, actor=actor, automatic=automatic) if chosen else []
    plans = [r.plan for r in rows]
    _plans_rollups(plans, customer_ids=[payment.customer_id])
    link = f"/receivables/payments/{payment.pk}/"
    events.record(
        ReceivablesEvent.PAYMENT_RECORDED,
        actor=actor,
        subject=payment,
        customer_id=payment.customer_id,
        summary=(_("Refund %(number)s: %(amount)s") if payment.is_refund else _("Payment %(number)s: %(amount)s"))
        % {"number": payment.number, "amount": payment.amount},
        payload={"amount": str(payment.amount), "allocated": str(payment.allocated_amount)},
        audit="create",
        webhook=_webhook(payment),
        notify=[payment.owner_id] if payment.owner_id != getattr(actor, "pk", None) else [],
        link=link,
    )


def _webhook(payment: Payment) -> dict:
    return {
        "id": payment.pk,
        "number": payment.number,
        "customer_id": payment.customer_id,
        "amount": str(payment.amount),
        "is_refund": payment.is_refund,
        "received_on": payment.received_on.isoformat(),
        "method": payment.method,
        "reference": payment.reference,
        "allocated": str(payment.allocated_amount),
        "state": payment.state,
    }


def payment_approved(*, payment: Payment, actor, proposal: dict | None = None) -> Payment:
    """The approvals engine approved a pending payment: it counts from now and is allocated."""
    with transaction.atomic():
        _lock_customer(payment.customer_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.state != PaymentState.PENDING:
            return payment
        payment.state = PaymentState.CONFIRMED
        payment.approved_at = timezone.now()
        payment.save(update_fields=["state", "approved_at", "updated_at"])
        proposal = proposal or {}
        chosen = None
        if proposal.get("allocations"):
            try:
                chosen = _clean_allocations(payment, proposal["allocations"], payment.amount)
            except ValidationError:
                chosen = None  # the plans moved while it waited: allocate automatically instead
        _confirm(payment, actor=actor, chosen=chosen, auto=proposal.get("auto", True))
    return payment


def payment_rejected(*, payment: Payment, actor, comment: str = "") -> Payment:
    with transaction.atomic():
        updated = Payment.objects.filter(pk=payment.pk, state=PaymentState.PENDING).update(
            state=PaymentState.REJECTED, updated_at=timezone.now()
        )
        if updated:
            payment.refresh_from_db()
            events.record(
                ReceivablesEvent.PAYMENT_REJECTED,
                actor=actor,
                subject=payment,
                customer_id=payment.customer_id,
                summary=_("%(number)s was not approved") % {"number": payment.number},
                payload={"comment": comment},
                notify=[payment.created_by_id],
                link=f"/receivables/payments/{payment.pk}/",
            )
    return payment


def _check_live(payment: Payment) -> None:
    if payment.state != PaymentState.CONFIRMED or payment.reverses_id:
        raise ValidationError(_("Only a confirmed payment that is not a reversal can be changed."))


def payment_allocate(*, payment: Payment, actor: User, allocations=None) -> list[PaymentAllocation]:
    """Allocate what is unallocated of a payment: by hand [(plan id, amount)], or (None) oldest first."""
    _check_customer(actor, payment.customer)
    with transaction.atomic():
        _lock_customer(payment.customer_id)
        payment = Payment.objects.select_for_update().select_related("customer").get(pk=payment.pk)
        _check_live(payment)
        if payment.is_refund:
            raise ValidationError(_("A refund is not allocated to plans."))
        left = payment.amount - payment.allocated_amount
        if left <= 0:
            raise ValidationError(_("This payment is fully allocated."))
        if allocations is None:
            chosen = allocation_preview(payment.customer_id, left)
            if not chosen:
                raise ValidationError(_("This customer has no open plans to allocate to."))
        else:
            chosen = _clean_allocations(payment, allocations, left)
            if not chosen:
                raise ValidationError(_("Enter an amount for at least one plan."))
        rows = _apply_allocations(payment, chosen, actor=actor, automatic=allocations is None)
        _plans_rollups([r.plan for r in rows], customer_ids=[payment.customer_id])
        events.record(
            ReceivablesEvent.PAYMENT_ALLOCATED,
            actor=actor,
            subject=payment,
            customer_id=payment.customer_id,
            summary=_("%(number)s: %(amount)s allocated")
            % {"number": payment.number, "amount": sum((r.amount for r in rows), ZERO)},
            audit="update",
        )
    return rows


def _undo_allocations(payment: Payment, *, actor) -> list[PaymentPlan]:
    live = list(
        PaymentAllocation.objects.filter(payment=payment, undoes__isnull=True, undone_by__isnull=True)
        .select_related("plan")
        .order_by("pk")
    )
    plans = {}
    rows = []
    for allocation in live:
        plan = plans.setdefault(allocation.plan_id, allocation.plan)
        plan.received_amount -= allocation.amount
        rows.append(
            PaymentAllocation(
                payment=payment,
                plan=plan,
                amount=-allocation.amount,
                undoes=allocation,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
        )
    PaymentAllocation.objects.bulk_create(rows)
    plans = list(plans.values())
    _restate(plans)
    PaymentPlan.objects.bulk_update(plans, ["received_amount", "state"])
    payment.allocated_amount -= sum((a.amount for a in live), ZERO)
    Payment.objects.filter(pk=payment.pk).update(allocated_amount=payment.allocated_amount, updated_at=timezone.now())
    return plans


def payment_deallocate(*, payment: Payment, actor: User) -> Payment:
    """Take a payment's allocations back (opposite rows; the money is unallocated again)."""
    _check_customer(actor, payment.customer)
    with transaction.atomic():
        _lock_customer(payment.customer_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        _check_live(payment)
        if payment.allocated_amount == 0:
            raise ValidationError(_("Nothing of this payment is allocated."))
        plans = _undo_allocations(payment, actor=actor)
        _plans_rollups(plans, customer_ids=[payment.customer_id])
        events.record(
            ReceivablesEvent.PAYMENT_ALLOCATED,
            actor=actor,
            subject=payment,
            customer_id=payment.customer_id,
            summary=_("%(number)s: allocations taken back") % {"number": payment.number},
            audit="update",
        )
    return payment


def payment_reverse(*, payment: Payment, actor: User, reason: str) -> Payment:
    """Correct a payment: a reversal row of the same amount pointing at it (`reverses`), its
    allocations undone by opposite rows (`undoes`); both payments stay. Returns the reversal."""
    _check_customer(actor, payment.customer)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the payment is reversed.")})
    with transaction.atomic():
        _lock_customer(payment.customer_id)
        payment = Payment.objects.select_for_update().select_related("customer").get(pk=payment.pk)
        _check_live(payment)
        if not payment.is_refund:
            # Reversing a receipt whose money was refunded would leave a negative credit.
            available = _customer_unallocated(payment.customer_id) + payment.allocated_amount
            if available < payment.amount:
                raise ValidationError(
                    _("Part of this money was refunded: reverse the refund first (%(left)s is unallocated).")
                    % {"left": available}
                )
        plans = _undo_allocations(payment, actor=actor)
        payment.state = PaymentState.REVERSED
        payment.save(update_fields=["state", "updated_at"])
        reversal = Payment(
            customer=payment.customer,
            owner=payment.owner,
            state=PaymentState.CONFIRMED,
            received_on=timezone.localdate(),
            amount=payment.amount,
            is_refund=payment.is_refund,
            method=payment.method,
            bank_account=payment.bank_account,
            payer_name=payment.payer_name,
            reference=payment.reference,
            reverses=payment,
            reversal_reason=reason,
            approved_at=timezone.now(),
            created_by=actor,
        )
        _save_numbered(reversal)
        _plans_rollups(plans, customer_ids=[payment.customer_id])
        events.record(
            ReceivablesEvent.PAYMENT_REVERSED,
            actor=actor,
            subject=payment,
            customer_id=payment.customer_id,
            summary=_("%(number)s (%(amount)s) reversed by %(reversal)s: %(reason)s")
            % {"number": payment.number, "amount": payment.amount, "reversal": reversal.number, "reason": reason},
            audit="update",
            webhook={**_webhook(payment), "reversal_number": reversal.number, "reason": reason},
            notify=[payment.owner_id] if payment.owner_id != actor.pk else [],
            link=f"/receivables/payments/{payment.pk}/",
        )
    return reversal


# --- the nightly job -----------------------------------------------------------------------------


def plans_remind(today: date | None = None) -> dict:
    """Tell owners once of plans falling due within the reminder window, and once of plans that
    became overdue (event `plan_overdue`, webhook `receivable.overdue`). The states and balances
    move first (`balances_roll`)."""
    from kehu.receivables.balances import balances_roll

    today = today or timezone.localdate()
    balances_roll(today)
    days = ReceivablesSettings.current().remind_days_before_due
    told = {"due_soon": 0, "overdue": 0}
    with transaction.atomic():
        soon = list(
            PaymentPlan.objects.filter(
                state__in=(PlanState.DUE, PlanState.NOT_DUE, PlanState.PARTLY_PAID),
                due_on__gte=today,
                due_on__lte=today + timedelta(days=days),
                reminded_on__isnull=True,
            )
            .select_related("customer")
            .order_by("pk")[:5000]
        )
        batch = [
            events.build(
                ReceivablesEvent.PLAN_DUE_SOON,
                subject=p,
                customer_id=p.customer_id,
                summary=_("%(customer)s: %(amount)s due on %(due)s")
                % {"customer": p.customer.name, "amount": p.amount - p.received_amount, "due": p.due_on},
                notify=[p.owner_id],
                link=f"/receivables/plans/{p.pk}/",
            )
            for p in soon
        ]
        PaymentPlan.objects.filter(pk__in=[p.pk for p in soon]).update(reminded_on=today)
        late = list(
            PaymentPlan.objects.filter(state=PlanState.OVERDUE, overdue_told_on__isnull=True)
            .select_related("customer")
            .order_by("pk")[:5000]
        )
        batch += [
            events.build(
                ReceivablesEvent.PLAN_OVERDUE,
                subject=p,
                customer_id=p.customer_id,
                summary=_("%(customer)s: %(amount)s was due on %(due)s")
                % {"customer": p.customer.name, "amount": p.amount - p.received_amount, "due": p.due_on},
                notify=[p.owner_id],
                link=f"/receivables/plans/{p.pk}/",
                webhook={
                    "id": p.pk,
                    "customer_id": p.customer_id,
                    "order_id": p.order_id,
                    "contract_id": p.contract_id,
                    "amount": str(p.amount),
                    "outstanding": str(p.amount - p.received_amount),
                    "due_on": p.due_on.isoformat() if p.due_on else None,
                },
            )
            for p in late
        ]
        PaymentPlan.objects.filter(pk__in=[p.pk for p in late]).update(overdue_told_on=today)
        events.record_many(batch)
        told = {"due_soon": len(soon), "overdue": len(late)}
    return told
