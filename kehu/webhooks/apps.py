from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "kehu.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from kehu.core import events
        from kehu.webhooks.services import webhook_events

        events.sink(webhook_events, after_commit=True)
