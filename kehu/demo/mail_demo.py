"""Demo data of e-mail intake: the service mailbox (not fetching: the demo has no mail server) and a
few received mails — a customer's answer threaded onto their ticket, one from an unknown sender waiting to be matched,
and an out-of-office reply that opened nothing."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

from kehu.customers.models import Contact
from kehu.support.mail_intake import mail_take
from kehu.support.models import InboundMail, Mailbox, Ticket, TicketCategory

ADDRESS = "service@huaxing-demo.cn"


def _raw(sender: str, subject: str, body: str, **headers) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ADDRESS, subject
    message["Date"] = format_datetime(timezone.localtime())
    message["Message-ID"] = make_msgid(domain="demo.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def seed(*, customers, owner) -> int:
    """Returns how many mails were stored (none when the demo has them already)."""
    if InboundMail.objects.exists():
        return 0
    box = Mailbox.load()
    box.address, box.host, box.port, box.username = ADDRESS, "imap.exmail.qq.com", 993, ADDRESS
    box.default_category = TicketCategory.objects.filter(name="维修").first()
    box.default_owner, box.send_acknowledgement = owner, False
    box.save()
    contact = Contact.objects.filter(customer__in=customers, deleted_at__isnull=True).exclude(email="").first()
    mails = [
        _raw(
            "李经理 <li.jingli@xinchang-mold.example>",
            "询问：注塑机保养",
            "你好，我们去年买的注塑机需要年度保养，请联系我。",
        ),
        _raw(
            f"{contact.name if contact else '王工'} <{contact.email if contact else 'wang@example.com'}>",
            "自动回复：休假中",
            "我正在休假，12月10日回来。",
            Auto_Submitted="auto-replied",
        ),
    ]
    ticket = Ticket.objects.filter(customer_id=contact.customer_id).order_by("pk").first() if contact else None
    if ticket is not None:  # the customer answers by mail, naming the ticket: it threads onto it
        mails.insert(
            0,
            _raw(
                f"{contact.name} <{contact.email}>",
                f"回复：[{ticket.number}] {ticket.subject}",
                "设备开机后报警 E05，屏幕不亮，照片稍后发。\n\n-----原始邮件-----\n请告诉我们设备的报警代码。",
            ),
        )
    for uid, raw in enumerate(mails, start=1):
        mail_take(raw=raw, uidvalidity=0, uid=uid, mailbox=box)
    Mailbox.objects.filter(pk=box.pk).update(send_acknowledgement=True)
    return len(mails)
