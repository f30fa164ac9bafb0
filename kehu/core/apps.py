from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django 6.1 introduced this blank choice label; its own catalogue has no Chinese for it yet.
gettext_noop("- Select an option -")


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = _("Core")
