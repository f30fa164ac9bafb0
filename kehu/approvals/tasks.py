"""The periodic job of approvals: reminders (催办) and escalation of late tasks (ACC-6)."""

from datetime import timedelta

from django.tasks import task

from kehu.approvals import services
from kehu.core.schedule import periodic


@periodic(every=timedelta(minutes=5))
@task
def approvals_time_limits():
    """Remind approvers whose time is up; hand tasks twice late to the approver's supervisor."""
    return services.approvals_tick()
