"""Orders through the approvals engine.

Price approval (document type "order"), exactly as for quotes (`kehu.quotes.approval`): an order
is held when its largest line discount exceeds its owner's limit or a line is below its floor
price, unless its prices were approved already (copied from an approved quote or a signed
contract and not changed since). The facts, default steps and `may_approve` are the quotes'.

Credit exception (document type "order.credit", CLS-4): an order (or a delivery) the credit check
holds waits for someone with `receivables.approve_credit_exception` (finance by default); on
approval the order is confirmed (or the held deliveries count), on refusal it goes back to draft
(or the held deliveries are dropped).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kehu.approvals import registry
from kehu.approvals import services as approval_services
from kehu.approvals.models import ActionKind, ApprovalAction, RequestState
from kehu.catalog import pricing
from kehu.catalog.models import DiscountLimit, PricingSettings
from kehu.orders.models import Order, OrderState
from kehu.quotes import approval as quote_approval
from kehu.users.roles import Role

CODE = "order"
CREDIT_CODE = "order.credit"
YES, NO = quote_approval.YES, quote_approval.NO
CREDIT_PERMISSION = "receivables.approve_credit_exception"


def _facts(order: Order) -> dict:
    limit = pricing.discount_limit(order.owner)
    role = quote_approval.covering_role(order.max_discount) if order.max_discount > limit else None
    return {
        "amount": order.total,
        "discount": order.max_discount,
        "below_floor": YES if order.below_floor else NO,
        "approver": role or "",
    }


def needs_approval(order: Order) -> bool:
    if order.approved_at is not None:
        return False  # prices approved on the quote or signed on the contract, unchanged since
    if order.below_floor:
        return True
    return order.max_discount > pricing.discount_limit(order.owner) and approval_services.approval_required(CODE)


def check_approvable(order: Order) -> None:
    if order.below_floor and not PricingSettings.load().floor_approver_roles:
        raise ValidationError(
            _("A line is below its floor price and no role is named to approve that: ask an administrator."),
            code="approval",
        )
    if order.max_discount > pricing.discount_limit(order.owner) and (
        quote_approval.covering_role(order.max_discount) is None
    ):
        largest = (
            DiscountLimit.objects.filter(role__in=quote_approval.approver_roles())
            .order_by("-max_discount")
            .values_list("max_discount", flat=True)
            .first()
        )
        raise ValidationError(
            _("No role may approve a discount of %(discount)s %%; the largest limit is %(limit)s %%.")
            % {"discount": order.max_discount, "limit": largest or Decimal("0")},
            code="approval",
        )


def may_approve(order: Order, request, user) -> str | None:
    limit = pricing.discount_limit(user)
    if order.max_discount > limit:
        return _(
            "Your role may approve discounts up to %(limit)s %%; this order gives %(discount)s %%. "
            "Transfer the request to someone whose limit covers it."
        ) % {"limit": limit, "discount": order.max_discount}
    if order.below_floor:
        roles = PricingSettings.load().floor_approver_roles or []
        if user.role not in roles:
            names = ", ".join(str(Role(r).label) for r in roles if r in Role.values) or "—"
            return _("This order has a price below the floor: only %(roles)s may approve it.") % {"roles": names}
    return None


def _last_comment(request) -> str:
    return (
        ApprovalAction.objects.filter(request=request, kind__in=[ActionKind.REJECTED, ActionKind.REVOKED])
        .order_by("-at", "-id")
        .values_list("comment", flat=True)
        .first()
        or ""
    )


def _apply(order: Order, request) -> None:
    from kehu.orders.services import order_price_approved

    if order.state == OrderState.PENDING:
        order_price_approved(order=order, actor=request.decided_by)


def _rejected(order: Order, request, actor) -> None:
    from kehu.orders.services import order_back_to_draft

    order_back_to_draft(
        order=order,
        actor=actor,
        comment=_last_comment(request),
        withdrawn=request.state == RequestState.REVOKED,
    )


def _describe(request) -> list:
    order = Order.objects.filter(pk=request.object_id).select_related("owner").first()
    if order is None:
        return []
    return [
        (gettext_lazy("owner's discount limit (%)"), f"{pricing.discount_limit(order.owner)}"),
        (gettext_lazy("lines"), str(order.line_count)),
    ]


def _title(order: Order) -> str:
    return _("Order %(number)s: %(customer)s") % {"number": order.number, "customer": order.customer.name}


ORDER = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("Order price approval"),
    model=Order,
    fields={
        "amount": registry.decimal_field(gettext_lazy("order total (CNY)")),
        "discount": registry.decimal_field(gettext_lazy("largest line discount (%)")),
        "below_floor": registry.choice_field(
            gettext_lazy("a line below its floor price"), [(YES, gettext_lazy("yes")), (NO, gettext_lazy("no"))]
        ),
        "approver": registry.choice_field(gettext_lazy("role whose limit covers the discount"), Role.choices),
    },
    facts=_facts,
    customer_id=lambda order: order.customer_id,
    title=_title,
    link=lambda order: f"/orders/{order.pk}/",
    apply=_apply,
    rejected=_rejected,
    default_steps=quote_approval.DEFAULT_STEPS,
    describe=_describe,
    may_approve=may_approve,
)


# --- credit exceptions ---------------------------------------------------------------------------


def _credit_facts(order: Order) -> dict:
    return {"amount": order.total}


def credit_may_approve(order: Order, request, user) -> str | None:
    if not user.has_perm(CREDIT_PERMISSION):
        return _("Only people who may approve credit exceptions may approve this request.")
    return None


def _credit_apply(order: Order, request) -> None:
    from kehu.orders.services import order_credit_approved

    order_credit_approved(order=order, actor=request.decided_by)


def _credit_rejected(order: Order, request, actor) -> None:
    from kehu.orders.services import order_credit_rejected

    order_credit_rejected(
        order=order,
        actor=actor,
        comment=_last_comment(request),
        withdrawn=request.state == RequestState.REVOKED,
    )


def _credit_describe(request) -> list:
    order = Order.objects.filter(pk=request.object_id).first()
    if order is None:
        return []
    return [
        (gettext_lazy("stage"), str(request.proposal.get("stage_label", ""))),
        (gettext_lazy("credit check"), order.credit_note),
    ]


CREDIT_STEPS = (
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
)

ORDER_CREDIT = registry.DocumentType(
    code=CREDIT_CODE,
    label=gettext_lazy("Order credit exception"),
    model=Order,
    fields={"amount": registry.decimal_field(gettext_lazy("amount held (CNY)"))},
    facts=_credit_facts,
    customer_id=lambda order: order.customer_id,
    title=lambda order: (
        _("Credit exception for order %(number)s: %(customer)s")
        % {"number": order.number, "customer": order.customer.name}
    ),
    link=lambda order: f"/orders/{order.pk}/",
    apply=_credit_apply,
    rejected=_credit_rejected,
    default_steps=CREDIT_STEPS,
    describe=_credit_describe,
    may_approve=credit_may_approve,
)


def register() -> None:
    registry.register(ORDER)
    registry.register(ORDER_CREDIT)


def submit(*, order: Order, actor):
    return approval_services.request_submit(document_type=CODE, record=order, actor=actor)


def credit_request_open(order: Order) -> bool:
    return approval_services.open_request(CREDIT_CODE, order.pk) is not None


STAGE_LABELS = {"order": gettext_lazy("order"), "delivery": gettext_lazy("delivery")}


def credit_submit(*, order: Order, actor, stage: str, verdict, amount: Decimal | None = None):
    amount = order.total if amount is None else amount
    return approval_services.request_submit(
        document_type=CREDIT_CODE,
        record=order,
        actor=actor,
        facts={"amount": amount},
        proposal={"stage": stage, "stage_label": str(STAGE_LABELS.get(stage, stage)), "amount": str(amount)},
        reason=order.credit_note[:2000],
    )


def withdraw(*, order: Order, actor) -> None:
    """The requester withdraws the open request(s); the types' `rejected` hooks put the order back."""
    found = False
    for code in (CODE, CREDIT_CODE):
        request = approval_services.open_request(code, order.pk)
        if request is None:
            continue
        found = True
        if request.requester_id != actor.pk and not actor.has_perm("orders.approve_order"):
            raise ValidationError(_("Only the person who submitted the order may withdraw it from approval."))
        approval_services.request_act(request=request, actor=request.requester, action="revoke")
    if not found:
        return
