"""Writes for the sales set-up (SAL-2, SAL-11): renaming and (de)activating pipelines, the default
pipeline, editing, reordering and deleting stages, moving a stage's deals elsewhere, deleting
targets. Stages are data, but a pipeline keeps at least one active open, won and lost stage, and a
stage that any deal or stage history names is never deleted (deactivate it instead)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import check_text
from kehu.sales.forecast import forecast_batch
from kehu.sales.models import Opportunity, Pipeline, Stage, StageKind, Target
from kehu.sales.services import REASON_MAX_LENGTH, opportunity_move
from kehu.sales.settings_selectors import KIND_LABELS, may_manage_target, missing_kinds, stage_usage
from kehu.users.models import User

PIPELINE_FIELDS = ["name", "is_default", "is_active"]
STAGE_FIELDS = ["name", "kind", "probability", "is_active"]


class StageInUseError(ValidationError):
    """The stage is named by deals or their history: HTTP 409 in the API."""

    def __init__(self, message, usage):
        super().__init__(message, code="stage_in_use")
        self.usage = usage


def _check_manager(actor: User) -> None:
    if not actor.has_perm("sales.manage_pipelines"):
        raise PermissionDenied


def _kind_label(kind: str) -> str:
    return str(KIND_LABELS[kind])


def _check_keeps_kinds(pipeline: Pipeline, before: list[str]) -> None:
    """Refuse a change that leaves the pipeline without an active stage of a kind it had."""
    lost = [k for k in missing_kinds(pipeline) if k not in before]
    if lost:
        raise ValidationError(
            _(
                "A pipeline needs at least one active open, one won and one lost stage; "
                "this change would leave it without an active %(kind)s."
            )
            % {"kind": ", ".join(_kind_label(k) for k in lost)}
        )


def _clean_name(name, max_length: int) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    return check_text(name, field="name", max_length=max_length)


@transaction.atomic
def pipeline_update(
    *, actor: User, pipeline: Pipeline, name: str | None = None, is_default=None, is_active=None
) -> Pipeline:
    """Rename, make the default (the one new deals open in), deactivate or reactivate a pipeline.
    The default pipeline stays active and usable; deactivating keeps its deals where they are."""
    _check_manager(actor)
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    before = snapshot(pipeline, PIPELINE_FIELDS)
    if name is not None:
        name = _clean_name(name, 100)
        if Pipeline.objects.filter(name=name).exclude(pk=pipeline.pk).exists():
            raise ValidationError({"name": _("A pipeline with this name exists.")})
        pipeline.name = name
    if is_active is not None:
        pipeline.is_active = bool(is_active)
    if is_default is not None:
        if not is_default and pipeline.is_default:
            raise ValidationError({"is_default": _("Make another pipeline the default instead.")})
        pipeline.is_default = bool(is_default)
    if pipeline.is_default and not pipeline.is_active:
        raise ValidationError({"is_active": _("The default pipeline cannot be deactivated; make another the default.")})
    if pipeline.is_default and not before["is_default"]:
        missing = missing_kinds(pipeline)
        if missing:
            raise ValidationError(
                {
                    "is_default": _(
                        "Only a pipeline with active open, won and lost stages can be the default; %(kinds)s missing."
                    )
                    % {"kinds": ", ".join(_kind_label(k) for k in missing)}
                }
            )
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    changes = diff(before, snapshot(pipeline, PIPELINE_FIELDS))
    if changes:
        pipeline.updated_at = timezone.now()
        pipeline.save(update_fields=["name", "is_default", "is_active", "updated_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=pipeline, changes=changes)
    return pipeline


@transaction.atomic
def stage_update(
    *, actor: User, stage: Stage, name: str | None = None, kind=None, probability=None, is_active=None
) -> Stage:
    """Rename a stage, change its kind or default probability, deactivate or reactivate it.
    The kind of a stage that holds deals does not change (their status follows it): move them first.
    A new default probability applies to deals moved into the stage from now on."""
    _check_manager(actor)
    stage = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    before = snapshot(stage, STAGE_FIELDS)
    missing_before = missing_kinds(stage.pipeline)
    if name is not None:
        name = _clean_name(name, 60)
        if Stage.objects.filter(pipeline_id=stage.pipeline_id, name=name).exclude(pk=stage.pk).exists():
            raise ValidationError({"name": _("This pipeline has a stage of this name.")})
        stage.name = name
    if kind is not None and kind != stage.kind:
        if kind not in StageKind.values:
            raise ValidationError({"kind": _("Choose open, won or lost.")})
        held = Opportunity.objects.filter(stage=stage).count()
        if held:
            raise StageInUseError(
                ngettext(
                    "%(n)d deal is in this stage and its status follows the stage's kind: "
                    "move it to another stage first.",
                    "%(n)d deals are in this stage and their status follows the stage's kind: "
                    "move them to another stage first.",
                    held,
                )
                % {"n": held},
                usage=stage_usage(stage),
            )
        stage.kind = kind
    if probability is not None:
        try:
            probability = int(probability)
        except (TypeError, ValueError):
            probability = -1
        if not 0 <= probability <= 100:
            raise ValidationError({"probability": _("The probability is a percentage between 0 and 100.")})
        stage.probability = probability
    if is_active is not None:
        stage.is_active = bool(is_active)
    changes = diff(before, snapshot(stage, STAGE_FIELDS))
    if not changes:
        return stage
    stage.save(update_fields=STAGE_FIELDS)
    _check_keeps_kinds(stage.pipeline, missing_before)
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=stage, changes=changes)
    return stage


def in_use_message(usage) -> str:
    parts = []
    if usage.live:
        parts.append(ngettext("%(n)d deal is in it", "%(n)d deals are in it", usage.live) % {"n": usage.live})
    if usage.deleted:
        parts.append(
            ngettext("%(n)d deal in the recycle bin", "%(n)d deals in the recycle bin", usage.deleted)
            % {"n": usage.deleted}
        )
    if usage.history:
        parts.append(
            ngettext("%(n)d stage-history entry names it", "%(n)d stage-history entries name it", usage.history)
            % {"n": usage.history}
        )
    return _(
        "This stage is in use (%(uses)s), so it cannot be deleted. Deactivate it instead: its deals and "
        "history stay, and no deal can be moved into it. You may first move its deals to another stage."
    ) % {"uses": "; ".join(parts)}


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    """Delete a stage that no deal (live or in the recycle bin) and no stage history names."""
    _check_manager(actor)
    stage = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    usage = stage_usage(stage)
    if usage.in_use:
        raise StageInUseError(in_use_message(usage), usage=usage)
    missing_before = missing_kinds(stage.pipeline)
    pipeline = stage.pipeline
    audit_record(actor=actor, action=AuditAction.DELETE, instance=stage, changes={"name": [stage.name, None]})
    stage.delete()
    _check_keeps_kinds(pipeline, missing_before)


@transaction.atomic
def stage_reorder(*, actor: User, pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put the pipeline's stages in the order given; the list names each of its stages once."""
    _check_manager(actor)
    stages = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != set(stages):
        raise ValidationError({"stage_ids": _("List every stage of this pipeline once.")})
    before = [s.pk for s in sorted(stages.values(), key=lambda s: (s.order, s.pk))]
    names = {pk: s.name for pk, s in stages.items()}
    changed = []
    for position, pk in enumerate(stage_ids, start=1):
        if stages[pk].order != position:
            stages[pk].order = position
            changed.append(stages[pk])
    if changed:
        Stage.objects.bulk_update(changed, ["order"])
    if before != list(stage_ids):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=pipeline,
            changes={"stage order": [[names[pk] for pk in before], [names[pk] for pk in stage_ids]]},
        )
    return [stages[pk] for pk in stage_ids]


def stage_shift(*, actor: User, stage: Stage, up: bool) -> None:
    """Swap a stage with the one before (up) or after it (the page's ↑ and ↓ buttons)."""
    ids = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).order_by("order", "id").values_list("pk", flat=True))
    i = ids.index(stage.pk)
    j = i - 1 if up else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    stage_reorder(actor=actor, pipeline=stage.pipeline, stage_ids=ids)


@transaction.atomic
def stage_move_deals(*, actor: User, stage: Stage, to_stage: Stage, reason: str = "") -> int:
    """Move every live deal of `stage` to `to_stage` of the same pipeline, each through
    opportunity_move (stage history with the time spent, timeline, audit, webhooks).
    Closing needs a reason: the one given, else the deal's own won/lost reason."""
    _check_manager(actor)
    if to_stage.pipeline_id != stage.pipeline_id:
        raise ValidationError({"to_stage": _("Choose a stage of this pipeline.")})
    if to_stage.pk == stage.pk:
        raise ValidationError({"to_stage": _("Choose another stage.")})
    if not to_stage.is_active:
        raise ValidationError({"to_stage": _("This stage is inactive; no deal can be moved into it.")})
    reason = check_text((reason or "").strip(), field="reason", multiline=True, max_length=REASON_MAX_LENGTH)
    deals = list(
        Opportunity.objects.select_for_update()
        .filter(stage=stage, deleted_at__isnull=True)
        .select_related("stage", "owner", "customer", "pipeline")
        .order_by("id")
    )
    if to_stage.kind != StageKind.OPEN and not reason and any(not d.close_reason for d in deals):
        raise ValidationError({"reason": _("Say why these deals are won or lost.")})
    with forecast_batch():
        for deal in deals:
            opportunity_move(
                opportunity=deal,
                stage=to_stage,
                actor=actor,
                reason=reason or deal.close_reason,
                expected_version=deal.version,
            )
    if deals:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=stage,
            changes={"deals moved": [len(deals), to_stage.name]},
        )
    return len(deals)


@transaction.atomic
def target_delete(*, actor: User, target: Target) -> None:
    """Remove a monthly target (the same people who may set it)."""
    if not may_manage_target(actor, level=target.level, department=target.department, user=target.user):
        raise PermissionDenied
    audit_record(
        actor=actor, action=AuditAction.DELETE, instance=target, changes={"amount": [str(target.amount), None]}
    )
    target.delete()
