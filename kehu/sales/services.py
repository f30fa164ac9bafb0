"""Every write to opportunities, stages and targets: validate, write in a transaction, append to
the customer's timeline, record the audit trail. Moving between stages has one door: opportunity_move."""

import re
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction
from kehu.core.text import changed, check_text, full_clean
from kehu.core.versioning import update_versioned
from kehu.customers.models import Customer
from kehu.sales.defaults import seed_pipelines
from kehu.sales.events import SalesEvent
from kehu.sales.forecast import forecast_cells, forecast_touch
from kehu.sales.models import Opportunity, Pipeline, Stage, StageChange, StageKind, Target, TargetLevel
from kehu.sales.settings_selectors import may_manage_target
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

OPPORTUNITY_FIELDS = [
    "name",
    "amount",
    "probability",
    "expected_close_on",
    "products",
    "competitors",
    "owner",
]
AUDITED_FIELDS = [*OPPORTUNITY_FIELDS, "stage", "close_reason"]
# A won / lost reason: a few sentences, like the API says.
REASON_MAX_LENGTH = 2000


def default_pipeline() -> Pipeline:
    if not Pipeline.objects.exists():
        seed_pipelines(Pipeline, Stage)
    active = Pipeline.objects.filter(is_active=True)
    pipeline = active.filter(is_default=True).order_by("id").first() or active.order_by("id").first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("No pipeline is set up yet.")})
    return pipeline


def first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN, is_active=True).order_by("order", "id").first()
    if stage is None:
        raise ValidationError({"stage": _("This pipeline has no open stage.")})
    return stage


def may_assign_to(actor: User, owner: User) -> bool:
    """Reps own what they open; managers with sales.assign_opportunity give deals to their team."""
    if owner.pk == actor.pk:
        return True
    return actor.has_perm("sales.assign_opportunity") and is_in_team_of(actor, owner)


def _check_in_scope(actor: User, opportunity: Opportunity, perm: str) -> None:
    if not actor.has_perm(perm) or not is_in_team_of(actor, opportunity.owner):
        raise PermissionDenied


def opportunity_clean(opportunity: Opportunity, *, changed=None) -> None:
    """The deal's own rules and the model's, with the text rule (on the `changed` fields when given)."""
    errors = {}
    opportunity.name = (opportunity.name or "").strip()
    if not opportunity.name:
        errors["name"] = _("Enter a name for the opportunity.")
    if opportunity.amount is None:
        opportunity.amount = Decimal("0")
    if not isinstance(opportunity.amount, Decimal):
        try:
            opportunity.amount = Decimal(str(opportunity.amount))
        except ArithmeticError:
            errors["amount"] = _("Enter an amount in CNY.")
    if "amount" not in errors and opportunity.amount < 0:
        errors["amount"] = _("The amount cannot be negative.")
    if opportunity.probability is not None and not 0 <= int(opportunity.probability) <= 100:
        errors["probability"] = _("The probability is a percentage between 0 and 100.")
    if not opportunity.owner.is_active:
        errors["owner"] = _("The owner must be an active user.")
    if opportunity.stage.pipeline_id != opportunity.pipeline_id:
        errors["stage"] = _("This stage belongs to another pipeline.")
    if errors:
        raise ValidationError(errors)
    full_clean(
        opportunity,
        exclude=["customer", "owner", "pipeline", "stage", "created_by", "deleted_by"],
        text_fields=changed,
        validate_constraints=False,
    )


def _closed_payload(opportunity: Opportunity) -> dict:
    """What webhook subscribers receive for a won or lost deal."""
    return {
        "id": opportunity.pk,
        "name": opportunity.name,
        "customer_id": opportunity.customer_id,
        "owner_id": opportunity.owner_id,
        "amount": str(opportunity.amount),
        "currency": "CNY",
        "pipeline": opportunity.pipeline.code,
        "stage": opportunity.stage.name,
        "reason": opportunity.close_reason,
        "closed_at": opportunity.closed_at.isoformat() if opportunity.closed_at else None,
        "source_lead_id": opportunity.source_lead_id,
    }


@transaction.atomic
def opportunity_create(
    *,
    customer: Customer,
    actor: User,
    name: str,
    amount=None,
    owner: User | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    expected_close_on: date | None = None,
    source_lead_id: int | None = None,
    **fields,
) -> Opportunity:
    """Open an opportunity for `customer` (in an open stage; closing goes through opportunity_move)."""
    if not actor.has_perm("sales.add_opportunity"):
        raise PermissionDenied
    unknown = set(fields) - set(OPPORTUNITY_FIELDS)
    if unknown:
        raise ValidationError({name_: _("This field cannot be set.") for name_ in sorted(unknown)})
    if customer.deleted_at is not None:
        raise ValidationError({"customer": _("This customer is in the recycle bin.")})
    owner = owner or actor
    if not may_assign_to(actor, owner):
        raise ValidationError({"owner": _("You may not give opportunities to this user.")})
    if pipeline is None:
        pipeline = stage.pipeline if stage is not None else default_pipeline()
    if not pipeline.is_active:
        raise ValidationError({"pipeline": _("This pipeline is inactive; choose another.")})
    stage = stage or first_open_stage(pipeline)
    if stage.kind != StageKind.OPEN:
        raise ValidationError({"stage": _("A new opportunity starts in an open stage.")})
    if not stage.is_active:
        raise ValidationError({"stage": _("This stage is inactive; no deal can be moved into it.")})
    fields.setdefault("probability", stage.probability)
    now = timezone.now()
    opportunity = Opportunity(
        customer=customer,
        owner=owner,
        pipeline=pipeline,
        stage=stage,
        status=StageKind.OPEN,
        name=name,
        amount=amount if amount is not None else Decimal("0"),
        expected_close_on=expected_close_on,
        source_lead_id=source_lead_id,
        stage_entered_at=now,
        created_by=actor,
        **fields,
    )
    opportunity_clean(opportunity)
    opportunity.save()
    forecast_touch(forecast_cells(opportunity))
    StageChange.objects.create(opportunity=opportunity, from_stage=None, to_stage=stage, at=now, by=actor)
    events.record(
        SalesEvent.OPPORTUNITY_CREATED,
        customer_id=customer.pk,
        actor=actor,
        summary=f"{opportunity.name} · ¥{opportunity.amount:,.2f}",
        subject=opportunity,
        payload={"stage": stage.name, "amount": str(opportunity.amount)},
        audit=AuditAction.CREATE,
        changes={k: [None, v] for k, v in snapshot(opportunity, AUDITED_FIELDS).items() if v not in ("", None)},
    )
    return opportunity


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, actor: User, expected_version: int, **fields) -> Opportunity:
    """Change the deal's own fields (not its stage: that is opportunity_move)."""
    _check_in_scope(actor, opportunity, "sales.change_opportunity")
    before = snapshot(opportunity, AUDITED_FIELDS)
    cells = forecast_cells(opportunity)
    changing = changed(opportunity, fields)
    old_owner_id = opportunity.owner_id
    for name, value in fields.items():
        if name not in OPPORTUNITY_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(opportunity, name, value)
    if opportunity.owner_id != old_owner_id and not may_assign_to(actor, opportunity.owner):
        raise ValidationError({"owner": _("You may not give opportunities to this user.")})
    opportunity_clean(opportunity, changed=changing)
    changes = diff(before, snapshot(opportunity, AUDITED_FIELDS))
    if not changes:
        return opportunity
    update_versioned(opportunity, expected_version=expected_version, fields=list(fields))
    forecast_touch(cells | forecast_cells(opportunity))
    events.record(
        SalesEvent.OPPORTUNITY_CHANGED, actor=actor, subject=opportunity, audit=AuditAction.UPDATE, changes=changes
    )
    return opportunity


@transaction.atomic
def opportunity_move(
    *, opportunity: Opportunity, stage: Stage, actor: User, reason: str = "", expected_version: int | None = None
) -> Opportunity:
    """Move to another stage of the same pipeline; won and lost need a reason. Keeps the stage
    history with the time spent in the previous stage, the timeline, the audit trail, and tells
    webhook subscribers about won and lost deals once the transaction commits."""
    _check_in_scope(actor, opportunity, "sales.change_opportunity")
    return _move(opportunity=opportunity, stage=stage, actor=actor, reason=reason, expected_version=expected_version)


def _move(
    *, opportunity: Opportunity, stage: Stage, actor: User, reason: str = "", expected_version: int | None = None
) -> Opportunity:
    if stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    if not stage.is_active and stage.pk != opportunity.stage_id:
        raise ValidationError({"stage": _("This stage is inactive; no deal can be moved into it.")})
    reason = check_text((reason or "").strip(), field="reason", multiline=True, max_length=REASON_MAX_LENGTH)
    if stage.kind != StageKind.OPEN and not reason:
        raise ValidationError({"reason": _("Say why the deal was won or lost.")})
    if expected_version is None:
        expected_version = Opportunity.objects.filter(pk=opportunity.pk).values_list("version", flat=True).first()
        if expected_version is None:
            raise ValidationError(_("This opportunity no longer exists."))
    if stage.pk == opportunity.stage_id:
        if expected_version != opportunity.version:
            raise ConcurrentEditError()
        return opportunity
    now = timezone.now()
    previous = opportunity.stage
    time_in_previous = now - opportunity.stage_entered_at if opportunity.stage_entered_at else None
    before = snapshot(opportunity, AUDITED_FIELDS)
    cells = forecast_cells(opportunity)
    opportunity.stage = stage
    opportunity.status = stage.kind
    opportunity.probability = stage.probability
    opportunity.stage_entered_at = now
    if stage.kind == StageKind.OPEN:
        opportunity.closed_at = None
        opportunity.close_reason = ""
    else:
        opportunity.closed_at = now
        opportunity.close_reason = reason
    update_versioned(
        opportunity,
        expected_version=expected_version,
        fields=["stage", "status", "probability", "stage_entered_at", "closed_at", "close_reason"],
    )
    # A win or a loss shows in the forecast as soon as it is committed, not at the next refresh.
    forecast_touch(cells | forecast_cells(opportunity))
    StageChange.objects.create(
        opportunity=opportunity,
        from_stage=previous,
        to_stage=stage,
        at=now,
        by=actor,
        time_in_previous=time_in_previous,
        reason=reason,
    )
    kind = {
        StageKind.WON: SalesEvent.OPPORTUNITY_WON,
        StageKind.LOST: SalesEvent.OPPORTUNITY_LOST,
    }.get(stage.kind, SalesEvent.OPPORTUNITY_STAGE_CHANGED)
    summary = f"{opportunity.name}: {previous.name} → {stage.name}"
    if reason:
        summary += f" ({reason})"
    events.record(
        kind,
        customer_id=opportunity.customer_id,
        actor=actor,
        summary=summary,
        subject=opportunity,
        payload={"from": previous.name, "to": stage.name, "amount": str(opportunity.amount), "reason": reason},
        audit=AuditAction.UPDATE,
        changes=diff(before, snapshot(opportunity, AUDITED_FIELDS)),
        webhook=_closed_payload(opportunity) if stage.kind != StageKind.OPEN else None,
    )
    return opportunity


@transaction.atomic
def opportunity_win(
    *, opportunity: Opportunity, actor: User, reason: str, amount: Decimal | None = None
) -> Opportunity:
    """Win the deal because a document that belongs to it was accepted (an accepted quote, later an
    order): into the pipeline's first active won stage, through `opportunity_move`. The caller has
    checked that `actor` may act on that document, so the deal's owner may be someone else. `amount`
    becomes the deal's amount when it has none. A deal already won stays as it is."""
    opportunity = Opportunity.objects.select_for_update().select_related("stage", "pipeline").get(pk=opportunity.pk)
    if opportunity.status == StageKind.WON or opportunity.deleted_at is not None:
        return opportunity
    stage = opportunity.pipeline.stages.filter(kind=StageKind.WON, is_active=True).order_by("order", "id").first()
    if stage is None:
        raise ValidationError({"stage": _("This pipeline has no won stage.")})
    if amount is not None and not opportunity.amount:
        cells = forecast_cells(opportunity)
        opportunity.amount = amount
        update_versioned(opportunity, expected_version=opportunity.version, fields=["amount"])
        forecast_touch(cells | forecast_cells(opportunity))
    return _move(opportunity=opportunity, stage=stage, actor=actor, reason=reason)


@transaction.atomic
def opportunity_assign(*, opportunity: Opportunity, owner: User, actor: User) -> Opportunity:
    """A manager gives the deal to a rep in their scope (SAL-8)."""
    if not actor.has_perm("sales.assign_opportunity") or not is_in_team_of(actor, opportunity.owner):
        raise PermissionDenied
    if not may_assign_to(actor, owner) or not owner.is_active:
        raise ValidationError({"owner": _("You may not give opportunities to this user.")})
    if owner.pk == opportunity.owner_id:
        return opportunity
    before = snapshot(opportunity, ["owner"])
    cells = forecast_cells(opportunity)
    opportunity.owner = owner
    update_versioned(opportunity, expected_version=opportunity.version, fields=["owner"])
    forecast_touch(cells | forecast_cells(opportunity))
    events.record(
        SalesEvent.OPPORTUNITY_ASSIGNED,
        actor=actor,
        subject=opportunity,
        summary=f"{opportunity.name} · {opportunity.customer.name}",
        audit=AuditAction.UPDATE,
        changes=diff(before, snapshot(opportunity, ["owner"])),
        notify=[owner],
        link=reverse("sales:opportunity-detail", args=[opportunity.pk]),
    )
    return opportunity


@transaction.atomic
def opportunity_delete(*, opportunity: Opportunity, actor: User) -> None:
    """To the recycle bin: out of the board, lists and forecast."""
    _check_in_scope(actor, opportunity, "sales.delete_opportunity")
    now = timezone.now()
    updated = Opportunity.objects.filter(pk=opportunity.pk, deleted_at__isnull=True).update(
        deleted_at=now, deleted_by=actor, updated_at=now
    )
    if not updated:
        return
    forecast_touch(forecast_cells(opportunity))
    opportunity.deleted_at, opportunity.deleted_by = now, actor
    events.record(SalesEvent.OPPORTUNITY_DELETED, actor=actor, subject=opportunity, audit=AuditAction.DELETE)


@transaction.atomic
def opportunity_restore(*, opportunity: Opportunity, actor: User) -> None:
    """Back from the recycle bin onto the board and into the forecast, with its stage history."""
    _check_in_scope(actor, opportunity, "sales.delete_opportunity")
    if opportunity.customer.deleted_at is not None:
        raise ValidationError(
            _("%(customer)s is in the recycle bin; restore the customer first.")
            % {"customer": opportunity.customer.name}
        )
    now = timezone.now()
    restored = Opportunity.objects.filter(pk=opportunity.pk, deleted_at__isnull=False).update(
        deleted_at=None, deleted_by=None, updated_at=now
    )
    if restored:
        opportunity.deleted_at = opportunity.deleted_by = None
        forecast_touch(forecast_cells(opportunity))
        events.record(SalesEvent.OPPORTUNITY_RESTORED, actor=actor, subject=opportunity, audit=AuditAction.RESTORE)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


@transaction.atomic
def target_set(
    *,
    actor: User,
    level: str,
    month: date,
    amount,
    metric: str = "sales",
    department=None,
    user: User | None = None,
) -> Target:
    """Set (or replace) one monthly target (业绩目标): the company's with a company-wide scope, a
    department's in the actor's own department or below, a rep's in the actor's team."""
    if not actor.has_perm("sales.set_targets"):
        raise PermissionDenied
    if level == TargetLevel.COMPANY:
        department = user = None
    elif level == TargetLevel.DEPARTMENT:
        user = None
        if department is None:
            raise ValidationError({"department": _("Choose a department.")})
    elif level == TargetLevel.REP:
        department = None
        if user is None:
            raise ValidationError({"user": _("Choose a sales rep.")})
    else:
        raise ValidationError({"level": _("Choose company, department or sales rep.")})
    if not may_manage_target(actor, level=level, department=department, user=user):
        raise PermissionDenied
    amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    if amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    month = first_of_month(month)
    target, created = Target.objects.update_or_create(
        level=level,
        metric=metric,
        month=month,
        department=department,
        user=user,
        defaults={"amount": amount, "set_by": actor, "updated_at": timezone.now()},
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        instance=target,
        changes={"amount": [None, str(amount)]},
    )
    return target


@transaction.atomic
def pipeline_create(*, actor: User, name: str, code: str, is_default: bool = False) -> Pipeline:
    """A new pipeline, without stages: add an open, a won and a lost stage before it can be the default."""
    if not actor.has_perm("sales.manage_pipelines"):
        raise PermissionDenied
    name = (name or "").strip()
    code = (code or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    check_text(name, field="name", max_length=100)
    if not re.fullmatch(r"[a-z0-9-]{1,40}", code):
        raise ValidationError({"code": _("Use up to 40 lower-case letters, digits and hyphens.")})
    if Pipeline.objects.filter(name=name).exists() or Pipeline.objects.filter(code=code).exists():
        raise ValidationError({"code": _("A pipeline with this name or code exists.")})
    if is_default:
        raise ValidationError(
            {
                "is_default": _(
                    "A new pipeline has no stages yet: make it the default once it has open, won and lost stages."
                )
            }
        )
    pipeline = Pipeline.objects.create(name=name, code=code, is_default=False)
    audit_record(actor=actor, action=AuditAction.CREATE, instance=pipeline, changes={"name": [None, name]})
    return pipeline


@transaction.atomic
def stage_create(
    *, actor: User, pipeline: Pipeline, name: str, order: int | None = None, kind=StageKind.OPEN, probability=0
) -> Stage:
    """Add a stage to a pipeline, by default at the end."""
    if not actor.has_perm("sales.manage_pipelines"):
        raise PermissionDenied
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    check_text(name, field="name", max_length=60)
    if kind not in StageKind.values:
        raise ValidationError({"kind": _("Choose open, won or lost.")})
    if not 0 <= int(probability) <= 100:
        raise ValidationError({"probability": _("The probability is a percentage between 0 and 100.")})
    if pipeline.stages.filter(name=name).exists():
        raise ValidationError({"name": _("This pipeline has a stage of this name.")})
    if order is None:
        order = (pipeline.stages.aggregate(m=Max("order"))["m"] or 0) + 1
    stage = Stage.objects.create(pipeline=pipeline, name=name, order=order, kind=kind, probability=probability)
    audit_record(actor=actor, action=AuditAction.CREATE, instance=stage, changes={"name": [None, name]})
    return stage
