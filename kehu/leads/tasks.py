"""Periodic work of leads: the first-response escalation and retraining the learned score."""

from datetime import datetime, timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(minutes=15))
@task()
def escalate_overdue_leads(now: str | None = None) -> int:
    """Notify managers of leads past their first-response time; each lead once."""
    from kehu.leads.services import sla_escalate

    return sla_escalate(now=datetime.fromisoformat(now) if now else None)


@periodic(every=timedelta(days=1))
@task()
def retrain_lead_scoring() -> bool:
    from kehu.leads.services import scoring_retrain

    return scoring_retrain() is not None
