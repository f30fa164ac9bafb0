from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "kehu.users"
    label = "users"
    verbose_name = _("Users and access")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from kehu.users import security

        # The sign-in log: every sign-in, failure (django-axes has counted it by now) and sign-out.
        user_logged_in.connect(security.on_logged_in, dispatch_uid="kehu-sign-in-log")
        user_login_failed.connect(security.on_login_failed, dispatch_uid="kehu-sign-in-log")
        user_logged_out.connect(security.on_logged_out, dispatch_uid="kehu-sign-in-log")
