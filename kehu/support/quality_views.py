"""Pages of service quality (SRV-5) under /service/quality/: inspections, improvement actions, the
daily quality-anomaly reports and the quality settings."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kehu.catalog.models import Product, Specification
from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import date_param, page_param, parse_date, text_param
from kehu.support import quality_report, quality_services
from kehu.support.models_quality import (
    ActionSource,
    ActionState,
    DailyQualityReport,
    DefectType,
    ImprovementAction,
    Inspection,
    QualitySettings,
)
from kehu.support.models_returns import ReturnRemedy, ReturnState
from kehu.users.models import User

PAGE_SIZE = 50


def _require(user, perm):
    if not user.has_perm(perm):
        raise PermissionDenied


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class InspectionForm(forms.Form):
    inspected_on = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.none())
    specification = forms.ModelChoiceField(
        label=gettext_lazy("Specification"), queryset=Specification.objects.none(), required=False
    )
    batch = forms.CharField(label=gettext_lazy("Batch"), max_length=60, required=False)
    inspected_quantity = forms.IntegerField(label=gettext_lazy("Inspected quantity"), min_value=1)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, defect_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(deleted_at__isnull=True).order_by("code")
        self.fields["specification"].queryset = Specification.objects.select_related("product").order_by("code")
        self.defect_types = list(defect_types)
        for t in self.defect_types:
            self.fields[f"defect_{t.pk}"] = forms.IntegerField(
                label=t.name, min_value=0, required=False, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
            )


class ActionForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner = forms.ModelChoiceField(label=gettext_lazy("Owner"), queryset=User.objects.none())
    due_on = forms.DateField(
        label=gettext_lazy("Deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=ActionSource.choices)
    source_id = forms.IntegerField(label=gettext_lazy("Source record (number)"), required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")


class SettingsForm(forms.Form):
    recipients = forms.CharField(
        label=gettext_lazy("Daily report recipients"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One e-mail address a line."),
    )
    defect_rate_threshold = forms.DecimalField(
        label=gettext_lazy("Defect rate above which an inspection is an anomaly (%)"), max_digits=5, decimal_places=2
    )
    report_hour = forms.IntegerField(
        label=gettext_lazy("Report made from this hour of the morning"), min_value=0, max_value=23
    )
    hourly_rate = forms.DecimalField(
        label=gettext_lazy("Engineer's hourly rate (CNY)"), max_digits=10, decimal_places=2
    )
    retained_months = forms.IntegerField(
        label=gettext_lazy("Service counts for this many months"), min_value=1, max_value=60
    )


def _may_see_quality(user) -> bool:
    return user.has_perm("support.view_inspection") or user.has_perm("support.view_dailyqualityreport")


@require_GET
def quality_home(request):
    """The menu's entry: the inspections for the quality people, else service economics."""
    if request.user.has_perm("support.view_inspection"):
        return inspection_list(request)
    if request.user.has_perm("support.view_service_economics"):
        from kehu.support.economics_views import economics_page

        return economics_page(request)
    raise PermissionDenied


@require_GET
def inspection_list(request):
    _require(request.user, "support.view_inspection")
    qs = Inspection.objects.select_related("product", "specification", "inspector").order_by("-inspected_on", "-pk")
    start, end = date_param(request, "from"), date_param(request, "to")
    if start:
        qs = qs.filter(inspected_on__gte=start)
    if end:
        qs = qs.filter(inspected_on__lte=end)
    page = page_param(request)
    result = page_of(qs, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    threshold = QualitySettings.load().defect_rate_threshold
    for row in result.rows:
        row.anomaly = row.defect_rate > threshold
    return render(
        request,
        "support/quality/inspections.html",
        {
            "result": result,
            "rows": result.rows,
            "page": page,
            "query": _query(request),
            "tab": "inspections",
            "threshold": threshold,
            "start": start,
            "end": end,
        },
    )


def inspection_new(request):
    _require(request.user, "support.add_inspection")
    types = DefectType.objects.filter(is_active=True).order_by("name")
    form = InspectionForm(request.POST or None, defect_types=types, initial={"inspected_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        defects = [(t, data.get(f"defect_{t.pk}") or 0) for t in form.defect_types]
        try:
            quality_services.inspection_record(
                actor=request.user,
                inspected_on=data["inspected_on"],
                product=data["product"],
                specification=data["specification"],
                batch=data["batch"],
                inspected_quantity=data["inspected_quantity"],
                defects=defects,
                note=data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Inspection recorded."))
            return redirect("support:inspection-list")
    return render(request, "support/quality/inspection_form.html", {"form": form, "tab": "inspections"})


@require_GET
def action_list(request):
    _require(request.user, "support.view_improvementaction")
    state = text_param(request, "state", 10)
    qs = ImprovementAction.objects.select_related("owner").order_by("due_on", "pk")
    if state in ActionState.values:
        qs = qs.filter(state=state)
    elif state != "all":
        state = ""
        qs = qs.exclude(state=ActionState.VERIFIED)
    page = page_param(request)
    result = page_of(qs, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    today = timezone.localdate()
    for row in result.rows:
        row.overdue = row.state == ActionState.OPEN and row.due_on < today
    return render(
        request,
        "support/quality/actions.html",
        {
            "result": result,
            "rows": result.rows,
            "page": page,
            "query": _query(request),
            "tab": "actions",
            "state": state,
            "states": ActionState.choices,
            "may_change": request.user.has_perm("support.change_improvementaction"),
        },
    )


def action_new(request):
    _require(request.user, "support.add_improvementaction")
    form = ActionForm(request.POST or None, initial={"due_on": timezone.localdate() + timedelta(days=14)})
    if request.method == "POST" and form.is_valid():
        try:
            quality_services.action_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Improvement action added."))
            return redirect("support:action-list")
    return render(request, "support/quality/action_form.html", {"form": form, "tab": "actions"})


@require_POST
def action_move(request, pk):
    user = request.user
    if not (
        user.has_perm("support.view_improvementaction") or ImprovementAction.objects.filter(pk=pk, owner=user).exists()
    ):
        raise PermissionDenied
    action = ImprovementAction.objects.filter(pk=pk).first()
    if action is None:
        raise Http404
    try:
        quality_services.action_transition(action=action, actor=user, to=request.POST.get("to", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved."))
    return redirect("support:action-list")


def report_list(request):
    _require(request.user, "support.view_dailyqualityreport")
    if request.method == "POST":
        _require(request.user, "support.manage_quality")
        day = parse_date(str(request.POST.get("day", "")).strip()[:10]) or (timezone.localdate() - timedelta(days=1))
        if day > timezone.localdate():
            messages.error(request, _("The date cannot be in the future."))
            return redirect("support:quality-report-list")
        report = quality_report.report_generate(day=day, actor=request.user, mail=request.POST.get("mail") == "1")
        messages.success(request, _("The report of %(day)s was made.") % {"day": day.isoformat()})
        return redirect("support:quality-report-detail", pk=report.pk)
    page = page_param(request)
    result = page_of(DailyQualityReport.objects.order_by("-day"), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    for row in result.rows:
        row.anomalies = quality_report.anomaly_count(row.data)
        row.tickets = row.data.get("tickets", {}).get("total", 0)
    return render(
        request,
        "support/quality/reports.html",
        {
            "result": result,
            "rows": result.rows,
            "page": page,
            "query": _query(request),
            "tab": "reports",
            "yesterday": timezone.localdate() - timedelta(days=1),
            "may_generate": request.user.has_perm("support.manage_quality"),
        },
    )


@require_GET
def report_detail(request, pk):
    _require(request.user, "support.view_dailyqualityreport")
    report = DailyQualityReport.objects.filter(pk=pk).first()
    if report is None:
        raise Http404
    data = report.data
    remedies, states, sources = dict(ReturnRemedy.choices), dict(ReturnState.choices), dict(ActionSource.choices)
    for row in data.get("rmas", {}).get("rows", []):
        row["remedy_label"] = remedies.get(row.get("remedy"), row.get("remedy"))
        row["state_label"] = states.get(row.get("state"), row.get("state"))
    for row in data.get("overdue_actions", []):
        row["source_label"] = sources.get(row.get("source"), row.get("source"))
    return render(
        request,
        "support/quality/report_detail.html",
        {"report": report, "data": data, "tab": "reports", "anomalies": quality_report.anomaly_count(data)},
    )


def quality_settings(request):
    _require(request.user, "support.manage_quality")
    found = QualitySettings.load()
    form = SettingsForm(
        request.POST if request.method == "POST" and "recipients" in request.POST else None,
        initial={
            "recipients": found.recipients,
            "defect_rate_threshold": found.defect_rate_threshold,
            "report_hour": found.report_hour,
            "hourly_rate": found.hourly_rate,
            "retained_months": found.retained_months,
        },
    )
    if request.method == "POST" and "defect_type" in request.POST:
        try:
            quality_services.defect_type_create(name=request.POST.get("defect_type", "")[:100], actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Defect type added."))
        return redirect("support:quality-settings")
    if form.is_bound and form.is_valid():
        try:
            quality_services.quality_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("support:quality-settings")
    return render(
        request,
        "support/quality/settings.html",
        {"form": form, "defect_types": DefectType.objects.order_by("name"), "tab": "settings"},
    )
