"""Payments through the approvals engine: when `ReceivablesSettings.payments_need_approval` is on, a
payment recorded by someone without `receivables.approve_payment` waits (state pending, counting
nowhere) until finance approves it; it is then allocated as the recorder asked (by hand, or oldest
first). Facts: `amount` and `method`. The default step: finance (the role), else an administrator.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kehu.approvals import registry
from kehu.receivables.models import Payment, PaymentMethod
from kehu.users.roles import Role

CODE = "payment"


def _apply(payment: Payment, request) -> None:
    from kehu.receivables.services import payment_approved

    payment_approved(payment=payment, actor=request.decided_by, proposal=request.proposal)


def _rejected(payment: Payment, request, actor) -> None:
    from kehu.receivables.services import payment_rejected

    payment_rejected(payment=payment, actor=actor)


def may_approve(payment: Payment, request, user) -> str | None:
    if not user.has_perm("receivables.approve_payment"):
        return _("Only people who may approve payments (finance) may approve this.")
    return None


PAYMENT = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("Payment received (回款) approval"),
    model=Payment,
    fields={
        "amount": registry.decimal_field(gettext_lazy("amount (CNY)")),
        "method": registry.choice_field(gettext_lazy("method"), PaymentMethod.choices),
    },
    facts=lambda p: {"amount": p.amount, "method": p.method},
    customer_id=lambda p: p.customer_id,
    title=lambda p: (
        _("Payment %(number)s: %(amount)s from %(customer)s")
        % {"number": p.number, "amount": p.amount, "customer": p.customer.name}
    ),
    link=lambda p: f"/receivables/payments/{p.pk}/",
    apply=_apply,
    rejected=_rejected,
    default_steps=(
        {
            "name": gettext_noop("Finance"),
            "conditions": [],
            "approvers": [{"kind": "role", "role": Role.FINANCE.value}],
            "mode": "any",
            "if_none": "admin",
            "if_requester": "up",
            "hours": 24,
            "escalate": False,
            "cc": [],
        },
    ),
    may_approve=may_approve,
)


def register() -> None:
    registry.register(PAYMENT)
