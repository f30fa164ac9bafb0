"""Credit control (CLS-4): exposure, the credit limit and the credit check.

**Exposure** = open receivables + orders not yet invoiced, counted as
Σ over booked orders (confirmed or completed, not cancelled, not deleted) of (total − received)
+ Σ over open payment plans tied to no order (contract instalments) of their outstanding amount.
`balances.balances_refresh` keeps it in `CustomerBalance.exposure` on every change of an order, an
invoice, a plan or a payment; `exposure()` reads it there, `exposure_compute()` counts it from the
records (the tests compare both; a rebuild uses the same definition).

**The credit limit** of a customer is the limit of its latest credit record (classification,
`CreditRecord`), else the company's default limit for its tier (`ClassificationSettings`).

**The credit check** (`credit_check(customer_id, amount, stage)`) answers `CREDIT_CHECK` for the
orders (stages "order" and "delivery") and the invoices ("invoice"): None unless the company holds
at that stage (`ReceivablesSettings.credit_stage`); else a `CreditVerdict`, held when exposure +
amount goes over the limit (`hold_over_limit`; at the delivery and invoice stages the amount is
already inside the exposure — it belongs to a booked order — so there the exposure alone is
compared) or when something is overdue by more than `hold_overdue_days` days. It reads the customer's balance row, its latest credit record and the
settings (at most five small indexed queries).
"""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.classification.models import ClassificationSettings, CreditRecord
from kehu.core import lookups
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.lookups import CreditVerdict
from kehu.core.models import AuditAction
from kehu.core.money import FEN
from kehu.customers.models import Customer
from kehu.orders.models import BOOKED_STATES, Order
from kehu.receivables.models import (
    OPEN_PLAN_STATES,
    CreditStage,
    CustomerBalance,
    PaymentPlan,
    ReceivablesSettings,
)
from kehu.users.models import User

ZERO = Decimal("0")
SETTINGS_PERM = "receivables.manage_credit"
SETTINGS_FIELDS = [
    "credit_stage",
    "hold_over_limit",
    "hold_overdue_days",
    "payments_need_approval",
    "remind_days_before_due",
]


def money_text(value: Decimal) -> str:
    return f"{Decimal(value):,.2f}"


# --- exposure and limits -----------------------------------------------------------------------------


def exposure(customer_ids) -> dict[int, Decimal]:
    """{customer id: exposure} as kept in the balances (customers without a balance row owe nothing)."""
    ids = list(customer_ids)
    if not ids:
        return {}
    found = dict(CustomerBalance.objects.filter(customer_id__in=ids).values_list("customer_id", "exposure"))
    return {pk: found.get(pk, ZERO) for pk in ids}


def exposure_compute(customer_ids) -> dict[int, Decimal]:
    """{customer id: exposure} counted from the orders and the plans (two queries; see the module)."""
    ids = list(customer_ids)
    result = {pk: ZERO for pk in ids}
    if not ids:
        return result
    orders = (
        Order.objects.filter(customer_id__in=ids, state__in=BOOKED_STATES, deleted_at__isnull=True)
        .values("customer_id")
        .annotate(total=Sum("total"), received=Sum("received_amount"))
    )
    for row in orders:
        result[row["customer_id"]] += max(row["total"] - row["received"], ZERO)
    plans = PaymentPlan.objects.filter(customer_id__in=ids, order__isnull=True, state__in=OPEN_PLAN_STATES).values_list(
        "customer_id", "amount", "received_amount"
    )
    for pk, amount, received in plans:
        result[pk] += max(amount - received, ZERO)
    return result


def classification_settings() -> ClassificationSettings:
    """The tier defaults, read without writing (`ClassificationSettings.load()` creates the row on a
    first read; a page that only reads must not write)."""
    return ClassificationSettings.objects.filter(pk=1).first() or ClassificationSettings()


def credit_limits(customer_ids) -> dict[int, Decimal]:
    """{customer id: credit limit}: the latest credit record's, else the default of the customer's tier
    (one query, and the classification settings when some customer has no record)."""
    ids = list(customer_ids)
    if not ids:
        return {}
    latest = CreditRecord.objects.filter(customer_id=OuterRef("pk")).order_by("-created_at", "-id").values("limit")[:1]
    rows = Customer.objects.filter(pk__in=ids).annotate(recorded=Subquery(latest)).values_list("pk", "tier", "recorded")
    limits: dict[int, Decimal] = {}
    conf = None
    for pk, tier, recorded in rows:
        if recorded is None:
            conf = conf or classification_settings()
            recorded = conf.default_credit_limit(tier)
        limits[pk] = recorded
    return {pk: limits.get(pk, ZERO).quantize(FEN) for pk in ids}


def credit_limit(customer_id: int) -> Decimal:
    return credit_limits([customer_id])[customer_id]


def over_credit_limit(customer_ids) -> set[int]:
    """The customers whose exposure is beyond their credit limit (answers OVER_CREDIT_LIMIT): one
    query, and the classification settings when a customer with exposure has no credit record."""
    ids = list(customer_ids)
    latest = CreditRecord.objects.filter(customer_id=OuterRef("customer_id")).order_by("-created_at", "-id")
    rows = (
        CustomerBalance.objects.filter(customer_id__in=ids, exposure__gt=0)
        .annotate(recorded=Subquery(latest.values("limit")[:1]))
        .values_list("customer_id", "exposure", "recorded", "customer__tier")
    )
    found, conf = set(), None
    for pk, amount, recorded, tier in rows:
        if recorded is None:
            conf = conf or classification_settings()
            recorded = conf.default_credit_limit(tier)
        if amount > recorded:
            found.add(pk)
    return found


# --- the credit check ----------------------------------------------------------------------------------


def overdue_beyond(customer_id: int, days: int, today: date) -> Decimal:
    """What the customer owes on plans past their due date by more than `days` days."""
    cutoff = today - timedelta(days=days)
    rows = PaymentPlan.objects.filter(customer_id=customer_id, state__in=OPEN_PLAN_STATES, due_on__lt=cutoff).aggregate(
        amount=Sum("amount"), received=Sum("received_amount")
    )
    return max((rows["amount"] or ZERO) - (rows["received"] or ZERO), ZERO).quantize(FEN)


def credit_verdict(
    customer_id: int, amount, *, conf: ReceivablesSettings, today: date | None = None, stage: str = CreditStage.ORDER
) -> CreditVerdict:
    """The verdict whatever the company's stage (the customer-money page and the API ask this directly).

    At the order stage `amount` is new: held when exposure + amount is over the limit. At the delivery
    and invoice stages the amount belongs to a booked order (or a contract instalment) already inside
    the exposure: held when the exposure itself is over the limit."""
    today = today or timezone.localdate()
    amount = Decimal(amount or 0).quantize(FEN)
    # The balance, the latest credit record and the tier in one query.
    latest = CreditRecord.objects.filter(customer_id=OuterRef("pk")).order_by("-created_at", "-id").values("limit")[:1]
    found = (
        Customer.objects.filter(pk=customer_id)
        .annotate(recorded=Subquery(latest))
        .values_list("tier", "recorded", "balance__exposure", "balance__overdue", "balance__oldest_due_on")
        .first()
    )
    tier, recorded, current, overdue_now, oldest_due_on = found or ("", None, None, None, None)
    current = current or ZERO
    limit = recorded if recorded is not None else classification_settings().default_credit_limit(tier)
    limit = Decimal(limit).quantize(FEN)
    reasons: list[str] = []
    overdue = ZERO
    if conf.hold_over_limit:
        if stage == CreditStage.ORDER and current + amount > limit:
            reasons.append(
                _("The exposure %(exposure)s plus %(amount)s is over the credit limit %(limit)s.")
                % {"exposure": money_text(current), "amount": money_text(amount), "limit": money_text(limit)}
            )
        elif stage != CreditStage.ORDER and current > limit:
            reasons.append(
                _("The exposure %(exposure)s is over the credit limit %(limit)s.")
                % {"exposure": money_text(current), "limit": money_text(limit)}
            )
    days = conf.hold_overdue_days
    if days is not None and overdue_now:
        if oldest_due_on is None or oldest_due_on < today - timedelta(days=days):
            overdue = overdue_beyond(customer_id, days, today)
        if overdue > 0:
            reasons.append(
                _("%(amount)s is overdue by more than %(days)s days.") % {"amount": money_text(overdue), "days": days}
            )
    return CreditVerdict(held=bool(reasons), limit=limit, exposure=current, overdue=overdue, reasons=tuple(reasons))


def credit_check(customer_id: int, amount, stage: str, *, today: date | None = None) -> CreditVerdict | None:
    """Answers CREDIT_CHECK: None when the company does not hold at `stage`, else the verdict."""
    conf = ReceivablesSettings.current()
    if conf.credit_stage == CreditStage.OFF or conf.credit_stage != stage:
        return None
    return credit_verdict(customer_id, amount, conf=conf, today=today, stage=stage)


# --- settings ------------------------------------------------------------------------------------------


def may_manage_credit(user: User) -> bool:
    return user.is_authenticated and user.has_perm(SETTINGS_PERM)


@transaction.atomic
def receivables_settings_update(*, actor: User, **fields) -> ReceivablesSettings:
    """Change the credit and receivables settings (validated, audited)."""
    if not may_manage_credit(actor):
        raise PermissionDenied
    current = ReceivablesSettings.current()
    if current.pk is None:
        current.save()
    conf = ReceivablesSettings.objects.select_for_update().get(pk=current.pk)
    before = snapshot(conf, SETTINGS_FIELDS)
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(conf, name, value)
    if conf.credit_stage not in CreditStage.values:
        raise ValidationError({"credit_stage": _("Choose one of the stages.")})
    try:
        conf.full_clean(exclude=["updated_by"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    if conf.hold_overdue_days is not None and conf.hold_overdue_days > 3650:
        raise ValidationError({"hold_overdue_days": _("Enter a number of days up to 3650.")})
    if conf.remind_days_before_due > 365:
        raise ValidationError({"remind_days_before_due": _("Enter a number of days up to 365.")})
    conf.updated_by = actor
    conf.save()
    changes = diff(before, snapshot(conf, SETTINGS_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=conf, changes=changes)
    return conf


def register() -> None:
    """Answer the credit questions (called from the app's `ready`)."""
    lookups.answer(lookups.CREDIT_CHECK, credit_check)
    lookups.answer(lookups.OVER_CREDIT_LIMIT, over_credit_limit)


# --- the 360° page header ----------------------------------------------------------------------------


def money_header(user: User, customer: Customer, *, credit: CreditRecord | None) -> dict | None:
    """Owed, overdue, exposure and the credit limit for the 360° page's header (WRN-1, CLS-4), or None
    for someone who does not see receivables (one or two queries). `credit`: the customer's latest
    credit record, which the page's classification panel has read."""
    if not user.has_perm("receivables.view_paymentplan"):
        return None
    balance = CustomerBalance.objects.filter(customer_id=customer.pk).first()
    recorded = credit.limit if credit is not None else classification_settings().default_credit_limit(customer.tier)
    limit = recorded.quantize(FEN)
    exposure_now = balance.exposure if balance else ZERO
    return {
        "owed": balance.owed if balance else ZERO,
        "overdue": balance.overdue if balance else ZERO,
        "exposure": exposure_now,
        "limit": limit,
        "over_limit": exposure_now > limit,
    }
