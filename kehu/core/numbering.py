"""Document numbers (Q2026-000001, HT2026-000001, SO2026-00001 …): the next number under a prefix,
read from the unique `number` index, and a save that takes the next one when two people save at once."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction


def next_number(model, prefix: str, width: int) -> str:
    """The number after the highest one starting with `prefix` (a range on the index, not a LIKE)."""
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the first string past every one starting with prefix
    last = (
        model.objects.filter(number__gte=prefix, number__lt=after)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    counter = int(last[len(prefix) :]) if last and last[len(prefix) :].isdigit() else 0
    return f"{prefix}{counter + 1:0{width}d}"


def save_numbered(record, *, prefix: str, width: int, failure, attempts: int = 20):
    """Insert `record` under the next number of `prefix`; `failure` is the error after `attempts` clashes."""
    model = type(record)
    for _attempt in range(attempts):
        record.number = next_number(model, prefix, width)
        try:
            with transaction.atomic():
                record.save(force_insert=True)
            return record
        except IntegrityError:
            record.pk = None  # someone took this number at the same moment: take the next one
    raise ValidationError(failure)
