"""Pages of the information-collection workflow (CUS-3): list, new, detail with its actions,
edit, and the routing table. Each parses input, calls a selector or a service, renders."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.collection import selectors, services
from kehu.collection.forms import ApproveForm, CalendarDayForm, FilterForm, InfoFormForm, ReturnForm, RouteForm
from kehu.collection.models import InfoFormStatus
from kehu.core.forms import apply_errors
from kehu.core.params import id_param, page_param
from kehu.customers.selectors import customer_duplicates, customer_get
from kehu.users.models import User
from kehu.users.roles import Role, role_permissions
from kehu.users.selectors import scope_users_q

PAGE_SIZE = 25
S = InfoFormStatus


def _require_any(user, *perms):
    if not any(user.has_perm(p) for p in perms):
        raise PermissionDenied


def infoform_list(request):
    _require_any(request.user, "collection.file_form", "collection.approve_form", "collection.archive_form")
    form = FilterForm(request.GET or None)
    status, waiting = "", False
    if form.is_valid():
        status = form.cleaned_data["status"] or ""
        waiting = form.cleaned_data["waiting"]
    page = page_param(request)
    result = selectors.infoform_page(
        request.user, status=status, waiting=waiting, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "collection/infoform_list.html",
        {
            "filter": form,
            "forms": result.rows,
            "page": page,
            "has_next": result.has_next,
            "query": query.urlencode(),
        },
    )


def _form_fields(request, form) -> dict:
    fields = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "customer_id")}
    customer_id = form.cleaned_data.get("customer_id")
    fields["customer"] = customer_get(request.user, customer_id) if customer_id else None
    return fields


def infoform_create(request):
    _require_any(request.user, "collection.file_form")
    initial = {}
    if customer_id := id_param(request, "customer"):
        customer = customer_get(request.user, customer_id)
        initial = {
            "customer_id": customer.pk,
            "name": customer.name,
            "region": customer.region,
            "city": customer.city,
            "industry": customer.industry,
        }
    form = InfoFormForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.infoform_create(
                actor=request.user, file="file" in request.POST, **_form_fields(request, form)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Information form filed.") if "file" in request.POST else _("Draft saved."))
            return redirect(reverse("collection:infoform-detail", args=[created.pk]))
    return render(request, "collection/infoform_form.html", {"form": form})


def infoform_edit(request, pk):
    info = selectors.infoform_get(request.user, pk)
    if info.owner_id != request.user.pk:
        raise PermissionDenied
    form = InfoFormForm(request.POST or None, instance=info)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.infoform_get(request.user, pk)
        try:
            fields = _form_fields(request, form)
            saved = services.infoform_update(
                form=fresh, actor=request.user, expected_version=form.cleaned_data.get("version") or 0, **fields
            )
            if "file" in request.POST:
                services.infoform_transition(form=saved, actor=request.user, to=S.FILED)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(reverse("collection:infoform-detail", args=[pk]))
    return render(request, "collection/infoform_form.html", {"form": form, "info": info})


def infoform_detail(request, pk, approve_form=None, return_form=None):
    info = selectors.infoform_get(request.user, pk)
    user = request.user
    can_review = info.status == S.FILED and services.may_review(user, info)
    duplicates = []
    if can_review and info.customer_id is None:
        duplicates = customer_duplicates(
            user, name=info.name, phone=info.phone, email=info.email, credit_code=info.credit_code
        )
    return render(
        request,
        "collection/infoform_detail.html",
        {
            "info": info,
            "steps": selectors.steps_of(info),
            "can_edit": info.owner_id == user.pk and info.status in services.EDITABLE,
            "can_review": can_review,
            "can_archive": info.status == S.APPROVED and user.has_perm("collection.archive_form"),
            "duplicates": duplicates,
            "route": services.route_for(info.region) if can_review and info.customer_id is None else None,
            "approve_form": approve_form or ApproveForm(),
            "return_form": return_form or ReturnForm(),
        },
    )


def _move(request, pk, to, **kwargs):
    info = selectors.infoform_get(request.user, pk)
    try:
        services.infoform_transition(form=info, actor=request.user, to=to, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    return True


@require_POST
def infoform_file(request, pk):
    if _move(request, pk, S.FILED):
        messages.success(request, _("Information form filed."))
    return redirect(reverse("collection:infoform-detail", args=[pk]))


@require_POST
def infoform_approve(request, pk):
    info = selectors.infoform_get(request.user, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return infoform_detail(request, pk, approve_form=form)
    link_id = form.cleaned_data.get("link_customer")
    link = customer_get(request.user, link_id) if link_id else None
    try:
        services.infoform_transition(
            form=info,
            actor=request.user,
            to=S.APPROVED,
            link_customer=link,
            create_anyway=form.cleaned_data["create_anyway"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Information form approved; it now waits for archiving."))
    return redirect(reverse("collection:infoform-detail", args=[pk]))


@require_POST
def infoform_return(request, pk):
    selectors.infoform_get(request.user, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        info = selectors.infoform_get(request.user, pk)
        if not services.may_review(request.user, info):
            raise PermissionDenied
        return infoform_detail(request, pk, return_form=form)
    if _move(request, pk, S.RETURNED, reason=form.cleaned_data["reason"]):
        messages.success(request, _("Information form returned to its collector."))
    return redirect(reverse("collection:infoform-detail", args=[pk]))


@require_POST
def infoform_archive(request, pk):
    if _move(request, pk, S.ARCHIVED):
        messages.success(request, _("Information form archived."))
    return redirect(reverse("collection:infoform-detail", args=[pk]))


def routable_reps(user):
    """Active people who may own customers: everyone for an administrator, the team for a manager."""
    roles = [r for r in Role.values if "customers.add_customer" in role_permissions(r)]
    qs = User.objects.filter(is_active=True, role__in=roles).order_by("username")
    return qs if user.has_perm("users.manage_users") else qs.filter(scope_users_q(user))


def route_list(request):
    user = request.user
    if not selectors.may_see_routes(user):
        raise PermissionDenied
    may_edit = user.has_perm("collection.approve_form") or user.has_perm("users.manage_users")
    form = RouteForm(request.POST or None, reps=routable_reps(user)) if may_edit else None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.region_route_set(actor=user, region=form.cleaned_data["region"], rep=form.cleaned_data["rep"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Route saved."))
                return redirect(reverse("collection:route-list"))
    routes = list(selectors.routes())
    for route in routes:  # only routes to one's own team can be removed: no button for the others
        route.may_remove = may_edit and services.in_reach(user, route.rep)
    return render(
        request,
        "collection/route_list.html",
        {"routes": routes, "form": form, "may_edit": may_edit},
    )


@require_POST
def route_delete(request, pk):
    services.region_route_delete(actor=request.user, route=selectors.route_get(pk))
    messages.success(request, _("Route removed."))
    return redirect(reverse("collection:route-list"))


def calendar(request):
    """The working-day calendar the deadlines are counted in: everyone in the workflow reads it,
    administrators (users.change_settings) record holidays and make-up days."""
    user = request.user
    if not selectors.may_see_routes(user) and not user.has_perm("collection.archive_form"):
        raise PermissionDenied
    may_edit = user.has_perm("users.change_settings")
    form = CalendarDayForm(request.POST or None) if may_edit else None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.calendar_day_set(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Calendar saved."))
                return redirect(reverse("collection:calendar"))
    return render(
        request,
        "collection/calendar.html",
        {"days": selectors.calendar_days(), "form": form, "may_edit": may_edit},
    )


@require_POST
def calendar_delete(request, pk):
    services.calendar_day_delete(actor=request.user, entry=selectors.calendar_day_get(pk))
    messages.success(request, _("Calendar saved."))
    return redirect(reverse("collection:calendar"))
