from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "kehu.pool"
    label = "pool"
    verbose_name = _("Public pool and handover")

    def ready(self):
        from kehu.core import lost_tasks
        from kehu.pool import events, services, tasks  # noqa: F401 (events registers the kinds)

        # A worker killed in the middle: the recycle is idempotent and a handover continues with the
        # customers not yet moved (each batch is its own transaction), so both are queued again.
        lost_tasks.register(tasks.recycle_pool_customers, resume=True)
        lost_tasks.register(tasks.run_handover, resume=True, on_failed=services.handover_lost)
