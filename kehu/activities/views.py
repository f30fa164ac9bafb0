"""Activity list, edit, commitment done, delete (SAL-7). Logging from the 360° page is in workspace."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.activities import selectors, services
from kehu.activities.forms import ActivityFilterForm, ActivityForm
from kehu.activities.models import ActivityKind
from kehu.core.forms import apply_errors

PAGE_SIZE = 50


def activity_list(request):
    form = ActivityFilterForm(request.GET or None)
    qs = selectors.activity_qs_visible_to(request.user).select_related("customer", "owner", "contact")
    if form.is_valid():
        if customer := form.cleaned_data.get("customer"):
            qs = qs.filter(customer_id=customer)
        if kind := form.cleaned_data.get("kind"):
            qs = qs.filter(kind=kind)
        if form.cleaned_data.get("open_commitments"):
            qs = qs.filter(kind=ActivityKind.COMMITMENT, is_done=False).order_by("due_on")
    if not qs.query.order_by:
        qs = qs.order_by("-occurred_at", "-id")
    return render(
        request,
        "activities/activity_list.html",
        {"form": form, "activities": qs[:PAGE_SIZE], "nav_active": "activities"},
    )


def activity_edit(request, pk):
    activity = selectors.activity_get(request.user, pk)
    if activity.owner_id != request.user.pk and not request.user.has_perm("activities.change_activity"):
        raise PermissionDenied
    form = ActivityForm(request.POST or None, instance=activity, customer=activity.customer)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.activity_get(request.user, pk)
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "version"}
        try:
            services.activity_update(
                activity=fresh, actor=request.user, expected_version=form.cleaned_data.get("version") or 0, **fields
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(reverse("workspace:customer-detail", args=[activity.customer_id]))
    return render(
        request, "activities/activity_form.html", {"form": form, "activity": activity, "nav_active": "activities"}
    )


@require_POST
def commitment_done(request, pk):
    activity = selectors.activity_get(request.user, pk)
    try:
        services.commitment_mark_done(activity=activity, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    target = request.POST.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = reverse("workspace:customer-detail", args=[activity.customer_id])
    return redirect(target)


@require_POST
def activity_delete(request, pk):
    activity = selectors.activity_get(request.user, pk)
    services.activity_delete(activity=activity, actor=request.user)
    messages.success(request, _("Activity deleted."))
    return redirect(reverse("workspace:customer-detail", args=[activity.customer_id]))
