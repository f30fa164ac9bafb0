"""Invoice requests through the approvals engine: the request itself, and a credit exception (CLS-4).

Two document types:
- `invoice`: every request is approved (the requester's supervisor by default) unless the
  administrators switch the flow off; whoever approves needs `invoices.approve_invoice`.
- `invoice.credit`: when the credit check at the "invoice" stage holds the amount (the customer is
  beyond its credit limit, or owes past the tolerated days), the request first needs a credit
  exception (finance by default); whoever approves needs `receivables.approve_credit_exception`.
  Once granted, the request goes on to its own approval.
A rejection or a withdrawal of either puts the request back to draft.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kehu.approvals import registry
from kehu.approvals import services as approval_services
from kehu.approvals.models import ActionKind, ApprovalAction, RequestState
from kehu.invoices.models import Invoice, InvoiceState, InvoiceType
from kehu.users.roles import Role

CODE = "invoice"
CREDIT_CODE = "invoice.credit"


def invoice_required() -> bool:
    return approval_services.approval_required(CODE)


def credit_required() -> bool:
    return approval_services.approval_required(CREDIT_CODE)


def _facts(invoice: Invoice) -> dict:
    return {"amount": invoice.amount, "invoice_type": invoice.invoice_type}


def _title(invoice: Invoice) -> str:
    return _("Invoice %(number)s: %(customer)s") % {"number": invoice.number, "customer": invoice.customer.name}


def _credit_title(invoice: Invoice) -> str:
    return _("Credit exception for invoice %(number)s: %(customer)s") % {
        "number": invoice.number,
        "customer": invoice.customer.name,
    }


def _link(invoice: Invoice) -> str:
    return f"/invoices/{invoice.pk}/"


def may_approve(invoice: Invoice, request, user) -> str | None:
    if not user.has_perm("invoices.approve_invoice"):
        return _("Only people who may approve invoice requests approve this one: transfer it to one of them.")
    return None


def may_approve_credit(invoice: Invoice, request, user) -> str | None:
    if not user.has_perm("receivables.approve_credit_exception"):
        return _("Only people who may approve credit exceptions approve this one: transfer it to one of them.")
    return None


def _apply(invoice: Invoice, request) -> None:
    from kehu.invoices.services import invoice_approved

    if invoice.state == InvoiceState.PENDING:
        invoice_approved(invoice=invoice, actor=request.decided_by)


def _apply_credit(invoice: Invoice, request) -> None:
    """The credit exception is granted: on to the request's own approval (or approved, when off)."""
    from kehu.invoices.services import invoice_approved

    if invoice.state != InvoiceState.PENDING:
        return
    if invoice_required():
        approval_services.request_submit(document_type=CODE, record=invoice, actor=request.requester)
    else:
        invoice_approved(invoice=invoice, actor=request.decided_by)


def _rejected(invoice: Invoice, request, actor) -> None:
    from kehu.invoices.services import invoice_back_to_draft

    last = (
        ApprovalAction.objects.filter(request=request, kind__in=[ActionKind.REJECTED, ActionKind.REVOKED])
        .order_by("-at", "-id")
        .values_list("comment", flat=True)
        .first()
    )
    invoice_back_to_draft(
        invoice=invoice, actor=actor, comment=last or "", withdrawn=request.state == RequestState.REVOKED
    )


def _describe(request) -> list:
    invoice = Invoice.objects.filter(pk=request.object_id).first()
    if invoice is None:
        return []
    rows = [
        (gettext_lazy("invoice title"), invoice.title_name),
        (gettext_lazy("lines"), str(invoice.line_count)),
    ]
    if invoice.order_id:
        rows.append((gettext_lazy("order"), invoice.order.number))
    return rows


def _describe_credit(request) -> list:
    rows = _describe(request)
    for name, label in (
        ("limit", gettext_lazy("credit limit (CNY)")),
        ("exposure", gettext_lazy("exposure before this invoice (CNY)")),
        ("overdue", gettext_lazy("overdue (CNY)")),
    ):
        if name in request.proposal:
            rows.append((label, f"{Decimal(request.proposal[name]):,.2f}"))
    return rows


TYPE_FIELD = registry.choice_field(gettext_lazy("invoice type"), InvoiceType.choices)

INVOICE = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("Invoice request"),
    model=Invoice,
    fields={"amount": registry.decimal_field(gettext_lazy("invoice amount (CNY)")), "invoice_type": TYPE_FIELD},
    facts=_facts,
    customer_id=lambda invoice: invoice.customer_id,
    title=_title,
    link=_link,
    apply=_apply,
    rejected=_rejected,
    default_steps=(
        {
            "name": gettext_noop("Direct supervisor"),
            "conditions": [],
            "approvers": [{"kind": "manager"}],
            "mode": "any",
            "if_none": "admin",
            "if_requester": "up",
            "hours": 24,
            "escalate": False,
            "cc": [],
        },
    ),
    describe=_describe,
    may_approve=may_approve,
)

CREDIT = registry.DocumentType(
    code=CREDIT_CODE,
    label=gettext_lazy("Credit exception for an invoice"),
    model=Invoice,
    fields={
        "amount": registry.decimal_field(gettext_lazy("invoice amount (CNY)")),
        "exposure": registry.decimal_field(gettext_lazy("exposure before this invoice (CNY)")),
        "overdue": registry.decimal_field(gettext_lazy("overdue (CNY)")),
        "invoice_type": TYPE_FIELD,
    },
    facts=_facts,
    customer_id=lambda invoice: invoice.customer_id,
    title=_credit_title,
    link=_link,
    apply=_apply_credit,
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
    describe=_describe_credit,
    may_approve=may_approve_credit,
)


def register() -> None:
    registry.register(INVOICE)
    registry.register(CREDIT)


def submit_invoice(*, invoice: Invoice, actor):
    return approval_services.request_submit(document_type=CODE, record=invoice, actor=actor)


def submit_credit(*, invoice: Invoice, actor, verdict):
    return approval_services.request_submit(
        document_type=CREDIT_CODE,
        record=invoice,
        actor=actor,
        facts={"exposure": verdict.exposure, "overdue": verdict.overdue},
        proposal={"limit": verdict.limit, "exposure": verdict.exposure, "overdue": verdict.overdue},
        reason="\n".join(str(r) for r in verdict.reasons),
    )


def open_request(invoice: Invoice):
    """The invoice's request in approval (its credit exception or its own), or None."""
    return approval_services.open_request(CREDIT_CODE, invoice.pk) or approval_services.open_request(CODE, invoice.pk)


def withdraw(*, invoice: Invoice, actor) -> None:
    request = open_request(invoice)
    if request is None:
        return
    if request.requester_id != actor.pk:
        raise ValidationError(_("Only the person who sent the request may withdraw it from approval."))
    approval_services.request_act(request=request, actor=actor, action="revoke")
