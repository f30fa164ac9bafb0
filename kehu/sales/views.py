"""Sales pages: the board, the list, an opportunity with its stage history, forms, moves (SAL-2)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from kehu.core import lookups
from kehu.core.forms import apply_errors
from kehu.core.http import back_to
from kehu.core.params import page_param, year_param
from kehu.customers.selectors import customer_get
from kehu.sales import selectors, services, settings_selectors, settings_services
from kehu.sales.forecast import forecast_for, period_from
from kehu.sales.forms import MoveForm, OpportunityFilterForm, OpportunityForm, TargetForm
from kehu.sales.models import Pipeline, StageKind
from kehu.sales.recommend import recommend

PAGE_SIZE = 25

PLAIN_TEXT = "text/plain; charset=utf-8"


def _require(user, perm):
    if not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied


def _pipeline(request) -> tuple[Pipeline, list[Pipeline]]:
    pipelines = settings_selectors.pipelines_active()
    if not pipelines:
        pipelines = [services.default_pipeline()]
    wanted = request.GET.get("pipeline", "")
    for p in pipelines:
        if str(p.pk) == wanted:
            return p, pipelines
    return next((p for p in pipelines if p.is_default), pipelines[0]), pipelines


def _with_stage_menus(cards, stages) -> None:
    """Give each card its stage menu (`stage_menu`): the options are rendered once per stage a card
    can be in, not once per card — a hundred cards each listing every stage were most of the board's
    rendering time. An inactive stage is offered only to the cards still in it."""
    menus = {}
    for card in cards:
        if card.stage_id not in menus:
            menus[card.stage_id] = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (s.pk, mark_safe(" selected") if s.pk == card.stage_id else "", s.menu_label)
                    for s in stages
                    if s.is_active or s.pk == card.stage_id
                ),
            )
        card.stage_menu = menus[card.stage_id]


def board(request):
    _require(request.user, "sales.view_opportunity")
    pipeline, pipelines = _pipeline(request)
    # An inactive stage keeps its column while deals are in it.
    columns = [c for c in selectors.board(request.user, pipeline) if c.stage.is_active or c.count]
    _with_stage_menus([o for c in columns for o in c.cards], [c.stage for c in columns])
    return render(
        request,
        "sales/board.html",
        {
            "pipeline": pipeline,
            "pipelines": pipelines,
            "columns": columns,
            "board_url": request.get_full_path(),
            "today": timezone.localdate(),
            "may_move": request.user.has_perm("sales.change_opportunity"),
            "may_manage": request.user.has_perm("sales.manage_pipelines"),
        },
    )


def _page_number(request) -> int:
    return page_param(request, last=400)


def opportunity_list(request):
    _require(request.user, "sales.view_opportunity")
    form = OpportunityFilterForm(request.GET or None, user=request.user)
    filters = selectors.OpportunityFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.OpportunityFilters(
            q=data["q"].strip(),
            stage=data["stage"],
            status=data["status"],
            owner=data["owner"],
            overdue=data["overdue"],
            sort=data["sort"] or "-updated",
        )
    page = _page_number(request)
    rows, has_next = selectors.opportunity_page(request.user, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sales/opportunity_list.html",
        {
            "form": form,
            "rows": rows,
            "in_service": lookups.ask(lookups.OPEN_TICKET, {o.customer_id for o in rows}),
            "complaining": lookups.ask(lookups.OPEN_COMPLAINT, {o.customer_id for o in rows}),
            "page_number": page,
            "has_next": has_next,
            "query": query.urlencode(),
            "today": timezone.localdate(),
        },
    )


def opportunity_detail(request, pk):
    opportunity = selectors.opportunity_get(request.user, pk)
    return render(
        request,
        "sales/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "history": selectors.stage_history(opportunity),
            "move_form": MoveForm(
                pipeline=opportunity.pipeline,
                initial={"stage": opportunity.stage_id, "version": opportunity.version},
            ),
            "stages": list(settings_selectors.stages_for_moves(opportunity.pipeline, opportunity.stage)),
            "may_change": request.user.has_perm("sales.change_opportunity"),
            "may_delete": request.user.has_perm("sales.delete_opportunity"),
            "may_assign": request.user.has_perm("sales.assign_opportunity"),
        },
    )


def _save_fields(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("version", None)
    if data.get("owner") is None:
        data.pop("owner", None)
    if data.get("probability") is None:
        data.pop("probability", None)
    return data


def opportunity_create(request):
    _require(request.user, "sales.add_opportunity")
    try:
        customer = customer_get(request.user, request.GET.get("customer") or request.POST.get("customer"))
    except Http404:
        messages.info(request, _("Open a customer and start the opportunity from there."))
        return redirect("customers:customer-list")
    form = OpportunityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(customer=customer, actor=request.user, **_save_fields(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Opportunity opened."))
            return redirect("sales:opportunity-detail", pk=opportunity.pk)
    return render(request, "sales/opportunity_form.html", {"form": form, "customer": customer})


def opportunity_edit(request, pk):
    opportunity = selectors.opportunity_get(request.user, pk)
    _require(request.user, "sales.change_opportunity")
    form = OpportunityForm(request.POST or None, instance=opportunity, user=request.user)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.opportunity_get(request.user, pk)
        fields = {n: form.cleaned_data[n] for n in form.changed_data if n != "version"}
        fields = {n: v for n, v in fields.items() if not (n in ("owner", "probability") and v is None)}
        if fields.get("amount", "") is None:
            fields.pop("amount")
        try:
            services.opportunity_update(
                opportunity=fresh,
                actor=request.user,
                expected_version=form.cleaned_data.get("version") or 0,
                **fields,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:opportunity-detail", pk=pk)
    return render(
        request,
        "sales/opportunity_form.html",
        {"form": form, "opportunity": opportunity, "customer": opportunity.customer},
    )


@require_POST
def opportunity_move(request, pk):
    """From the board (drag and drop through htmx, or the stage menu of a card) and the page."""
    opportunity = selectors.opportunity_get(request.user, pk)
    _require(request.user, "sales.change_opportunity")
    form = MoveForm(request.POST, pipeline=opportunity.pipeline)
    detail = reverse("sales:opportunity-detail", args=[pk])
    if not form.is_valid():
        if request.htmx:
            return HttpResponse(_("Choose a stage of this pipeline."), status=400, content_type=PLAIN_TEXT)
        messages.error(request, _("Choose a stage of this pipeline."))
        return redirect(detail)
    stage = form.cleaned_data["stage"]
    if stage.kind != StageKind.OPEN and not form.cleaned_data["reason"].strip():
        # Closing needs a reason: the board sends the user to the page that asks for one.
        target = f"{detail}?close={stage.pk}#close"
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    previous = opportunity.stage
    try:
        services.opportunity_move(
            opportunity=opportunity,
            stage=stage,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        text = " ".join(exc.messages)
        if request.htmx:
            # Plain text: the board shows it with textContent, and a message may quote a name.
            return HttpResponse(
                text,
                status=409 if getattr(exc, "code", "") == "concurrent_edit" else 400,
                content_type=PLAIN_TEXT,
            )
        messages.error(request, text)
        return redirect(detail)
    if request.htmx:
        return _moved_on_board(request, opportunity, [previous, stage])
    messages.success(request, _("Moved to %(stage)s.") % {"stage": stage.name})
    return redirect(back_to(request, detail))


def _moved_on_board(request, opportunity, stages):
    """What the board swaps in after a drag: both column headers, counted again, and the card
    (new version, stage menu): htmx out-of-band swaps, two queries."""
    board_url = request.htmx.current_url_abs_path or reverse("sales:board")
    if opportunity.status == StageKind.OPEN:
        _with_stage_menus([opportunity], settings_selectors.stages_for_moves(opportunity.pipeline, opportunity.stage))
    return render(
        request,
        "sales/board.html#moved",
        {
            "moved_columns": selectors.board_columns(request.user, opportunity.pipeline, stages),
            "o": opportunity if opportunity.status == StageKind.OPEN else None,
            "board_url": board_url,
            "today": timezone.localdate(),
            "may_move": True,
        },
    )


def opportunity_delete(request, pk):
    """GET asks to confirm (works without JavaScript); POST moves the deal to the recycle bin."""
    opportunity = selectors.opportunity_get(request.user, pk)
    _require(request.user, "sales.delete_opportunity")
    if request.method != "POST":
        return render(request, "sales/opportunity_confirm_delete.html", {"opportunity": opportunity})
    services.opportunity_delete(opportunity=opportunity, actor=request.user)
    messages.success(request, _("%(name)s was moved to the recycle bin.") % {"name": opportunity.name})
    return redirect("sales:board")


def recycle_bin(request):
    _require(request.user, "sales.delete_opportunity")
    return render(
        request,
        "sales/recycle_bin.html",
        {"rows": selectors.deleted_opportunities_for(request.user)[:200]},
    )


@require_POST
def opportunity_restore(request, pk):
    opportunity = selectors.deleted_opportunity_get(request.user, pk)
    try:
        services.opportunity_restore(opportunity=opportunity, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("sales:recycle-bin")
    messages.success(request, _("%(name)s is restored.") % {"name": opportunity.name})
    return redirect("sales:opportunity-detail", pk=opportunity.pk)


def _year(request) -> int:
    # The forecast's years, as in the API.
    return year_param(request, earliest=2000, latest=2100)


def forecast(request):
    _require(request.user, "sales.view_forecast")
    # ?year= is what links and bookmarks made before the rolling window used.
    period = period_from(request.GET.get("period") or request.GET.get("year"))
    result = forecast_for(request.user, period)
    chart = {
        "months": [m.strftime("%Y-%m") for m in result.months],
        "series": {
            "weighted": [str(result.team[m].weighted) for m in result.months],
            "committed": [str(result.team[m].committed) for m in result.months],
            "won": [str(result.team[m].won) for m in result.months],
            "target": [
                str(result.team[m].target) if result.team[m].target is not None else None for m in result.months
            ],
        },
        "labels": {
            "weighted": _("Weighted"),
            "committed": pgettext("forecast", "Committed"),
            "won": _("Won"),
            "target": _("Target"),
        },
    }
    this_year = timezone.localdate().year
    years = sorted({this_year - 1, this_year, this_year + 1, *([period.year] if period.year else [])})
    return render(
        request,
        "sales/forecast.html",
        {
            "f": result,
            "chart": chart,
            "period": period,
            "years": years,
            "overdue": selectors.overdue_deals(request.user),
            "overdue_url": reverse("sales:opportunity-list") + "?overdue=1&sort=close",
        },
    )


def targets(request):
    _require(request.user, "sales.set_targets")
    year = _year(request)
    form = TargetForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.target_set(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Target saved."))
            return redirect(reverse("sales:targets") + f"?year={form.cleaned_data['month'].year}")
    rows = settings_selectors.targets_for(request.user, year=year)
    return render(request, "sales/targets.html", {"form": form, "rows": rows, "year": year})


@require_POST
def target_delete(request, pk):
    _require(request.user, "sales.set_targets")
    target = settings_selectors.targets_for(request.user).filter(pk=pk).first()
    if target is None:
        raise Http404
    settings_services.target_delete(actor=request.user, target=target)
    messages.success(request, _("Target removed."))
    return redirect(reverse("sales:targets") + f"?year={target.month.year}")


def opportunity_recommend(request, pk):
    """Who should take it (SAL-8): the manager's team ranked for this deal, with the reasons."""
    opportunity = selectors.opportunity_get(request.user, pk)
    _require(request.user, "sales.assign_opportunity")
    if request.method == "POST":
        owner = next(
            (c.user for c in recommend(request.user, opportunity) if str(c.user.pk) == request.POST.get("owner")), None
        )
        if owner is None:
            messages.error(request, _("Choose someone in your team."))
        else:
            try:
                services.opportunity_assign(opportunity=opportunity, owner=owner, actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("%(name)s now owns this opportunity.") % {"name": owner.display_name})
                return redirect("sales:opportunity-detail", pk=pk)
    return render(
        request,
        "sales/recommend.html",
        {"opportunity": opportunity, "candidates": recommend(request.user, opportunity)},
    )
