"""Writes and reads of e-mail intake that people do by hand: the mailbox settings (administrators,
support.manage_service; the password is write-only), the received-mail list, and dismissing a mail
nobody needs (spam) from the to-match list."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import diff
from kehu.core.models import AuditAction
from kehu.core.text import check_text
from kehu.support.models import InboundMail, InboundStatus, Mailbox, MailSecurity, Priority, TicketCategory
from kehu.support.setup_events import SetupEvent

MAILBOX_FIELDS = (
    "is_active",
    "address",
    "host",
    "port",
    "security",
    "username",
    "folder",
    "default_category",
    "default_priority",
    "default_owner",
    "send_acknowledgement",
)


def _require(actor, permission: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(permission):
        raise PermissionDenied


def _snapshot(box: Mailbox) -> dict:
    found = {
        name: getattr(box, f"{name}_id" if name.startswith("default_") and name != "default_priority" else name)
        for name in MAILBOX_FIELDS
    }
    found["password"] = "••••" if box.password else ""
    return found


@transaction.atomic
def mailbox_update(*, actor, password: str | None = None, **values) -> Mailbox:
    """Change the mailbox settings; `password` None or "" keeps the stored one (it is never read
    back). Switching fetching on needs the server, the user name and a password."""
    _require(actor, "support.manage_service")
    unknown = set(values) - set(MAILBOX_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    box = Mailbox.objects.select_for_update().get(pk=Mailbox.load().pk)
    before = _snapshot(box)
    for name, value in values.items():
        setattr(box, name, value.strip() if isinstance(value, str) else value)
    if password:
        box.password = password
    errors: dict[str, list[str]] = {}
    for name in ("host", "username", "folder", "address"):
        try:
            check_text(getattr(box, name))
        except ValidationError as exc:
            errors[name] = exc.messages
    if box.address:
        try:
            validate_email(box.address)
        except ValidationError:
            errors["address"] = [_("Enter a valid e-mail address.")]
    if not 1 <= (box.port or 0) <= 65535:
        errors["port"] = [_("Enter a port between 1 and 65535.")]
    if box.security not in MailSecurity.values:
        errors["security"] = [_("Choose how to connect.")]
    if box.default_priority not in Priority.values:
        errors["default_priority"] = [_("Choose a priority.")]
    if box.default_category_id and not TicketCategory.objects.filter(pk=box.default_category_id).exists():
        errors["default_category"] = [_("Choose a category.")]
    if box.default_owner is not None and not (
        box.default_owner.is_active and box.default_owner.has_perm("support.change_ticket")
    ):
        errors["default_owner"] = [_("%(name)s cannot work on tickets.") % {"name": box.default_owner}]
    if not box.folder:
        box.folder = "INBOX"
    if box.is_active:
        for name in ("host", "username", "address"):
            if not getattr(box, name):
                errors.setdefault(name, [_("Needed to fetch mail.")])
        if not box.password:
            errors["password"] = [_("Needed to fetch mail.")]
    if errors:
        raise ValidationError(errors)
    changes = diff(before, _snapshot(box))
    if password and "password" not in changes:
        changes["password"] = ["••••", "•••• (" + _("changed") + ")"]
    if changes:
        box.updated_by = actor
        box.save()
        events.record(
            SetupEvent.SERVICE_SETUP_CHANGED,
            actor=actor,
            subject=box,
            summary=str(_("Service mailbox")),
            audit=AuditAction.UPDATE,
            changes=changes,
        )
    return box


# The service desk: who may open tickets and work on them (not sellers, who only open them, nor
# engineers, who only work on theirs) reads the received mail and matches it.
MAIL_DESK = ("support.add_ticket", "support.change_ticket")


def may_handle_mail(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perms(MAIL_DESK))


def inbound_qs_visible_to(user) -> QuerySet[InboundMail]:
    """Received mail is the service desk's: all of it, for everyone at the desk."""
    if not may_handle_mail(user):
        return InboundMail.objects.none()
    return InboundMail.objects.all()


def inbound_list(user, *, status: str = "") -> QuerySet[InboundMail]:
    found = inbound_qs_visible_to(user).select_related("ticket").order_by("-id")
    return found.filter(status=status) if status else found


def inbound_counts(user) -> dict[str, int]:
    from django.db.models import Count

    rows = inbound_qs_visible_to(user).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


@transaction.atomic
def inbound_dismiss(*, mail: InboundMail, actor) -> InboundMail:
    """Take a mail nobody needs (spam, a newsletter) off the to-match list; it stays listed."""
    if not may_handle_mail(actor):
        raise PermissionDenied
    mail = InboundMail.objects.select_for_update().get(pk=mail.pk)
    if mail.status != InboundStatus.TO_MATCH:
        raise ValidationError(_("This mail has been dealt with already."))
    mail.status, mail.matched_by, mail.matched_at = InboundStatus.DISMISSED, actor, timezone.now()
    mail.save(update_fields=["status", "matched_by", "matched_at"])
    return mail
