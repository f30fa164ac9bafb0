"""Every read of contracts.

Who sees a contract: its responsible person and everyone whose data scope covers them (like
quotes and opportunities), and the account team members of its customer (they read; writing stays
with the responsible person's scope, see `services.may_change`).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kehu.contracts.models import (
    IN_FORCE,
    Contract,
    ContractAmendment,
    ContractAttachment,
    ContractLine,
    ContractTemplate,
)
from kehu.core.pagination import PageOf, page_of
from kehu.customers.models import Customer
from kehu.customers.search import search_candidates
from kehu.customers.sharing import shared_q
from kehu.users.models import User
from kehu.users.scopes import scope_q

NAME_MATCHES = 500


def may_use_contracts(user: User) -> bool:
    return user.is_authenticated and user.has_perm("contracts.view_contract")


def _visible_q(user: User) -> Q:
    q = scope_q(user)
    if (shared := shared_q(user, field="customer_id")) is not None:
        q |= shared
    return q


def contract_qs_visible_to(user: User) -> QuerySet[Contract]:
    """Live contracts the user may read; the one door for reading them."""
    if not may_use_contracts(user):
        return Contract.objects.none()
    return Contract.objects.filter(_visible_q(user), deleted_at__isnull=True)


def contract_get(user: User, pk) -> Contract:
    """A visible contract with its customer, owner, quote, opportunity and signatory; 404 outside
    the user's view."""
    try:
        return (
            contract_qs_visible_to(user)
            .select_related("customer", "owner", "quote", "opportunity", "contact", "template", "created_by")
            .get(pk=int(pk))
        )
    except (Contract.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def contract_lines(contract: Contract) -> list[ContractLine]:
    """The lines in order (one query on the (contract, position) index)."""
    return list(ContractLine.objects.filter(contract=contract).order_by("position", "pk"))


def contract_amendments(contract: Contract) -> list[ContractAmendment]:
    return list(ContractAmendment.objects.filter(contract=contract).select_related("created_by").order_by("sequence"))


def amendment_get(user: User, contract_pk, amendment_pk) -> ContractAmendment:
    contract = contract_get(user, contract_pk)
    amendment = ContractAmendment.objects.filter(contract=contract, pk=amendment_pk).first()
    if amendment is None:
        raise Http404
    amendment.contract = contract
    return amendment


def contract_attachments(contract: Contract) -> list[ContractAttachment]:
    return list(
        ContractAttachment.objects.filter(contract=contract, deleted_at__isnull=True)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-pk")
    )


def attachment_get(user: User, contract_pk, attachment_pk) -> ContractAttachment:
    """An attachment of a contract the user sees (404 otherwise, and for a removed one)."""
    contract = contract_get(user, contract_pk)
    found = ContractAttachment.objects.filter(contract=contract, pk=attachment_pk, deleted_at__isnull=True).first()
    if found is None:
        raise Http404
    found.contract = contract
    return found


def contracts_of_quote(user: User, quote_id: int) -> list[Contract]:
    return list(contract_qs_visible_to(user).filter(quote_id=quote_id).order_by("-pk")[:20])


def templates_active(language: str | None = None) -> QuerySet[ContractTemplate]:
    qs = ContractTemplate.objects.filter(is_active=True)
    if language:
        qs = qs.filter(language=language)
    return qs.order_by("-is_default", "name", "pk")


def template_for(contract: Contract) -> ContractTemplate | None:
    """The contract's own template, else the default one of its language, else any in use."""
    if contract.template_id and contract.template and contract.template.is_active:
        return contract.template
    return templates_active(contract.language).first() or templates_active().first()


def deleted_contracts_for(user: User) -> QuerySet[Contract]:
    """The recycle bin: deleted drafts of the user's scope, for those who may delete contracts."""
    if not may_use_contracts(user) or not user.has_perm("contracts.delete_contract"):
        return Contract.objects.none()
    return (
        Contract.objects.filter(scope_q(user), deleted_at__isnull=False)
        .select_related("customer", "owner", "deleted_by")
        .order_by("-deleted_at", "-id")
    )


def deleted_contract_get(user: User, pk) -> Contract:
    try:
        found = deleted_contracts_for(user).filter(pk=int(pk)).first()
    except (ValueError, TypeError, OverflowError):
        found = None
    if found is None:
        raise Http404
    return found


SORT_ORDER = {
    "-updated": ("-updated_at", "-id"),
    "ends_on": ("ends_on", "id"),
    "-amount": ("-amount", "-id"),
    "-number": ("-number",),
}


@dataclass(frozen=True)
class ContractFilters:
    q: str = ""  # the start of a number (HT2026-…) or a part of the customer's name
    stage: str = ""
    owner_id: int | None = None
    customer_id: int | None = None
    expiring_days: int | None = None  # in force and ending within this many days from today
    sort: str = "-updated"


def _search_q(q: str) -> Q:
    upper = q.upper()
    if upper.startswith("HT") and len(upper) > 2 and upper[2].isdigit():
        after = upper[:-1] + chr(ord(upper[-1]) + 1)
        return Q(number__gte=upper, number__lt=after, number__startswith=upper)
    candidates, _complete, _every = search_candidates(q, cap=NAME_MATCHES)
    customers = Customer.objects.filter(candidates, name__icontains=q, deleted_at__isnull=True)
    return Q(customer_id__in=customers.values("pk")[:NAME_MATCHES]) | Q(title__icontains=q)


def contract_filter(user: User, filters: ContractFilters, today: date | None = None) -> QuerySet[Contract]:
    qs = contract_qs_visible_to(user)
    if filters.q:
        qs = qs.filter(_search_q(filters.q.strip()))
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.customer_id:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.expiring_days is not None:
        today = today or timezone.localdate()
        qs = qs.filter(
            stage__in=IN_FORCE, ends_on__gte=today, ends_on__lte=today + timedelta(days=filters.expiring_days)
        )
    return qs


def contract_list(user: User, filters: ContractFilters | None = None, *, limit: int = 25, offset: int = 0) -> PageOf:
    """One page of the contracts the user sees with customer and owner: a fixed number of queries
    (rows, the capped count, the user's account-team shares)."""
    filters = filters or ContractFilters()
    qs = contract_filter(user, filters).select_related("customer", "owner")
    qs = qs.order_by(*SORT_ORDER.get(filters.sort, SORT_ORDER["-updated"]))
    return page_of(qs, offset=offset, limit=limit)
