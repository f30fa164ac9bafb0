"""Writing the audit trail: services call these inside their transaction."""

from datetime import date, datetime
from decimal import Decimal

from django.db import models

from kehu.core.models import AuditAction, AuditEntry


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict:
    """The audited fields of a record, as plain JSON values (foreign keys by name)."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(*, actor, action: str, instance: models.Model, changes: dict | None = None):
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=instance._meta.label_lower,
        target_id=instance.pk,
        target_repr=str(instance)[:200],
        changes=changes or {},
    )


def audit_events(events) -> None:
    """The event door's in-transaction sink: one audit row per event that names an action."""
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=e.occurred_at,
                actor_id=e.actor_id,
                action=e.audit,
                target_type=target._meta.label_lower,
                target_id=target.pk,
                target_repr=str(target)[:200],
                changes=e.changes,
            )
            for e in events
            if e.audit and (target := e.audit_target or e.subject) is not None
        ]
    )


def audit_export(*, actor, target_type: str, summary: dict):
    return AuditEntry.objects.create(actor=actor, action=AuditAction.EXPORT, target_type=target_type, changes=summary)


def audit_entries_for(instance: models.Model, limit: int = 50):
    return (
        AuditEntry.objects.filter(target_type=instance._meta.label_lower, target_id=instance.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
