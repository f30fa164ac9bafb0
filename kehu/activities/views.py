"""Activity list, edit, commitment done, delete (SAL-7). Logging from the 360° page is in workspace."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.activities import calendar, plausibility, selectors, services
from kehu.activities.forms import (
    ActivityFilterForm,
    ActivityForm,
    CheckInFilterForm,
    CheckInForm,
    EmailForm,
    VisitLogForm,
    VisitPlanForm,
)
from kehu.activities.models import ActivityKind, CalendarFeed
from kehu.core.forms import apply_errors
from kehu.core.http import back_to
from kehu.core.params import date_param, id_param
from kehu.customers import selectors as customer_selectors

PAGE_SIZE = 50


def activity_list(request):
    form = ActivityFilterForm(request.GET or None)
    qs = selectors.activity_qs_visible_to(request.user).select_related("customer", "owner", "contact")
    customer = kind = open_commitments = None
    if form.is_valid():
        customer, kind = form.cleaned_data.get("customer"), form.cleaned_data.get("kind")
        open_commitments = form.cleaned_data.get("open_commitments")
    if customer:  # one customer's activities: its own index
        qs = qs.filter(customer_id=customer, **({"kind": kind} if kind else {}))
        activities = qs.order_by("-occurred_at", "-id")[:PAGE_SIZE]
    elif open_commitments:
        activities = qs.filter(kind=ActivityKind.COMMITMENT, is_done=False).order_by("due_on", "id")[:PAGE_SIZE]
    else:
        activities = selectors.newest_activities(request.user, limit=PAGE_SIZE, kind=kind or "")
    return render(request, "activities/activity_list.html", {"form": form, "activities": activities})


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
    return render(request, "activities/activity_form.html", {"form": form, "activity": activity})


def _next_or_customer(request, activity) -> str:
    """Back to the page the button was on (a local path only), else the customer's page."""
    return back_to(request, reverse("workspace:customer-detail", args=[activity.customer_id]))


@require_POST
def commitment_done(request, pk):
    activity = selectors.activity_get(request.user, pk)
    try:
        services.commitment_mark_done(activity=activity, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(_next_or_customer(request, activity))


@require_POST
def commitment_undone(request, pk):
    """Reopen a commitment marked as kept by mistake."""
    activity = selectors.activity_get(request.user, pk)
    try:
        services.commitment_mark_undone(activity=activity, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Commitment reopened."))
    return redirect(_next_or_customer(request, activity))


@require_POST
def activity_delete(request, pk):
    activity = selectors.activity_get(request.user, pk)
    services.activity_delete(activity=activity, actor=request.user)
    messages.success(request, _("Activity deleted."))
    return redirect(reverse("workspace:customer-detail", args=[activity.customer_id]))


def activity_week(request):
    """A rep's week (拜访计划): planned and logged visits, calls, meetings, commitments due. Managers see the team's."""
    if not request.user.has_perm("activities.view_activity"):
        raise PermissionDenied
    start = selectors.week_start(date_param(request, "week", timezone.localdate()))
    person = selectors.person_for(request.user, id_param(request, "user"))
    items = list(selectors.week_activities(request.user, start=start, person=person))
    days = selectors.week_days(items, start)
    return render(
        request,
        "activities/week.html",
        {
            "days": days,
            "start": start,
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
            "person": person,
            "people": selectors.team_members(request.user),
            "today": timezone.localdate(),
        },
    )


def task_list(request):
    """Open commitments (承诺), due soonest first and overdue flagged; planned visits; birthdays and
    anniversaries of contacts (关怀提醒)."""
    if not request.user.has_perm("activities.view_activity"):
        raise PermissionDenied
    person = selectors.task_person(request.user, id_param(request, "user"), team=request.GET.get("team") == "1")
    return render(
        request,
        "activities/task_list.html",
        {
            "commitments": selectors.open_commitments_for(request.user, person=person)[:PAGE_SIZE],
            "visits": selectors.planned_visits_for(request.user, person=person)[:PAGE_SIZE],
            "reminders": selectors.care_reminders(request.user),
            "person": person,
            "people": selectors.team_members(request.user),
            "today": timezone.localdate(),
        },
    )


def visit_plan(request, customer_pk):
    customer = customer_selectors.customer_get(request.user, customer_pk)
    if not request.user.has_perm("activities.add_activity"):
        raise PermissionDenied
    form = VisitPlanForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_plan(customer=customer, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Visit planned."))
            return redirect(reverse("activities:week"))
    return render(request, "activities/visit_plan.html", {"form": form, "customer": customer})


def email_send(request, customer_pk):
    """Write to the customer (INT-2): sent through the outbox, kept on the customer's timeline."""
    customer = customer_selectors.customer_get(request.user, customer_pk)
    if not request.user.has_perm("activities.add_activity"):
        raise PermissionDenied
    form = EmailForm(request.POST or None, customer=customer, addresses=selectors.email_addresses_of(customer))
    if request.method == "POST" and form.is_valid():
        try:
            services.email_send(
                customer=customer,
                actor=request.user,
                to=form.recipients(),
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                contact=form.cleaned_data["contact"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The mail is queued; it is on the customer's timeline."))
            return redirect(reverse("workspace:customer-detail", args=[customer.pk]))
    return render(request, "activities/email_send.html", {"form": form, "customer": customer})


def _visit_for_change(request, pk):
    activity = selectors.activity_get(request.user, pk)
    if activity.owner_id != request.user.pk and not request.user.has_perm("activities.change_activity"):
        raise PermissionDenied
    return activity


def _customer_page_or_week(user, activity) -> str:
    """The customer's page, or the week plan when the customer is out of sight (in the public pool)."""
    if customer_selectors.customer_qs_visible_to(user).filter(pk=activity.customer_id).exists():
        return reverse("workspace:customer-detail", args=[activity.customer_id])
    return reverse("activities:week")


def visit_log(request, pk):
    """The visit log form of a planned visit, with the check-in button for phones (签到)."""
    activity = _visit_for_change(request, pk)
    form = VisitLogForm(request.POST or None, instance=activity)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_log_result(
                activity=selectors.activity_get(request.user, pk), actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Visit logged."))
            return redirect(_customer_page_or_week(request.user, activity))
    return render(request, "activities/visit_log.html", {"form": form, "activity": activity})


def visit_detail(request, pk):
    """One visit: plan, check-in with its distance and warnings, and how it went. Managers review here."""
    activity = selectors.activity_get(request.user, pk)
    if activity.kind != ActivityKind.VISIT:
        raise Http404
    user = request.user
    may_change = activity.owner_id == user.pk or user.has_perm("activities.change_activity")
    return render(
        request,
        "activities/visit_detail.html",
        {
            "activity": activity,
            "customer_visible": customer_selectors.customer_qs_visible_to(user)
            .filter(pk=activity.customer_id)
            .exists(),
            "may_log": may_change and activity.is_planned_visit,
            "week": selectors.week_start(timezone.localdate(activity.planned_for or activity.occurred_at)),
        },
    )


def _check_in_message(request, activity) -> None:
    """Tell the rep at once what the manager will see: the distance and any warning."""
    distance = plausibility.distance_text(activity)
    warnings = plausibility.warning_texts(activity)
    text = _("Checked in.")
    if distance:
        text = _("Checked in, %(distance)s.") % {"distance": distance}
    if warnings:
        messages.warning(request, f"{text} {' · '.join(warnings)}. " + _("Your manager sees this with the visit."))
    else:
        messages.success(request, text)


@require_POST
def visit_check_in(request, pk):
    activity = _visit_for_change(request, pk)
    form = CheckInForm(request.POST)
    position = form.cleaned_data if form.is_valid() else {}
    try:
        activity = services.visit_check_in(
            activity=activity,
            actor=request.user,
            latitude=position.get("latitude"),
            longitude=position.get("longitude"),
            accuracy=position.get("accuracy"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _check_in_message(request, activity)
    return redirect(reverse("activities:visit-log", args=[activity.pk]))


def check_in_review(request):
    """Check-ins with warnings (far away, far from the planned day, no position) for a manager to look at;
    a rep sees their own. Filters: person, warning, all check-ins, dates."""
    if not request.user.has_perm("activities.view_activity"):
        raise PermissionDenied
    people = selectors.team_members(request.user)
    form = CheckInFilterForm(request.GET or None, people=people)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})  # the valid parameters, even if another one is not
    person = selectors.person_for(request.user, data.get("user")) if data.get("user") else None
    filters = selectors.CheckInFilters(
        person=person,
        warning=data.get("warning") or "",
        flagged=not data.get("all"),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    page = data.get("page") or 1
    rows = list(selectors.check_ins_for(request.user, filters)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activities/check_in_review.html",
        {
            "form": form,
            "rows": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page_number": page,
            "query": query.urlencode(),
            "person": person,
            "far_customer": plausibility.format_distance(plausibility.FAR_FROM_CUSTOMER_M),
            "far_place": plausibility.format_distance(plausibility.FAR_FROM_PLACE_M),
            "days_off": plausibility.DAYS_OFF,
        },
    )


def calendar_settings(request):
    """The user's calendar subscription (日历订阅): make a new secret URL; the old one stops working."""
    url = None
    if request.method == "POST":
        raw = calendar.calendar_token_regenerate(user=request.user)
        url = request.build_absolute_uri(reverse("activities:calendar-feed", args=[raw]))
        messages.success(request, _("A new calendar address was made; the old one no longer works."))
    has_feed = CalendarFeed.objects.filter(user=request.user).exists()
    return render(
        request,
        "activities/calendar_settings.html",
        {"url": url, "has_feed": has_feed},
    )


@login_not_required
@require_GET
def calendar_feed(request, token):
    """The public, secret-URL iCalendar feed; a wrong or replaced token gets 404."""
    owner = calendar.calendar_feed_owner(token)
    if owner is None:
        raise Http404
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        body = calendar.calendar_build(owner)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
