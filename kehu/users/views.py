"""Sign-up, invitations, profile, language, API tokens and user administration (ACC-1, ACC-2)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.audit_display import describe_entries
from kehu.core.forms import apply_errors
from kehu.core.http import client_ip
from kehu.core.selectors import audit_list
from kehu.users import security, security_views, selectors, services
from kehu.users.forms import (
    ApiTokenForm,
    AuditFilterForm,
    CompanySettingsForm,
    DepartmentForm,
    InvitationAcceptForm,
    InviteForm,
    LanguageForm,
    LoginForm,
    RegisterForm,
    SetUpForm,
    UserEditForm,
)
from kehu.users.models import ApiToken, CompanySettings, Department, User
from kehu.users.roles import DataScope

manage_users = permission_required("users.manage_users", raise_exception=True)


def _needs_set_up() -> bool:
    return not User.objects.exists()


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "users/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        if _needs_set_up():
            return redirect("users:setup")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        # Two-factor sign-in: a right password alone does not sign in; the code step comes next.
        if pending := security_views.after_password(self.request, form.get_user(), self.get_success_url()):
            return pending
        response = super().form_valid(form)
        if lang := self.request.user.language:
            response.set_cookie("django_language", lang, samesite="Lax")
        return response


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Records the request and answers at once; the worker decides whether a mail goes out
    (known address, within the limits), so the page and its timing never tell."""

    template_name = "users/password_reset.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        request = self.request
        services.password_reset_request(
            email=form.cleaned_data["email"],
            ip=client_ip(request),
            protocol="https" if request.is_secure() else "http",
            domain=request.get_host(),
        )
        return redirect(self.success_url)


@login_not_required
def set_up(request):
    """A fresh install: the first registration creates the company and its administrator."""
    if not _needs_set_up():
        return redirect("login")
    form = SetUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.company_set_up(
                company_name=d["company_name"],
                username=d["username"],
                email=d["email"],
                password=d["password1"],
                first_name=d["first_name"],
                last_name=d["last_name"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, password_field="password1")
        else:
            login(request, user, backend="kehu.users.backends.RoleBackend")
            messages.success(request, _("Kehu is set up. Next, invite your colleagues."))
            return redirect("users:user-list")
    return render(request, "users/setup.html", {"form": form})


@login_not_required
def register(request):
    company = CompanySettings.load()
    if _needs_set_up():
        return redirect("users:setup")
    if not company.allow_self_registration:
        return render(request, "users/register_closed.html", status=403)
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.user_register(
                username=d["username"],
                email=d["email"],
                password=d["password1"],
                first_name=d["first_name"],
                last_name=d["last_name"],
                language=request.LANGUAGE_CODE,
            )
        except ValidationError as exc:
            apply_errors(form, exc, password_field="password1")
        else:
            return render(request, "users/register_done.html")
    return render(request, "users/register.html", {"form": form})


@login_not_required
def invitation_accept(request, token):
    invitation = services.invitation_by_token(token)
    if invitation is None or not invitation.is_usable:
        # Said at once, before anyone fills in the form: unknown, used, withdrawn or expired.
        state = invitation.state if invitation else "unknown"
        return render(
            request,
            "users/invitation_invalid.html",
            {"state": state, "invitation": invitation},
            status=404 if invitation is None else 410,
        )
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.invitation_accept(
                raw_token=token,
                username=d["username"],
                password=d["password1"],
                first_name=d["first_name"],
                last_name=d["last_name"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, password_field="password1")
        else:
            messages.success(request, _("Welcome to Kehu. Your account is ready."))
            user.backend = "kehu.users.backends.RoleBackend"
            # Invited as someone the company requires two-factor sign-in of: set it up first.
            if pending := security_views.after_password(request, user, reverse("workspace:home")):
                return pending
            login(request, user, backend=user.backend)
            return redirect("workspace:home")
    return render(request, "users/invitation_accept.html", {"form": form, "invitation": invitation})


def ping(request):
    """The lightest authenticated page (used by the benchmarks as a floor)."""
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
@require_POST
def set_language(request):
    """Switch the interface language; remembered on the account when signed in (PLT-3)."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    # Only a path of this site: "/\\evil.example" is another host to a browser.
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/"
    response = redirect(target)
    if check_for_language(language):
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        response.set_cookie("django_language", language, samesite="Lax", max_age=365 * 24 * 3600)
    return response


def profile(request):
    """The signed-in user's account: details, language, password, calendar and API tokens."""
    form = ApiTokenForm(request.POST if request.POST.get("action") != "language" else None)
    language_form = LanguageForm(
        request.POST if request.POST.get("action") == "language" else None,
        initial={"language": request.user.language or request.LANGUAGE_CODE},
    )
    new_token = None
    if request.method == "POST" and request.POST.get("action") == "language":
        if language_form.is_valid():
            language = language_form.cleaned_data["language"]
            services.user_set_language(user=request.user, language=language)
            translation.activate(language)
            response = redirect("users:profile")
            response.set_cookie("django_language", language, samesite="Lax", max_age=365 * 24 * 3600)
            messages.success(request, _("Language saved."))
            return response
    elif request.method == "POST" and form.is_valid():
        try:
            _token, new_token = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "users/profile.html",
        {
            "form": form,
            "language_form": language_form,
            "tokens": selectors.api_tokens_of(request.user),
            "new_token": new_token,
        },
    )


@require_POST
def api_token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token is revoked; clients using it are refused from now on."))
    return redirect("users:profile")


@manage_users
def user_list(request):
    return render(
        request,
        "users/user_list.html",
        {
            "users": selectors.user_list_for_admin(),
            "pending": selectors.pending_registrations(),
            "departments": selectors.department_tree(),
        },
    )


@manage_users
def user_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            invitation = services.invitation_create(
                email=d["email"],
                role=d["role"],
                department=d["department"],
                manager=d["manager"],
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            message = _("The invitation to %(email)s is queued for sending.") % {"email": d["email"]}
            if selectors.invitations_replaced_by(invitation):
                message += " " + _("The earlier invitation's link no longer works.")
            messages.success(request, message)
            return redirect("users:invitation-list")
    pending = selectors.open_invitation_for(form["email"].value()) if request.method == "POST" else None
    return render(
        request,
        "users/invite.html",
        {"form": form, "pending": pending, "days": services.INVITATION_DAYS},
    )


@manage_users
def invitation_list(request):
    """Open invitations (pending and expired) with their links, and the recently closed ones."""
    base_url = request.build_absolute_uri("/")
    open_ones = [
        (invitation, services.invitation_link(invitation, base_url)) for invitation in selectors.invitations_open()
    ]
    return render(
        request,
        "users/invitation_list.html",
        {"open": open_ones, "closed": selectors.invitations_recently_closed()},
    )


def _open_invitation_or_404(pk):
    return get_object_or_404(selectors.invitations_open(), pk=pk)


@manage_users
@require_POST
def invitation_resend(request, pk):
    invitation = _open_invitation_or_404(pk)
    try:
        services.invitation_resend(invitation=invitation, actor=request.user, base_url=request.build_absolute_uri("/"))
    except ValidationError as exc:  # used or revoked meanwhile
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s is queued for sending again; its link works for another %(days)s days.")
            % {"email": invitation.email, "days": services.INVITATION_DAYS},
        )
    return redirect("users:invitation-list")


@manage_users
@require_POST
def invitation_revoke(request, pk):
    invitation = _open_invitation_or_404(pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s is withdrawn; its link no longer works.") % {"email": invitation.email},
        )
    return redirect("users:invitation-list")


@manage_users
def user_edit(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, instance=User.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.user_update(user=user, actor=request.user, **fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("users:user-list")
    return render(
        request,
        "users/user_edit.html",
        {"form": form, "subject": user, "two_factor_on": security.two_factor_is_on(user)},
    )


@manage_users
@require_POST
def user_approve(request, pk):
    user = get_object_or_404(User, pk=pk, is_active=False)
    services.user_approve(user=user, actor=request.user)
    messages.success(request, _("%(name)s can now sign in.") % {"name": user})
    return redirect("users:user-list")


@manage_users
def department_create(request):
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.department_create(
                name=form.cleaned_data["name"], parent=form.cleaned_data["parent"], actor=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("users:user-list")
    return render(request, "users/department_form.html", {"form": form})


@manage_users
def department_edit(request, pk):
    department = get_object_or_404(Department, pk=pk)
    form = DepartmentForm(
        request.POST or None,
        initial={"name": department.name, "parent": department.parent, "head": department.head},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.department_update(department=department, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("users:user-list")
    return render(request, "users/department_form.html", {"form": form, "department": department})


AUDIT_PAGE = 50


def audit_log(request):
    """The whole audit trail (ACC-4), for those who see all data and may read audits."""
    user = request.user
    if not (user.has_perm("core.view_auditentry") and user.data_scope == DataScope.ALL):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    entries = audit_list(
        actor_id=data["actor"].pk if data.get("actor") else None,
        target_type=data.get("target_type", ""),
        action=data.get("action", ""),
        before_id=data.get("before"),
        limit=AUDIT_PAGE + 1,
    )
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "users/audit_log.html",
        {
            "form": form,
            "lines": describe_entries(entries[:AUDIT_PAGE]),
            "query": query.urlencode(),
            "older": entries[AUDIT_PAGE - 1].pk if len(entries) > AUDIT_PAGE else None,
        },
    )


@manage_users
def company_settings(request):
    form = CompanySettingsForm(request.POST or None, instance=CompanySettings.load())
    if request.method == "POST" and form.is_valid():
        try:
            services.company_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("users:user-list")
    return render(request, "users/company_settings.html", {"form": form})
