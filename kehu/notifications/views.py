"""The bell, the notification list, each person's choices, and the administrators' robot pages."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.params import id_param
from kehu.notifications import selectors, services
from kehu.notifications.delivery import CHANNELS
from kehu.notifications.forms import RobotForm
from kehu.notifications.links import base_url
from kehu.notifications.models import Robot, RobotPost
from kehu.notifications.templatetags.notifications import bell_label, safe_path

MENU_SIZE = 8
MANAGE = services.MANAGE_ROBOTS


def notification_list(request):
    unread = request.GET.get("unread") == "1"
    before = id_param(request, "before")
    rows, next_before = selectors.notification_page(request.user, before=before, unread=unread)
    context = {"rows": rows, "next_before": next_before, "unread": unread}
    if request.htmx and before is not None:
        return render(request, "notifications/notification_list.html#rows", context)
    context["unread_count"] = bell_label(selectors.unread_count(request.user))
    return render(request, "notifications/notification_list.html", context)


def notification_menu(request):
    """The bell's dropdown: the newest few."""
    rows, more = selectors.notification_page(request.user, size=MENU_SIZE)
    return render(request, "notifications/menu.html", {"rows": rows, "more": more})


def _own(request, pk):
    try:
        return selectors.notification_qs_visible_to(request.user).get(pk=pk)
    except Exception:  # noqa: BLE001 - not found or not theirs: the same 404
        raise Http404 from None


@require_POST
def notification_read(request, pk):
    note = services.notification_mark_read(notification=_own(request, pk), actor=request.user)
    if request.htmx:
        return render(
            request,
            "notifications/notification_list.html#item",
            {"n": note, "bell": bell_label(selectors.unread_count(request.user)), "oob": True},
        )
    return redirect("notifications:notification-list")


@require_POST
def notification_open(request, pk):
    """Open what a notification is about, marking it read on the way."""
    note = services.notification_mark_read(notification=_own(request, pk), actor=request.user)
    target = safe_path(note.link)
    return redirect(target or "notifications:notification-list")


@require_POST
def notification_read_all(request):
    raw = request.POST.get("up_to", "")
    up_to = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 16 else None
    count = services.notification_mark_all_read(actor=request.user, up_to_id=up_to)
    messages.success(
        request,
        ngettext("%(count)d notification marked read.", "%(count)d notifications marked read.", count)
        % {"count": count},
    )
    return redirect("notifications:notification-list")


def preferences(request):
    rows = services.preferences_of(request.user)
    if request.method == "POST":
        choices = {row["kind"]: {c: f"{row['kind']}:{c}" in request.POST for c in CHANNELS} for row in rows}
        services.preferences_set(user=request.user, actor=request.user, choices=choices)
        messages.success(request, _("Your notification choices are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"rows": rows})


@permission_required(MANAGE, raise_exception=True)
def robot_list(request):
    form = RobotForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            robot = services.robot_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Robot added. Send a test message to check it."))
            return redirect("notifications:robot-edit", pk=robot.pk)
    return render(
        request,
        "notifications/robot_list.html",
        {"form": form, "robots": selectors.robot_list(), "base_url": base_url()},
    )


@permission_required(MANAGE, raise_exception=True)
def robot_edit(request, pk):
    robot = get_object_or_404(Robot.objects.select_related("department"), pk=pk)
    form = RobotForm(request.POST or None, instance=robot)
    if request.method == "POST" and form.is_valid():
        fresh = Robot.objects.get(pk=pk)
        data = dict(form.cleaned_data)
        if not data.get("webhook_url"):
            data.pop("webhook_url", None)  # left empty: keep the address (it is shown masked)
        try:
            services.robot_update(robot=fresh, actor=request.user, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Robot saved."))
            return redirect("notifications:robot-edit", pk=pk)
    robot.refresh_from_db()
    return render(
        request,
        "notifications/robot_form.html",
        {
            "form": form,
            "robot": robot,
            "posts": selectors.robot_posts(robot),
            "waiting": robot.items.filter(post__isnull=True).count(),
            "base_url": base_url(),
        },
    )


@require_POST
@permission_required(MANAGE, raise_exception=True)
def robot_test(request, pk):
    robot = get_object_or_404(Robot, pk=pk)
    post = services.robot_send_test(robot=robot, actor=request.user)
    if post.status == "sent":
        messages.success(request, _("The test message was delivered; look in the group chat."))
    elif post.attempts:
        messages.error(
            request,
            _("The chat app did not take the test message: %(error)s")
            % {"error": post.last_error or post.last_response_code},
        )
    else:
        messages.info(request, _("The robot is at its limit for this minute; the test message goes out shortly."))
    return redirect("notifications:robot-edit", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def robot_delete(request, pk):
    robot = get_object_or_404(Robot, pk=pk)
    services.robot_delete(robot=robot, actor=request.user)
    messages.success(request, _("Robot deleted."))
    return redirect("notifications:robot-list")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def post_retry(request, pk):
    post = get_object_or_404(RobotPost, pk=pk)
    try:
        post = services.robot_post_retry(post=post, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if post.status == "sent":
            messages.success(request, _("The message was delivered."))
        else:
            messages.info(request, _("The message is being sent again; its result shows in the log."))
    return redirect("notifications:robot-edit", pk=post.robot_id)
