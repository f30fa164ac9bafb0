"""Writes of the service app's setup: ticket categories, SLA policies, service hours (each change
queues a recompute of the open tickets), and the installed base (units entered or registered from
an order's lines). Every write checks the actor's permission, validates, writes in a transaction
and records an event (audit row; a unit's events go on its customer's timeline)."""

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import check_text
from kehu.support.models import (
    OPEN_STATES,
    InstalledUnit,
    Priority,
    ServiceSettings,
    SlaPolicy,
    Ticket,
    TicketCategory,
)
from kehu.support.setup_events import SetupEvent

# A target is at most a year of working minutes; more is a typing error.
MAX_TARGET_MINUTES = 250 * 24 * 60
# "Register units from order": at most this many units from one line (a line of 10,000 screws is
# not an installed base), and the warranty a new unit gets unless told otherwise.
MAX_UNITS_PER_LINE = 50
DEFAULT_WARRANTY_MONTHS = 12


def _require(actor, permission: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(permission):
        raise PermissionDenied


def recompute_later() -> None:
    """Queue the recompute of every open ticket once the current transaction commits."""
    from kehu.support.tasks import sla_recompute_task

    transaction.on_commit(lambda: sla_recompute_task.enqueue())


def calendar_changed_sink(batch) -> None:
    """After a committed change of the company calendar (collection's `calendar_changed`)."""
    if any(e.kind.code == "calendar_changed" for e in batch):
        from kehu.support.tasks import sla_recompute_task

        sla_recompute_task.enqueue()


def _setup_event(actor, instance, action: str, changes: dict, summary: str) -> None:
    events.record(
        SetupEvent.SERVICE_SETUP_CHANGED,
        actor=actor,
        subject=instance,
        summary=summary,
        audit=action,
        changes=changes,
    )


# ---- categories ------------------------------------------------------------------------------


def _clean_name(name: str, *, exclude_pk=None) -> str:
    name = check_text((name or "").strip(), field="name", max_length=100)
    if not name:
        raise ValidationError({"name": [_("Give the category a name.")]})
    if TicketCategory.objects.filter(name=name).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": [_("A category with this name exists already.")]})
    return name


@transaction.atomic
def category_create(*, actor, name: str) -> TicketCategory:
    _require(actor, "support.manage_service")
    category = TicketCategory.objects.create(name=_clean_name(name))
    _setup_event(actor, category, AuditAction.CREATE, {"name": [None, category.name]}, category.name)
    return category


@transaction.atomic
def category_update(*, actor, category: TicketCategory, name: str | None = None, is_active: bool | None = None):
    """Rename, switch off (no new ticket takes it; its tickets and policies stay) or on again."""
    _require(actor, "support.manage_service")
    category = TicketCategory.objects.select_for_update().get(pk=category.pk)
    before = snapshot(category, ["name", "is_active"])
    if name is not None:
        category.name = _clean_name(name, exclude_pk=category.pk)
    if is_active is not None:
        category.is_active = bool(is_active)
    changes = diff(before, snapshot(category, ["name", "is_active"]))
    if changes:
        category.save(update_fields=["name", "is_active"])
        _setup_event(actor, category, AuditAction.UPDATE, changes, category.name)
    return category


# ---- SLA policies ----------------------------------------------------------------------------


def _check_targets(first_response_minutes, resolution_minutes) -> None:
    errors: dict[str, list[str]] = {}
    for field, value in (
        ("first_response_minutes", first_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if not isinstance(value, int) or value <= 0:
            errors[field] = [_("Enter a time longer than zero.")]
        elif value > MAX_TARGET_MINUTES:
            errors[field] = [_("Enter at most %(hours)s working hours.") % {"hours": MAX_TARGET_MINUTES // 60}]
    if not errors and resolution_minutes < first_response_minutes:
        errors["resolution_minutes"] = [_("The resolution target cannot be shorter than the first response target.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_save(
    *,
    actor,
    category: TicketCategory | None,
    priority: str,
    first_response_minutes: int,
    resolution_minutes: int,
    policy: SlaPolicy | None = None,
) -> SlaPolicy:
    """Create a policy (`policy` None) or change one; one per category and priority, and one
    default (no category) per priority. The open tickets are recomputed after the commit."""
    _require(actor, "support.manage_service")
    if priority not in Priority.values:
        raise ValidationError({"priority": [_("Choose a priority.")]})
    _check_targets(first_response_minutes, resolution_minutes)
    clash = SlaPolicy.objects.filter(priority=priority, category=category)
    if policy is not None:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        raise ValidationError(
            {
                "priority": [
                    _("There is a policy for this category and priority already: change that one.")
                    if category
                    else _("There is a default policy for this priority already: change that one.")
                ]
            }
        )
    fields = ["category", "priority", "first_response_minutes", "resolution_minutes"]
    if policy is None:
        policy = SlaPolicy(category=category, priority=priority)
        before = dict.fromkeys(fields)
        action = AuditAction.CREATE
    else:
        policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
        before = snapshot(policy, fields)
        action = AuditAction.UPDATE
    policy.category, policy.priority = category, priority
    policy.first_response_minutes, policy.resolution_minutes = first_response_minutes, resolution_minutes
    policy.save()
    changes = diff(before, snapshot(policy, fields))
    if changes or action == AuditAction.CREATE:
        _setup_event(actor, policy, action, changes, str(policy))
        recompute_later()
    return policy


@transaction.atomic
def policy_delete(*, actor, policy: SlaPolicy) -> None:
    _require(actor, "support.manage_service")
    _setup_event(
        actor,
        policy,
        AuditAction.DELETE,
        {"first_response_minutes": [policy.first_response_minutes, None]},
        str(policy),
    )
    policy.delete()
    recompute_later()


# ---- service hours ---------------------------------------------------------------------------

HOURS_FIELDS = ["day_starts", "lunch_starts", "lunch_ends", "day_ends", "warn_before_minutes"]


def _hours_snapshot(hours: ServiceSettings) -> dict:
    return {
        name: getattr(hours, name).strftime("%H:%M") if name != "warn_before_minutes" else hours.warn_before_minutes
        for name in HOURS_FIELDS
    }


@transaction.atomic
def service_hours_update(*, actor, **values) -> ServiceSettings:
    """The working day's hours and the warning lead (`ServiceSettings.clean` keeps them in order)."""
    _require(actor, "support.manage_service")
    unknown = set(values) - set(HOURS_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    found = ServiceSettings.load()
    hours = ServiceSettings.objects.select_for_update().get(pk=found.pk)
    before = _hours_snapshot(hours)
    for name, value in values.items():
        setattr(hours, name, value)
    if hours.warn_before_minutes is None or not 0 <= hours.warn_before_minutes <= 24 * 60:
        raise ValidationError({"warn_before_minutes": [_("Enter between 0 and 1440 minutes.")]})
    hours.full_clean(exclude=["updated_by"])
    changes = diff(before, _hours_snapshot(hours))
    if changes:
        hours.updated_by = actor
        hours.save()
        _setup_event(actor, hours, AuditAction.UPDATE, changes, str(_("Service hours")))
        recompute_later()
    return hours


# ---- the recompute ---------------------------------------------------------------------------


def sla_recompute(*, now: datetime | None = None) -> dict[str, int]:
    """Every open ticket's policy chosen again (a policy added, changed or removed), tickets left
    without one cleared, then the scan replays every clock. Returns the scan's counts and how many
    tickets changed policy."""
    from kehu.support.services import sla_scan

    policies = {(p.category_id, p.priority): p.pk for p in SlaPolicy.objects.all()}
    moved: dict[int | None, list[int]] = {}
    open_tickets = Ticket.objects.filter(state__in=OPEN_STATES, deleted_at__isnull=True).order_by("pk")
    for pk, category_id, priority, policy_id in open_tickets.values_list(
        "pk", "category_id", "priority", "policy_id"
    ).iterator(chunk_size=2000):
        wanted = policies.get((category_id, priority)) or policies.get((None, priority))
        if wanted != policy_id:
            moved.setdefault(wanted, []).append(pk)
    for policy_id, pks in moved.items():
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            Ticket.objects.filter(pk__in=chunk).update(policy_id=policy_id)
    # Without a policy (its policy removed, no default): no deadline to show.
    open_tickets.filter(policy__isnull=True).filter(
        Q(response_due_at__isnull=False)
        | Q(resolution_due_at__isnull=False)
        | Q(response_breached=True)
        | Q(resolution_breached=True)
    ).update(response_due_at=None, resolution_due_at=None, response_breached=False, resolution_breached=False)
    counts = sla_scan(now=now)
    counts["repoliced"] = sum(len(pks) for pks in moved.values())
    return counts


# ---- the installed base ----------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def warranty_until(start: date, months: int) -> date:
    """The last day of a warranty of `months` from `start` (12 months from 1 March: 28/29 February)."""
    return add_months(start, months) - timedelta(days=1)


UNIT_FIELDS = [
    "product",
    "specification",
    "serial_number",
    "installed_on",
    "warranty_starts_on",
    "warranty_ends_on",
]


def _check_unit(unit: InstalledUnit, *, taken: set[tuple[int, str]] = frozenset()) -> None:
    errors: dict[str, list[str]] = {}
    unit.serial_number = (unit.serial_number or "").strip()
    try:
        check_text(unit.serial_number, field="serial_number", max_length=100)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if unit.specification_id and unit.specification.product_id != unit.product_id:
        errors["specification"] = [_("This specification belongs to another product.")]
    if unit.warranty_starts_on and unit.warranty_ends_on and unit.warranty_ends_on < unit.warranty_starts_on:
        errors["warranty_ends_on"] = [_("The warranty cannot end before it starts.")]
    if unit.warranty_ends_on and not unit.warranty_starts_on:
        errors["warranty_starts_on"] = [_("Say when the warranty starts.")]
    if unit.serial_number and "serial_number" not in errors:
        duplicate = (unit.product_id, unit.serial_number) in taken or (
            InstalledUnit.objects.filter(product_id=unit.product_id, serial_number=unit.serial_number)
            .exclude(pk=unit.pk)
            .exists()
        )
        if duplicate:
            errors["serial_number"] = [
                _("Serial number %(serial)s is registered for this product already.") % {"serial": unit.serial_number}
            ]
    if errors:
        raise ValidationError(errors)


def _unit_event(kind, actor, unit: InstalledUnit, action: str, changes: dict) -> None:
    events.record(
        kind,
        actor=actor,
        subject=unit,
        customer_id=unit.customer_id,
        summary=str(unit),
        audit=action,
        changes=changes,
    )


@transaction.atomic
def unit_create(
    *,
    actor,
    customer,
    product,
    specification=None,
    serial_number: str = "",
    installed_on: date | None = None,
    warranty_starts_on: date | None = None,
    warranty_ends_on: date | None = None,
) -> InstalledUnit:
    """A unit the customer owns, entered by hand (`customer` as the actor sees it)."""
    _require(actor, "support.add_installedunit")
    unit = InstalledUnit(
        customer=customer,
        product=product,
        specification=specification,
        serial_number=serial_number,
        installed_on=installed_on,
        warranty_starts_on=warranty_starts_on,
        warranty_ends_on=warranty_ends_on,
    )
    _check_unit(unit)
    unit.save()
    _unit_event(SetupEvent.UNIT_REGISTERED, actor, unit, AuditAction.CREATE, diff({}, snapshot(unit, UNIT_FIELDS)))
    return unit


@transaction.atomic
def unit_update(*, actor, unit: InstalledUnit, **values) -> InstalledUnit:
    _require(actor, "support.change_installedunit")
    unknown = set(values) - set(UNIT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    unit = (
        InstalledUnit.objects.select_for_update(of=("self",)).select_related("product", "specification").get(pk=unit.pk)
    )
    before = snapshot(unit, UNIT_FIELDS)
    for name, value in values.items():
        setattr(unit, name, value)
    _check_unit(unit)
    changes = diff(before, snapshot(unit, UNIT_FIELDS))
    if changes:
        unit.save()
        _unit_event(SetupEvent.UNIT_CHANGED, actor, unit, AuditAction.UPDATE, changes)
    return unit


@dataclass(frozen=True)
class LineUnits:
    """The units to register from one order line: one per serial number given (blank: unknown)."""

    line: object  # an orders.OrderLine of the order
    serial_numbers: list[str]


def units_open_on_line(line, registered: int) -> int:
    """How many units of the line may still be registered (whole units, capped)."""
    return max(0, min(int(line.quantity), MAX_UNITS_PER_LINE) - registered)


@transaction.atomic
def units_from_order(
    *,
    actor,
    order,
    lines: list[LineUnits],
    installed_on: date | None = None,
    warranty_months: int = DEFAULT_WARRANTY_MONTHS,
) -> list[InstalledUnit]:
    """Units of a confirmed or completed order's lines, with the warranty starting on the
    installation day (else the order date) for `warranty_months`. All or nothing."""
    from kehu.orders.models import BOOKED_STATES

    _require(actor, "support.add_installedunit")
    if order.state not in BOOKED_STATES:
        raise ValidationError(_("Only a confirmed or completed order's products can be registered."))
    if not isinstance(warranty_months, int) or not 0 <= warranty_months <= 120:
        raise ValidationError({"warranty_months": [_("Enter between 0 and 120 months.")]})
    if not any(entry.serial_numbers for entry in lines):
        raise ValidationError(_("Choose at least one line to register."))
    registered = {
        line_id: n
        for line_id, n in InstalledUnit.objects.filter(order_line__order=order)
        .values_list("order_line_id")
        .annotate(n=Count("pk"))
    }
    start = installed_on or order.ordered_on
    ends = warranty_until(start, warranty_months) if warranty_months else None
    errors: list[str] = []
    taken: set[tuple[int, str]] = set()
    units = []
    for entry in lines:
        line = entry.line
        if line.order_id != order.pk:
            raise ValidationError(_("This line belongs to another order."))
        room = units_open_on_line(line, registered.get(line.pk, 0))
        if len(entry.serial_numbers) > room:
            errors.append(
                _("Line %(position)s (%(code)s): at most %(room)s more units can be registered.")
                % {"position": line.position, "code": line.code, "room": room}
            )
            continue
        for serial in entry.serial_numbers:
            unit = InstalledUnit(
                customer_id=order.customer_id,
                product_id=line.product_id,
                specification_id=line.specification_id,
                serial_number=serial,
                order_line=line,
                installed_on=installed_on,
                warranty_starts_on=start if ends else None,
                warranty_ends_on=ends,
            )
            unit.specification = line.specification
            try:
                _check_unit(unit, taken=taken)
            except ValidationError as exc:
                errors.extend(
                    _("Line %(position)s (%(code)s): %(problem)s")
                    % {"position": line.position, "code": line.code, "problem": m}
                    for m in exc.messages
                )
                continue
            if unit.serial_number:
                taken.add((unit.product_id, unit.serial_number))
            units.append(unit)
    if errors:
        raise ValidationError(errors)
    created = InstalledUnit.objects.bulk_create(units)
    now = timezone.now()
    events.record_many(
        [
            events.build(
                SetupEvent.UNIT_REGISTERED,
                actor=actor,
                subject=unit,
                customer_id=unit.customer_id,
                summary=f"{unit.specification.code} {unit.serial_number}".strip(),
                audit=AuditAction.CREATE,
                changes={"order": [None, order.number], "serial_number": [None, unit.serial_number]},
                occurred_at=now,
            )
            for unit in created
        ]
    )
    return created
