"""The ticket page's e-mail panel: the files that came by mail with the ticket's messages, and
where answers go when the ticket is an e-mail one."""

from django import template

from kehu.support.models import Channel, MailAttachment, Mailbox, MessageDirection

register = template.Library()


@register.simple_tag
def ticket_mail(ticket) -> dict:
    """{"files": [...], "reply_to": address answers go to, or "", "by_mail": bool} in two queries."""
    files = list(
        MailAttachment.objects.filter(message__ticket=ticket).select_related("message").order_by("message__at", "pk")
    )
    last_in = (
        ticket.messages.filter(direction=MessageDirection.IN, channel=Channel.EMAIL)
        .exclude(email_message_id="")
        .order_by("-at", "-pk")
        .values_list("sender", flat=True)
        .first()
    )
    by_mail = last_in is not None or ticket.channel == Channel.EMAIL
    reply_to = last_in or (ticket.contact.email if by_mail and ticket.contact_id else "")
    return {
        "files": files,
        "reply_to": reply_to,
        "by_mail": by_mail,
        "mailbox_set": by_mail and Mailbox.objects.exclude(address="").exists(),
    }
