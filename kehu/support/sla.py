"""The SLA clock of a ticket (SRV-1, WRN-6), computed from its state history.

Two clocks, each counting working time only (`kehu.support.workhours`):
- first response: from the ticket's creation until its first response; it never pauses;
- resolution: while the ticket is in a running state (new, assigned, in progress); paused while it
  waits for the customer or for parts; stopped when it is resolved, closed or cancelled (a reopened
  ticket's clock runs on from where it stopped).

A clock's due moment is when its used working time reaches the policy's target: inside the recorded
history if that happened (a breach), ahead if the clock is running now, when it would have been if it
stopped short of the target, none while it is paused (it depends on when the wait ends). Nothing is accumulated on the ticket: the
history is replayed, so a calendar or service-hours change followed by `recompute` is exact."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from kehu.support.models import OPEN_STATES, PAUSED_STATES, RUNNING_STATES, SlaPolicy
from kehu.support.workhours import WorkCalendar

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"


@dataclass(frozen=True)
class Clock:
    target: float  # seconds of working time
    used: float
    status: str  # RUNNING, PAUSED or STOPPED
    due_at: datetime | None

    @property
    def remaining(self) -> float:
        return self.target - self.used

    @property
    def breached(self) -> bool:
        return self.used >= self.target


def policy_for(category_id: int | None, priority: str) -> SlaPolicy | None:
    """The policy of the category and priority, else the priority's default (no category)."""
    found = {
        p.category_id: p
        for p in SlaPolicy.objects.filter(Q(category_id=category_id) | Q(category__isnull=True), priority=priority)
    }
    return found.get(category_id) or found.get(None)


def running_spans(
    changes: Iterable[tuple[datetime, str]], now: datetime
) -> tuple[list[tuple[datetime, datetime]], str]:
    """The spans the resolution clock ran, and its status now, from (moment, state entered) pairs in
    time order (the first is the creation, entering "new")."""
    spans: list[tuple[datetime, datetime]] = []
    started: datetime | None = None
    state = ""
    for at, state in changes:
        at = min(at, now)
        if state in RUNNING_STATES:
            if started is None:
                started = at
        elif started is not None:
            spans.append((started, at))
            started = None
    if started is not None:
        spans.append((started, now))
    status = RUNNING if state in RUNNING_STATES else PAUSED if state in PAUSED_STATES else STOPPED
    return spans, status


def clock(calendar: WorkCalendar, spans: list[tuple[datetime, datetime]], status: str, target_minutes: int) -> Clock:
    target = target_minutes * 60.0
    used, due_at = 0.0, None
    for start, end in spans:
        length = calendar.seconds_between(start, end)
        if due_at is None and used + length >= target:
            due_at = calendar.add(start, target - used)
        used += length
    if due_at is None and status != PAUSED and spans:
        # Running: the last span ends now and the target is this far ahead. Stopped short of it: when
        # it would have been reached (shown beside the moment it stopped, not a breach).
        due_at = calendar.add(spans[-1][1], target - used)
    return Clock(target, used, status, due_at)


def ticket_clocks(
    ticket, changes: list[tuple[datetime, str]], calendar: WorkCalendar, now: datetime, policy: SlaPolicy | None
):
    """(first response clock, resolution clock) of the ticket, or (None, None) without a policy."""
    if policy is None:
        return None, None
    ended = next((at for at, state in changes if state not in OPEN_STATES), None)
    if ticket.first_responded_at is not None:
        response_spans, response_status = [(ticket.created_at, ticket.first_responded_at)], STOPPED
    elif ticket.state in OPEN_STATES:
        response_spans, response_status = [(ticket.created_at, now)], RUNNING
    else:  # closed or cancelled without a recorded response
        response_spans, response_status = [(ticket.created_at, ended or now)], STOPPED
    response = clock(calendar, response_spans, response_status, policy.first_response_minutes)
    spans, status = running_spans(changes, now)
    resolution = clock(calendar, spans, status, policy.resolution_minutes)
    return response, resolution
