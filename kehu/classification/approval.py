"""Credit limits above the tier's default need approval (CLS-4 with ACC-6).

`credit_set` asks `needs_approval` first: a limit above the default of the customer's tier is not
recorded but sent for approval with the proposed rating and limit; on approval the credit record
is written (as set by the requester), on rejection nothing changes.
"""

from datetime import date
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.approvals import registry
from kehu.approvals import services as approval_services
from kehu.approvals.models import ApprovalRequest
from kehu.classification.models import ClassificationSettings, CreditRating
from kehu.customers.models import Customer, CustomerKind, Tier

CODE = "customer.credit"


def _facts(customer: Customer) -> dict:
    return {"tier": customer.tier, "customer_kind": customer.kind}


def _apply(customer: Customer, request) -> None:
    from kehu.classification.services import CREDIT_FIELDS, credit_set

    proposal = {k: v for k, v in request.proposal.items() if k in CREDIT_FIELDS}
    if "limit" not in proposal:
        return
    proposal["limit"] = Decimal(proposal["limit"])
    if proposal.get("investigated_on"):
        proposal["investigated_on"] = date.fromisoformat(proposal["investigated_on"])
    credit_set(customer=customer, actor=request.requester, approved=True, **proposal)


def _describe(request) -> list:
    """Beside the facts (proposed limit, the excess, rating): the tier's default it exceeds."""
    default = request.proposal.get("default")
    return [(gettext_lazy("tier's default limit (CNY)"), f"{Decimal(default):,.2f}")] if default else []


CREDIT = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("Credit limit above the tier's default"),
    model=Customer,
    fields={
        "amount": registry.decimal_field(gettext_lazy("proposed credit limit (CNY)")),
        "excess": registry.decimal_field(gettext_lazy("amount above the tier's default (CNY)")),
        "rating": registry.choice_field(gettext_lazy("credit rating"), CreditRating.choices),
        "tier": registry.choice_field(gettext_lazy("tier"), Tier.choices),
        "customer_kind": registry.choice_field(gettext_lazy("customer kind"), CustomerKind.choices),
    },
    facts=_facts,
    customer_id=lambda customer: customer.pk,
    title=lambda customer: _("Credit limit: %(name)s") % {"name": customer.name},
    link=lambda customer: reverse("workspace:customer-detail", args=[customer.pk]),
    apply=_apply,
    describe=_describe,
)


def register() -> None:
    registry.register(CREDIT)


def needs_approval(customer: Customer, limit) -> bool:
    """A limit above the default of the customer's tier, while the flow is in use."""
    if limit is None:
        return False
    default = ClassificationSettings.load().default_credit_limit(customer.tier)
    return Decimal(limit) > default and approval_services.approval_required(CODE)


def check_unlocked(customer: Customer) -> None:
    approval_services.check_unlocked(CODE, customer.pk)


def submit(*, customer: Customer, actor, fields: dict):
    """Send the proposed credit for approval; returns the request."""
    default = ClassificationSettings.load().default_credit_limit(customer.tier)
    proposal = {**fields, "default": default}
    return approval_services.request_submit(
        document_type=CODE,
        record=customer,
        actor=actor,
        proposal=proposal,
        facts={"amount": fields["limit"], "excess": Decimal(fields["limit"]) - default, "rating": fields.get("rating")},
        reason=fields.get("investigation", ""),
    )


def is_request(result) -> bool:
    return isinstance(result, ApprovalRequest)
