"""Who follows customers changing hands outside the pool: an owner set on the customer form or the
API, duplicates merged into one.

The customers app may not import the apps above it, yet they keep work that must follow the
customer (activities: open commitments and planned visits). Each registers a follower in its
AppConfig.ready; the customers' services call every follower inside their own transaction, so a
change of owner and what follows from it commit or roll back together.
"""

from collections.abc import Callable

_followers: list[Callable] = []


def follow(callback: Callable) -> None:
    """Register `callback(*, customer_ids, actor, reason)`; registering twice keeps one."""
    if callback not in _followers:
        _followers.append(callback)


def customers_changed_hands(*, customer_ids: list[int], actor, reason: str) -> None:
    """`reason`: what happened, in words, for the audit trail of whatever follows."""
    for callback in _followers:
        callback(customer_ids=customer_ids, actor=actor, reason=reason)
