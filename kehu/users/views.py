"""Sign-up, invitations, profile, language, API tokens and user administration (ACC-1, ACC-2)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.forms import apply_errors
from kehu.core.selectors import audit_list
from kehu.users import selectors, services
from kehu.users.forms import (
    ApiTokenForm,
    AuditFilterForm,
    CompanySettingsForm,
    DepartmentForm,
    InvitationAcceptForm,
    InviteForm,
    LoginForm,
    QueuedPasswordResetForm,
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
        response = super().form_valid(form)
        if lang := self.request.user.language:
            response.set_cookie("django_language", lang, samesite="Lax")
        return response


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "users/password_reset.html"
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("password_reset_done")


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
    if invitation is None:
        return render(request, "users/invitation_invalid.html", status=404)
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
            login(request, user, backend="kehu.users.backends.RoleBackend")
            messages.success(request, _("Welcome to Kehu. Your account is ready."))
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
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _token, new_token = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    return render(
        request,
        "users/profile.html",
        {
            "form": form,
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
            "nav_active": "users",
        },
    )


@manage_users
def user_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.invitation_create(
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
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": d["email"]})
            return redirect("users:user-list")
    return render(request, "users/invite.html", {"form": form, "nav_active": "users"})


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
    return render(request, "users/user_edit.html", {"form": form, "subject": user, "nav_active": "users"})


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
    return render(request, "users/department_form.html", {"form": form, "nav_active": "users"})


@manage_users
def department_edit(request, pk):
    department = get_object_or_404(Department, pk=pk)
    form = DepartmentForm(request.POST or None, initial={"name": department.name, "parent": department.parent})
    if request.method == "POST" and form.is_valid():
        try:
            services.department_update(department=department, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("users:user-list")
    return render(
        request, "users/department_form.html", {"form": form, "department": department, "nav_active": "users"}
    )


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
            "entries": entries[:AUDIT_PAGE],
            "nav_active": "audit",
            "query": query.urlencode(),
            "older": entries[AUDIT_PAGE - 1].pk if len(entries) > AUDIT_PAGE else None,
        },
    )


@manage_users
def company_settings(request):
    form = CompanySettingsForm(request.POST or None, instance=CompanySettings.load())
    if request.method == "POST" and form.is_valid():
        services.company_settings_update(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("users:user-list")
    return render(request, "users/company_settings.html", {"form": form, "nav_active": "users"})
