from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "kehu.integrations"
    label = "integrations"
    verbose_name = _("Import and export")

    def ready(self):
        from kehu.integrations import events  # noqa: F401 (registers the kinds)
        from kehu.integrations.customer_import import CustomerTarget
        from kehu.integrations.targets import register

        register(CustomerTarget())
        from kehu.integrations.export_kinds import register_kinds

        register_kinds()
        _recover_lost_tasks()


def _recover_lost_tasks() -> None:
    """A worker killed in the middle of an import: the job is marked failed with the reason
    (nothing was saved), and the import page offers to run it again; an export is written again
    from the start (kehu.core.lost_tasks)."""
    from kehu.core import lost_tasks
    from kehu.integrations import exports, services, tasks

    lost_tasks.register(tasks.import_run, on_failed=services.import_job_lost)
    lost_tasks.register(tasks.import_preview, on_failed=services.import_preview_lost)
    lost_tasks.register(tasks.transfer_cleanup, resume=True)
    lost_tasks.register(
        tasks.export_run, resume=True, requeue=exports.export_job_requeue, on_failed=exports.export_job_lost
    )
