"""Optimistic locking: an update names the version it was based on (PLT-5)."""

from django.db.models import F, Model
from django.utils import timezone

from kehu.core.exceptions import ConcurrentEditError


def update_versioned(instance: Model, *, expected_version: int, fields: list[str]) -> None:
    """Write `fields` only if the row still has `expected_version`; bump it."""
    now = timezone.now()
    values = {name: getattr(instance, name) for name in fields}
    updated = (
        type(instance)
        .objects.filter(pk=instance.pk, version=expected_version)
        .update(version=F("version") + 1, updated_at=now, **values)
    )
    if not updated:
        raise ConcurrentEditError()
    instance.version = expected_version + 1
    instance.updated_at = now
