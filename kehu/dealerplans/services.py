"""Every write of the dealer plans (SAL-6): the plan, its targets and promised support, its states
(draft → agreed → closed), copying a month's plan, the recycle bin, and planned visits for the
plan's customer (through kehu.activities).

Who may do what: the plan's rep changes a draft; a manager with `dealerplans.set_plans` whose scope
holds the rep changes it too, agrees it (draft → agreed), reopens it (agreed → draft) and closes it
(agreed → closed, closed → agreed). Whether promised support was given may be marked while the plan
is agreed. The plan's target amount is the sum of its lines' amounts, written with every line change.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.models import Product, Specification
from kehu.core import events
from kehu.core.audit import diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import check_text
from kehu.core.versioning import update_versioned
from kehu.customers.models import ChannelLevel, Customer
from kehu.dealerplans.events import PlanEvent
from kehu.dealerplans.models import DealerPlan, DealerPlanLine, PlanState, PlanSupport, SupportKind
from kehu.dealerplans.selectors import LOWER_LEVELS, month_start, next_month
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

ZERO = Decimal("0")
S = PlanState
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.AGREED}),
    S.AGREED: frozenset({S.DRAFT, S.CLOSED}),
    S.CLOSED: frozenset({S.AGREED}),
}
HEADER_FIELDS = ["upper", "schedule", "notes"]
MAX_QUANTITY = Decimal("99999999999.999")
MAX_AMOUNT = Decimal("99999999999999.99")
STATE_EVENT = {S.AGREED: PlanEvent.AGREED, S.DRAFT: PlanEvent.REOPENED, S.CLOSED: PlanEvent.CLOSED}


# --- who may ------------------------------------------------------------------------------------


def may_set(actor: User, plan: DealerPlan) -> bool:
    """Agree, reopen, close: a manager (set_plans) whose scope holds the plan's rep."""
    return actor.has_perm("dealerplans.set_plans") and is_in_team_of(actor, plan.owner)


def may_change(actor: User, plan: DealerPlan) -> bool:
    """Change the plan's content: its rep, or a manager who may set it."""
    if not actor.has_perm("dealerplans.change_dealerplan"):
        return False
    return plan.owner_id == actor.pk or may_set(actor, plan)


def _check_change(actor: User, plan: DealerPlan, *, states=(S.DRAFT,)) -> None:
    if not may_change(actor, plan):
        raise PermissionDenied
    if plan.deleted_at is not None:
        raise ValidationError(_("This plan is in the recycle bin."))
    if plan.state not in states:
        raise ValidationError(_("Only a draft plan can be changed; reopen it first."))


# --- values -------------------------------------------------------------------------------------


def _decimal(value, field: str, *, places: int, maximum: Decimal, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: [_("This field is required.")]})
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Enter a number.")]}) from None
    if not number.is_finite() or number < 0:
        raise ValidationError({field: [_("Enter a number of 0 or more.")]})
    if number > maximum:
        raise ValidationError({field: [_("This number is too large.")]})
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError({field: [_("Use at most %(places)s decimal places.") % {"places": places}]})
    return number.quantize(Decimal(1).scaleb(-places))


def _check_upper(customer: Customer, upper: Customer | None) -> None:
    if upper is None:
        return
    if upper.pk == customer.pk:
        raise ValidationError({"upper": [_("A customer cannot buy from itself.")]})
    if upper.deleted_at is not None:
        raise ValidationError({"upper": [_("This customer is in the recycle bin.")]})
    if customer.channel_level not in LOWER_LEVELS:
        raise ValidationError(
            {"upper": [_("Only a sub-distributor's or retailer's plan names the dealer it buys from.")]}
        )


def _check_customer(customer: Customer) -> None:
    if customer.deleted_at is not None:
        raise ValidationError({"customer": [_("This customer is in the recycle bin.")]})
    if customer.channel_level in ("", ChannelLevel.END_CUSTOMER):
        raise ValidationError(
            {
                "customer": [
                    _(
                        "Plans are made for dealers, sub-distributors and retailers: set the customer's channel level first."
                    )
                ]
            }
        )


def _check_free(customer: Customer, month: date, *, exclude: int | None = None) -> None:
    taken = DealerPlan.objects.filter(customer_id=customer.pk, month=month, deleted_at__isnull=True)
    if exclude:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ValidationError(
            {"month": [_("This customer already has a plan for %(month)s.") % {"month": f"{month:%Y-%m}"}]}
        )


def _record(kind, plan: DealerPlan, *, actor, audit=AuditAction.UPDATE, changes=None, notify=()):
    return events.record(
        kind,
        actor=actor,
        subject=plan,
        customer_id=plan.customer_id,
        summary=f"{plan.month:%Y-%m} · ¥{plan.target_amount:,.2f}",
        payload={"plan": plan.pk, "month": f"{plan.month:%Y-%m}", "state": plan.state},
        audit=audit,
        changes=changes or {},
        notify=notify,
        link=f"/dealer-plans/{plan.pk}/",
    )


def _touch(plan: DealerPlan) -> None:
    """After a line or support change: the target amount and a new version (an open edit form of the
    header then sees that the plan changed)."""
    total = plan.lines.aggregate(total=Sum("amount"))["total"] or ZERO
    now = timezone.now()
    DealerPlan.objects.filter(pk=plan.pk).update(target_amount=total, version=F("version") + 1, updated_at=now)
    plan.target_amount, plan.version, plan.updated_at = total, plan.version + 1, now


# --- the plan -----------------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    customer: Customer,
    month: date,
    actor: User,
    upper: Customer | None = None,
    schedule: str = "",
    notes: str = "",
) -> DealerPlan:
    """A draft plan of the customer for the month; its rep is the customer's owner (else the actor).
    The caller resolved `customer` (and `upper`) through the actor's scope."""
    if not actor.has_perm("dealerplans.change_dealerplan"):
        raise PermissionDenied
    if month is None:
        raise ValidationError({"month": [_("This field is required.")]})
    month = month_start(month)
    _check_customer(customer)
    _check_upper(customer, upper)
    schedule, notes = (
        check_text(schedule or "", field="schedule", multiline=True),
        check_text(notes or "", field="notes", multiline=True),
    )
    _check_free(customer, month)
    owner = customer.owner if customer.owner_id and customer.owner.is_active else actor
    if owner.pk != actor.pk and not (actor.has_perm("dealerplans.set_plans") and is_in_team_of(actor, owner)):
        owner = actor
    plan = DealerPlan.objects.create(
        customer=customer,
        upper=upper,
        month=month,
        owner=owner,
        schedule=schedule,
        notes=notes,
        created_by=actor,
    )
    _record(
        PlanEvent.CREATED,
        plan,
        actor=actor,
        audit=AuditAction.CREATE,
        changes={"month": [None, f"{month:%Y-%m}"], "customer": [None, customer.pk]},
    )
    return plan


@transaction.atomic
def plan_update(*, plan: DealerPlan, actor: User, expected_version: int, **fields) -> DealerPlan:
    """Change the header of a draft (the dealer it buys from, the schedule, notes), if nobody saved
    the plan since `expected_version`."""
    _check_change(actor, plan)
    unknown = set(fields) - set(HEADER_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    before = snapshot(plan, HEADER_FIELDS)
    for name in ("schedule", "notes"):
        if name in fields:
            fields[name] = check_text(fields[name] or "", field=name, multiline=True)
    if "upper" in fields:
        _check_upper(plan.customer, fields["upper"])
    for name, value in fields.items():
        setattr(plan, name, value)
    changes = diff(before, snapshot(plan, HEADER_FIELDS))
    if not changes:
        if plan.version != expected_version:
            from kehu.core.exceptions import ConcurrentEditError

            raise ConcurrentEditError()
        return plan
    update_versioned(plan, expected_version=expected_version, fields=list(fields))
    _record(PlanEvent.CHANGED, plan, actor=actor, changes=changes)
    return plan


@transaction.atomic
def plan_transition(*, plan: DealerPlan, actor: User, to: str) -> DealerPlan:
    """draft → agreed, agreed → draft (reopen), agreed → closed, closed → agreed."""
    if not may_set(actor, plan):
        raise PermissionDenied
    if plan.deleted_at is not None:
        raise ValidationError(_("This plan is in the recycle bin."))
    if to not in TRANSITIONS.get(plan.state, frozenset()):
        raise ValidationError(
            {
                "state": [
                    _("A plan cannot go from “%(from)s” to “%(to)s”.")
                    % {"from": S(plan.state).label, "to": S(to).label if to in S.values else to}
                ]
            }
        )
    if to == S.AGREED and plan.state == S.DRAFT and not plan.lines.exists():
        raise ValidationError({"state": [_("Add at least one target before agreeing the plan.")]})
    before = plan.state
    plan.state = to
    update_versioned(plan, expected_version=plan.version, fields=["state"])
    _record(
        STATE_EVENT[to],
        plan,
        actor=actor,
        changes={"state": [before, to]},
        notify=[plan.owner_id] if plan.owner_id != actor.pk else [],
    )
    return plan


@transaction.atomic
def plan_copy(*, source: DealerPlan, actor: User, month: date | None = None) -> DealerPlan:
    """A new draft for `month` (the month after the source's by default) with the source's targets,
    schedule and promised support (marked not given)."""
    if not may_change(actor, source):
        raise PermissionDenied
    month = month_start(month) if month else next_month(source.month)
    plan = plan_create(
        customer=source.customer,
        month=month,
        actor=actor,
        upper=source.upper if source.upper_id and source.upper.deleted_at is None else None,
        schedule=source.schedule,
        notes=source.notes,
    )
    DealerPlanLine.objects.bulk_create(
        DealerPlanLine(
            plan=plan,
            product_id=line.product_id,
            specification_id=line.specification_id,
            quantity=line.quantity,
            amount=line.amount,
        )
        for line in source.lines.all()
    )
    PlanSupport.objects.bulk_create(
        PlanSupport(plan=plan, kind=s.kind, description=s.description, value=s.value, is_given=False)
        for s in source.support.all()
    )
    _touch(plan)
    return plan


@transaction.atomic
def plan_delete(*, plan: DealerPlan, actor: User) -> None:
    """Move a draft or agreed plan to the recycle bin (a closed plan is history and stays)."""
    if not may_change(actor, plan):
        raise PermissionDenied
    if plan.state == S.CLOSED:
        raise ValidationError(_("A closed plan stays; reopen it first."))
    now = timezone.now()
    DealerPlan.objects.filter(pk=plan.pk).update(deleted_at=now, deleted_by=actor)
    plan.deleted_at, plan.deleted_by = now, actor
    _record(PlanEvent.DELETED, plan, actor=actor, audit=AuditAction.DELETE)


@transaction.atomic
def plan_restore(*, plan: DealerPlan, actor: User) -> DealerPlan:
    if not may_change(actor, plan):
        raise PermissionDenied
    if plan.deleted_at is None:
        return plan
    _check_free(plan.customer, plan.month, exclude=plan.pk)
    DealerPlan.objects.filter(pk=plan.pk).update(deleted_at=None, deleted_by=None)
    plan.deleted_at, plan.deleted_by = None, None
    _record(PlanEvent.RESTORED, plan, actor=actor, audit=AuditAction.RESTORE)
    return plan


# --- targets ------------------------------------------------------------------------------------


@transaction.atomic
def plan_line_put(
    *,
    plan: DealerPlan,
    actor: User,
    product: Product,
    specification: Specification | None = None,
    quantity,
    amount=None,
) -> DealerPlanLine:
    """Set the target for a product (or one of its specifications): a new line, or the existing one
    changed."""
    _check_change(actor, plan)
    if product.deleted_at is not None:
        raise ValidationError({"product": [_("This product is in the recycle bin.")]})
    if specification is not None and specification.product_id != product.pk:
        raise ValidationError({"specification": [_("This specification is not one of the product's.")]})
    quantity = _decimal(quantity, "quantity", places=3, maximum=MAX_QUANTITY)
    amount = _decimal(amount, "amount", places=2, maximum=MAX_AMOUNT, required=False) or ZERO
    line = DealerPlanLine.objects.filter(plan=plan, product=product, specification=specification).first()
    before = None
    if line is None:
        line = DealerPlanLine.objects.create(
            plan=plan, product=product, specification=specification, quantity=quantity, amount=amount
        )
    else:
        before = [str(line.quantity), str(line.amount)]
        line.quantity, line.amount = quantity, amount
        line.save(update_fields=["quantity", "amount"])
    _touch(plan)
    label = product.code + (f"/{specification.code}" if specification else "")
    _record(PlanEvent.CHANGED, plan, actor=actor, changes={f"target {label}": [before, [str(quantity), str(amount)]]})
    return line


@transaction.atomic
def plan_line_remove(*, plan: DealerPlan, actor: User, line_id: int) -> None:
    _check_change(actor, plan)
    line = DealerPlanLine.objects.filter(plan=plan, pk=line_id).select_related("product").first()
    if line is None:
        raise ValidationError({"line": [_("This target is not in the plan.")]})
    line.delete()
    _touch(plan)
    _record(PlanEvent.CHANGED, plan, actor=actor, changes={f"target {line.product.code}": [str(line.quantity), None]})


# --- promised support ---------------------------------------------------------------------------


@transaction.atomic
def support_add(
    *, plan: DealerPlan, actor: User, kind: str, description: str, value=None, is_given: bool = False
) -> PlanSupport:
    _check_change(actor, plan)
    if kind not in SupportKind.values:
        raise ValidationError({"kind": [_("Choose a kind of support.")]})
    description = check_text(description or "", field="description", max_length=200).strip()
    if not description:
        raise ValidationError({"description": [_("Say what is promised.")]})
    value = _decimal(value, "value", places=2, maximum=Decimal("999999999999.99"), required=False)
    support = PlanSupport.objects.create(plan=plan, kind=kind, description=description, value=value, is_given=is_given)
    _touch(plan)
    _record(PlanEvent.CHANGED, plan, actor=actor, changes={"support": [None, description]})
    return support


@transaction.atomic
def support_set_given(*, plan: DealerPlan, actor: User, support_id: int, is_given: bool) -> PlanSupport:
    """Mark promised support given (or not), while the plan is a draft or agreed."""
    _check_change(actor, plan, states=(S.DRAFT, S.AGREED))
    support = PlanSupport.objects.filter(plan=plan, pk=support_id).first()
    if support is None:
        raise ValidationError({"support": [_("This support is not in the plan.")]})
    if support.is_given != is_given:
        support.is_given = is_given
        support.save(update_fields=["is_given"])
        _touch(plan)
        _record(
            PlanEvent.CHANGED, plan, actor=actor, changes={f"given: {support.description}": [not is_given, is_given]}
        )
    return support


@transaction.atomic
def support_remove(*, plan: DealerPlan, actor: User, support_id: int) -> None:
    _check_change(actor, plan)
    support = PlanSupport.objects.filter(plan=plan, pk=support_id).first()
    if support is None:
        raise ValidationError({"support": [_("This support is not in the plan.")]})
    support.delete()
    _touch(plan)
    _record(PlanEvent.CHANGED, plan, actor=actor, changes={"support": [support.description, None]})


# --- visit plans for the plan's customer --------------------------------------------------------


def plan_visit(*, plan: DealerPlan, actor: User, planned_for: datetime, subject: str, purpose: str = ""):
    """Plan a visit (拜访计划) to the plan's customer on a day of the plan's month; it shows on the
    rep's week plan like any other planned visit."""
    from kehu.activities.services import visit_plan

    if plan.deleted_at is not None:
        raise ValidationError(_("This plan is in the recycle bin."))
    if planned_for is None:
        raise ValidationError({"planned_for": [_("Say when the visit is planned.")]})
    day = timezone.localtime(planned_for).date() if timezone.is_aware(planned_for) else planned_for.date()
    if not plan.month <= day < next_month(plan.month):
        raise ValidationError(
            {"planned_for": [_("Plan the visit in the plan's month (%(month)s).") % {"month": f"{plan.month:%Y-%m}"}]}
        )
    subject = (subject or "").strip() or _("Visit for the %(month)s plan") % {"month": f"{plan.month:%Y-%m}"}
    return visit_plan(customer=plan.customer, actor=actor, planned_for=planned_for, subject=subject, purpose=purpose)
