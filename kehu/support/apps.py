from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "kehu.support"
    label = "support"
    verbose_name = _("After-sales service")

    def ready(self):
        from kehu.core import events
        from kehu.support import events as _kinds  # noqa: F401 (registers the kinds)
        from kehu.support import lookups
        from kehu.support import setup_events as _setup_kinds  # noqa: F401 (registers the kinds)
        from kehu.support.setup_services import calendar_changed_sink

        lookups.register()
        # A holiday or make-up day recorded (or removed) moves the open tickets' deadlines.
        events.sink(calendar_changed_sink, after_commit=True)
        from kehu.support.mail_replies import answer_sink

        # A staff answer on an e-mailed ticket goes to the customer by mail (in the same transaction).
        events.sink(answer_sink, after_commit=False)
