"""Sign-in security pages: the code step after the password, setting up an authenticator app,
one's own security page, and the administrators' sign-in log (ACC-4)."""

import time
from datetime import datetime, timedelta
from datetime import time as clock

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.users import security
from kehu.users.models import CompanySettings, SignInMethod, User
from kehu.users.security_forms import CodeForm, DisableForm, SignInCodeForm, SignInLogFilterForm

manage_users = permission_required("users.manage_users", raise_exception=True)

# A right password waiting for its second step: not signed in yet. Kept in the session for a while.
PENDING = "kehu_pending_sign_in"
PENDING_SECONDS = 15 * 60


def after_password(request, user: User, next_url: str):
    """After a right password: a response sending the person to the code step (two-factor on) or
    to set it up (the company requires it), or None when the password alone signs them in."""
    if security.two_factor_is_on(user):
        target = "users:sign-in-code"
    elif security.two_factor_required(user):
        target = "users:sign-in-enrol"
    else:
        return None
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", "kehu.users.backends.RoleBackend"),
        "at": int(time.time()),
        "next": next_url,
    }
    return redirect(target)


def _pending(request):
    data = request.session.get(PENDING)
    if not isinstance(data, dict) or int(time.time()) - int(data.get("at", 0)) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    return (user, data) if user is not None else None


def _sign_in_first(request):
    request.session.pop(PENDING, None)
    messages.info(request, _("Please sign in with your password first."))
    return redirect("login")


def _finish(request, user: User, data: dict, method: str):
    """The second step is passed: now the session is signed in."""
    request.session.pop(PENDING, None)
    request.kehu_sign_in_method = method
    login(request, user, backend=data["backend"])
    response = redirect(data.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL))
    if user.language:
        response.set_cookie("django_language", user.language, samesite="Lax")
    return response


def _locked_message(minutes: int) -> str:
    return ngettext(
        "Too many wrong codes; the code step is paused for %(minutes)d minute.",
        "Too many wrong codes; the code step is paused for %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@login_not_required
def sign_in_code(request):
    pending = _pending(request)
    if pending is None:
        return _sign_in_first(request)
    user, data = pending
    if not security.two_factor_is_on(user):
        return redirect("users:sign-in-enrol")
    form = SignInCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        check = security.two_factor_verify(user=user, code=form.cleaned_data["code"], request=request)
        if check.ok:
            response = _finish(request, user, data, check.method)
            if check.method == SignInMethod.RECOVERY:
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code; it cannot be used again. %(count)d is left.",
                        "You signed in with a recovery code; it cannot be used again. %(count)d are left.",
                        check.recovery_left,
                    )
                    % {"count": check.recovery_left},
                )
            return response
        if check.locked_minutes:
            form.add_error("code", _locked_message(check.locked_minutes))
            status = 429
        else:
            form.add_error("code", _("This code is not right. Try the newest code your app shows."))
    return render(request, "users/sign_in_code.html", {"form": form, "person": user}, status=status)


def _qr_svg(uri: str) -> str:
    import segno  # loaded on the first set-up, not with the URLs

    return segno.make(uri, error="m").svg_inline(scale=5, border=2, light="#fff", title=_("QR code"))


def _set_up(request, user: User, *, data: dict | None):
    """Enrolment: a new secret as a QR code and as text, switched on by a first right code."""
    try:
        two_factor = security.two_factor_start(user=user)
    except ValidationError:  # switched on meanwhile (another tab)
        return redirect("users:security" if data is None else "users:sign-in-code")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = security.two_factor_confirm(user=user, code=form.cleaned_data["code"], request=request)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if data is not None:
                response = _finish(request, user, data, SignInMethod.CODE)
                continue_url = response.url
            else:
                continue_url = reverse("users:security")
            messages.success(request, _("Two-factor sign-in is on."))
            return render(request, "users/recovery_codes.html", {"codes": codes, "continue_url": continue_url})
    return render(
        request,
        "users/two_factor_setup.html",
        {
            "form": form,
            "forced": data is not None,
            "person": user,
            "qr": _qr_svg(security.provisioning(two_factor)),
            "secret": security.secret_for_typing(two_factor.secret),
        },
    )


@login_not_required
def sign_in_enrol(request):
    """The company requires two-factor sign-in and this person has none: set it up before anything else."""
    pending = _pending(request)
    if pending is None:
        return _sign_in_first(request)
    user, data = pending
    if security.two_factor_is_on(user):
        return redirect("users:sign-in-code")
    return _set_up(request, user, data=data)


def two_factor_setup(request):
    if security.two_factor_is_on(request.user):
        return redirect("users:security")
    return _set_up(request, request.user, data=None)


def security_page(request):
    """The signed-in person's sign-in security: two-factor on or off, recovery codes, recent sign-ins."""
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else ""
    disable_form = DisableForm(request.POST if action == "disable" else None, prefix="off")
    renew_form = CodeForm(request.POST if action == "renew" else None, prefix="renew")
    renew_form.fields["code"].widget.attrs.pop("autofocus", None)  # the page is not only this form
    if action == "disable" and disable_form.is_valid():
        try:
            security.two_factor_disable(user=user, request=request, **disable_form.cleaned_data)
        except ValidationError as exc:
            apply_errors(disable_form, exc)
        else:
            messages.success(request, _("Two-factor sign-in is off."))
            return redirect("users:security")
    elif action == "renew" and renew_form.is_valid():
        try:
            codes = security.recovery_codes_renew(user=user, code=renew_form.cleaned_data["code"])
        except ValidationError as exc:
            apply_errors(renew_form, exc)
        else:
            messages.success(request, _("New recovery codes are made; the old ones no longer work."))
            return render(
                request, "users/recovery_codes.html", {"codes": codes, "continue_url": reverse("users:security")}
            )
    policy = CompanySettings.load().two_factor_policy
    return render(
        request,
        "users/security.html",
        {
            "is_on": security.two_factor_is_on(user),
            "required": security.two_factor_required(user, policy),
            "recovery_left": security.recovery_codes_left(user),
            "disable_form": disable_form,
            "renew_form": renew_form,
            "events": security.sign_in_events_of(user),
            "idle_minutes": security.idle_minutes(),
        },
    )


@manage_users
@require_POST
def two_factor_reset(request, pk):
    subject = get_object_or_404(User, pk=pk)
    security.two_factor_reset(user=subject, actor=request.user, request=request)
    messages.success(
        request,
        _("Two-factor sign-in of %(name)s is off; they set it up again at their next sign-in if it is required.")
        % {"name": subject},
    )
    return redirect("users:user-edit", pk=subject.pk)


SIGN_IN_PAGE = 50


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, clock.min))


@manage_users
def sign_in_log(request):
    """Every sign-in, failure, lockout, two-factor step and sign-out, with address and browser."""
    form = SignInLogFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    events = list(
        security.sign_in_events(
            user_id=data["user"].pk if data.get("user") else None,
            result=data.get("result", ""),
            since=_day_start(data["since"]) if data.get("since") else None,
            until=_day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
            before_id=data.get("before"),
        )[: SIGN_IN_PAGE + 1]
    )
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "users/sign_in_log.html",
        {
            "form": form,
            "events": events[:SIGN_IN_PAGE],
            "query": query.urlencode(),
            "older": events[SIGN_IN_PAGE - 1].pk if len(events) > SIGN_IN_PAGE else None,
        },
    )
