from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "kehu.support"
    label = "support"
    verbose_name = _("After-sales service")

    def ready(self):
        from kehu.core import events
        from kehu.support import events as _kinds  # noqa: F401 (registers the kinds)
        from kehu.support import field_events as _field_kinds  # noqa: F401 (registers the kinds)
        from kehu.support import lookups, rma_approval
        from kehu.support import setup_events as _setup_kinds  # noqa: F401 (registers the kinds)
        from kehu.support.setup_services import calendar_changed_sink

        lookups.register()
        from kehu.support import complaint_events as _complaint_kinds  # noqa: F401 (registers the kinds)
        from kehu.support.complaint_selectors import register_lookups as register_complaint_lookups

        register_complaint_lookups()
        from kehu.support.complaint_report import quality_section
        from kehu.support.quality_report import register_section

        register_section(quality_section)  # the day's complaints in the daily quality-anomaly report
        rma_approval.register()  # returns through the approvals engine; the kinds of returns and quality
        # A holiday or make-up day recorded (or removed) moves the open tickets' deadlines.
        events.sink(calendar_changed_sink, after_commit=True)
        from kehu.support.mail_replies import answer_sink

        # A staff answer on an e-mailed ticket goes to the customer by mail (in the same transaction).
        events.sink(answer_sink, after_commit=False)
        from kehu.support.export_kinds import register_kinds

        register_kinds()
