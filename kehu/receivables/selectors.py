"""Every read of payment plans and payments.

Who sees them: whoever sees the customer (its owner's scope, or the customer's account team), with
the permission to read payment plans (`receivables.view_paymentplan`: reps, managers, finance).
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Q, QuerySet
from django.http import Http404

from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.sharing import customer_scope_q
from kehu.receivables.models import CustomerBalance, Payment, PaymentAllocation, PaymentPlan
from kehu.users.models import User


def may_use_receivables(user: User) -> bool:
    return user.is_authenticated and user.has_perm("receivables.view_paymentplan")


def customer_visible(user: User, customer_id: int) -> bool:
    if not may_use_receivables(user):
        return False
    return customer_qs_visible_to(user).filter(pk=customer_id).exists()


def plan_qs_visible_to(user: User) -> QuerySet[PaymentPlan]:
    if not may_use_receivables(user):
        return PaymentPlan.objects.none()
    return PaymentPlan.objects.filter(customer_scope_q(user))


def payment_qs_visible_to(user: User) -> QuerySet[Payment]:
    if not may_use_receivables(user):
        return Payment.objects.none()
    return Payment.objects.filter(customer_scope_q(user))


def _int(pk) -> int:
    try:
        return int(pk)
    except (ValueError, TypeError, OverflowError):
        raise Http404 from None


def plan_get(user: User, pk) -> PaymentPlan:
    plan = plan_qs_visible_to(user).select_related("customer", "owner", "order", "contract").filter(pk=_int(pk)).first()
    if plan is None:
        raise Http404
    return plan


def payment_get(user: User, pk) -> Payment:
    payment = (
        payment_qs_visible_to(user)
        .select_related("customer", "owner", "created_by", "reverses", "reversal")
        .filter(pk=_int(pk))
        .first()
    )
    if payment is None:
        raise Http404
    return payment


def plan_allocations(plan: PaymentPlan) -> list[PaymentAllocation]:
    return list(plan.allocations.select_related("payment").order_by("created_at", "pk"))


def payment_allocations(payment: Payment) -> list[PaymentAllocation]:
    return list(payment.allocations.select_related("plan", "plan__order", "plan__contract").order_by("pk"))


@dataclass
class PlanFilters:
    state: str = ""
    due_from: date | None = None
    due_to: date | None = None
    customer: int | None = None
    owner: int | None = None
    order: int | None = None
    contract: int | None = None


def plans_filtered(user: User, f: PlanFilters) -> QuerySet[PaymentPlan]:
    qs = plan_qs_visible_to(user)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.due_from:
        qs = qs.filter(due_on__gte=f.due_from)
    if f.due_to:
        qs = qs.filter(due_on__lte=f.due_to)
    if f.customer:
        qs = qs.filter(customer_id=f.customer)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.order:
        qs = qs.filter(order_id=f.order)
    if f.contract:
        qs = qs.filter(Q(contract_id=f.contract) | Q(order__contract_id=f.contract))
    return qs.select_related("customer", "owner", "order", "contract").order_by(F("due_on").asc(nulls_last=True), "pk")


@dataclass
class PaymentFilters:
    state: str = ""
    received_from: date | None = None
    received_to: date | None = None
    customer: int | None = None
    owner: int | None = None
    unallocated: bool = False


def payments_filtered(user: User, f: PaymentFilters) -> QuerySet[Payment]:
    qs = payment_qs_visible_to(user)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.received_from:
        qs = qs.filter(received_on__gte=f.received_from)
    if f.received_to:
        qs = qs.filter(received_on__lte=f.received_to)
    if f.customer:
        qs = qs.filter(customer_id=f.customer)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.unallocated:
        qs = qs.filter(state="confirmed", is_refund=False, reverses__isnull=True, allocated_amount__lt=F("amount"))
    return qs.select_related("customer", "owner", "reverses").order_by("-received_on", "-pk")


def balance_of(customer_id: int) -> CustomerBalance | None:
    return CustomerBalance.objects.filter(customer_id=customer_id).first()
