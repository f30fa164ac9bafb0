"""Pool pages: the pool list with claim and assign, pool settings, release / exempt from the 360°
page, handover and the handover brief (CUS-7, CUS-9)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.http import back_to
from kehu.core.pagination import capped_count
from kehu.core.params import id_param, page_param
from kehu.customers import selectors as customer_selectors
from kehu.pool import selectors, services
from kehu.pool.forms import AssignForm, ExemptForm, HandoverForm, PoolFilterForm, PoolForm, ReleaseForm
from kehu.pool.models import HandoverStatus, Pool

PAGE_SIZE = 25


def pool_target(user, pk):
    """A pool customer by id: 404 when unknown or outside the user's scope, a conflict when the
    user can see it but it has an owner."""
    try:
        return selectors.pool_customer_get(user, pk)
    except Http404:
        if selectors.may_use_pool(user) and customer_selectors.customer_qs_visible_to(user).filter(pk=pk).exists():
            raise services.PoolConflictError(
                _("This customer is no longer in the public pool."), "not_in_pool"
            ) from None
        raise


def _page_number(request) -> int:
    return page_param(request, last=400)


def pool_list(request):
    user = request.user
    if not selectors.may_use_pool(user):
        raise PermissionDenied
    pools = services.pools_all()
    form = PoolFilterForm(request.GET or None, pools=pools)
    filters = selectors.PoolFilters()
    if form.is_valid():
        filters = selectors.PoolFilters(
            pool=form.cleaned_data["pool"],
            region=form.cleaned_data["region"].strip(),
            tier=form.cleaned_data["tier"],
            q=form.cleaned_data["q"].strip(),
        )
    page = _page_number(request)
    result = selectors.pool_customer_page(user, filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, pools=pools)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": result,
        "page_number": page,
        "query": query.urlencode(),
        "pools": {p.pk: p for p in pools},
        # The team is read once for every row's assign form.
        "assign_users": list(AssignForm(user=user).fields["to_user"].queryset)
        if user.has_perm("pool.assign_customer")
        else None,
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "pool/pool_list.html#results", context)
    return render(request, "pool/pool_list.html", context)


@require_POST
def customer_claim(request, pk):
    if not request.user.has_perm("pool.claim_customer"):
        raise PermissionDenied
    customer = None
    try:
        customer = pool_target(request.user, pk)
        services.pool_claim(customer=customer, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back_to(request, reverse("pool:pool-list")))
    messages.success(request, _("%(name)s is now your customer.") % {"name": customer.name})
    return redirect(reverse("workspace:customer-detail", args=[customer.pk]))


@require_POST
def customer_assign(request, pk):
    user = request.user
    if not user.has_perm("pool.assign_customer"):
        raise PermissionDenied
    form = AssignForm(request.POST, user=user)
    try:
        customer = pool_target(user, pk)
        if not form.is_valid():
            raise ValidationError(_("Choose someone in your team."))
        services.pool_assign(customer=customer, to_user=form.cleaned_data["to_user"], actor=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(name)s is assigned to %(user)s.") % {"name": customer.name, "user": form.cleaned_data["to_user"]},
        )
    return redirect(back_to(request, reverse("pool:pool-list")))


@require_POST
def customer_release(request, pk):
    customer = customer_selectors.customer_get(request.user, pk)
    if not services.may_release(request.user, customer):
        raise PermissionDenied
    form = ReleaseForm(request.POST)
    try:
        if not form.is_valid():
            # A reason that cannot be kept is not dropped silently: nothing is released.
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.pool_release(customer=customer, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("workspace:customer-detail", args=[customer.pk]))
    messages.success(request, _("%(name)s is back in the public pool.") % {"name": customer.name})
    if customer_selectors.customer_qs_visible_to(request.user).filter(pk=customer.pk).exists():
        return redirect(reverse("workspace:customer-detail", args=[customer.pk]))
    return redirect(reverse("pool:pool-list"))


@require_POST
def customer_exempt(request, pk):
    if not request.user.has_perm("pool.assign_customer"):
        raise PermissionDenied
    customer = customer_selectors.customer_get(request.user, pk)
    form = ExemptForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the date."))
    else:
        try:
            services.pool_exempt(
                customer=customer,
                actor=request.user,
                until=form.cleaned_data["exempt_until"],
                reason=form.cleaned_data["exempt_reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Exemption saved."))
    return redirect(reverse("workspace:customer-detail", args=[customer.pk]) + "#pool")


# ---- settings -------------------------------------------------------------------------------


def pool_settings(request):
    if not request.user.has_perm("pool.manage_pools"):
        raise PermissionDenied
    return render(request, "pool/pool_settings.html", {"pools": services.pools_all()})


def pool_edit(request, pk=None):
    if not request.user.has_perm("pool.manage_pools"):
        raise PermissionDenied
    pool = None
    if pk is not None:
        pool = Pool.objects.filter(pk=pk).first()
        if pool is None:
            raise Http404
    form = PoolForm(request.POST or None, instance=pool)
    if request.method == "POST" and form.is_valid():
        fresh = Pool.objects.get(pk=pool.pk) if pool else None
        try:
            services.pool_save(actor=request.user, pool=fresh, **{k: form.cleaned_data[k] for k in form.fields})
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Pool saved."))
            return redirect(reverse("pool:pool-settings"))
    return render(request, "pool/pool_form.html", {"form": form, "pool": pool})


# ---- handover -------------------------------------------------------------------------------


def handover_create(request):
    user = request.user
    if not user.has_perm("customers.handover_customer"):
        raise PermissionDenied
    initial = {}
    if customer_id := id_param(request, "customer"):
        customer = customer_selectors.customer_get(user, customer_id)
        initial = {"scope": HandoverForm.SCOPE_ONE, "customer": customer.pk, "from_user": customer.owner_id}
    elif from_id := id_param(request, "from_user"):
        initial = {"from_user": from_id}
    form = HandoverForm(request.POST or None, user=user, initial=initial)
    count = keeper = work = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        candidates = _candidates(user, data)
        if request.POST.get("confirm") != "1":
            try:
                keeper = services.work_keeper(actor=user, to_user=data["to_user"], work_to=data["work_to"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                count = capped_count(candidates)[0]
                work = selectors.open_work_count(candidates)
        else:
            try:
                handover = services.handover_start(
                    actor=user,
                    customers=candidates,
                    to_user=data["to_user"],
                    from_user=data["from_user"],
                    note=data["note"],
                    base_url=request.build_absolute_uri("/"),
                    work_to=data["work_to"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect(reverse("pool:handover-detail", args=[handover.pk]))
    recent = selectors.handover_qs_visible_to(user).order_by("-created_at")[:10]
    return render(
        request,
        "pool/handover_form.html",
        {"form": form, "count": count, "keeper": keeper, "work": work, "recent": recent},
    )


def _candidates(user, data):
    scope = data["scope"]
    if scope == HandoverForm.SCOPE_ONE:
        return selectors.handover_candidates(user, from_user=None, ids=[data["customer"]])
    if scope == HandoverForm.SCOPE_FILTERED:
        return selectors.handover_candidates(
            user, from_user=data["from_user"], region=data["region"].strip(), tier=data["tier"]
        )
    return selectors.handover_candidates(user, from_user=data["from_user"])


def handover_detail(request, pk):
    handover = selectors.handover_get(request.user, pk)
    page = _page_number(request)
    rows, has_next, kept, kept_count = [], False, [], 0
    if handover.status == HandoverStatus.DONE:
        rows, has_next = selectors.handover_brief(
            request.user, handover, offset=(page - 1) * selectors.BRIEF_PAGE, limit=selectors.BRIEF_PAGE
        )
        if handover.to_user_id is None:
            # Customers now in the pool have no brief rows; the open work kept for them is listed instead.
            kept, kept_count = selectors.handover_kept_work(request.user, handover)
    context = {
        "handover": handover,
        "rows": rows,
        "has_next": has_next,
        "kept": kept,
        "kept_count": kept_count,
        "work_moved": selectors.handover_work_moved(handover),
        "page_number": page,
        "today": timezone.localdate(),
    }
    if request.htmx and request.htmx.target == "progress":
        if handover.status != HandoverStatus.RUNNING:
            # Finished: reload the whole page so the brief appears.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return render(request, "pool/handover_detail.html#progress", context)
    return render(request, "pool/handover_detail.html", context)
