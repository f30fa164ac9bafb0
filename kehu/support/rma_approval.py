"""Returns through the approvals engine (document type "support.rma").

Who approves, in one place: the customer service manager approves every return; when the goods'
value is above `GENERAL_MANAGER_ABOVE` (CNY, with tax) the general manager approves after them.
Administrators may change the flow on the approvals settings page like any other."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kehu.approvals import registry
from kehu.approvals import services as approval_services
from kehu.approvals.models import ActionKind, ApprovalAction, RequestState
from kehu.support.models_returns import ReturnRemedy, ReturnRequest
from kehu.users.roles import Role

CODE = "support.rma"
GENERAL_MANAGER_ABOVE = Decimal("20000")


def _step(name: str, role: str, conditions: list) -> dict:
    return {
        "name": name,
        "conditions": conditions,
        "approvers": [{"kind": "role", "role": role}],
        "mode": "any",
        "if_none": "admin",
        "if_requester": "up",
        "hours": 24,
        "escalate": False,
        "cc": [],
    }


DEFAULT_STEPS = (
    _step(gettext_noop("Customer service manager"), Role.SERVICE_MANAGER.value, []),
    _step(
        gettext_noop("General manager"),
        Role.GENERAL_MANAGER.value,
        [{"field": "amount", "op": "gt", "value": str(GENERAL_MANAGER_ABOVE)}],
    ),
)


def approvers_needed(amount: Decimal) -> list[str]:
    """The roles the default flow asks, for people reading the form ("above 20,000: the GM too")."""
    roles = [Role.SERVICE_MANAGER.value]
    if amount > GENERAL_MANAGER_ABOVE:
        roles.append(Role.GENERAL_MANAGER.value)
    return roles


def _facts(rma: ReturnRequest) -> dict:
    return {"amount": rma.amount, "remedy": rma.remedy}


def _last_comment(request) -> str:
    return (
        ApprovalAction.objects.filter(request=request, kind__in=[ActionKind.REJECTED, ActionKind.REVOKED])
        .order_by("-at", "-id")
        .values_list("comment", flat=True)
        .first()
        or ""
    )


def _apply(rma: ReturnRequest, request) -> None:
    from kehu.support.rma_services import rma_approved

    rma_approved(rma=rma, actor=request.decided_by)


def _rejected(rma: ReturnRequest, request, actor) -> None:
    from kehu.support.rma_services import rma_rejected

    rma_rejected(rma=rma, actor=actor, comment=_last_comment(request), withdrawn=request.state == RequestState.REVOKED)


def _describe(request) -> list:
    rma = ReturnRequest.objects.filter(pk=request.object_id).select_related("order_line").first()
    if rma is None:
        return []
    return [
        (gettext_lazy("order line"), f"{rma.order_line.code} {rma.order_line.name}"),
        (gettext_lazy("quantity"), f"{rma.quantity.normalize():f} {rma.order_line.unit}"),
        (gettext_lazy("requested remedy"), rma.get_remedy_display()),
        (gettext_lazy("reason"), rma.reason[:200]),
    ]


RMA = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("Return (RMA)"),
    model=ReturnRequest,
    fields={
        "amount": registry.decimal_field(gettext_lazy("value of the goods (CNY)")),
        "remedy": registry.choice_field(gettext_lazy("requested remedy"), ReturnRemedy.choices),
    },
    facts=_facts,
    customer_id=lambda rma: rma.customer_id,
    title=lambda rma: _("Return %(number)s: %(customer)s") % {"number": rma.number, "customer": rma.customer.name},
    link=lambda rma: f"/service/returns/{rma.pk}/",
    apply=_apply,
    rejected=_rejected,
    default_steps=DEFAULT_STEPS,
    describe=_describe,
)


def register() -> None:
    from kehu.support import rma_events  # noqa: F401 (registers the event kinds of returns and quality)

    registry.register(RMA)


def required() -> bool:
    return approval_services.approval_required(CODE)


def submit(*, rma: ReturnRequest, actor):
    return approval_services.request_submit(document_type=CODE, record=rma, actor=actor)


def open_request(rma: ReturnRequest):
    return approval_services.open_request(CODE, rma.pk)


def withdraw(*, rma: ReturnRequest, actor) -> bool:
    request = open_request(rma)
    if request is None:
        return False
    approval_services.request_act(request=request, actor=request.requester, action="revoke")
    return True
