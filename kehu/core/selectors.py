from django.db.models import QuerySet

from kehu.core.models import AuditEntry


def audit_list(
    *,
    actor_id: int | None = None,
    target_type: str = "",
    action: str = "",
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """The newest audit entries matching the filters, `limit` at a time (keyset on id)."""
    qs: QuerySet[AuditEntry] = AuditEntry.objects.select_related("actor")
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if action:
        qs = qs.filter(action=action)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return list(qs.order_by("-id")[:limit])


def outbox_page(*, status: str = "", recipient: str = "", before_id: int | None = None, limit: int = 50):
    """The newest outgoing mails matching the filters, `limit` at a time (keyset on id)."""
    from kehu.core.models import OutboxMail

    qs = OutboxMail.objects.all()
    if status:
        qs = qs.filter(status=status)
    if recipient:
        qs = qs.filter(to__icontains=recipient)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return list(qs.order_by("-id")[:limit])


def outbox_counts() -> dict[str, int]:
    """How many mails are in each status (one grouped query)."""
    from django.db.models import Count

    from kehu.core.models import OutboxMail

    return dict(OutboxMail.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
