from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django 6.1 introduced this blank choice label; its own catalogue has no Chinese for it yet.
gettext_noop("- Select an option -")


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.db.models.signals import post_migrate

        from kehu.core import choice_labels, events, lost_tasks
        from kehu.core.audit import audit_events

        choice_labels.install()

        post_migrate.connect(_refresh_statistics, sender=self)
        events.sink(audit_events, after_commit=False)
        lost_tasks.connect()


def _refresh_statistics(using, plan=None, **kwargs):
    """After a migrate that applied something (post_migrate comes after the last migration)."""
    from django.db import connections

    from kehu.core.dbstats import refresh_statistics

    if plan:
        refresh_statistics(connections[using])
