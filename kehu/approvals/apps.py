from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "kehu.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self):
        from kehu.approvals import events as approval_events  # noqa: F401 (registers the kinds)
        from kehu.core import navigation

        navigation.register_counter(
            navigation.Counter(
                key="approvals",
                url_name="approvals:inbox",
                label=_("To approve"),
                count_url_name="approvals:count",
            )
        )
