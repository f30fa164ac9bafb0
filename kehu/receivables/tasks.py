"""The receivables' nightly job: plans move to due / overdue, balances follow, owners are told once
(reminders `plan_due_soon` N days before, `plan_overdue` with the `receivable.overdue` webhook)."""

import importlib.util
from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic

# The reports' background tasks live in their own module; importing it here registers them.
if importlib.util.find_spec("kehu.receivables.report_tasks") is not None:
    from kehu.receivables import report_tasks  # noqa: F401


@periodic(every=timedelta(hours=6))
@task
def receivables_nightly() -> dict:
    """Idempotent: a plan is reminded and told overdue once (`reminded_on`, `overdue_told_on`)."""
    from kehu.receivables.services import plans_remind

    return plans_remind()


@task
def balances_rebuild_task() -> int:
    from kehu.receivables.balances import balances_rebuild

    return balances_rebuild()
