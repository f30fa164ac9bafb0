"""Every read of customers, contacts, facts and the timeline goes through here."""

import hashlib
import re
import unicodedata
from dataclasses import astuple, dataclass

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from kehu.core.pagination import COUNT_CAP, PageOf, capped_count, slice_page, top_ids
from kehu.customers.dedupe import DuplicateMatch, find_duplicates
from kehu.customers.models import (
    Contact,
    Customer,
    CustomerFact,
    CustomerMerge,
    InfoLevel,
    PhoneKind,
    TimelineEntry,
)
from kehu.customers.normalise import normalise_phone
from kehu.customers.search import CANDIDATE_CAP, search_candidates
from kehu.customers.sharing import (
    customer_scope_q,
    member_sees_sensitive,
    sees_sensitive_in_list,
    shared_q,
    shares_for,
)
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for, scope_q

LIST_COLUMNS = (
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "id",
    "name",
    "kind",
    "segment",
    "industry",
    "region",
    "city",
    "status",
    "tier",
    "phone",
    "updated_at",
    "version",
    "owner_id",
)
PHONE_LIKE = re.compile(r"^[\d\s+()-]{3,}$")
# Each order has an index it can walk (either way) and stop after one page.
SORTS = {
    "updated": ("-updated_at", "-id"),
    "-updated": ("updated_at", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("-created_at", "-id"),
    "-created": ("created_at", "id"),
}


def customer_qs_visible_to(user: User) -> QuerySet[Customer]:
    """Live customers in the user's data scope or account teams (ACC-3); the one door for reading customers."""
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return Customer.objects.none()
    return Customer.objects.filter(_visible_q(user), deleted_at__isnull=True)


def _visible_q(user: User) -> Q:
    # There are no shared ids for "all records", so the OR adds rows, never turns "everything" (an
    # empty Q) into "only these".
    if (shared := shared_q(user)) is not None:
        return scope_q(user) | shared
    return scope_q(user)


def customer_gone(user: User, pk: int) -> Customer | None:
    """A deleted or merged customer that is in the user's data scope: an old link (a bookmark, the
    audit log, a mail) then says what became of it instead of "not found"."""
    if not user.is_authenticated or not user.has_perm("customers.view_customer") or not 0 < pk <= 2**53:
        return None
    return (
        Customer.objects.filter(scope_q(user), pk=pk, deleted_at__isnull=False)
        .select_related("deleted_by", "merged_into")
        .first()
    )


def customer_get(user: User, pk, *, to_change: bool = False) -> Customer:
    """A visible customer, else 404. `to_change`: the record itself is about to change (its fields,
    owner, deletion): a customer only shared with the user through an account team answers 403."""
    try:
        customer = customer_qs_visible_to(user).select_related("owner").get(pk=int(pk))
    except (Customer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    if to_change and not customer_in_scope(user, customer):
        raise PermissionDenied
    return customer


def customer_in_scope(user: User, customer: Customer) -> bool:
    """Whether the customer is in the user's data scope, not merely shared with them (or their
    people) through an account team. Members read the customer, its contacts and history and log
    their work; its own fields, owner, deletion, merges and handover stay with the scope."""
    if user.is_superuser or customer.owner_id == user.pk:
        return True
    scope = scope_for(user)
    return scope.kind == DataScope.ALL or (customer.owner_id is not None and customer.owner_id in scope.owner_ids)


@dataclass
class CustomerFilters:
    q: str = ""
    owner: int | None = None
    region: str = ""
    industry: str = ""
    tier: str = ""
    status: str = ""
    sort: str = "updated"


def customer_list(
    user: User, filters: CustomerFilters, *, base: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """Visible customers matching the filters other than the search term, in the chosen order
    (`base`: a part of the visible customers to filter instead, see `customer_page`)."""
    qs = customer_qs_visible_to(user) if base is None else base
    if filters.q and PHONE_LIKE.match(filters.q) and not user.has_perm("customers.view_sensitive"):
        # Phones are masked for this user: a phone search may only confirm their own customers'.
        qs = qs.filter(owner=user)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    for name in ("region", "industry", "tier", "status"):
        if value := getattr(filters, name):
            qs = qs.filter(**{name: value})
    return qs.order_by(*SORTS.get(filters.sort, SORTS["updated"]))


def customer_page(user: User, filters: CustomerFilters, *, offset: int, limit: int, columns=None) -> PageOf:
    """One page of the customer list with its (capped) count; the search term is applied here.

    Search first looks among the newest matches (fast); only when those do not fill the page
    does it ask for every match in the user's scope, so nothing in scope is missed.
    """
    page = _customer_page(user, filters, offset=offset, limit=limit, columns=columns)
    for row in page.rows:
        row.sensitive = sees_sensitive_in_list(user, row)
    return page


def _customer_page(user: User, filters: CustomerFilters, *, offset: int, limit: int, columns=None) -> PageOf:
    def readable(qs: QuerySet[Customer]) -> QuerySet[Customer]:
        return qs.select_related("owner").only(*columns) if columns else qs

    if not filters.q and (shared := shared_q(user)) is not None and user.has_perm("customers.view_customer"):
        # The page's ids come from the visible parts; its rows are then read by id alone.
        return _page_with_shared(user, filters, shared, readable(Customer.objects.all()), offset=offset, limit=limit)
    qs = readable(customer_list(user, filters))
    if not filters.q:
        rows, has_next = slice_page(qs, offset, limit)
        count, capped = _cached_count(user, filters, qs)
        return PageOf(rows, count, capped, has_next)
    candidates, complete, every = search_candidates(filters.q, CANDIDATE_CAP)
    # At most CANDIDATE_CAP visible candidates: their ids in the list's order give the page and its
    # count in one query, and a second reads the page's rows by id (on PostgreSQL the page and its
    # count each probed the 2,000 candidates: 12 and 15 ms for a common term at a million customers).
    ordered = list(qs.filter(candidates).values_list("pk", flat=True))
    has_next = len(ordered) > offset + limit
    if complete or has_next:
        # Complete: every match, counted exactly; else enough among the newest matches, and the count
        # says "at least this many".
        rows = _rows_by_id(readable(Customer.objects.all()), ordered[offset : offset + limit])
        return PageOf(rows, len(ordered), not complete, has_next)
    rows, has_next = slice_page(qs.filter(every), offset, limit)
    return PageOf(rows, *capped_count(qs.filter(every)), has_next)


def _page_with_shared(user: User, filters: CustomerFilters, shared, rows_of, *, offset: int, limit: int) -> PageOf:
    """The list of someone who shares customers outside their scope: `scope OR id IN (shared)` may
    lure the planner into reading the whole scope and sorting it, so the page is the UNION ALL of
    the scope's top N (its own index walk, as without sharing) and the shared customers' top N (a
    few hundred ids, or a subquery on the memberships' index), cut to one page; then one query reads
    those rows. The second part leaves out the scope, so the parts never overlap."""
    order = SORTS.get(filters.sort, SORTS["updated"])
    top = offset + limit + 1
    scoped = customer_list(user, filters, base=Customer.objects.filter(scope_q(user), deleted_at__isnull=True))
    others = customer_list(
        user, filters, base=Customer.objects.filter(shared, deleted_at__isnull=True).exclude(scope_q(user))
    )
    ids = top_ids([scoped, others], order, offset=offset, top=top)
    rows = _rows_by_id(rows_of, ids)
    count, capped = _cached_count(user, filters, scoped)
    extra = _cached_count(user, filters, others, part="shared")[0]
    total = count + extra
    return PageOf(rows[:limit], min(total, COUNT_CAP), capped or total > COUNT_CAP, len(rows) > limit)


def _rows_by_id(rows_of: QuerySet[Customer], ids: list[int]) -> list[Customer]:
    """The customers with these ids, in the ids' order (a page's ids were chosen by an earlier query)."""
    found = {c.pk: c for c in rows_of.filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


def _cached_count(user: User, filters: CustomerFilters, qs: QuerySet, part: str = "") -> tuple[int, bool]:
    """Large counts are kept a minute per user and filters: they cost milliseconds and nobody
    reads "3,412 customers" to the unit; small ones are always fresh. `part`: which part of the
    list is counted (the customers shared beyond the scope are counted apart)."""
    digest = hashlib.sha256(repr(astuple(filters)).encode()).hexdigest()[:32]
    key = f"kehu:customer-count:{user.pk}:{digest}{':' + part if part else ''}"
    if (hit := cache.get(key)) is not None:
        return hit
    result = capped_count(qs)
    if result[0] >= 1000:
        cache.set(key, result, 60)
    return result


def can_see_sensitive(user: User, customer: Customer) -> bool:
    """Phones, the contacts' private file and level 3–4 facts: the account team and managers (CUS-4)."""
    if customer.owner_id == user.pk or user.is_superuser:
        return True
    if member_sees_sensitive(user, customer.pk):
        return True
    if not user.has_perm("customers.view_sensitive"):
        return False
    if scope_for(user).kind == DataScope.ALL:
        return True
    # A manager sees them for every customer visible to them; visible is "in the scope or shared with
    # someone in it", both known already for the request (the 360° page asked just before), so a
    # query only when the shared ones are too many to hold.
    if not user.has_perm("customers.view_customer") or customer.deleted_at is not None:
        return False
    if customer_in_scope(user, customer):
        return True
    if not (shares := shares_for(user)).overflow:
        return customer.pk in shares.outside
    return customer_qs_visible_to(user).filter(pk=customer.pk).exists()


def contact_qs_visible_to(user: User) -> QuerySet[Contact]:
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return Contact.objects.none()
    return Contact.objects.filter(
        customer_scope_q(user),
        deleted_at__isnull=True,
        customer__deleted_at__isnull=True,
    )


def contact_get(user: User, pk) -> Contact:
    try:
        return contact_qs_visible_to(user).select_related("customer").get(pk=int(pk))
    except (Contact.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def contacts_of(customer: Customer) -> QuerySet[Contact]:
    """Live contacts of the customer, the primary first, with all their phones, e-mails and handles."""
    return customer.contacts.filter(deleted_at__isnull=True).order_by("-is_primary", "name").prefetch_related("points")


def person_name_key(name: str) -> str:
    """A person's name for comparison: width-folded, lower case, without spaces ("王 芳" = "王芳")."""
    return "".join(unicodedata.normalize("NFKC", name or "").lower().split())


PERSONAL_PHONES = (PhoneKind.MOBILE, PhoneKind.HOME)


def duplicate_contacts(customer: Customer, contacts: list[Contact] | None = None) -> list[list[Contact]]:
    """Live contacts of the customer that are likely the same person: equal names or a personal
    number (mobile, home) in common; a shared switchboard or fax does not make two people one.
    Groups of two or more, the one to keep first: the primary contact, else the oldest record.
    Pass the customer's live contacts when they are loaded already."""
    contacts = list(contacts_of(customer)) if contacts is None else contacts
    parent = {c.pk: c.pk for c in contacts}

    def root(pk):
        while parent[pk] != pk:
            pk = parent[pk]
        return pk

    seen: dict[tuple, int] = {}
    for c in contacts:
        numbers = {p.key for p in c.phones if p.key and p.kind in PERSONAL_PHONES} | {normalise_phone(c.mobile)}
        for key in [("name", person_name_key(c.name)), *(("phone", n) for n in sorted(numbers))]:
            if not key[1]:
                continue
            if key in seen:
                parent[root(c.pk)] = root(seen[key])
            else:
                seen[key] = c.pk
    groups: dict[int, list[Contact]] = {}
    for c in contacts:
        groups.setdefault(root(c.pk), []).append(c)
    return [sorted(g, key=lambda c: (not c.is_primary, c.pk)) for g in groups.values() if len(g) > 1]


def facts_of(customer: Customer, *, sensitive: bool) -> QuerySet[CustomerFact]:
    qs = customer.facts.filter(deleted_at__isnull=True)
    return qs if sensitive else qs.filter(level__lte=InfoLevel.INDUSTRY)


def timeline_page(customer: Customer, *, before: tuple | None = None, size: int = 30) -> list[TimelineEntry]:
    """One page of the timeline, newest first; `before` is the (occurred_at, id) of the last row seen."""
    qs = TimelineEntry.objects.filter(customer=customer).select_related("actor")
    if before is not None:
        occurred_at, pk = before
        qs = qs.filter(Q(occurred_at__lt=occurred_at) | Q(occurred_at=occurred_at, id__lt=pk))
    return list(qs.order_by("-occurred_at", "-id")[:size])


def deleted_customers_for(user: User) -> QuerySet[Customer]:
    """The recycle bin: deleted customers this user may restore — an administrator every one, who
    may delete customers those of their data scope (a manager undoes a mistake in the team), anyone
    else their own."""
    qs = Customer.objects.filter(deleted_at__isnull=False).select_related("deleted_by", "owner", "merged_into")
    if user.has_perm("users.manage_users"):
        return qs.order_by("-deleted_at")
    if user.has_perm("customers.delete_customer"):
        return qs.filter(scope_q(user)).order_by("-deleted_at")
    return qs.filter(owner=user).order_by("-deleted_at")


def deleted_contacts_for(user: User) -> QuerySet[Contact]:
    """Deleted contacts of live customers, for whoever may restore the customer (see above)."""
    qs = Contact.objects.filter(deleted_at__isnull=False, customer__deleted_at__isnull=True).select_related(
        "customer", "deleted_by"
    )
    if user.has_perm("users.manage_users"):
        return qs.order_by("-deleted_at")
    if user.has_perm("customers.delete_customer"):
        return qs.filter(scope_q(user, owner="customer__owner")).order_by("-deleted_at")
    return qs.filter(customer__owner=user).order_by("-deleted_at")


def customer_duplicates(user: User, **query) -> list[DuplicateMatch]:
    """Likely duplicates (see `kehu.customers.dedupe.find_duplicates`), each marked whether the
    user may open it. Those outside the scope are still listed, by name, owner and reasons only:
    a rep must learn that a colleague already looks after this customer, not its details."""
    matches = find_duplicates(**query)
    visible = set(
        customer_qs_visible_to(user).filter(pk__in=[m.customer_id for m in matches]).values_list("pk", flat=True)
    )
    for match in matches:
        match.in_scope = match.customer_id in visible
    return matches


def merges_of(customer: Customer, limit: int = 20) -> list[CustomerMerge]:
    """The merges into this customer, newest first (the review of CUS-5)."""
    return list(customer.merges.select_related("actor").order_by("-merged_at", "-id")[:limit])
