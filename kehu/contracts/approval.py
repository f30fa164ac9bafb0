"""Contracts and their amendments through the approvals engine (CON-2).

A submitted contract needs approval when its amount is above `ContractSettings.approval_above`
(0: every contract); an amendment by the same rule on its amount after the change. The request
carries the fact `amount`; the default flow asks the sales managers, and above 1,000,000 CNY the
general managers as well. Whatever the flow says, only people who may approve contracts
(`contracts.approve_contract`) approve (`may_approve`).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kehu.approvals import registry
from kehu.approvals import services as approval_services
from kehu.approvals.models import ActionKind, ApprovalAction, RequestState
from kehu.contracts.models import AmendmentState, Contract, ContractAmendment, ContractStage
from kehu.users.roles import Role

CODE = "contract"
AMENDMENT_CODE = "contract.amendment"


def _facts(contract: Contract) -> dict:
    return {"amount": contract.amount}


def may_approve(record, request, user) -> str | None:
    if not user.has_perm("contracts.approve_contract"):
        return _("You may not approve contracts.")
    return None


def _last_comment(request) -> str:
    return (
        ApprovalAction.objects.filter(request=request, kind__in=[ActionKind.REJECTED, ActionKind.REVOKED])
        .order_by("-at", "-id")
        .values_list("comment", flat=True)
        .first()
        or ""
    )


def _apply(contract: Contract, request) -> None:
    from kehu.contracts.services import contract_approved

    if contract.stage == ContractStage.PENDING:
        contract_approved(contract=contract, actor=request.decided_by)


def _rejected(contract: Contract, request, actor) -> None:
    from kehu.contracts.services import contract_back_to_draft

    contract_back_to_draft(
        contract=contract, actor=actor, comment=_last_comment(request), withdrawn=request.state == RequestState.REVOKED
    )


def _apply_amendment(amendment: ContractAmendment, request) -> None:
    from kehu.contracts.services import amendment_effective

    if amendment.state == AmendmentState.PENDING:
        amendment_effective(amendment=amendment, actor=request.decided_by)


def _rejected_amendment(amendment: ContractAmendment, request, actor) -> None:
    from kehu.contracts.services import amendment_back_to_draft

    amendment_back_to_draft(amendment=amendment, actor=actor, comment=_last_comment(request))


def _steps(label_amount) -> tuple:
    return (
        {
            "name": gettext_noop("Sales manager"),
            "conditions": [],
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
            "conditions": [{"field": "amount", "op": "gt", "value": "1000000"}],
            "approvers": [{"kind": "role", "role": Role.GENERAL_MANAGER.value}],
            "mode": "any",
            "if_none": "admin",
            "if_requester": "up",
            "hours": 48,
            "escalate": False,
            "cc": [],
        },
    )


CONTRACT = registry.DocumentType(
    code=CODE,
    label=gettext_lazy("Contract approval"),
    model=Contract,
    fields={"amount": registry.decimal_field(gettext_lazy("contract amount (CNY)"))},
    facts=_facts,
    customer_id=lambda contract: contract.customer_id,
    title=lambda contract: (
        _("Contract %(number)s: %(customer)s") % {"number": contract.number, "customer": contract.customer.name}
    ),
    link=lambda contract: f"/contracts/{contract.pk}/",
    apply=_apply,
    rejected=_rejected,
    default_steps=_steps("amount"),
    describe=lambda request: [],
    may_approve=may_approve,
)

AMENDMENT = registry.DocumentType(
    code=AMENDMENT_CODE,
    label=gettext_lazy("Contract amendment approval"),
    model=ContractAmendment,
    fields={"amount": registry.decimal_field(gettext_lazy("contract amount after the amendment (CNY)"))},
    facts=lambda amendment: {"amount": amendment.amount_after},
    customer_id=lambda amendment: amendment.contract.customer_id,
    title=lambda amendment: (
        _("Amendment %(n)s of contract %(number)s: %(customer)s")
        % {"n": amendment.sequence, "number": amendment.contract.number, "customer": amendment.contract.customer.name}
    ),
    link=lambda amendment: f"/contracts/{amendment.contract_id}/",
    apply=_apply_amendment,
    rejected=_rejected_amendment,
    default_steps=_steps("amount"),
    describe=lambda request: [],
    may_approve=may_approve,
)


def register() -> None:
    registry.register(CONTRACT)
    registry.register(AMENDMENT)


def submit(*, contract: Contract, actor):
    return approval_services.request_submit(document_type=CODE, record=contract, actor=actor)


def submit_amendment(*, amendment: ContractAmendment, actor):
    return approval_services.request_submit(document_type=AMENDMENT_CODE, record=amendment, actor=actor)


def withdraw(*, contract: Contract, actor) -> None:
    request = approval_services.open_request(CODE, contract.pk)
    if request is None:
        return
    if request.requester_id != actor.pk:
        raise ValidationError(_("Only the person who submitted the contract may withdraw it from approval."))
    approval_services.request_act(request=request, actor=actor, action="revoke")
