"""Sales set-up pages for administrators (SAL-2): pipelines and their stages. Every button is a
plain form, so reordering, deactivating and deleting work without JavaScript."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.sales import services, settings_selectors, settings_services
from kehu.sales.forms import PipelineCreateForm, PipelineForm, StageForm, StageMoveDealsForm


def _require_manager(user) -> None:
    if not user.is_authenticated or not user.has_perm("sales.manage_pipelines"):
        raise PermissionDenied


def _pipeline_or_404(pk):
    pipeline = settings_selectors.pipeline_get(pk)
    if pipeline is None:
        raise Http404
    return pipeline


def _stage_or_404(pk):
    stage = settings_selectors.stage_get(pk)
    if stage is None:
        raise Http404
    return stage


def _errors(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def pipeline_settings(request):
    """The pipelines with their stage and deal counts, and a form to add one."""
    _require_manager(request.user)
    form = PipelineCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.pipeline_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Pipeline added: now add its stages."))
            return redirect("sales:pipeline-edit", pk=pipeline.pk)
    return render(
        request,
        "sales/pipeline_settings.html",
        {"rows": settings_selectors.pipelines_with_counts(), "form": form},
    )


def _pipeline_page(request, pipeline, *, form=None, stage_form=None, status=200):
    return render(
        request,
        "sales/pipeline_edit.html",
        {
            "pipeline": pipeline,
            "summary": settings_selectors.pipeline_settings(pipeline),
            "form": form
            or PipelineForm(
                initial={"name": pipeline.name, "is_default": pipeline.is_default, "is_active": pipeline.is_active}
            ),
            "stage_form": stage_form or StageForm(initial={"kind": "open", "probability": 0}),
            "kinds": StageForm.base_fields["kind"].choices,
        },
        status=status,
    )


def pipeline_edit(request, pk):
    """Rename, make the default, (de)activate; the stages with their own forms below."""
    _require_manager(request.user)
    pipeline = _pipeline_or_404(pk)
    if request.method != "POST":
        return _pipeline_page(request, pipeline)
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            settings_services.pipeline_update(actor=request.user, pipeline=pipeline, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:pipeline-edit", pk=pipeline.pk)
    return _pipeline_page(request, _pipeline_or_404(pk), form=form, status=400)


@require_POST
def stage_create(request, pk):
    _require_manager(request.user)
    pipeline = _pipeline_or_404(pk)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            services.stage_create(actor=request.user, pipeline=pipeline, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Stage added."))
            return redirect("sales:pipeline-edit", pk=pipeline.pk)
    return _pipeline_page(request, pipeline, stage_form=form, status=400)


@require_POST
def stage_edit(request, pk):
    """A row of the stage table: name, kind, default probability."""
    _require_manager(request.user)
    stage = _stage_or_404(pk)
    form = StageForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("%(stage)s was not saved: %(errors)s")
            % {"stage": stage.name, "errors": " ".join(e for errs in form.errors.values() for e in errs)},
        )
    else:
        try:
            settings_services.stage_update(actor=request.user, stage=stage, **form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Saved."))
    return redirect("sales:pipeline-edit", pk=stage.pipeline_id)


@require_POST
def stage_shift(request, pk):
    """The ↑ and ↓ buttons."""
    _require_manager(request.user)
    stage = _stage_or_404(pk)
    settings_services.stage_shift(actor=request.user, stage=stage, up=request.POST.get("direction") == "up")
    return redirect(reverse("sales:pipeline-edit", args=[stage.pipeline_id]) + f"#stage-{stage.pk}")


@require_POST
def stage_activate(request, pk):
    """Deactivate (active=0) or reactivate (active=1) a stage."""
    _require_manager(request.user)
    stage = _stage_or_404(pk)
    active = request.POST.get("active") == "1"
    try:
        settings_services.stage_update(actor=request.user, stage=stage, is_active=active)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        if active:
            messages.success(request, _("%(stage)s is active again.") % {"stage": stage.name})
        else:
            messages.success(
                request, _("%(stage)s is deactivated: no deal can be moved into it.") % {"stage": stage.name}
            )
    return redirect("sales:pipeline-edit", pk=stage.pipeline_id)


def stage_delete(request, pk):
    """GET: confirm, or say why the stage cannot go and offer to deactivate it or move its deals.
    POST: delete it."""
    _require_manager(request.user)
    stage = _stage_or_404(pk)
    usage = settings_selectors.stage_usage(stage)
    if request.method == "POST":
        try:
            settings_services.stage_delete(actor=request.user, stage=stage)
        except ValidationError as exc:
            _errors(request, exc)
            return redirect("sales:stage-delete", pk=stage.pk)
        messages.success(request, _("Stage %(stage)s deleted.") % {"stage": stage.name})
        return redirect("sales:pipeline-edit", pk=stage.pipeline_id)
    return _stage_delete_page(request, stage, usage, StageMoveDealsForm(stage=stage))


def _stage_delete_page(request, stage, usage, move_form, status=200):
    return render(
        request,
        "sales/stage_delete.html",
        {
            "stage": stage,
            "usage": usage,
            "message": settings_services.in_use_message(usage) if usage.in_use else "",
            "move_form": move_form,
        },
        status=status,
    )


@require_POST
def stage_move_deals(request, pk):
    """Move every deal of the stage to another one, each through the usual move (history kept)."""
    _require_manager(request.user)
    stage = _stage_or_404(pk)
    form = StageMoveDealsForm(request.POST, stage=stage)
    if form.is_valid():
        try:
            moved = settings_services.stage_move_deals(
                actor=request.user,
                stage=stage,
                to_stage=form.cleaned_data["to_stage"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                ngettext("%(n)d deal moved to %(stage)s.", "%(n)d deals moved to %(stage)s.", moved)
                % {"n": moved, "stage": form.cleaned_data["to_stage"].name},
            )
            return redirect("sales:stage-delete", pk=stage.pk)
    return _stage_delete_page(request, stage, settings_selectors.stage_usage(stage), form, status=400)
