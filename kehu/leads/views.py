"""Lead pages: the list (by score, overdue highlighted), detail with history and score reasons,
entry and edit, respond / qualify / disqualify / assign / convert, and the public inquiry form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST

from kehu.core.exceptions import ConcurrentEditError
from kehu.core.forms import apply_errors
from kehu.core.http import client_ip
from kehu.core.params import clean_text, page_param, parse_int
from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.services import DuplicateCustomerError
from kehu.leads import forms, scoring, selectors, services, settings_selectors
from kehu.leads.history import lead_history
from kehu.leads.models import LeadSource
from kehu.users.models import User
from kehu.users.selectors import scope_users_q

PAGE_SIZE = 25
# Inquiries one address may send per hour.
INQUIRY_RATE = 5


def _page_number(request) -> int:
    return page_param(request, last=400)


def _assignable(user):
    return User.objects.filter(scope_users_q(user), is_active=True).order_by("username")


def lead_list(request):
    user = request.user
    if not user.has_perm("leads.view_lead"):
        raise PermissionDenied
    form = forms.LeadFilterForm(request.GET or None)
    filters = selectors.LeadFilters()
    if form.is_valid():
        d = form.cleaned_data
        filters = selectors.LeadFilters(
            q=d["q"].strip(),
            status=d["status"],
            source=d["source"],
            region=d["region"].strip(),
            overdue=d["overdue"],
            sort=d["sort"] or "score",
        )
    page = _page_number(request)
    rows, total = selectors.lead_list(user, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "leads/lead_list.html",
        {
            "form": form,
            "rows": rows,
            "total": min(total, selectors.COUNT_CAP),
            "count_is_capped": total > selectors.COUNT_CAP,
            "page_number": page,
            "has_next": page * PAGE_SIZE < total,
            "query": query.urlencode(),
        },
    )


def lead_detail(request, pk):
    lead = selectors.lead_get(request.user, pk)
    user = request.user
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "history": lead_history(selectors.lead_events(lead)),
            "reasons": [scoring.reason_text(r) for r in lead.score_reasons],
            "disqualify_form": forms.DisqualifyForm(),
            "assign_form": forms.AssignForm(users=_assignable(user)) if user.has_perm("leads.assign_lead") else None,
            "convert_form": forms.ConvertForm(),
        },
    )


def lead_create(request):
    if not request.user.has_perm("leads.add_lead"):
        raise PermissionDenied
    form = forms.LeadForm(request.POST or None, initial={"source": LeadSource.MANUAL})
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(actor=request.user, owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("leads:lead-detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form})


def lead_edit(request, pk):
    lead = selectors.lead_get(request.user, pk)
    if not request.user.has_perm("leads.change_lead"):
        raise PermissionDenied
    form = forms.LeadForm(request.POST or None, instance=lead)
    if request.method == "POST":
        version = parse_int(request.POST.get("version", "")) or 0
        original = selectors.lead_get(request.user, pk)
        if form.is_valid():
            try:
                services.lead_update(lead=original, actor=request.user, expected_version=version, **form.cleaned_data)
            except ConcurrentEditError:
                form.add_error(None, _("Someone else changed this lead; reload and try again."))
            except services.LeadTransitionError as exc:
                form.add_error(None, " ".join(exc.messages))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect("leads:lead-detail", pk=pk)
    return render(request, "leads/lead_form.html", {"form": form, "lead": lead})


def _act(request, pk, action):
    lead = selectors.lead_get(request.user, pk)
    try:
        action(lead)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("leads:lead-detail", pk=pk)


@require_POST
def lead_respond(request, pk):
    return _act(
        request,
        pk,
        lambda lead: services.lead_respond(
            lead=lead, actor=request.user, note=clean_text(request.POST.get("note", ""), 300)
        ),
    )


@require_POST
def lead_qualify(request, pk):
    return _act(request, pk, lambda lead: services.lead_qualify(lead=lead, actor=request.user))


@require_POST
def lead_disqualify(request, pk):
    form = forms.DisqualifyForm(request.POST)
    if not form.is_valid():
        selectors.lead_get(request.user, pk)
        messages.error(request, _("Say why the lead is disqualified."))
        return redirect("leads:lead-detail", pk=pk)
    return _act(
        request,
        pk,
        lambda lead: services.lead_disqualify(
            lead=lead, actor=request.user, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
        ),
    )


@require_POST
def lead_assign(request, pk):
    if not request.user.has_perm("leads.assign_lead"):
        raise PermissionDenied
    lead = selectors.lead_get(request.user, pk)
    form = forms.AssignForm(request.POST, users=_assignable(request.user))
    if form.is_valid():
        try:
            services.lead_assign(lead=lead, actor=request.user, owner=form.cleaned_data["owner"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Choose someone in your team."))
    return redirect("leads:lead-detail", pk=pk)


@require_POST
def lead_convert(request, pk):
    if not request.user.has_perm("leads.convert_lead"):
        raise PermissionDenied
    lead = selectors.lead_get(request.user, pk)
    form = forms.ConvertForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("leads:lead-detail", pk=pk)
    d = form.cleaned_data
    customer = None
    if d["customer_id"]:
        customer = customer_qs_visible_to(request.user).filter(pk=d["customer_id"]).first()
        if customer is None:
            messages.error(request, _("No customer with this id is visible to you."))
            return redirect("leads:lead-detail", pk=pk)
    try:
        lead = services.lead_convert(
            lead=lead,
            actor=request.user,
            customer=customer,
            allow_duplicate=d["allow_duplicate"],
            opportunity_name=d["opportunity_name"],
            amount=d["amount"],
        )
    except DuplicateCustomerError as exc:
        names = ", ".join(f"{m.name} (#{m.customer_id})" for m in exc.matches if getattr(m, "in_scope", True))
        messages.error(request, _("This customer may already exist: %(names)s. Link it or confirm.") % {"names": names})
        return redirect("leads:lead-detail", pk=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("leads:lead-detail", pk=pk)
    messages.success(request, _("Lead converted."))
    return redirect(reverse("workspace:customer-detail", args=[lead.converted_customer_id]))


@login_not_required
@xframe_options_exempt
def inquiry(request):
    """The embeddable public inquiry form (询盘): no login, honeypot + signed timestamp + a limit
    per address (in the database, so it holds across processes)."""
    if request.method == "POST":
        form = forms.InquiryForm(request.POST)
        ip = client_ip(request)
        if services.inquiry_attempts(ip) >= INQUIRY_RATE:
            return render(request, "leads/inquiry.html", {"form": form, "limited": True}, status=429)
        services.inquiry_attempt_record(ip)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.inquiry_receive(
                    company_name=d["company_name"],
                    contact_name=d["contact_name"],
                    phone=d["phone"],
                    email=d["email"],
                    region=d["region"],
                    message=d["message"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect("leads:inquiry-thanks")
        fresh = form.data.copy()
        fresh["token"] = forms.inquiry_token()
        fresh["website"] = ""
        errors = form.errors
        form = forms.InquiryForm(fresh)
        form._errors = errors
        return render(request, "leads/inquiry.html", {"form": form}, status=400)
    form = forms.InquiryForm(initial={"token": forms.inquiry_token()})
    return render(request, "leads/inquiry.html", {"form": form})


@login_not_required
@xframe_options_exempt
def inquiry_thanks(request):
    return render(request, "leads/inquiry_thanks.html")


def lead_rules(request):
    """Assignment by region (round-robin among a region's reps), first-response times per source,
    working hours and the learned-score threshold."""
    user = request.user
    if not user.has_perm("leads.manage_rules"):
        raise PermissionDenied
    users = User.objects.filter(is_active=True).order_by("username")
    rule_form = forms.AssignmentRuleForm(users=users)
    sla_form = forms.SlaRuleForm()
    current = settings_selectors.lead_settings_get()
    settings_form = forms.LeadSettingsForm(
        initial={name: getattr(current, name) for name in forms.LeadSettingsForm.base_fields}
    )
    status = 200
    if request.method == "POST":
        if "delete" in request.POST:
            rule = settings_selectors.assignment_rule_list().filter(pk=_int(request.POST.get("delete"))).first()
            if rule is not None:
                services.assignment_rule_delete(actor=user, rule=rule)
            return redirect("leads:lead-rules")
        if "delete_sla" in request.POST:
            sla_rule = settings_selectors.sla_rule_list().filter(pk=_int(request.POST.get("delete_sla"))).first()
            if sla_rule is not None:
                services.sla_rule_delete(actor=user, rule=sla_rule)
            return redirect("leads:lead-rules")
        kind = request.POST.get("kind")
        if kind == "sla":
            sla_form = forms.SlaRuleForm(request.POST)
            if sla_form.is_valid():
                services.sla_rule_set(actor=user, **sla_form.cleaned_data)
                return redirect("leads:lead-rules")
        elif kind == "settings":
            settings_form = forms.LeadSettingsForm(request.POST)
            if settings_form.is_valid():
                try:
                    services.lead_settings_update(actor=user, **settings_form.cleaned_data)
                except ValidationError as exc:
                    apply_errors(settings_form, exc)
                else:
                    messages.success(request, _("Lead settings saved."))
                    return redirect(reverse("leads:lead-rules") + "#settings")
        else:
            rule_form = forms.AssignmentRuleForm(request.POST, users=users)
            if rule_form.is_valid():
                try:
                    services.assignment_rule_set(actor=user, **rule_form.cleaned_data)
                except ValidationError as exc:
                    apply_errors(rule_form, exc)
                else:
                    return redirect("leads:lead-rules")
        status = 400
    return render(
        request,
        "leads/lead_rules.html",
        {
            "rules": settings_selectors.assignment_rule_list(),
            "sla_rules": settings_selectors.sla_rule_list(),
            "rule_form": rule_form,
            "sla_form": sla_form,
            "settings_form": settings_form,
            "model": settings_selectors.scoring_model_latest(),
            "min_closed": current.min_closed_for_learning,
        },
        status=status,
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
