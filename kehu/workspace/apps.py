from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """Pages that compose several domains: the dashboard and the customer 360° page."""

    name = "kehu.workspace"
    label = "workspace"
    verbose_name = _("Workspace")
