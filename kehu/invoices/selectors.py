"""Every read of invoices and invoice titles.

Who sees an invoice: whoever's data scope covers the person who requested it or the customer's
owner, and the account team members of its customer (they read). Finance sees every customer's.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from kehu.core.pagination import PageOf, page_of
from kehu.customers.models import Customer
from kehu.customers.sharing import shared_q
from kehu.invoices.models import Invoice, InvoiceLine, InvoiceState, InvoiceTitle
from kehu.users.models import User
from kehu.users.scopes import scope_q

ZERO = Decimal("0")
# Invoices whose lines hold an order line's quantity: asked for, approved or issued (red ones and
# reversed ones cancel each other out, so both are left out).
CLAIMING_STATES = (InvoiceState.PENDING, InvoiceState.APPROVED, InvoiceState.ISSUED)
# Invoices that count as invoiced: issued ones, and reversed ones with their red counterparts.
INVOICED_STATES = (InvoiceState.ISSUED, InvoiceState.REVERSED)


def may_use_invoices(user: User) -> bool:
    return user.is_authenticated and user.has_perm("invoices.view_invoice")


def _visible_q(user: User) -> Q:
    q = scope_q(user) | scope_q(user, owner="customer__owner")
    if (shared := shared_q(user, field="customer_id")) is not None:
        q |= shared
    return q


def invoice_qs_visible_to(user: User) -> QuerySet[Invoice]:
    """Live invoices (requests, issued and red ones) the user may read; the one door for reading them."""
    if not may_use_invoices(user):
        return Invoice.objects.none()
    return Invoice.objects.filter(_visible_q(user), deleted_at__isnull=True)


def invoice_get(user: User, pk) -> Invoice:
    """A visible invoice with its customer, owner, order and contract; 404 outside the user's view."""
    try:
        return (
            invoice_qs_visible_to(user)
            .select_related("customer", "owner", "order", "contract", "issued_by", "reverses")
            .get(pk=int(pk))
        )
    except (Invoice.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk"))


def reversal_of(invoice: Invoice) -> Invoice | None:
    """The red-letter invoice that reversed this one, if any."""
    return Invoice.objects.filter(reverses=invoice).first()


def titles_of(customer: Customer) -> list[InvoiceTitle]:
    """A customer's live invoice titles, the default first."""
    return list(
        InvoiceTitle.objects.filter(customer=customer, deleted_at__isnull=True).order_by("-is_default", "name", "pk")
    )


def title_get(customer: Customer, pk) -> InvoiceTitle:
    title = InvoiceTitle.objects.filter(customer=customer, pk=pk, deleted_at__isnull=True).first()
    if title is None:
        raise Http404
    return title


def claimed_quantities(order_id: int, *, exclude_invoice_id: int | None = None) -> dict[int, Decimal]:
    """{order line id: quantity} held by the order's invoices asked for, approved or issued."""
    qs = InvoiceLine.objects.filter(
        invoice__order_id=order_id,
        invoice__state__in=CLAIMING_STATES,
        invoice__is_red=False,
        invoice__deleted_at__isnull=True,
        order_line__isnull=False,
    )
    if exclude_invoice_id:
        qs = qs.exclude(invoice_id=exclude_invoice_id)
    return {row["order_line"]: row["q"] or ZERO for row in qs.values("order_line").annotate(q=Sum("quantity"))}


def claimed_amounts(order_id: int, *, exclude_invoice_id: int | None = None) -> dict[int, Decimal]:
    """{order line id: amount} held the same way (the last part of a line takes what is left)."""
    qs = InvoiceLine.objects.filter(
        invoice__order_id=order_id,
        invoice__state__in=CLAIMING_STATES,
        invoice__is_red=False,
        invoice__deleted_at__isnull=True,
        order_line__isnull=False,
    )
    if exclude_invoice_id:
        qs = qs.exclude(invoice_id=exclude_invoice_id)
    return {row["order_line"]: row["a"] or ZERO for row in qs.values("order_line").annotate(a=Sum("amount"))}


def invoices_of_order(user: User, order_id: int, limit: int = 50) -> list[Invoice]:
    return list(
        invoice_qs_visible_to(user)
        .filter(order_id=order_id)
        .select_related("owner")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class InvoiceFilters:
    q: str = ""  # the start of a request or invoice number
    state: str = ""
    invoice_type: str = ""
    customer_id: int | None = None
    owner_id: int | None = None
    order_id: int | None = None
    contract_id: int | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def invoice_filter(user: User, filters: InvoiceFilters) -> QuerySet[Invoice]:
    qs = invoice_qs_visible_to(user)
    if filters.q:
        text = filters.q.strip().upper()
        qs = qs.filter(Q(number__startswith=text) | Q(invoice_number__startswith=text))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.invoice_type:
        qs = qs.filter(invoice_type=filters.invoice_type)
    if filters.customer_id:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.order_id:
        qs = qs.filter(order_id=filters.order_id)
    if filters.contract_id:
        qs = qs.filter(contract_id=filters.contract_id)
    if filters.issued_from:
        qs = qs.filter(issued_on__gte=filters.issued_from)
    if filters.issued_to:
        qs = qs.filter(issued_on__lte=filters.issued_to)
    return qs


def invoice_list(user: User, filters: InvoiceFilters | None = None, *, limit: int = 25, offset: int = 0) -> PageOf:
    """One page, newest change first: the rows with customer and owner, and the capped count."""
    qs = invoice_filter(user, filters or InvoiceFilters()).select_related("customer", "owner")
    return page_of(qs.order_by("-updated_at", "-id"), offset=offset, limit=limit)
