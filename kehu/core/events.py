"""The event door: one call records a domain event.

A service that changes something calls `record()` (or `record_many()` for a batch) inside its
transaction. What follows from an event is done by sinks that the apps register when they load
(`AppConfig.ready`), so `core` imports nobody:

- inside the transaction: the audit row (here, in core) and the customer's timeline entry
  (`customers`), so they commit or roll back with the change;
- after the commit: webhook deliveries (`webhooks`) and notifications (`notifications`), so
  nobody is told of a change that was rolled back.

Each app registers its own event kinds with their labels (`register`), so a new kind needs no
migration of another app: timeline rows store the kind's code and read its label from here.
"""

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone


@dataclass(frozen=True)
class EventKind:
    code: str  # stored on timeline rows and notifications: "opportunity_won"
    label: Any  # a lazy translation: "Opportunity won"
    # The webhook event name ("opportunity.won") when subscribers may ask for this kind.
    webhook: str = ""
    # People may choose to be told of it (in-app, e-mail, daily digest, a team's robot).
    notify: bool = False
    # False: the app already sends its own purpose-written mail for this kind (the lead's manager on
    # a missed first response), so the notification layer offers no second e-mail for it.
    email: bool = True


@dataclass
class Event:
    kind: EventKind
    actor: Any = None  # a User, or None for the system (a rule, a task)
    subject: models.Model | None = None  # the record the event is about
    customer_id: int | None = None  # set: the event goes on this customer's timeline
    summary: str = ""
    payload: dict = field(default_factory=dict)  # kept on the timeline entry
    occurred_at: datetime = field(default_factory=timezone.now)
    audit: str | None = None  # an AuditAction: an audit row for `audit_target`, else `subject`
    audit_target: models.Model | None = None
    changes: dict = field(default_factory=dict)  # {field: [before, after]} for the audit row
    webhook: dict | None = None  # the webhook payload (sent only when the kind has a webhook name)
    recipients: tuple[int, ...] = ()  # user ids told of it, each through their preferences
    link: str = ""  # a path back into Kehu for notifications ("/customers/12/")

    @property
    def actor_id(self) -> int | None:
        return getattr(self.actor, "pk", None)

    @property
    def subject_type(self) -> str:
        return self.subject._meta.label_lower if self.subject is not None else ""

    @property
    def subject_id(self) -> int | None:
        return self.subject.pk if self.subject is not None else None


log = logging.getLogger(__name__)
_kinds: dict[str, EventKind] = {}
Sink = Callable[[list[Event]], None]
_in_transaction: list[Sink] = []
_after_commit: list[Sink] = []


def register(*kinds: EventKind) -> None:
    """Declare an app's event kinds (from its AppConfig.ready or module import; repeatable)."""
    for kind in kinds:
        known = _kinds.get(kind.code)
        if known is not None and known != kind:
            raise ValueError(f"Event kind {kind.code!r} is registered twice with different settings.")
        _kinds[kind.code] = kind


def register_choices(choices, *, webhooks: dict | None = None, notify=(), mailed=()) -> None:
    """Declare the kinds of a `TextChoices` class (its values are the codes, its labels the names);
    `webhooks` maps a kind to its webhook event name, `notify` lists the kinds people may be told of,
    `mailed` those of them for which the app sends its own mail (see `EventKind.email`)."""
    webhooks = webhooks or {}
    notify, mailed = set(notify) | set(mailed), set(mailed)
    register(
        *(
            EventKind(m.value, m.label, webhook=webhooks.get(m, ""), notify=m in notify, email=m not in mailed)
            for m in choices
        )
    )


def label(code: str) -> str:
    """The label people read for a kind code; an unknown code (an app removed) shows as itself."""
    kind = _kinds.get(code)
    return str(kind.label) if kind is not None else code


def labels() -> dict[str, str]:
    """Every kind's label, worked out once per page rather than once per row."""
    return {code: str(kind.label) for code, kind in _kinds.items()}


def kinds(*, notify: bool | None = None, webhook: bool | None = None) -> list[EventKind]:
    found = list(_kinds.values())
    if notify is not None:
        found = [k for k in found if k.notify == notify]
    if webhook is not None:
        found = [k for k in found if bool(k.webhook) == webhook]
    return found


def sink(function: Sink, *, after_commit: bool) -> Sink:
    """Register `function(events)`; after_commit=False runs it inside the recording transaction."""
    target = _after_commit if after_commit else _in_transaction
    if function not in target:
        target.append(function)
    return function


def _recipients(people: Iterable) -> tuple[int, ...]:
    ids = (getattr(p, "pk", p) for p in people if p is not None)
    return tuple(dict.fromkeys(int(i) for i in ids if i is not None))


def build(
    kind: "str | EventKind",
    *,
    actor=None,
    subject: models.Model | None = None,
    customer_id: int | None = None,
    summary: str = "",
    payload: dict | None = None,
    occurred_at: datetime | None = None,
    audit: str | None = None,
    audit_target: models.Model | None = None,
    changes: dict | None = None,
    webhook: dict | None = None,
    notify: Iterable = (),
    link: str = "",
) -> Event:
    """An event ready for `record_many` (a batch job builds many, then records them at once)."""
    event_kind = _kinds.get(kind.code if isinstance(kind, EventKind) else kind)
    if event_kind is None:
        raise ValueError(f"Unknown event kind {kind!r}: register it in its app first.")
    if webhook is not None:
        # Plain JSON now: the payload must not change if the records change before delivery.
        webhook = json.loads(json.dumps(webhook, cls=DjangoJSONEncoder))
    return Event(
        kind=event_kind,
        actor=actor if getattr(actor, "pk", None) else None,
        subject=subject,
        customer_id=customer_id,
        summary=summary[:300],
        payload=payload or {},
        occurred_at=occurred_at or timezone.now(),
        audit=audit,
        audit_target=audit_target,
        changes=changes or {},
        webhook=webhook,
        recipients=_recipients(notify),
        link=link,
    )


def record_many(events: list[Event]) -> list[Event]:
    """Record events: the in-transaction sinks now, the others once the transaction commits."""
    if not events:
        return events
    for function in _in_transaction:
        function(events)
    if _after_commit:
        batch = list(events)
        transaction.on_commit(lambda: _after(batch))
    return events


def _after(batch: list[Event]) -> None:
    # The change is committed: a failing sink (a robot's database row, a webhook queue) is logged and
    # must not turn the user's successful save into an error page, nor keep the other sinks from running.
    for function in list(_after_commit):
        try:
            function(batch)
        except Exception:  # noqa: BLE001
            log.exception("The event sink %s failed after the commit", getattr(function, "__name__", function))


def record(kind: "str | EventKind", **fields) -> Event:
    """Record one domain event; see `build` for the fields."""
    return record_many([build(kind, **fields)])[0]
