"""Who follows a user's deactivation (a rep leaving).

The users app sits below every domain, yet domains keep work a leaving person holds (activities:
open commitments and planned visits). Each registers a follower in its AppConfig.ready;
`user_update` calls them inside its transaction when an active user is deactivated.
"""

from collections.abc import Callable

_followers: list[Callable] = []


def follow(callback: Callable) -> None:
    """Register `callback(*, user, actor)`; registering twice keeps one."""
    if callback not in _followers:
        _followers.append(callback)


def user_deactivated(*, user, actor) -> None:
    for callback in _followers:
        callback(user=user, actor=actor)
