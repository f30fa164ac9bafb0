from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from kehu.users import security_views, views

public = login_not_required

# Django's auth flow keeps its URL names (login, logout, password_reset_*) outside the namespace.
auth_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="users/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="users/password_reset_complete.html"),
        name="password_change_done",
    ),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        public(auth_views.PasswordResetDoneView.as_view(template_name="users/password_reset_done.html")),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        public(auth_views.PasswordResetConfirmView.as_view(template_name="users/password_reset_confirm.html")),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        public(auth_views.PasswordResetCompleteView.as_view(template_name="users/password_reset_complete.html")),
        name="password_reset_complete",
    ),
]

app_patterns = [
    path("setup/", views.set_up, name="setup"),
    path("register/", views.register, name="register"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("ping/", views.ping, name="ping"),
    path("language/", views.set_language, name="set-language"),
    path("profile/", views.profile, name="profile"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="token-revoke"),
    path("users/", views.user_list, name="user-list"),
    path("users/invite/", views.user_invite, name="user-invite"),
    path("invitations/", views.invitation_list, name="invitation-list"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation-resend"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("users/<int:pk>/", views.user_edit, name="user-edit"),
    path("users/<int:pk>/approve/", views.user_approve, name="user-approve"),
    path("departments/new/", views.department_create, name="department-create"),
    path("departments/<int:pk>/", views.department_edit, name="department-edit"),
    path("settings/", views.company_settings, name="company-settings"),
    path("audit/", views.audit_log, name="audit-log"),
    path("sign-in/code/", security_views.sign_in_code, name="sign-in-code"),
    path("sign-in/two-factor/", security_views.sign_in_enrol, name="sign-in-enrol"),
    path("security/", security_views.security_page, name="security"),
    path("security/two-factor/", security_views.two_factor_setup, name="two-factor-setup"),
    path("users/<int:pk>/two-factor/reset/", security_views.two_factor_reset, name="two-factor-reset"),
    path("sign-in-log/", security_views.sign_in_log, name="sign-in-log"),
]
