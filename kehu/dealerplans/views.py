"""Pages of the dealer plans (SAL-6) and the sales record (SAL-5): parse, call a selector or a
service, render."""

from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.catalog.models import Product, Specification
from kehu.core.export_pages import handles_export_refusal, reason_of
from kehu.core.forms import apply_errors
from kehu.core.params import id_param, int_param, page_param
from kehu.customers.models import ChannelLevel, Customer
from kehu.customers.selectors import customer_get, customer_qs_visible_to
from kehu.dealerplans import exports, selectors, services
from kehu.dealerplans.export_kinds import SALES_RECORD
from kehu.dealerplans.forms import FilterForm, LineForm, PlanCreateForm, PlanEditForm, SupportForm, VisitForm
from kehu.dealerplans.models import PlanState
from kehu.users.scopes import scope_q

PAGE_SIZE = 25
S = PlanState


def _require_view(user):
    if not user.has_perm("dealerplans.view_dealerplan"):
        raise PermissionDenied


def _this_month():
    return selectors.month_start(timezone.localdate())


def _dealers(user, *, include=None, limit: int = 300):
    """General dealers the user sees (what a sub-distributor's plan may buy from)."""
    qs = customer_qs_visible_to(user).filter(channel_level=ChannelLevel.GENERAL_DEALER)
    found = list(qs.only("id", "name").order_by("name", "id")[:limit])
    if include is not None and include.pk not in {c.pk for c in found}:
        found.append(include)
    return found


def plan_list(request):
    _require_view(request.user)
    form = FilterForm(request.GET or None)
    filters = selectors.PlanFilters()
    if form.is_valid():
        filters = selectors.PlanFilters(
            month=form.cleaned_data["month"],
            state=form.cleaned_data["state"] or "",
            q=form.cleaned_data["q"].strip(),
            customer_id=id_param(request, "customer"),
        )
    page = page_param(request)
    result = selectors.plan_page(request.user, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dealerplans/plan_list.html",
        {"filter": form, "result": result, "page": page, "query": query.urlencode(), "this_month": _this_month()},
    )


def plan_create(request):
    user = request.user
    if not user.has_perm("dealerplans.change_dealerplan"):
        raise PermissionDenied
    customers = selectors.planned_customers(user)
    initial = {"month": f"{_this_month():%Y-%m}"}
    chosen = id_param(request, "customer")
    if chosen:
        customer = customer_get(user, chosen)
        if customer.pk not in {c.pk for c in customers}:
            customers.insert(0, customer)
        initial["customer"] = customer.pk
    if month := selectors.parse_month(request.GET.get("month")):
        initial["month"] = f"{month:%Y-%m}"
    form = PlanCreateForm(request.POST or None, initial=initial, customers=customers, dealers=_dealers(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            customer = customer_get(user, data["customer"])
            upper = customer_get(user, data["upper"]) if data["upper"] else None
            previous = None
            if data["copy_previous"]:
                previous = (
                    selectors.plan_list(
                        user,
                        selectors.PlanFilters(month=selectors.previous_month(data["month"]), customer_id=customer.pk),
                    )
                    .filter(customer_id=customer.pk)
                    .first()
                )
                if previous is None:
                    raise ValidationError({"copy_previous": [_("This customer has no plan for last month.")]})
            if previous is not None:
                plan = services.plan_copy(source=previous, actor=user, month=data["month"])
            else:
                plan = services.plan_create(
                    customer=customer, month=data["month"], actor=user, upper=upper, schedule=data["schedule"]
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Plan created."))
            return redirect(reverse("dealerplans:detail", args=[plan.pk]))
    return render(request, "dealerplans/plan_form.html", {"form": form})


def _visits(user, plan):
    """Visits planned to the plan's customer in the plan's month, through the activities' visibility
    door (one small indexed read: the customer and the month narrow it)."""
    from kehu.activities.models import ActivityKind
    from kehu.activities.selectors import activity_qs_visible_to

    tz = timezone.get_current_timezone()
    start = datetime.combine(plan.month, time.min, tzinfo=tz)
    end = datetime.combine(selectors.next_month(plan.month), time.min, tzinfo=tz)
    return list(
        activity_qs_visible_to(user)
        .filter(
            customer_id=plan.customer_id,
            kind=ActivityKind.VISIT,
            planned_for__gte=start,
            planned_for__lt=end,
        )
        .select_related("owner")
        .only(
            "id",
            "subject",
            "purpose",
            "planned_for",
            "is_done",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
        .order_by("planned_for", "id")[:50]
    )


def _line_form(data=None):
    products = list(Product.objects.filter(deleted_at__isnull=True).only("id", "code", "name").order_by("code")[:300])
    return LineForm(data, products=products, specifications=selectors.specifications_of([p.pk for p in products]))


def plan_detail(request, pk, line_form=None, support_form=None, visit_form=None):
    user = request.user
    plan = selectors.plan_get(user, pk)
    progress = selectors.plan_progress(plan)
    can_change = services.may_change(user, plan)
    is_draft = plan.state == S.DRAFT
    default_visit = datetime.combine(max(plan.month, timezone.localdate()), time(9, 0))
    # A plan is seen through its rep; its customer (or the dealer it buys from) may be outside the
    # reader's data scope: link to them only when they are in it (one small query by primary key).
    seen = set(
        Customer.objects.filter(scope_q(user), pk__in=[i for i in (plan.customer_id, plan.upper_id) if i])
        .filter(deleted_at__isnull=True)
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "dealerplans/plan_detail.html",
        {
            "plan": plan,
            "progress": progress,
            "support": selectors.plan_support(plan),
            "visits": _visits(user, plan),
            "can_edit": can_change and is_draft,
            "can_mark_given": can_change and plan.state in (S.DRAFT, S.AGREED),
            "can_set": services.may_set(user, plan),
            "can_delete": can_change and plan.state != S.CLOSED,
            "can_visit": user.has_perm("activities.add_activity"),
            "next_states": sorted(services.TRANSITIONS[plan.state]),
            "line_form": line_form,
            "support_form": support_form or SupportForm(),
            "visit_form": visit_form or VisitForm(initial={"planned_for": default_visit}),
            "previous": selectors.previous_plan(plan),
            "customer_visible": plan.customer_id in seen,
            "upper_visible": plan.upper_id in seen,
        },
    )


def _changeable(request, pk):
    plan = selectors.plan_get(request.user, pk)
    if not services.may_change(request.user, plan):
        raise PermissionDenied
    return plan


def plan_edit(request, pk):
    plan = _changeable(request, pk)
    dealers = _dealers(request.user, include=plan.upper)
    initial = {"version": plan.version, "upper": plan.upper_id, "schedule": plan.schedule, "notes": plan.notes}
    form = PlanEditForm(request.POST or None, initial=initial, dealers=dealers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            upper = customer_get(request.user, data["upper"]) if data["upper"] else None
            services.plan_update(
                plan=plan,
                actor=request.user,
                expected_version=data["version"],
                upper=upper,
                schedule=data["schedule"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Plan saved."))
            return redirect(reverse("dealerplans:detail", args=[plan.pk]))
    return render(request, "dealerplans/plan_edit.html", {"form": form, "plan": plan})


def _back(plan):
    return redirect(reverse("dealerplans:detail", args=[plan.pk]))


def _errors(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def line_form(request, pk):
    """The target form (its product and specification list is long: loaded when asked for)."""
    plan = _changeable(request, pk)
    if plan.state != S.DRAFT:
        raise PermissionDenied
    context = {"plan": plan, "line_form": _line_form()}
    if request.htmx:
        return render(request, "dealerplans/_line_form.html", context)
    return render(request, "dealerplans/line_form_page.html", context)


@require_POST
def line_put(request, pk):
    plan = _changeable(request, pk)
    form = _line_form(request.POST)
    if not form.is_valid():
        return plan_detail(request, pk, line_form=form)
    target = form.cleaned_data["target"]
    try:
        if target.startswith("s"):
            spec = Specification.objects.select_related("product").get(pk=int(target[1:]))
            product = spec.product
        else:
            spec, product = None, Product.objects.get(pk=int(target[1:]))
        services.plan_line_put(
            plan=plan,
            actor=request.user,
            product=product,
            specification=spec,
            quantity=form.cleaned_data["quantity"],
            amount=form.cleaned_data["amount"],
        )
    except (Product.DoesNotExist, Specification.DoesNotExist, ValueError):
        raise Http404 from None
    except ValidationError as exc:
        apply_errors(form, exc)
        return plan_detail(request, pk, line_form=form)
    return _back(plan)


@require_POST
def line_remove(request, pk, line_pk):
    plan = _changeable(request, pk)
    try:
        services.plan_line_remove(plan=plan, actor=request.user, line_id=line_pk)
    except ValidationError as exc:
        _errors(request, exc)
    return _back(plan)


@require_POST
def support_add(request, pk):
    plan = _changeable(request, pk)
    form = SupportForm(request.POST)
    if not form.is_valid():
        return plan_detail(request, pk, support_form=form)
    try:
        services.support_add(plan=plan, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        apply_errors(form, exc)
        return plan_detail(request, pk, support_form=form)
    return _back(plan)


@require_POST
def support_given(request, pk, support_pk):
    plan = _changeable(request, pk)
    try:
        services.support_set_given(
            plan=plan, actor=request.user, support_id=support_pk, is_given=request.POST.get("given") == "1"
        )
    except ValidationError as exc:
        _errors(request, exc)
    return _back(plan)


@require_POST
def support_remove(request, pk, support_pk):
    plan = _changeable(request, pk)
    try:
        services.support_remove(plan=plan, actor=request.user, support_id=support_pk)
    except ValidationError as exc:
        _errors(request, exc)
    return _back(plan)


STATE_MESSAGES = {
    S.AGREED: gettext_lazy("Plan agreed."),
    S.DRAFT: gettext_lazy("Plan reopened as a draft."),
    S.CLOSED: gettext_lazy("Plan closed."),
}


@require_POST
def plan_state(request, pk):
    plan = selectors.plan_get(request.user, pk)
    to = request.POST.get("to", "")
    try:
        services.plan_transition(plan=plan, actor=request.user, to=to)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, STATE_MESSAGES[to])
    return _back(plan)


@require_POST
def plan_copy(request, pk):
    plan = _changeable(request, pk)
    try:
        copy = services.plan_copy(source=plan, actor=request.user)
    except ValidationError as exc:
        _errors(request, exc)
        return _back(plan)
    messages.success(request, _("Plan copied to %(month)s.") % {"month": f"{copy.month:%Y-%m}"})
    return _back(copy)


@require_POST
def plan_delete(request, pk):
    plan = _changeable(request, pk)
    try:
        services.plan_delete(plan=plan, actor=request.user)
    except ValidationError as exc:
        _errors(request, exc)
        return _back(plan)
    messages.success(request, _("Plan moved to the recycle bin."))
    return redirect(reverse("dealerplans:list"))


def plan_bin(request):
    _require_view(request.user)
    page = page_param(request)
    result = selectors.plan_bin(request.user, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(request, "dealerplans/plan_bin.html", {"result": result, "page": page})


@require_POST
def plan_restore(request, pk):
    plan = selectors.plan_deleted_get(request.user, pk)
    try:
        services.plan_restore(plan=plan, actor=request.user)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect(reverse("dealerplans:bin"))
    messages.success(request, _("Plan restored."))
    return _back(plan)


@require_POST
def visit_create(request, pk):
    plan = selectors.plan_get(request.user, pk)
    form = VisitForm(request.POST)
    if not form.is_valid():
        return plan_detail(request, pk, visit_form=form)
    try:
        services.plan_visit(plan=plan, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        apply_errors(form, exc)
        return plan_detail(request, pk, visit_form=form)
    messages.success(request, _("Visit planned."))
    return _back(plan)


def progress(request):
    """The month's plans against actual in the reader's scope: per dealer, rep and region, with a chart."""
    _require_view(request.user)
    month = selectors.parse_month(request.GET.get("month")) or _this_month()
    summary = selectors.month_summary(request.user, month)
    chart = selectors.summary_chart(summary)
    chart["labels"] = {"target": _("Target"), "actual": _("Actual")}
    return render(
        request,
        "dealerplans/progress.html",
        {
            "summary": summary,
            "chart": chart,
            "month": month,
            "previous": selectors.previous_month(month),
            "next": selectors.next_month(month),
        },
    )


def _record_args(request, pk):
    _require_view(request.user)
    customer = customer_get(request.user, pk)
    year = int_param(request, "year", default=timezone.localdate().year, minimum=1901, maximum=2999)
    product = None
    if product_id := id_param(request, "product"):
        product = Product.objects.filter(pk=product_id).only("id", "code", "name").first()
    return customer, year, product


def sales_record(request, pk):
    customer, year, product = _record_args(request, pk)
    today = timezone.localdate()
    record = selectors.sales_record(customer, year=year, product=product, upto=selectors.month_start(today))
    month = selectors.parse_month(request.GET.get("month"))
    if month is None or month.year != year:
        month = record.months[-1].month if record.months else None
    details, bought_through, sold_on = [], [], []
    if month is not None:
        end = selectors.next_month(month)
        if not record.lower:
            details = list(selectors.record_order_lines(customer, start=month, end=end, product=product)[:500])
        bought_through = (
            list(selectors.record_sell_through(customer, start=month, end=end, product=product, bought=True)[:500])
            if record.lower
            else []
        )
        sold_on = list(
            selectors.record_sell_through(customer, start=month, end=end, product=product, bought=False)[:500]
        )
    return render(
        request,
        "dealerplans/sales_record.html",
        {
            "customer": customer,
            "record": record,
            "year": year,
            "years": list(range(today.year, today.year - 5, -1)),
            "product": product,
            "products": selectors.product_choices(customer),
            "month": month,
            "details": details,
            "bought_through": bought_through,
            "sold_on": sold_on,
        },
    )


@handles_export_refusal
def sales_record_export(request, pk):
    customer, year, product = _record_args(request, pk)
    if not request.user.has_perm(SALES_RECORD.perm):
        raise PermissionDenied
    content = exports.record_export(
        actor=request.user, customer=customer, year=year, product=product, reason=reason_of(request)
    )
    response = HttpResponse(content, content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="sales-record-{customer.pk}-{year}.xlsx"'
    return response
