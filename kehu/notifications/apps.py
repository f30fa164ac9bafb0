from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "kehu.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from kehu.core import events
        from kehu.notifications.delivery import notify_events

        events.sink(notify_events, after_commit=True)
