"""Classification pages: tier suggestions (decide one or many), settings, evaluation and credit
forms reached from the 360° page, and the sales-time allocation report (CLS-1..6)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.classification import approval, forms, selectors, services
from kehu.classification.models import ClassificationSettings, SuggestionStatus
from kehu.classification.tasks import suggest_tiers
from kehu.core.forms import apply_errors
from kehu.core.params import page_param, parse_id
from kehu.customers.selectors import customer_get

PAGE_SIZE = 50


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _page_number(request) -> int:
    return page_param(request)


def suggestion_list(request):
    _require(request, "classification.decide_tier")
    form = forms.SuggestionFilterForm(request.GET or None)
    status, direction = SuggestionStatus.OPEN, ""
    if form.is_valid():
        status = form.cleaned_data["status"] or SuggestionStatus.OPEN
        direction = form.cleaned_data["direction"]
    page = _page_number(request)
    offset = (page - 1) * PAGE_SIZE
    rows = list(
        selectors.suggestion_list(request.user, status=status, direction=direction)[offset : offset + PAGE_SIZE + 1]
    )
    return render(
        request,
        "classification/suggestion_list.html",
        {
            "form": form,
            "suggestions": rows[:PAGE_SIZE],
            "is_open": status == SuggestionStatus.OPEN,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "query": f"status={status}&direction={direction}",
            "may_change_settings": services.may_change_settings(request.user),
        },
    )


def _back(request) -> str:
    target = request.POST.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = reverse("classification:suggestion-list")
    return target


def _row(request, suggestion, error: str = ""):
    """htmx: the suggestion's row, decided or with the error."""
    suggestion = selectors.suggestion_get(request.user, suggestion.pk)
    return render(
        request,
        "classification/suggestion_list.html#suggestion-row",
        {"s": suggestion, "is_open": True, "row_error": error},
    )


@require_POST
def suggestion_decide(request, pk, action):
    """Accept or reject one suggestion; htmx swaps its row, without JavaScript a redirect back."""
    _require(request, "classification.decide_tier")
    suggestion = selectors.suggestion_get(request.user, pk)
    form = forms.DecisionForm(request.POST)
    decide = {"accept": services.suggestion_accept, "reject": services.suggestion_reject}.get(action)
    if decide is None:
        raise Http404
    error = ""
    if not form.is_valid():
        error = _("Give a reason for the decision.")
    else:
        try:
            decide(suggestion=suggestion, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if request.htmx:
        return _row(request, suggestion, error)
    if error:
        messages.error(request, error)
    elif action == "accept":
        messages.success(
            request,
            _("%(name)s is now %(tier)s.")
            % {"name": suggestion.customer.name, "tier": suggestion.get_proposed_tier_display()},
        )
    else:
        messages.success(request, _("Suggestion for %(name)s rejected.") % {"name": suggestion.customer.name})
    return redirect(_back(request))


@require_POST
def suggestion_bulk(request):
    """Accept or reject the ticked suggestions with one reason; each is decided on its own."""
    _require(request, "classification.decide_tier")
    action = request.POST.get("action")
    decide = {"accept": services.suggestion_accept, "reject": services.suggestion_reject}.get(action)
    form = forms.DecisionForm(request.POST)
    ids = [i for i in map(parse_id, request.POST.getlist("ids")[:PAGE_SIZE]) if i is not None]
    if decide is None or not ids:
        messages.error(request, _("Tick at least one suggestion and choose accept or reject."))
        return redirect(_back(request))
    if not form.is_valid():
        messages.error(request, _("Give a reason for the decision."))
        return redirect(_back(request))
    done, failed = 0, []
    for suggestion in selectors.suggestion_qs_visible_to(request.user).filter(pk__in=ids).select_related("customer"):
        try:
            decide(suggestion=suggestion, actor=request.user, reason=form.cleaned_data["reason"])
            done += 1
        except ValidationError as exc:
            failed.append(f"{suggestion.customer.name}: {' '.join(exc.messages)}")
    if done:
        messages.success(
            request, ngettext("%(n)d suggestion decided.", "%(n)d suggestions decided.", done) % {"n": done}
        )
    for line in failed:
        messages.error(request, line)
    return redirect(_back(request))


def settings_edit(request):
    if not services.may_change_settings(request.user):
        raise PermissionDenied
    conf = ClassificationSettings.load()
    form = forms.SettingsForm(request.POST or None, instance=conf)
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(actor=request.user, **{k: form.cleaned_data[k] for k in form.Meta.fields})
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Settings saved. They apply from the next suggestion run."))
            return redirect(reverse("classification:settings"))
    return render(
        request,
        "classification/settings.html",
        {"form": form, "conf": conf},
    )


@require_POST
def suggestions_run(request):
    """Queue the suggestion job now (it also runs daily)."""
    if not services.may_change_settings(request.user):
        raise PermissionDenied
    suggest_tiers.enqueue()
    messages.success(request, _("The suggestion job has been queued; refresh the suggestions in a moment."))
    return redirect(reverse("classification:suggestion-list"))


# --- forms reached from the 360° page ------------------------------------------------------------

CUSTOMER_FORMS = {
    "key-evaluation": (forms.KeyEvaluationForm, "classification.evaluate_customer", _("Key-account evaluation")),
    "dealer-evaluation": (forms.DealerEvaluationForm, "classification.evaluate_customer", _("Dealer evaluation")),
    "revenue": (forms.RevenueForm, "classification.evaluate_customer", _("Revenue and potential")),
    "credit": (forms.CreditForm, "classification.set_credit", _("Credit rating and limit")),
}


def _save(kind: str, *, customer, actor, data: dict):
    if kind == "key-evaluation":
        return services.key_evaluation_create(customer=customer, actor=actor, **data)
    if kind == "dealer-evaluation":
        return services.dealer_evaluation_create(customer=customer, actor=actor, **data)
    if kind == "revenue":
        return services.revenue_record(customer=customer, actor=actor, **data)
    return services.credit_set(customer=customer, actor=actor, **data)


def customer_form(request, pk, kind):
    if kind not in CUSTOMER_FORMS:
        raise Http404
    form_class, perm, title = CUSTOMER_FORMS[kind]
    customer = customer_get(request.user, pk)
    _require(request, perm)
    initial = {}
    if kind == "credit":
        current = selectors.credit_current(customer)
        initial = (
            {"rating": current.rating, "limit": current.limit}
            if current
            else {"limit": ClassificationSettings.load().default_credit_limit(customer.tier)}
        )
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save(kind, customer=customer, actor=request.user, data=dict(form.cleaned_data))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if approval.is_request(saved):
                messages.info(request, _("The limit is above the tier's default: it takes effect once approved."))
            else:
                messages.success(request, _("Saved."))
            return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#classification")
    history = {
        "key-evaluation": lambda: list(selectors.key_evaluations_of(customer)[:10]),
        "dealer-evaluation": lambda: list(selectors.dealer_evaluations_of(customer)[:10]),
        "revenue": lambda: selectors.revenue_of(customer, 10),
        "credit": lambda: list(selectors.credit_records_of(customer)[:10]),
    }[kind]()
    return render(
        request,
        "classification/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "kind": kind,
            "title": title,
            "history": history,
        },
    )


# --- sales-time allocation (CLS-6) --------------------------------------------------------------


def time_report(request):
    _require(request, "classification.view_time_report")
    today = timezone.localdate()
    start, end = today.replace(day=1), today
    form = forms.PeriodForm(request.GET or None, initial={"start": start, "end": end})
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    report = selectors.time_report(request.user, start, end) if not (request.GET and form.errors) else None
    return render(
        request,
        "classification/time_report.html",
        {"form": form, "report": report, "start": start, "end": end},
    )
