"""The one door for a customer's owner.

`owner_set` is the only statement that changes the owner of existing customers (the form and the
API through `customer_update`, the pool's claims, assignments, releases and recycles, handovers);
`customers_changed_hands` tells the followers. Who follows customers changing hands outside the
pool: an owner set on the customer form, the API or an import, duplicates merged into one.

The customers app may not import the apps above it, yet they keep work that must follow the
customer (activities: open commitments and planned visits). Each registers a follower in its
AppConfig.ready; the customers' services call every follower inside their own transaction, so a
change of owner and what follows from it commit or roll back together.
"""

from collections.abc import Callable

from django.db.models import F, Q
from django.utils import timezone

from kehu.customers.models import Customer

_followers: list[Callable] = []


def follow(callback: Callable) -> None:
    """Register `callback(*, customer_ids, actor, reason)`; registering twice keeps one."""
    if callback not in _followers:
        _followers.append(callback)


def customers_changed_hands(*, customer_ids: list[int], actor, reason: str) -> None:
    """`reason`: what happened, in words, for the audit trail of whatever follows."""
    for callback in _followers:
        callback(customer_ids=customer_ids, actor=actor, reason=reason)


def owner_set(*, owner, ids=None, customer: Customer | None = None, only: Q | None = None, now=None) -> int:
    """Give the customers `ids` (or the one `customer`, whose fields follow) to `owner` (None: the
    public pool) with one conditional UPDATE that bumps their version; `only` narrows it to rows
    still as the caller saw them (still in the pool, still the same owner), so a race loses
    cleanly. Returns how many changed hands."""
    now = now or timezone.now()
    rows = Customer.objects.filter(pk__in=[customer.pk] if customer is not None else list(ids))
    if only is not None:
        rows = rows.filter(only)
    changed = rows.update(owner=owner, updated_at=now, version=F("version") + 1)
    if changed and customer is not None:
        customer.owner, customer.updated_at = owner, now
        customer.version += 1
    return changed
