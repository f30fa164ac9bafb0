"""Every read of quotes.

Who sees a quote: its owner and everyone whose data scope covers the owner (like opportunities),
and the account team members of its customer (they read; writing stays with the owner's scope,
see `services.may_change`).
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from kehu.core.pagination import PageOf, page_of
from kehu.customers.models import Customer
from kehu.customers.search import search_candidates
from kehu.customers.sharing import shared_q
from kehu.quotes.models import Quote, QuoteLine
from kehu.users.models import User
from kehu.users.scopes import scope_q


def may_use_quotes(user: User) -> bool:
    return user.is_authenticated and user.has_perm("quotes.view_quote")


def _visible_q(user: User) -> Q:
    q = scope_q(user)
    if (shared := shared_q(user, field="customer_id")) is not None:
        q |= shared
    return q


def quote_qs_visible_to(user: User) -> QuerySet[Quote]:
    """Live quotes (every version) the user may read; the one door for reading them."""
    if not may_use_quotes(user):
        return Quote.objects.none()
    return Quote.objects.filter(_visible_q(user), deleted_at__isnull=True)


def quote_get(user: User, pk) -> Quote:
    """A visible quote with its customer, owner, opportunity and contact; 404 outside the user's view."""
    try:
        return (
            quote_qs_visible_to(user)
            .select_related("customer", "owner", "opportunity", "contact", "created_by")
            .get(pk=int(pk))
        )
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def quote_lines(quote: Quote) -> list[QuoteLine]:
    """The lines in order (one query on the (quote, position) index)."""
    return list(QuoteLine.objects.filter(quote=quote).order_by("position", "pk"))


def quote_line_get(user: User, quote_pk, line_pk) -> QuoteLine:
    quote = quote_get(user, quote_pk)
    line = QuoteLine.objects.filter(quote=quote, pk=line_pk).first()
    if line is None:
        raise Http404
    line.quote = quote
    return line


def quote_versions(user: User, quote: Quote) -> list[Quote]:
    """Every visible version of the quote's number, the first revision first."""
    return list(quote_qs_visible_to(user).filter(number=quote.number).select_related("owner").order_by("revision"))


def quotes_of_opportunity(user: User, opportunity_id: int, limit: int = 20) -> list[Quote]:
    return list(
        quote_qs_visible_to(user)
        .filter(opportunity_id=opportunity_id)
        .select_related("owner")
        .order_by("-updated_at", "-id")[:limit]
    )


def deleted_quotes_for(user: User) -> QuerySet[Quote]:
    """The quotes' recycle bin: deleted quotes of the user's scope, for those who may delete quotes."""
    if not may_use_quotes(user) or not user.has_perm("quotes.delete_quote"):
        return Quote.objects.none()
    return (
        Quote.objects.filter(scope_q(user), deleted_at__isnull=False)
        .select_related("customer", "owner", "deleted_by")
        .order_by("-deleted_at", "-id")
    )


def deleted_quote_get(user: User, pk) -> Quote:
    quote = deleted_quotes_for(user).filter(pk=pk).first()
    if quote is None:
        raise Http404
    return quote


SORT_ORDER = {
    "-updated": ("-updated_at", "-id"),
    "valid_until": ("valid_until", "id"),
    "-total": ("-total", "-id"),
    "number": ("-number", "-revision"),
}


@dataclass(frozen=True)
class QuoteFilters:
    q: str = ""  # the start of a number (Q2026-0001…) or a part of the customer's name
    state: str = ""
    states: tuple = ()  # any of these (e.g. the quotes the customer holds: approved, sent)
    owner_id: int | None = None
    customer_id: int | None = None
    opportunity_id: int | None = None
    valid_from: date | None = None  # valid_until on or after
    valid_to: date | None = None  # valid_until on or before
    sort: str = "-updated"


NAME_MATCHES = 500  # customers whose name matches, at most, that a search looks at


def _number_q(prefix: str) -> Q:
    """Numbers starting with `prefix`, as a range on the (number, revision) unique index (LIKE on
    SQLite ignores case and so no index), with the prefix test kept for exactness."""
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(number__gte=prefix, number__lt=after, number__startswith=prefix)


def _search_q(q: str) -> Q:
    """The start of a number (Q2026-0001…), else the customer's name, through the customers' own
    search index (a few hundred matching customers at most, then their quotes by index)."""
    upper = q.upper()
    if upper.startswith("Q") and len(upper) > 1 and upper[1].isdigit():
        return _number_q(upper)
    candidates, _complete, _every = search_candidates(q, cap=NAME_MATCHES)
    customers = Customer.objects.filter(candidates, name__icontains=q, deleted_at__isnull=True)
    return Q(customer_id__in=customers.values("pk")[:NAME_MATCHES])


def quote_filter(user: User, filters: QuoteFilters) -> QuerySet[Quote]:
    qs = quote_qs_visible_to(user)
    if filters.q:
        qs = qs.filter(_search_q(filters.q.strip()))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.states:
        qs = qs.filter(state__in=filters.states)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.customer_id:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.opportunity_id:
        qs = qs.filter(opportunity_id=filters.opportunity_id)
    if filters.valid_from:
        qs = qs.filter(valid_until__gte=filters.valid_from)
    if filters.valid_to:
        qs = qs.filter(valid_until__lte=filters.valid_to)
    return qs


def quote_list(user: User, filters: QuoteFilters | None = None, *, limit: int = 25, offset: int = 0) -> PageOf:
    """One page of the quotes the user sees, newest change first, with a count capped at 10,000:
    three queries whatever the number of quotes (rows with customer and owner, the count, and the
    user's account-team shares once per request). The owner / customer filters and the default
    order walk the (owner, updated_at), (customer, updated_at) and (updated_at) indexes."""
    filters = filters or QuoteFilters()
    qs = quote_filter(user, filters).select_related("customer", "owner")
    qs = qs.order_by(*SORT_ORDER.get(filters.sort, SORT_ORDER["-updated"]))
    return page_of(qs, offset=offset, limit=limit)
