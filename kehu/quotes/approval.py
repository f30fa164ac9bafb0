"""Quotes through the approvals engine (SAL-4): discounts beyond the owner's limit, prices below the floor.

A submitted quote needs approval when its largest line discount exceeds the discount limit of its
owner's role (`DiscountLimit`, via `pricing.discount_limit`) or a line is below its product's
floor price. The request carries the facts `amount` (total with tax), `discount` (the largest line
discount, %), `below_floor` (yes / no) and `approver`: the role with the smallest limit that covers
the discount, among the roles that may approve quotes. The default steps route on them:

1. the sales managers, when a sales manager's limit covers the discount (and no line is below floor);
2. the general managers, when only theirs does (and no line is below floor);
3. below the floor: the general managers (the default floor approvers).

Whatever the flow says, `may_approve` is checked by the engine on every approval: the approver's
own role limit must cover the discount, and a quote below the floor is approved only by users of
the roles in `PricingSettings.floor_approver_roles`.
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
from kehu.quotes.models import Quote, QuoteState
from kehu.users.roles import Role, role_permissions

CODE = "quote"
YES, NO = "yes", "no"


def approver_roles() -> list[str]:
    """Roles that may approve quotes (by permission), in the order of Role."""
    return [role for role in Role.values if "quotes.approve_quote" in role_permissions(role)]


def covering_role(discount: Decimal) -> str | None:
    """The approving role with the smallest limit that covers `discount` (None: no role may)."""
    roles = set(approver_roles())
    rows = DiscountLimit.objects.filter(role__in=roles, max_discount__gte=discount).order_by("max_discount", "role")
    return rows.values_list("role", flat=True).first()


def _facts(quote: Quote) -> dict:
    limit = pricing.discount_limit(quote.owner)
    role = covering_role(quote.max_discount) if quote.max_discount > limit else None
    return {
        "amount": quote.total,
        "discount": quote.max_discount,
        "below_floor": YES if quote.below_floor else NO,
        "approver": role or "",
    }


def needs_approval(quote: Quote) -> bool:
    if quote.below_floor:
        return True
    return quote.max_discount > pricing.discount_limit(quote.owner) and approval_services.approval_required(CODE)


def check_approvable(quote: Quote) -> None:
    """A discount no role may approve, or a price below the floor while no role is named to approve
    one, is refused at once rather than left waiting."""
    if quote.below_floor and not PricingSettings.load().floor_approver_roles:
        raise ValidationError(
            _("A line is below its floor price and no role is named to approve that: ask an administrator."),
            code="approval",
        )
    if quote.max_discount > pricing.discount_limit(quote.owner) and covering_role(quote.max_discount) is None:
        largest = (
            DiscountLimit.objects.filter(role__in=approver_roles())
            .order_by("-max_discount")
            .values_list("max_discount", flat=True)
            .first()
        )
        raise ValidationError(
            _("No role may approve a discount of %(discount)s %%; the largest limit is %(limit)s %%.")
            % {"discount": quote.max_discount, "limit": largest or Decimal("0")},
            code="approval",
        )


def may_approve(quote: Quote, request, user) -> str | None:
    """The engine's check on every approval (see the module's docstring)."""
    limit = pricing.discount_limit(user)
    if quote.max_discount > limit:
        return _(
            "Your role may approve discounts up to %(limit)s %%; this quote gives %(discount)s %%. "
            "Transfer the request to someone whose limit covers it."
        ) % {"limit": limit, "discount": quote.max_discount}
    if quote.below_floor:
        roles = PricingSettings.load().floor_approver_roles or []
        if user.role not in roles:
            names = ", ".join(str(Role(r).label) for r in roles if r in Role.values) or "—"
            return _("This quote has a price below the floor: only %(roles)s may approve it.") % {"roles": names}
    return None


def _apply(quote: Quote, request) -> None:
    from kehu.quotes.services import quote_approved

    if quote.state == QuoteState.PENDING:
        quote_approved(quote=quote, actor=request.decided_by)


def _rejected(quote: Quote, request, actor) -> None:
    from kehu.quotes.services import quote_back_to_draft

    last = (
        ApprovalAction.objects.filter(request=request, kind__in=[ActionKind.REJECTED, ActionKind.REVOKED])
        .order_by("-at", "-id")
        .values_list("comment", flat=True)
        .first()
    )
    quote_back_to_draft(quote=quote, actor=actor, comment=last or "", withdrawn=request.state == RequestState.REVOKED)


def _describe(request) -> list:
    quote = Quote.objects.filter(pk=request.object_id).first()
    if quote is None:
        return []
    return [
        (gettext_lazy("owner's discount limit (%)"), f"{pricing.discount_limit(quote.owner)}"),
        (gettext_lazy("lines"), str(quote.line_count)),
    ]


DEFAULT_STEPS = (
    {
        "name": gettext_noop("Sales manager"),
        "conditions": [
            {"field": "approver", "op": "in", "value": [Role.SALES_MANAGER.value, Role.ACCOUNT_MANAGER.value]},
            {"field": "below_floor", "op": "in", "value": [NO]},
        ],
        "approvers": [{"kind": "role", "role": Role.SALES_MANAGER.value}],
        "mode": "any",
        "if_none": "admin",
        "if_requester": "up",
        "hours": 24,
        "escalate": False,
        "cc": [],
    },
    {
        "name": gettext_noop("General manager"),
        "conditions": [
            {"field": "approver", "op": "in", "value": [Role.GENERAL_MANAGER.value]},
            {"field": "below_floor", "op": "in", "value": [NO]},
        ],
        "approvers": [{"kind": "role", "role": Role.GENERAL_MANAGER.value}],
        "mode": "any",
        "if_none": "admin",
        "if_requester": "up",
        "hours": 24,
        "escalate": False,
        "cc": [],
    },
    {
        "name": gettext_noop("Below the floor price"),
        "conditions": [{"field": "below_floor", "op": "in", "value": [YES]}],
        "approvers": [{"kind": "role", "role": Role.GENERAL_MANAGER.value}],
        "mode": "any",
        "if_none": "admin",
        "if_requester": "up",
        "hours": 24,
        "escalate": False,
        "cc": [],
    },
)

QUOTE = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("Quote beyond the discount limit or below the floor price"),
    model=Quote,
    fields={
        "amount": registry.decimal_field(gettext_lazy("quote total (CNY)")),
        "discount": registry.decimal_field(gettext_lazy("largest line discount (%)")),
        "below_floor": registry.choice_field(
            gettext_lazy("a line below its floor price"), [(YES, gettext_lazy("yes")), (NO, gettext_lazy("no"))]
        ),
        "approver": registry.choice_field(gettext_lazy("role whose limit covers the discount"), Role.choices),
    },
    facts=_facts,
    customer_id=lambda quote: quote.customer_id,
    title=lambda quote: _("Quote %(number)s: %(customer)s") % {"number": str(quote), "customer": quote.customer.name},
    link=lambda quote: f"/quotes/{quote.pk}/",
    apply=_apply,
    rejected=_rejected,
    default_steps=DEFAULT_STEPS,
    describe=_describe,
    may_approve=may_approve,
)


def register() -> None:
    registry.register(QUOTE)


def submit(*, quote: Quote, actor):
    return approval_services.request_submit(document_type=CODE, record=quote, actor=actor)


def withdraw(*, quote: Quote, actor) -> None:
    """The requester withdraws the open request (the engine's revoke); the type's `rejected` hook
    puts the quote back to draft."""
    request = approval_services.open_request(CODE, quote.pk)
    if request is None:
        return
    if request.requester_id != actor.pk:
        raise ValidationError(_("Only the person who submitted the quote may withdraw it from approval."))
    approval_services.request_act(request=request, actor=actor, action="revoke")
